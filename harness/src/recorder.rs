//! Recording: per-worker HdrHistograms cut into intervals, and the aggregator that merges the
//! workers' intervals into one time series and one summary.
//!
//! Each worker records into its own histogram (no sharing on the hot path). When an operation
//! ends past the current interval's boundary, the worker sends the finished interval to the
//! aggregator over a channel and starts a new one. The aggregator adds the workers'
//! histograms interval by interval (HdrHistograms add losslessly) and emits an interval once
//! every worker has moved past it, so memory stays flat however long the run. Warm-up
//! intervals are kept apart from the measured ones and never enter the summary.
//!
//! Families whose operations are served by one of several nodes (a balancer's backends) also
//! count the operations each node served ([`WorkerRecorder::count_node`]), so that the time
//! series shows how the traffic moved. Those counts go to the interval in which the operation
//! *started* — where the balancer sent it — not the one in which it ended: a request queued
//! for seconds at a slow backend still counts against the moment it was routed there. Since
//! such an interval may already be written, node counts are kept apart and complete only at
//! the end of the run ([`Totals::node_series`]).
//!
//! Values are microseconds for per-operation timing and nanoseconds per operation for batch
//! timing (see [`Timing`]), always with 3 significant digits.
//!
//! An operation timed alone may also have a *phase mark* (a lock acquired, inside an
//! acquire–hold–release cycle): the time from its start to the mark goes into a second
//! histogram, kept beside the first in every interval and in the totals. It is created only
//! when a worker first marks, so families without phases pay nothing for it.
//!
//! Failed operations are counted by kind and their latencies go to a histogram of their own
//! (made on the first failure, so a run without failures pays nothing for it): the latency of
//! success and the latency of failure are different questions (a commit against an abort, a
//! lock acquired against one refused), and mixing them would answer neither.

use hdrhistogram::Histogram;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::Sender;
use std::time::{Duration, Instant};
use targets::target::OpError;

/// Significant digits of every histogram.
pub const HISTOGRAM_SIGFIG: u8 = 3;

/// An empty histogram with the harness's precision. It starts small and grows to the largest
/// value recorded (no value is clamped), so an idle worker's histogram costs a few kilobytes.
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new(HISTOGRAM_SIGFIG).expect("valid histogram precision")
}

/// What one recorded value means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timing {
    /// Each operation timed alone; values in microseconds.
    PerOp,
    /// Operations timed in batches of `n`; values are nanoseconds per operation (the batch's
    /// time divided by its size), for operations too short to time one by one.
    Batch(u32),
}

impl Timing {
    /// Operations per timed unit.
    pub fn batch_size(self) -> u32 {
        match self {
            Timing::PerOp => 1,
            Timing::Batch(n) => n,
        }
    }

    /// The recorded value for a timed unit of `ops` operations that took `elapsed`.
    #[inline]
    pub fn value(self, elapsed: Duration, ops: u32) -> u64 {
        match self {
            Timing::PerOp => elapsed.as_secs() * 1_000_000 + u64::from(elapsed.subsec_micros()),
            Timing::Batch(_) => (elapsed.as_nanos() / u128::from(ops.max(1))) as u64,
        }
    }
}

/// Warm-up or measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Phase {
    Warmup,
    Measure,
}

impl Phase {
    /// The name used in CSV rows.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Warmup => "warmup",
            Phase::Measure => "measure",
        }
    }
}

/// One interval of the run: warm-up intervals count from the start of the run, measured ones
/// from the start of the measured phase. Slots order by phase, then index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Slot {
    pub phase: Phase,
    pub index: u64,
}

/// The run's fixed instants and interval length.
#[derive(Clone, Copy, Debug)]
pub struct Timeline {
    pub run_start: Instant,
    pub measure_start: Instant,
    pub measure_end: Instant,
    pub interval: Duration,
}

impl Timeline {
    /// Builds a timeline that starts at `run_start`.
    pub fn new(run_start: Instant, warmup: Duration, duration: Duration, interval: Duration) -> Self {
        assert!(!interval.is_zero(), "interval must be positive");
        let measure_start = run_start + warmup;
        Timeline { run_start, measure_start, measure_end: measure_start + duration, interval }
    }

    fn warmup_slots(&self) -> u64 {
        let warmup = self.measure_start - self.run_start;
        warmup.as_nanos().div_ceil(self.interval.as_nanos()) as u64
    }

    /// The slot an operation ending at `at` belongs to.
    pub fn slot(&self, at: Instant) -> Slot {
        if at < self.measure_start {
            let index = ((at.saturating_duration_since(self.run_start)).as_nanos() / self.interval.as_nanos()) as u64;
            Slot { phase: Phase::Warmup, index }
        } else {
            let index = ((at - self.measure_start).as_nanos() / self.interval.as_nanos()) as u64;
            Slot { phase: Phase::Measure, index }
        }
    }

    /// When `slot` starts and ends.
    pub fn bounds(&self, slot: Slot) -> (Instant, Instant) {
        let interval = self.interval;
        match slot.phase {
            Phase::Warmup => {
                let start = self.run_start + times(interval, slot.index);
                (start, (start + interval).min(self.measure_start))
            }
            Phase::Measure => {
                let start = self.measure_start + times(interval, slot.index);
                (start, start + interval)
            }
        }
    }

    /// The slot after `slot`.
    pub fn next(&self, slot: Slot) -> Slot {
        match slot.phase {
            Phase::Warmup if slot.index + 1 < self.warmup_slots() => {
                Slot { phase: Phase::Warmup, index: slot.index + 1 }
            }
            Phase::Warmup => Slot { phase: Phase::Measure, index: 0 },
            Phase::Measure => Slot { phase: Phase::Measure, index: slot.index + 1 },
        }
    }

    /// The first slot of the run.
    pub fn first(&self) -> Slot {
        if self.warmup_slots() > 0 {
            Slot { phase: Phase::Warmup, index: 0 }
        } else {
            Slot { phase: Phase::Measure, index: 0 }
        }
    }
}

fn times(interval: Duration, count: u64) -> Duration {
    Duration::from_nanos((interval.as_nanos() as u64).saturating_mul(count))
}

/// Failures counted by kind, with the first detail seen for each kind. A handful of kinds at
/// most, so a vector beats a map.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ErrorCounts {
    kinds: Vec<(&'static str, u64, Option<String>)>,
}

impl ErrorCounts {
    /// Counts one failure.
    pub fn add(&mut self, error: OpError) {
        self.add_count(error.kind, 1, error.detail);
    }

    fn add_count(&mut self, kind: &'static str, count: u64, detail: Option<String>) {
        match self.kinds.iter_mut().find(|(k, _, _)| *k == kind) {
            Some(entry) => {
                entry.1 += count;
                if entry.2.is_none() {
                    entry.2 = detail;
                }
            }
            None => self.kinds.push((kind, count, detail)),
        }
    }

    /// Adds every count of `other`.
    pub fn merge(&mut self, other: &ErrorCounts) {
        for (kind, count, detail) in &other.kinds {
            self.add_count(kind, *count, detail.clone());
        }
    }

    /// Failures of `kind`.
    pub fn count(&self, kind: &str) -> u64 {
        self.kinds.iter().filter(|(k, _, _)| *k == kind).map(|(_, c, _)| c).sum()
    }

    /// Total failures.
    pub fn total(&self) -> u64 {
        self.kinds.iter().map(|(_, c, _)| c).sum()
    }

    /// `kind=count;...`, sorted by kind, for CSV rows.
    pub fn describe(&self) -> String {
        let mut kinds: Vec<_> = self.kinds.iter().map(|(k, c, _)| format!("{k}={c}")).collect();
        kinds.sort();
        kinds.join(";")
    }

    /// The first detail message of each kind, for the row's message.
    pub fn details(&self) -> Vec<String> {
        self.kinds.iter().filter_map(|(k, _, d)| d.as_ref().map(|d| format!("{k}: {d}"))).collect()
    }
}

/// What a worker sends the aggregator.
pub enum Report {
    /// A finished interval of one worker; `phase` and `failed` hold the times to its phase
    /// marks and the latencies of its failed operations, if it had any.
    Interval {
        worker: u32,
        slot: Slot,
        histogram: Box<Histogram<u64>>,
        phase: Option<Box<Histogram<u64>>>,
        failed: Option<Box<Histogram<u64>>>,
        ops: u64,
        errors: ErrorCounts,
        /// Operations per node (index = node id) by the interval they started in, counted
        /// since the previous report; empty if the family does not say.
        node_ops: Vec<(Slot, Vec<u64>)>,
    },
    /// The worker has stopped; `last_end` is when its last operation ended.
    Done { worker: u32, last_end: Option<Instant> },
}

/// A counter that other threads read while its worker writes it, alone on its cache line so
/// that workers do not slow each other down.
#[derive(Debug, Default)]
#[repr(align(128))]
pub struct PaddedCounter(AtomicU64);

impl PaddedCounter {
    /// The current value.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// The per-worker recorder: the current interval's histogram and counts.
pub struct WorkerRecorder {
    worker: u32,
    timeline: Timeline,
    timing: Timing,
    slot: Slot,
    boundary: Instant,
    histogram: Box<Histogram<u64>>,
    phase: Option<Box<Histogram<u64>>>,
    failed: Option<Box<Histogram<u64>>>,
    ops: u64,
    errors: ErrorCounts,
    node_ops: Vec<(Slot, Vec<u64>)>,
    measured_ops: u64,
    quota: Option<u64>,
    last_end: Option<Instant>,
    measured_counter: Arc<PaddedCounter>,
    sender: Sender<Report>,
}

impl WorkerRecorder {
    /// A recorder for `worker`; it stops the worker after `quota` measured operations, if set.
    pub fn new(
        worker: u32,
        timeline: Timeline,
        timing: Timing,
        quota: Option<u64>,
        measured_counter: Arc<PaddedCounter>,
        sender: Sender<Report>,
    ) -> Self {
        let slot = timeline.first();
        let boundary = timeline.bounds(slot).1;
        WorkerRecorder {
            worker,
            timeline,
            timing,
            slot,
            boundary,
            histogram: Box::new(new_histogram()),
            phase: None,
            failed: None,
            ops: 0,
            errors: ErrorCounts::default(),
            node_ops: Vec::new(),
            measured_ops: 0,
            quota,
            last_end: None,
            measured_counter,
            sender,
        }
    }

    /// Records a timed unit of `ops` operations that were due at `basis` (the intended start
    /// in an open loop, the actual start in a closed loop) and ended at `end`. A unit with a
    /// failure is counted by kind and its latency goes to the failures' histogram. Returns
    /// `false` once the worker should stop: its quota is met or the measured phase is over.
    #[inline]
    pub fn record(&mut self, basis: Instant, end: Instant, ops: u32, failure: Option<OpError>) -> bool {
        self.record_phased(basis, None, end, ops, failure)
    }

    /// As [`WorkerRecorder::record`], for a unit whose first phase ended at `phase_end` (a
    /// worker's phase mark): the time from `basis` to it goes into the phase histogram.
    #[inline]
    pub fn record_phased(
        &mut self,
        basis: Instant,
        phase_end: Option<Instant>,
        end: Instant,
        ops: u32,
        failure: Option<OpError>,
    ) -> bool {
        if end >= self.boundary {
            self.rotate(end);
        }
        match failure {
            None => {
                record_value(&mut self.histogram, self.timing.value(end.saturating_duration_since(basis), ops));
                if let Some(phase_end) = phase_end {
                    let value = self.timing.value(phase_end.saturating_duration_since(basis), ops);
                    record_value(self.phase.get_or_insert_with(|| Box::new(new_histogram())), value);
                }
            }
            Some(error) => self.record_failure(end.saturating_duration_since(basis), ops, error),
        }
        self.ops += u64::from(ops);
        self.last_end = Some(end);
        if self.slot.phase == Phase::Measure {
            self.measured_ops += u64::from(ops);
            self.measured_counter.0.store(self.measured_ops, Ordering::Relaxed);
        }
        self.should_continue(end)
    }

    #[cold]
    fn record_failure(&mut self, elapsed: Duration, ops: u32, error: OpError) {
        let value = self.timing.value(elapsed, ops);
        record_value(self.failed.get_or_insert_with(|| Box::new(new_histogram())), value);
        self.errors.add(error);
    }

    /// Counts one operation that `node` served, in the interval of `started` (when it was
    /// sent there).
    #[inline]
    pub fn count_node(&mut self, node: u32, started: Instant) {
        let slot = self.timeline.slot(started);
        let index = match self.node_ops.iter().rposition(|(s, _)| *s == slot) {
            Some(index) => index,
            None => {
                self.node_ops.push((slot, Vec::new()));
                self.node_ops.len() - 1
            }
        };
        let counts = &mut self.node_ops[index].1;
        let node = node as usize;
        if node >= counts.len() {
            counts.resize(node + 1, 0);
        }
        counts[node] += 1;
    }

    /// Whether the worker should start another operation, judged at `now`.
    #[inline]
    pub fn should_continue(&self, now: Instant) -> bool {
        now < self.timeline.measure_end && self.quota.is_none_or(|quota| self.measured_ops < quota)
    }

    /// Whether the worker's quota of measured operations is met.
    pub fn quota_met(&self) -> bool {
        self.quota.is_some_and(|quota| self.measured_ops >= quota)
    }

    /// Sends the finished interval and starts the one that contains `at`.
    #[cold]
    fn rotate(&mut self, at: Instant) {
        self.send_interval();
        self.slot = self.timeline.slot(at);
        self.boundary = self.timeline.bounds(self.slot).1;
    }

    fn send_interval(&mut self) {
        if self.ops == 0 && self.errors.total() == 0 && self.node_ops.is_empty() {
            return;
        }
        let histogram = std::mem::replace(&mut self.histogram, Box::new(new_histogram()));
        let phase = self.phase.as_mut().map(|phase| std::mem::replace(phase, Box::new(new_histogram())));
        let report = Report::Interval {
            worker: self.worker,
            slot: self.slot,
            histogram,
            phase,
            failed: self.failed.take(),
            ops: std::mem::take(&mut self.ops),
            errors: std::mem::take(&mut self.errors),
            node_ops: std::mem::take(&mut self.node_ops),
        };
        // The aggregator outlives the workers; if it is gone the run is failing anyway.
        let _ = self.sender.send(report);
    }

    /// Sends the last interval and says the worker is done.
    pub fn finish(mut self) {
        self.send_interval();
        let _ = self.sender.send(Report::Done { worker: self.worker, last_end: self.last_end });
    }
}

/// Records `value`. Auto-resizing histograms only refuse a value that needs more than usize
/// buckets; that impossible case is clamped rather than the count lost.
#[inline]
fn record_value(histogram: &mut Histogram<u64>, value: u64) {
    if histogram.record(value).is_err() {
        histogram.saturating_record(value);
    }
}

/// Adds `from` into the optional histogram `into`, creating it on first use.
fn add_optional(into: &mut Option<Histogram<u64>>, from: &Histogram<u64>) {
    into.get_or_insert_with(new_histogram).add(from).expect("histograms share bounds");
}

/// One interval of the whole run, all workers merged.
#[derive(Debug)]
pub struct FlushedInterval {
    pub slot: Slot,
    /// Offset of the interval's start from the start of the measured phase (negative in
    /// warm-up).
    pub start_offset_s: f64,
    pub length: Duration,
    pub histogram: Histogram<u64>,
    /// Time to the phase mark, for operations that marked one.
    pub phase: Option<Histogram<u64>>,
    pub ops: u64,
    pub errors: ErrorCounts,
    /// The driver's resident memory when the interval was written (filled by the driver).
    pub driver_rss_bytes: Option<u64>,
}

/// One interval's operations per node, by the interval they started in.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeInterval {
    pub slot: Slot,
    /// Start, from the start of the measured phase (negative in warm-up).
    pub start_s: f64,
    pub length_s: f64,
    pub node_ops: Vec<u64>,
}

/// Totals over the whole run.
#[derive(Debug)]
pub struct Totals {
    pub measured: Histogram<u64>,
    /// Time to the phase mark over the measured phase, if any operation marked one.
    pub measured_phase: Option<Histogram<u64>>,
    /// Latencies of the measured operations that failed.
    pub measured_failed: Histogram<u64>,
    pub measured_ops: u64,
    pub measured_errors: ErrorCounts,
    pub warmup_ops: u64,
    /// When the last operation ended (the measured phase's real end).
    pub last_end: Option<Instant>,
    /// Measured operations per node (those that started in the measured phase); empty if the
    /// family does not say.
    pub node_ops: Vec<u64>,
    /// Every interval's operations per node, warm-up included; empty if the family does not
    /// say.
    pub node_series: Vec<NodeInterval>,
}

struct Pending {
    histogram: Histogram<u64>,
    phase: Option<Histogram<u64>>,
    failed: Option<Histogram<u64>>,
    ops: u64,
    errors: ErrorCounts,
}

impl Pending {
    fn new() -> Self {
        Pending { histogram: new_histogram(), phase: None, failed: None, ops: 0, errors: ErrorCounts::default() }
    }
}

/// Adds `more` into `sum` element by element, growing `sum` as needed.
pub fn add_counts(sum: &mut Vec<u64>, more: &[u64]) {
    if more.len() > sum.len() {
        sum.resize(more.len(), 0);
    }
    for (total, count) in sum.iter_mut().zip(more) {
        *total += count;
    }
}

/// Merges the workers' interval reports. Pure: it returns intervals ready to be written.
pub struct Aggregator {
    timeline: Timeline,
    pending: BTreeMap<Slot, Pending>,
    /// The latest slot each worker has reported; `None` before its first report.
    progress: Vec<Option<Slot>>,
    done: Vec<bool>,
    next_slot: Slot,
    totals: Totals,
    /// Operations per node by the slot they started in.
    node_counts: BTreeMap<Slot, Vec<u64>>,
}

impl Aggregator {
    /// An aggregator for `workers` workers.
    pub fn new(timeline: Timeline, workers: u32) -> Self {
        Aggregator {
            timeline,
            pending: BTreeMap::new(),
            progress: vec![None; workers as usize],
            done: vec![false; workers as usize],
            next_slot: timeline.first(),
            totals: Totals {
                measured: new_histogram(),
                measured_phase: None,
                measured_failed: new_histogram(),
                measured_ops: 0,
                measured_errors: ErrorCounts::default(),
                warmup_ops: 0,
                last_end: None,
                node_ops: Vec::new(),
                node_series: Vec::new(),
            },
            node_counts: BTreeMap::new(),
        }
    }

    /// Takes one report; returns the intervals that every worker has now moved past.
    pub fn push(&mut self, report: Report) -> Vec<FlushedInterval> {
        match report {
            Report::Interval { worker, slot, histogram, phase, failed, ops, errors, node_ops } => {
                let pending = self.pending.entry(slot).or_insert_with(Pending::new);
                pending.histogram.add(&*histogram).expect("histograms share bounds");
                if let Some(phase) = phase {
                    add_optional(&mut pending.phase, &phase);
                }
                if let Some(failed) = failed {
                    add_optional(&mut pending.failed, &failed);
                }
                pending.ops += ops;
                pending.errors.merge(&errors);
                for (started, counts) in node_ops {
                    add_counts(self.node_counts.entry(started).or_default(), &counts);
                }
                self.progress[worker as usize] = Some(slot);
            }
            Report::Done { worker, last_end } => {
                self.done[worker as usize] = true;
                self.totals.last_end = self.totals.last_end.max(last_end);
            }
        }
        match self.horizon() {
            Some(horizon) => self.flush_before(horizon),
            None => Vec::new(),
        }
    }

    /// The earliest slot some running worker may still report into; everything before it is
    /// final. `None` while some running worker has not reported yet.
    fn horizon(&self) -> Option<Slot> {
        let mut horizon: Option<Slot> = None;
        for (progress, done) in self.progress.iter().zip(&self.done) {
            if *done {
                continue;
            }
            let slot = (*progress)?;
            horizon = Some(horizon.map_or(slot, |h| h.min(slot)));
        }
        Some(
            horizon
                .unwrap_or_else(|| self.pending.keys().next_back().map_or(self.next_slot, |s| self.timeline.next(*s))),
        )
    }

    fn flush_before(&mut self, horizon: Slot) -> Vec<FlushedInterval> {
        let mut flushed = Vec::new();
        while self.next_slot < horizon {
            let slot = self.next_slot;
            let pending = self.pending.remove(&slot).unwrap_or_else(Pending::new);
            flushed.push(self.close(slot, pending));
            self.next_slot = self.timeline.next(slot);
        }
        flushed
    }

    fn close(&mut self, slot: Slot, pending: Pending) -> FlushedInterval {
        let (start, end) = self.timeline.bounds(slot);
        match slot.phase {
            Phase::Warmup => self.totals.warmup_ops += pending.ops,
            Phase::Measure => {
                self.totals.measured.add(&pending.histogram).expect("histograms share bounds");
                if let Some(phase) = &pending.phase {
                    add_optional(&mut self.totals.measured_phase, phase);
                }
                if let Some(failed) = &pending.failed {
                    self.totals.measured_failed.add(failed).expect("histograms share bounds");
                }
                self.totals.measured_ops += pending.ops;
                self.totals.measured_errors.merge(&pending.errors);
            }
        }
        let start_offset_s = if start >= self.timeline.measure_start {
            (start - self.timeline.measure_start).as_secs_f64()
        } else {
            -(self.timeline.measure_start - start).as_secs_f64()
        };
        let length = match self.totals.last_end {
            Some(last) if last > start && last < end && slot.phase == Phase::Measure => last - start,
            _ => end - start,
        };
        self.totals.node_series.push(NodeInterval {
            slot,
            start_s: start_offset_s,
            length_s: length.as_secs_f64(),
            node_ops: Vec::new(),
        });
        FlushedInterval {
            slot,
            start_offset_s,
            length,
            histogram: pending.histogram,
            phase: pending.phase,
            ops: pending.ops,
            errors: pending.errors,
            driver_rss_bytes: None,
        }
    }

    /// Flushes everything left and returns the totals. Call after every worker is done.
    pub fn finish(mut self) -> (Vec<FlushedInterval>, Totals) {
        let end = self.pending.keys().next_back().map_or(self.next_slot, |s| self.timeline.next(*s));
        let flushed = self.flush_before(end);
        if self.node_counts.is_empty() {
            self.totals.node_series.clear();
        }
        for interval in &mut self.totals.node_series {
            interval.node_ops = self.node_counts.remove(&interval.slot).unwrap_or_default();
            if interval.slot.phase == Phase::Measure {
                add_counts(&mut self.totals.node_ops, &interval.node_ops);
            }
        }
        (flushed, self.totals)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    fn timeline() -> Timeline {
        Timeline::new(Instant::now(), Duration::from_millis(1500), Duration::from_secs(3), Duration::from_secs(1))
    }

    #[test]
    fn slots_split_warmup_and_measure() {
        let t = timeline();
        assert_eq!(t.slot(t.run_start), Slot { phase: Phase::Warmup, index: 0 });
        assert_eq!(t.slot(t.run_start + Duration::from_millis(1200)), Slot { phase: Phase::Warmup, index: 1 });
        assert_eq!(t.slot(t.measure_start), Slot { phase: Phase::Measure, index: 0 });
        assert_eq!(t.slot(t.measure_start + Duration::from_millis(2500)), Slot { phase: Phase::Measure, index: 2 });
        // The second warm-up interval is cut short by the start of the measured phase.
        let (start, end) = t.bounds(Slot { phase: Phase::Warmup, index: 1 });
        assert_eq!(end - start, Duration::from_millis(500));
        assert_eq!(t.next(Slot { phase: Phase::Warmup, index: 1 }), Slot { phase: Phase::Measure, index: 0 });
    }

    #[test]
    fn merging_histograms_adds_counts() {
        let mut a = new_histogram();
        let mut b = new_histogram();
        for v in [10, 20, 30] {
            a.record(v).unwrap();
        }
        for v in [20, 1000] {
            b.record(v).unwrap();
        }
        a.add(&b).unwrap();
        assert_eq!(a.len(), 5);
        assert_eq!(a.count_at(20), 2);
        assert_eq!(a.max(), a.highest_equivalent(1000));
    }

    proptest::proptest! {
        /// Merging per-worker histograms gives the histogram of all the values: the same
        /// count and the same percentiles as recording everything in one.
        #[test]
        fn merged_histograms_equal_one_histogram_of_everything(
            values in proptest::collection::vec(0u64..10_000_000, 1..500),
            split in 0usize..500,
        ) {
            let split = split.min(values.len());
            let (mut left, mut right, mut all) = (new_histogram(), new_histogram(), new_histogram());
            for (i, v) in values.iter().enumerate() {
                if i < split { left.record(*v).unwrap() } else { right.record(*v).unwrap() }
                all.record(*v).unwrap();
            }
            left.add(&right).unwrap();
            proptest::prop_assert_eq!(left.len(), values.len() as u64);
            for q in [0.0, 0.5, 0.9, 0.99, 0.999, 1.0] {
                proptest::prop_assert_eq!(left.value_at_quantile(q), all.value_at_quantile(q));
            }
        }
    }

    /// Two workers, three intervals: the aggregate holds every operation once, warm-up apart,
    /// and intervals come out in order with empty ones filled in.
    #[test]
    fn aggregator_merges_workers_interval_by_interval() {
        let t = timeline();
        let (sender, receiver) = mpsc::channel();
        let counters: Vec<_> = (0..2).map(|_| Arc::new(PaddedCounter::default())).collect();
        let mut recorders: Vec<_> = (0..2)
            .map(|w| WorkerRecorder::new(w, t, Timing::PerOp, None, counters[w as usize].clone(), sender.clone()))
            .collect();
        let at = |ms: u64| t.run_start + Duration::from_millis(ms);
        // Worker 0: one warm-up op, two ops in the first measured second, one in the third.
        for (start, end) in [(0, 100), (1600, 1700), (1700, 1900), (3600, 3700)] {
            recorders[0].record(at(start), at(end), 1, None);
        }
        recorders[1].record(at(1500), at(1510), 1, Some(OpError::new("refused")));
        recorders[1].record(at(2600), at(2610), 1, None);
        for recorder in recorders {
            recorder.finish();
        }
        drop(sender);
        let mut aggregator = Aggregator::new(t, 2);
        let mut intervals: Vec<_> = receiver.iter().flat_map(|r| aggregator.push(r)).collect();
        let (rest, totals) = aggregator.finish();
        intervals.extend(rest);
        let slots: Vec<_> = intervals.iter().map(|i| (i.slot.phase, i.slot.index, i.ops)).collect();
        assert_eq!(
            slots,
            vec![
                (Phase::Warmup, 0, 1),
                (Phase::Warmup, 1, 0),
                (Phase::Measure, 0, 3),
                (Phase::Measure, 1, 1),
                (Phase::Measure, 2, 1)
            ]
        );
        assert_eq!(totals.warmup_ops, 1);
        assert_eq!(totals.measured_ops, 5);
        assert_eq!(totals.measured.len(), 4, "the failed operation adds no latency");
        assert_eq!(totals.measured_failed.len(), 1, "its latency is kept apart");
        assert_eq!(totals.measured_failed.max(), totals.measured_failed.highest_equivalent(10_000));
        assert_eq!(totals.measured_errors.describe(), "refused=1");
        assert_eq!(counters[0].get(), 3);
    }
}
