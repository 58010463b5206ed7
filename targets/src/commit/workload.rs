//! From driver operations to transactions.
//!
//! The driver draws one key per operation; a transaction needs k. The worker's
//! [`TxnBuilder`] takes the driver's key as the first and draws the other k − 1 from the same
//! distribution with its own seeded stream (so zipfian keys make conflicts, and a worker's
//! transactions are the same on every run). Key i goes to participant (s + i) mod P, where s
//! comes from the first key: a transaction spans min(k, P) participants, and each
//! participant holds its own accounts (account = (participant, key)).
//!
//! - A `read` operation becomes a read-only transaction: every participant votes read-only
//!   and there is no phase 2 and no log write.
//! - Any other operation becomes a bank transfer: the first account pays k − 1, every other
//!   account receives 1, so every transaction — and so the total balance — sums to zero.

use super::params::CommitParams;
use super::{Access, KeyOp};
use crate::target::Op;
use crate::transport::PeerId;
use workloads::rng::{Stream, splitmix64, stream_rng};
use workloads::{KeyGenerator, OpKind, Workload, WorkloadRng};

/// A transaction's keys, grouped by participant.
pub type Parts = Vec<(PeerId, Vec<KeyOp>)>;

/// Builds one worker's transactions.
pub struct TxnBuilder {
    params: CommitParams,
    keys: KeyGenerator,
    rng: WorkloadRng,
}

impl TxnBuilder {
    /// The builder of driver worker `worker` of `workers`.
    pub fn new(workload: &Workload, params: CommitParams, worker: u32, workers: u32) -> Self {
        TxnBuilder {
            params,
            keys: KeyGenerator::new(workload.dist, workload.keys, u64::from(worker), u64::from(workers)),
            rng: stream_rng(workload.seed, Stream::Target, u64::from(worker)),
        }
    }

    /// The transaction for `op`.
    pub fn build(&mut self, op: Op) -> Parts {
        let k = self.params.keys_per_txn;
        let p = self.params.participants;
        let first = (splitmix64(op.key) % u64::from(p)) as u32;
        let mut parts: Parts = Vec::with_capacity(k.min(p) as usize);
        for i in 0..k {
            let key = if i == 0 { op.key } else { self.keys.next_key(&mut self.rng) };
            let access = match (op.kind, i) {
                (OpKind::Read, _) => Access::Read,
                (_, 0) => Access::Add(-i64::from(k - 1)),
                _ => Access::Add(1),
            };
            let participant = self.params.participant_id((first + i) % p);
            add(&mut parts, participant, KeyOp { key, access });
        }
        parts
    }
}

/// Adds `op` to `participant`'s part, merging it with an earlier op on the same key (the sum
/// of the amounts; a read merged into a write is a write).
fn add(parts: &mut Parts, participant: PeerId, op: KeyOp) {
    let ops = match parts.iter().position(|(p, _)| *p == participant) {
        Some(i) => &mut parts[i].1,
        None => {
            parts.push((participant, Vec::new()));
            &mut parts.last_mut().expect("just pushed").1
        }
    };
    match ops.iter_mut().find(|o| o.key == op.key) {
        Some(existing) => {
            existing.access = match (existing.access, op.access) {
                (Access::Add(a), Access::Add(b)) => Access::Add(a + b),
                (Access::Add(a), Access::Read) | (Access::Read, Access::Add(a)) => Access::Add(a),
                (Access::Read, Access::Read) => Access::Read,
            }
        }
        None => ops.push(op),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use workloads::scenario::{ScenarioFile, WorkloadSpec};

    fn workload(dist: &str, keys: u64) -> Workload {
        let text = format!("[[scenario]]\nname='t'\nfamily='commit'\ndist='{dist}'\nkeys={keys}");
        ScenarioFile::parse(&text, "t").unwrap().workloads("t", &WorkloadSpec::default()).unwrap().remove(0)
    }

    proptest::proptest! {
        /// Every transfer sums to zero, spans min(k, P) participants, and names each key once
        /// per participant.
        #[test]
        fn transfers_balance_and_span_participants(k in 1u32..8, p in 1u32..6, key in 0u64..50, seed in 0u64..4) {
            let params = CommitParams { participants: p, keys_per_txn: k, ..CommitParams::default() };
            let mut workload = workload("zipfian", 50);
            workload.seed = seed;
            let mut builder = TxnBuilder::new(&workload, params, 0, 1);
            let parts = builder.build(Op { kind: OpKind::Update, key });
            let sum: i64 = parts.iter().flat_map(|(_, ops)| ops).map(|op| match op.access {
                Access::Add(a) => a,
                Access::Read => 0,
            }).sum();
            proptest::prop_assert_eq!(sum, 0);
            proptest::prop_assert_eq!(parts.len() as u32, k.min(p));
            for (_, ops) in &parts {
                let mut keys: Vec<u64> = ops.iter().map(|o| o.key).collect();
                keys.sort_unstable();
                keys.dedup();
                proptest::prop_assert_eq!(keys.len(), ops.len());
            }
            let reads = builder.build(Op { kind: OpKind::Read, key });
            proptest::prop_assert!(reads.iter().flat_map(|(_, ops)| ops).all(|op| op.access == Access::Read));
        }
    }
}
