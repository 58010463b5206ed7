//! The open loop's schedule: one for the whole run, shared by its slots, as k6's
//! constant-arrival-rate executor and YCSB's intended-time measurements do it.
//!
//! A free slot takes the next arrival, sleeps until it is due and starts it; `concurrency` is
//! the number of slots, so it caps what is in flight without splitting the schedule. An
//! arrival that finds every slot busy waits in the schedule until one is free, and its latency
//! still counts from when it was due. Arrivals are handed out in order under a mutex (tens of
//! nanoseconds, taken once per operation), so the sequence of intended starts is the same
//! whatever the number of slots and their speed.
//!
//! The slots that share a worker thread take turns at the schedule: one of them at a time
//! takes the next arrival and sleeps until it is due, and hands the turn on as it starts it
//! ([`Arrivals::turn`]). So each thread holds at most one arrival ahead of its time. Were every
//! free slot to take one, a thread's slots would hold arrivals up to `concurrency / rate`
//! ahead (5 ms at 10,000/s with 50 slots), bound to that thread however late it got to them;
//! with turns, a thread held up (descheduled, or busy with a slow answer) delays the one
//! arrival it holds, and the other threads take the rest. Measured side by side (HTTP open
//! loop against `engine:direct`, 10,000 requests/s, 50 slots on 2 cores): see the README's
//! methodology.
//!
//! Nothing due in the measured phase is dropped: when the run ends, [`Arrivals::account_untaken`]
//! records every arrival that was due but never started as unfinished, with the time it had
//! waited — in one pass over the histogram's buckets, not one step per arrival, so even an
//! hour of backlog at millions a second is accounted for in milliseconds.

use crate::recorder::{Timeline, WorkerRecorder, new_histogram};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use targets::sync::Recover as _;
use workloads::{ArrivalSchedule, Arrivals as ArrivalKind};

/// The run's schedule and what has been handed out of it.
pub struct Arrivals {
    state: Mutex<State>,
    /// One turn per group of slots sharing a thread.
    turns: Vec<tokio::sync::Mutex<()>>,
}

struct State {
    schedule: ArrivalSchedule,
    run_start: Instant,
    measure_start: Instant,
    /// No arrival due at or after this is handed out: the end of the measured phase.
    end: Instant,
    /// Arrivals of the measured phase still to hand out, with an operation quota.
    quota_left: Option<u64>,
    /// Arrivals due in the measured phase, handed out or accounted unfinished.
    due_in_phase: u64,
}

impl State {
    fn limit(&self) -> u64 {
        self.quota_left.unwrap_or(u64::MAX)
    }

    /// Counts `count` arrivals due at `intended` against the measured phase and its quota.
    fn count(&mut self, intended: Instant, count: u64) {
        if intended >= self.measure_start {
            self.due_in_phase += count;
            if let Some(left) = &mut self.quota_left {
                *left = left.saturating_sub(count);
            }
        }
    }
}

impl Arrivals {
    /// `rate_ops_s` arrivals per second of `kind` over `timeline`, at most `quota` of them in
    /// the measured phase.
    pub fn new(kind: ArrivalKind, rate_ops_s: f64, seed: u64, timeline: &Timeline, quota: Option<u64>) -> Self {
        let state = State {
            schedule: ArrivalSchedule::new(kind, rate_ops_s, seed),
            run_start: timeline.run_start,
            measure_start: timeline.measure_start,
            end: timeline.measure_end,
            quota_left: quota,
            due_in_phase: 0,
        };
        Arrivals { state: Mutex::new(state), turns: vec![tokio::sync::Mutex::new(())] }
    }

    /// The same schedule, taken in turns by `groups` groups of slots (one per worker thread).
    pub fn with_groups(mut self, groups: usize) -> Self {
        self.turns = (0..groups.max(1)).map(|_| tokio::sync::Mutex::new(())).collect();
        self
    }

    /// Waits for group `group`'s turn to take the next arrival: it is held until that arrival
    /// is due (or the slot gives up), then the next free slot of the group gets it.
    pub async fn turn(&self, group: usize) -> tokio::sync::MutexGuard<'_, ()> {
        self.turns[group % self.turns.len()].lock().await
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.locked()
    }

    /// The next arrival's intended start; `None` once the measured phase's schedule (or its
    /// quota) is used up.
    pub fn take(&self) -> Option<Instant> {
        let mut state = self.lock();
        let intended = state.run_start + state.schedule.peek_offset();
        if intended >= state.end || state.quota_left == Some(0) {
            return None;
        }
        state.schedule.next_offset();
        state.count(intended, 1);
        Some(intended)
    }

    /// Whether an operation quota ended the schedule.
    pub fn quota_used_up(&self) -> bool {
        self.lock().quota_left == Some(0)
    }

    /// Arrivals due in the measured phase so far: handed out, or accounted unfinished.
    pub fn due_in_phase(&self) -> u64 {
        self.lock().due_in_phase
    }

    /// Records every arrival due before `cutoff` that no slot took as unfinished at `now`,
    /// into `recorder`: each with the time it had waited (`now` − its intended start). Arrivals
    /// are skipped a histogram bucket at a time, so that all those of one pass wait the same
    /// to the histogram's precision. Returns how many there were.
    pub fn account_untaken(&self, cutoff: Instant, now: Instant, recorder: &mut WorkerRecorder) -> u64 {
        let bucket_oracle = new_histogram();
        let mut state = self.lock();
        let cutoff = cutoff.min(state.end);
        let mut total = 0;
        loop {
            let intended = state.run_start + state.schedule.peek_offset();
            if intended >= cutoff || state.limit() == 0 {
                return total;
            }
            let waited = now.saturating_duration_since(intended);
            let waited_ns = u64::try_from(waited.as_nanos()).unwrap_or(u64::MAX);
            // Arrivals later than this one wait less; those within this bucket wait the same.
            let same_bucket_ns = waited_ns - bucket_oracle.lowest_equivalent(waited_ns) + 1;
            let window_end = (intended + Duration::from_nanos(same_bucket_ns)).min(cutoff);
            let limit = if intended >= state.measure_start { state.limit() } else { u64::MAX };
            let window_end_offset = window_end - state.run_start;
            let count = state.schedule.skip_until(window_end_offset, limit);
            state.count(intended, count);
            recorder.record_unfinished(now, waited, None, 1, count);
            total += count;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recorder::{Aggregator, PaddedCounter, Report, Timing};
    use std::sync::Arc;
    use std::sync::mpsc;

    fn timeline() -> Timeline {
        Timeline::new(Instant::now(), Duration::ZERO, Duration::from_secs(1), Duration::from_secs(1))
    }

    #[test]
    fn arrivals_are_handed_out_in_order_until_the_end_of_the_measured_phase() {
        let t = timeline();
        let arrivals = Arrivals::new(ArrivalKind::Constant, 4.0, 1, &t, None);
        let offsets: Vec<_> = std::iter::from_fn(|| arrivals.take()).map(|i| i - t.run_start).collect();
        let ms = |m| Duration::from_millis(m);
        assert_eq!(offsets, vec![ms(0), ms(250), ms(500), ms(750)]);
        assert_eq!(arrivals.due_in_phase(), 4);
    }

    #[test]
    fn a_quota_ends_the_schedule() {
        let t = timeline();
        let arrivals = Arrivals::new(ArrivalKind::Constant, 1000.0, 1, &t, Some(10));
        assert_eq!(std::iter::from_fn(|| arrivals.take()).count(), 10);
        assert!(arrivals.quota_used_up());
    }

    /// The slots of one thread take the schedule in turns, while another thread's slots take
    /// theirs: a thread never holds more than one arrival ahead of its time.
    #[test]
    fn one_slot_of_a_thread_at_a_time_holds_an_arrival() {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
        let now_or_never = |turn| runtime.block_on(async { tokio::time::timeout(Duration::ZERO, turn).await }).ok();
        let arrivals = Arrivals::new(ArrivalKind::Constant, 1000.0, 1, &timeline(), None).with_groups(2);
        let held = now_or_never(arrivals.turn(0)).expect("the first turn is free");
        assert!(now_or_never(arrivals.turn(0)).is_none(), "a second slot of the thread waits");
        assert!(now_or_never(arrivals.turn(1)).is_some(), "the other thread's slots take theirs");
        assert!(now_or_never(arrivals.turn(2)).is_none(), "groups wrap round the threads");
        drop(held);
        assert!(now_or_never(arrivals.turn(0)).is_some(), "the turn passes on");
    }

    /// 1000 arrivals due in a second, 100 started: the other 900 are recorded unfinished, each
    /// with its own wait to the histogram's precision, however fast the pass.
    #[test]
    fn every_arrival_never_started_is_recorded_unfinished_with_its_wait() {
        let t = timeline();
        let arrivals = Arrivals::new(ArrivalKind::Constant, 1000.0, 1, &t, None);
        for _ in 0..100 {
            arrivals.take();
        }
        let (sender, receiver) = mpsc::channel::<Report>();
        let mut recorder = WorkerRecorder::new(0, t, Timing::PerOp, None, Arc::new(PaddedCounter::default()), sender);
        let gave_up = t.measure_end + Duration::from_secs(5);
        assert_eq!(arrivals.account_untaken(t.measure_end, gave_up, &mut recorder), 900);
        assert_eq!(arrivals.due_in_phase(), 1000);
        recorder.finish();
        let mut aggregator = Aggregator::new(t, 1);
        receiver.iter().for_each(|r| drop(aggregator.push(r)));
        let (_, totals) = aggregator.finish(t.measure_end);
        let response = &totals.measured.response;
        assert_eq!((totals.unfinished, response.len()), (900, 900));
        // Due from 100 ms to 999 ms, given up at 6 s: waits from 5.001 s to 5.9 s, evenly.
        let near = |value: u64, expected_ms: f64| (value as f64 / 1e6 - expected_ms).abs() < 6.0;
        assert!(near(response.min(), 5001.0), "min {}", response.min());
        assert!(near(response.max(), 5900.0), "max {}", response.max());
        assert!(near(response.value_at_quantile(0.5), 5450.0), "p50 {}", response.value_at_quantile(0.5));
    }
}
