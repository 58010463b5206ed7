//! The history of what clients asked and were told, for the linearizability checker.
//!
//! Each driver worker records its own operations ([`Recorder`]) with the time it asked and
//! the time it was answered, on the monotonic clock every worker shares (tokio's, so that
//! tests under a paused clock record paused time). These timestamps only order operations
//! for the checker; the driver takes its own for the measurements.
//!
//! The history is bounded: at most `max_ops` operations in all. Linearizability of a
//! key-value store is linearizability of each key, so a history can shrink soundly only by
//! whole keys: when a worker's share fills, the history keeps half as many keys (those whose
//! hashed key has one more leading zero bit), every worker drops the others, and the row
//! reports the fraction of keys kept rather than claiming to have checked them all.

use crate::sync::Recover as _;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use tokio::time::Instant;

/// What an operation did to its key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Access {
    /// Wrote this value (every write's value is unique in a run).
    Write(u64),
    /// Read this value (`None`: the key had never been written).
    Read(Option<u64>),
}

/// One operation of the history.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HistoryOp {
    pub key: u64,
    pub access: Access,
    /// When it was asked, ns from the history's start.
    pub call_ns: u64,
    /// When it was answered; [`NO_ANSWER`] for a write whose outcome the client never
    /// learned (it may have taken effect, at any time after it was asked).
    pub ret_ns: u64,
}

/// `ret_ns` of an operation that was never answered.
pub const NO_ANSWER: u64 = u64::MAX;

/// The most halvings of the key set: a key is kept at level L if its hash's top L bits are 0,
/// so at this level no key is kept.
const MAX_LEVEL: u32 = 64;

fn mix(key: u64) -> u64 {
    // splitmix64's finaliser: keys that are consecutive integers spread evenly.
    let mut z = key.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Whether `key` is kept at `level`.
pub fn kept(key: u64, level: u32) -> bool {
    match level {
        0 => true,
        MAX_LEVEL.. => false,
        _ => mix(key) >> (64 - level) == 0,
    }
}

/// The history shared by a run's workers.
#[derive(Debug)]
pub struct History {
    base: Instant,
    level: AtomicU32,
    per_worker: usize,
    finished: Mutex<Vec<Vec<HistoryOp>>>,
}

/// A finished history.
#[derive(Clone, Debug, Default)]
pub struct Recorded {
    pub ops: Vec<HistoryOp>,
    /// The fraction of keys whose operations were all kept (1.0 unless the history was cut).
    pub keys_fraction: f64,
}

impl History {
    /// A history of at most `max_ops` operations over `workers` workers.
    pub fn new(max_ops: usize, workers: u32) -> Arc<Self> {
        Arc::new(History {
            base: Instant::now(),
            level: AtomicU32::new(0),
            per_worker: (max_ops / workers.max(1) as usize).max(1),
            finished: Mutex::new(Vec::new()),
        })
    }

    /// A worker's recorder; what it recorded joins the history when it is dropped.
    pub fn recorder(self: &Arc<Self>) -> Recorder {
        Recorder { history: Arc::clone(self), level: 0, ops: Vec::new() }
    }

    /// The time now on the history's clock.
    pub fn now_ns(&self) -> u64 {
        self.base.elapsed().as_nanos() as u64
    }

    /// Every operation recorded by the workers dropped so far, on the keys kept.
    pub fn finish(&self) -> Recorded {
        let level = self.level.load(Ordering::Acquire);
        let parts = std::mem::take(&mut *self.finished.locked());
        let ops = parts.into_iter().flatten().filter(|op| kept(op.key, level)).collect();
        Recorded { ops, keys_fraction: 0.5f64.powi(level as i32) }
    }
}

/// One worker's part of the history.
#[derive(Debug)]
pub struct Recorder {
    history: Arc<History>,
    level: u32,
    ops: Vec<HistoryOp>,
}

impl Recorder {
    /// The time now on the history's clock.
    pub fn now_ns(&self) -> u64 {
        self.history.now_ns()
    }

    /// Records `op` if its key is kept, halving the keys kept while this worker's share is
    /// full.
    pub fn record(&mut self, op: HistoryOp) {
        let shared = self.history.level.load(Ordering::Acquire);
        if shared > self.level {
            self.raise(shared);
        }
        while self.ops.len() >= self.history.per_worker && self.level < MAX_LEVEL {
            let next = self.level + 1;
            self.history.level.fetch_max(next, Ordering::AcqRel);
            self.raise(next);
        }
        if kept(op.key, self.level) {
            self.ops.push(op);
        }
    }

    fn raise(&mut self, level: u32) {
        self.level = level;
        self.ops.retain(|op| kept(op.key, level));
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.history.finished.locked().push(std::mem::take(&mut self.ops));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(key: u64, value: u64) -> HistoryOp {
        HistoryOp { key, access: Access::Write(value), call_ns: 0, ret_ns: 1 }
    }

    #[test]
    fn a_full_history_keeps_whole_keys() {
        let history = History::new(100, 2);
        let (mut a, mut b) = (history.recorder(), history.recorder());
        for i in 0..1000 {
            a.record(write(i % 40, i));
            b.record(write(i % 40, 10_000 + i));
        }
        drop((a, b));
        let recorded = history.finish();
        assert!(recorded.ops.len() <= 100, "{}", recorded.ops.len());
        assert!(recorded.keys_fraction < 1.0);
        // Every key kept has all its operations from both workers... up to the moment its
        // worker's share filled: the kept keys are the same for both workers.
        let level = history.level.load(Ordering::Relaxed);
        assert!(recorded.ops.iter().all(|op| kept(op.key, level)));
        let keys: std::collections::BTreeSet<u64> = recorded.ops.iter().map(|o| o.key).collect();
        assert!(!keys.is_empty());
    }

    #[test]
    fn a_small_history_keeps_everything() {
        let history = History::new(1000, 1);
        let mut a = history.recorder();
        for i in 0..10 {
            a.record(write(i, i));
        }
        drop(a);
        let recorded = history.finish();
        assert_eq!((recorded.ops.len(), recorded.keys_fraction), (10, 1.0));
    }
}
