//! The protected resource and the safety checker.
//!
//! While holding a lock, each client writes once to a *protected resource*: a register per
//! lock that keeps the highest fencing token it has accepted. With fencing on it rejects a
//! write whose token is lower than that; with fencing off it accepts every write, as a
//! resource that knows nothing of locks would.
//!
//! The checker follows the history as it happens, lock by lock, on the monotonic clock: each
//! critical section from acquisition to the holder's decision to release (or its death), and
//! each write. It counts:
//! - *overlaps*: a client acquired a lock while another client's critical section on it was
//!   still open (the other's lease had expired, or a quorum was lost, without it knowing);
//! - *stale writes*: a write by a holder whose lock another client acquired *and wrote under*
//!   after it — the lost-update case. A stale write the resource rejected is fencing doing its
//!   job; a stale write it accepted is a safety **violation**;
//! - *token regressions*: an acquisition whose token is not above the previous one's;
//! - *hand-offs*: release → next acquisition of the same lock, counted when the next holder
//!   was already waiting at the release;
//! - *re-acquisition after a death*: from a holder's death to the next acquisition of its lock.
//!
//! Timestamps here belong to the history the checks run over, not to the latency
//! measurement, which the driver alone takes.

use crate::sync::Recover as _;
use hdrhistogram::Histogram;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Shards of the checker's state (one mutex each), so workers on different locks rarely meet.
const SHARDS: usize = 64;

/// One open critical section.
#[derive(Clone, Copy, Debug)]
struct Holder {
    worker: u32,
    /// Position of this acquisition among the lock's acquisitions, from 1.
    seq: u64,
}

#[derive(Debug, Default)]
struct LockState {
    open: Vec<Holder>,
    acquisitions: u64,
    last_token: Option<u64>,
    /// The register: the highest token accepted.
    highest_token: Option<u64>,
    /// `seq` of the latest acquisition whose holder wrote successfully.
    latest_writer_seq: u64,
    last_release: Option<Instant>,
    died_at: Option<Instant>,
}

/// Counts over the whole run (warm-up included: safety covers every operation).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Counts {
    pub critical_sections: u64,
    pub overlaps: u64,
    pub token_regressions: u64,
    pub writes_accepted: u64,
    pub stale_writes_rejected: u64,
    pub stale_writes_accepted: u64,
    /// Writes by a current holder that the register rejected (its token was lower than an
    /// earlier holder's: possible only when tokens regress).
    pub current_writes_rejected: u64,
    pub deaths: u64,
    /// Deaths after which the lock was never acquired again before the end of the run.
    pub deaths_not_reacquired: u64,
}

impl Counts {
    fn add(&mut self, other: &Counts) {
        self.critical_sections += other.critical_sections;
        self.overlaps += other.overlaps;
        self.token_regressions += other.token_regressions;
        self.writes_accepted += other.writes_accepted;
        self.stale_writes_rejected += other.stale_writes_rejected;
        self.stale_writes_accepted += other.stale_writes_accepted;
        self.current_writes_rejected += other.current_writes_rejected;
        self.deaths += other.deaths;
        self.deaths_not_reacquired += other.deaths_not_reacquired;
    }
}

#[derive(Debug)]
struct Shard {
    locks: HashMap<u64, LockState>,
    stats: Stats,
}

#[derive(Debug)]
struct Stats {
    counts: Counts,
    handoff_us: Histogram<u64>,
    reacquire_us: Vec<u64>,
}

fn histogram() -> Histogram<u64> {
    Histogram::new(3).expect("valid precision")
}

/// What the checker found.
#[derive(Clone, Debug, PartialEq)]
pub struct Findings {
    pub counts: Counts,
    /// Hand-off latency in µs: (count, p50, p99, max).
    pub handoff_us: Option<(u64, u64, u64, u64)>,
    /// Time from a holder's death to the next acquisition of its lock, µs, one per death.
    pub reacquire_us: Vec<u64>,
}

impl Findings {
    /// Accepted stale writes: the `violations` column.
    pub fn violations(&self) -> u64 {
        self.counts.stale_writes_accepted
    }
}

/// The protected resource and the checker of one run.
#[derive(Debug)]
pub struct Checker {
    fencing: bool,
    shards: Vec<Mutex<Shard>>,
}

impl Checker {
    /// A checker whose resource rejects stale tokens if `fencing`.
    pub fn new(fencing: bool) -> Self {
        let shards = (0..SHARDS)
            .map(|_| {
                Mutex::new(Shard {
                    locks: HashMap::new(),
                    stats: Stats { counts: Counts::default(), handoff_us: histogram(), reacquire_us: Vec::new() },
                })
            })
            .collect();
        Checker { fencing, shards }
    }

    /// Whether the resource checks tokens.
    pub fn fencing(&self) -> bool {
        self.fencing
    }

    fn with<T>(&self, lock: u64, f: impl FnOnce(&mut LockState, &mut Stats) -> T) -> T {
        let index = (workloads::rng::splitmix64(lock) % SHARDS as u64) as usize;
        let mut shard = self.shards[index].locked();
        let Shard { locks, stats } = &mut *shard;
        f(locks.entry(lock).or_default(), stats)
    }

    /// `worker`, which started waiting at `waiting_since`, acquired `lock` with `token` at
    /// `at`. Returns the acquisition's sequence number, to pass to [`Checker::write`].
    pub fn acquired(&self, worker: u32, lock: u64, token: u64, waiting_since: Instant, at: Instant) -> u64 {
        self.with(lock, |state, shard| {
            state.acquisitions += 1;
            let seq = state.acquisitions;
            let counts = &mut shard.counts;
            counts.critical_sections += 1;
            counts.overlaps += state.open.len() as u64;
            if state.last_token.is_some_and(|last| token <= last) {
                counts.token_regressions += 1;
            }
            state.last_token = Some(token);
            if let Some(released) = state.last_release.filter(|r| waiting_since <= *r) {
                let _ = shard.handoff_us.record(micros(at.saturating_duration_since(released)));
            }
            if let Some(died) = state.died_at.take() {
                shard.reacquire_us.push(micros(at.saturating_duration_since(died)));
            }
            state.open.push(Holder { worker, seq });
            seq
        })
    }

    /// The holder of acquisition `seq` writes with `token`; returns whether the resource
    /// accepted the write.
    pub fn write(&self, lock: u64, seq: u64, token: u64) -> bool {
        let fencing = self.fencing;
        self.with(lock, |state, shard| {
            let token_ok = state.highest_token.is_none_or(|highest| token >= highest);
            let accepted = token_ok || !fencing;
            let stale = seq < state.latest_writer_seq;
            let counts = &mut shard.counts;
            match (stale, accepted) {
                (true, true) => counts.stale_writes_accepted += 1,
                (true, false) => counts.stale_writes_rejected += 1,
                (false, false) => counts.current_writes_rejected += 1,
                (false, true) => {}
            }
            if accepted {
                counts.writes_accepted += 1;
                state.highest_token = Some(state.highest_token.map_or(token, |h| h.max(token)));
                state.latest_writer_seq = state.latest_writer_seq.max(seq);
            }
            accepted
        })
    }

    /// The holder of acquisition `seq` ends its critical section at `at` (before it asks the
    /// lock service to release).
    pub fn released(&self, lock: u64, seq: u64, at: Instant) {
        self.with(lock, |state, _| {
            state.open.retain(|h| h.seq != seq);
            state.last_release = Some(at);
        });
    }

    /// The holder of acquisition `seq` dies at `at` without releasing.
    pub fn died(&self, lock: u64, seq: u64, at: Instant) {
        self.with(lock, |state, shard| {
            state.open.retain(|h| h.seq != seq);
            state.died_at = Some(at);
            shard.counts.deaths += 1;
        });
    }

    /// The worker holding `lock` in acquisition `seq`, if it is still open.
    pub fn holder(&self, lock: u64, seq: u64) -> Option<u32> {
        self.with(lock, |state, _| state.open.iter().find(|h| h.seq == seq).map(|h| h.worker))
    }

    /// Everything found so far.
    pub fn findings(&self) -> Findings {
        let mut counts = Counts::default();
        let mut handoff = histogram();
        let mut reacquire_us = Vec::new();
        for shard in &self.shards {
            let shard = shard.locked();
            counts.add(&shard.stats.counts);
            counts.deaths_not_reacquired += shard.locks.values().filter(|s| s.died_at.is_some()).count() as u64;
            let _ = handoff.add(&shard.stats.handoff_us);
            reacquire_us.extend_from_slice(&shard.stats.reacquire_us);
        }
        let handoff_us = (!handoff.is_empty())
            .then(|| (handoff.len(), handoff.value_at_quantile(0.5), handoff.value_at_quantile(0.99), handoff.max()));
        Findings { counts, handoff_us, reacquire_us }
    }
}

fn micros(duration: Duration) -> u64 {
    duration.as_micros().min(u128::from(u64::MAX)) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(base: Instant, ms: u64) -> Instant {
        base + Duration::from_millis(ms)
    }

    /// A holder paused past its lease: B acquires and writes, then A wakes and writes with its
    /// older token. With fencing the write is rejected; without, it is a violation.
    fn paused_holder(fencing: bool) -> Findings {
        let checker = Checker::new(fencing);
        let t = Instant::now();
        let a = checker.acquired(0, 1, 10, t, at(t, 0));
        let b = checker.acquired(1, 1, 11, t, at(t, 5));
        assert!(checker.write(1, b, 11));
        let accepted = checker.write(1, a, 10);
        assert_eq!(accepted, !fencing);
        checker.released(1, b, at(t, 6));
        checker.released(1, a, at(t, 7));
        checker.findings()
    }

    #[test]
    fn fencing_rejects_the_stale_write_of_a_paused_holder() {
        let with = paused_holder(true);
        assert_eq!(with.counts.overlaps, 1);
        assert_eq!((with.counts.stale_writes_rejected, with.violations()), (1, 0));
        let without = paused_holder(false);
        assert_eq!((without.counts.stale_writes_rejected, without.violations()), (0, 1));
    }

    #[test]
    fn a_write_before_the_next_holder_writes_is_not_stale() {
        let checker = Checker::new(false);
        let t = Instant::now();
        let a = checker.acquired(0, 1, 1, t, t);
        let b = checker.acquired(1, 1, 2, t, at(t, 1));
        assert!(checker.write(1, a, 1));
        assert!(checker.write(1, b, 2));
        let findings = checker.findings();
        assert_eq!((findings.counts.overlaps, findings.violations()), (1, 0));
    }

    #[test]
    fn handoffs_reacquisitions_and_regressions_are_measured() {
        let checker = Checker::new(true);
        let t = Instant::now();
        let a = checker.acquired(0, 9, 5, t, t);
        checker.released(9, a, at(t, 10));
        // B waited since before the release: a hand-off of 2 ms.
        let b = checker.acquired(1, 9, 6, at(t, 1), at(t, 12));
        checker.died(9, b, at(t, 20));
        // C, not waiting at the release, gets a lower token 30 ms after B died.
        let _c = checker.acquired(2, 9, 4, at(t, 40), at(t, 50));
        let findings = checker.findings();
        let (count, p50, _, _) = findings.handoff_us.unwrap();
        assert_eq!(count, 1);
        assert!((1990..=2010).contains(&p50), "{p50}");
        assert_eq!(findings.reacquire_us.len(), 1);
        assert!((29_900..=30_100).contains(&findings.reacquire_us[0]));
        assert_eq!(findings.counts.token_regressions, 1);
        assert_eq!(findings.counts.overlaps, 0);
        assert_eq!(findings.counts.deaths_not_reacquired, 0);
    }

    proptest::proptest! {
        /// Sequential critical sections with growing tokens never count an overlap, a stale
        /// write or a regression, whatever the interleaving of locks.
        #[test]
        fn sequential_holders_are_safe(locks in proptest::collection::vec(0u64..4, 1..200)) {
            let checker = Checker::new(true);
            let t = Instant::now();
            let mut tokens = [0u64; 4];
            for (i, lock) in locks.iter().enumerate() {
                tokens[*lock as usize] += 1;
                let now = at(t, i as u64);
                let seq = checker.acquired(i as u32 % 3, *lock, tokens[*lock as usize], now, now);
                proptest::prop_assert!(checker.write(*lock, seq, tokens[*lock as usize]));
                checker.released(*lock, seq, now);
            }
            let findings = checker.findings();
            proptest::prop_assert_eq!(findings.counts.critical_sections, locks.len() as u64);
            proptest::prop_assert_eq!(findings.counts.overlaps + findings.counts.token_regressions + findings.violations(), 0);
        }
    }
}
