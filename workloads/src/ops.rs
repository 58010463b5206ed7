//! The operations a worker issues: keys from the workload's distribution and kinds from its
//! mix, from the worker's own seeded stream, so worker 3's sequence is the same whatever the
//! number of workers or the speed of the target.
//!
//! Drawing a batch ([`OpSource::fill`]) is compiled here, as one function: this crate is one
//! codegen unit in the release profile (Cargo.toml), so the key distribution, the random
//! stream and the float draws inline into the loop, which in-process hashing's throughput
//! includes.

use crate::mix::MixSampler;
use crate::rng::{Stream, stream_rng};
use crate::{KeyGenerator, OpKind, Workload, WorkloadRng};

/// One operation, as drawn from the workload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Op {
    pub kind: OpKind,
    pub key: u64,
}

/// A worker's source of operations.
pub struct OpSource {
    keys: KeyGenerator,
    mix: MixSampler,
    rng: WorkloadRng,
}

impl OpSource {
    /// The source of worker `worker` of `workers`.
    pub fn new(workload: &Workload, worker: u32, workers: u32) -> Self {
        OpSource {
            keys: KeyGenerator::new(workload.dist, workload.keys, u64::from(worker), u64::from(workers)),
            mix: workload.mix.sampler(),
            rng: stream_rng(workload.seed, Stream::Keys, u64::from(worker)),
        }
    }

    /// The next operation.
    #[inline]
    pub fn next_op(&mut self) -> Op {
        let kind = self.mix.next_kind(&mut self.rng);
        let key = self.keys.next_key(&mut self.rng);
        if kind == OpKind::Insert {
            self.keys.note_insert();
        }
        Op { kind, key }
    }

    /// Replaces the contents of `batch` with `size` new operations. Not `#[inline]`, so that
    /// it is compiled here (see the module's doc).
    pub fn fill(&mut self, batch: &mut Vec<Op>, size: usize) {
        batch.clear();
        batch.extend((0..size).map(|_| self.next_op()));
    }
}
