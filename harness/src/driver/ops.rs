//! The operations a worker issues: keys from the workload's distribution and kinds from its
//! mix, from the worker's own seeded stream, so worker 3's sequence is the same whatever the
//! number of workers or the speed of the target.

use targets::target::Op;
use workloads::mix::MixSampler;
use workloads::rng::{Stream, stream_rng};
use workloads::{KeyGenerator, OpKind, Workload, WorkloadRng};

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

    /// Replaces the contents of `batch` with `size` new operations.
    #[inline]
    pub fn fill(&mut self, batch: &mut Vec<Op>, size: usize) {
        batch.clear();
        batch.extend((0..size).map(|_| self.next_op()));
    }
}
