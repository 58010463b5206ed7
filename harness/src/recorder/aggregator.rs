//! The aggregator: merges the workers' interval reports into one time series and one summary.
//! Pure: it returns intervals ready to be written, and writes nothing itself.

use super::errors::ErrorCounts;
use super::histograms::Histograms;
use super::timeline::{Phase, Slot, Timeline};
use super::worker::Report;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use targets::target::Sample;

/// One interval of the whole run, all workers merged.
#[derive(Debug)]
pub struct FlushedInterval {
    pub slot: Slot,
    /// Offset of the interval's start from the start of the measured phase (negative in
    /// warm-up).
    pub start_offset_s: f64,
    /// The interval's true length: the last measured interval ends with the measured phase,
    /// the drain with the last operation, and a run stopped early (Ctrl-C, an operation quota)
    /// ends its last interval where it stopped.
    pub length: Duration,
    pub histograms: Histograms,
    /// Operations that ended in the interval, completed or failed.
    pub ops: u64,
    pub errors: ErrorCounts,
    /// Operations recorded unfinished in the interval (the drain).
    pub unfinished: u64,
    /// The driver's resident memory when the interval was written (filled by the driver).
    pub driver_rss_bytes: Option<u64>,
    /// The system's running counters when the interval was written (filled by the driver).
    pub sample: Sample,
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

/// Totals over the whole run: the measured intervals and the drain.
#[derive(Debug)]
pub struct Totals {
    pub measured: Histograms,
    /// Measured operations that ended, completed or failed.
    pub measured_ops: u64,
    pub measured_errors: ErrorCounts,
    /// Operations the driver gave up on: in flight at the end of the drain, or never started.
    pub unfinished: u64,
    /// Operations due in the measured phase that started before its end (open loop).
    pub started_on_schedule: u64,
    pub warmup_ops: u64,
    /// When the last operation ended.
    pub last_end: Option<Instant>,
    /// The measured intervals' and the drain's lengths added up: from the start of the
    /// measured phase to where the run stopped or its last operation ended, whichever is later.
    pub measured_span: Duration,
    /// Measured operations per node (those that started in the measured phase); empty if the
    /// family does not say.
    pub node_ops: Vec<u64>,
    /// Every interval's operations per node, warm-up included; empty if the family does not
    /// say.
    pub node_series: Vec<NodeInterval>,
}

#[derive(Default)]
struct Pending {
    histograms: Histograms,
    ops: u64,
    errors: ErrorCounts,
    unfinished: u64,
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

/// Merges the workers' interval reports.
pub struct Aggregator {
    timeline: Timeline,
    pending: BTreeMap<Slot, Pending>,
    /// The latest slot each reporter has reported; `None` before its first report.
    progress: Vec<Option<Slot>>,
    done: Vec<bool>,
    next_slot: Option<Slot>,
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
            next_slot: Some(timeline.first()),
            totals: Totals {
                measured: Histograms::default(),
                measured_ops: 0,
                measured_errors: ErrorCounts::default(),
                unfinished: 0,
                started_on_schedule: 0,
                warmup_ops: 0,
                last_end: None,
                measured_span: Duration::ZERO,
                node_ops: Vec::new(),
                node_series: Vec::new(),
            },
            node_counts: BTreeMap::new(),
        }
    }

    /// One more reporter, which reports only into the drain and only at the end (the driver's
    /// account of the arrivals no slot started); returns its index. It holds back nothing
    /// before the drain.
    pub fn add_drain_reporter(&mut self) -> u32 {
        self.progress.push(Some(Slot::DRAIN));
        self.done.push(false);
        (self.progress.len() - 1) as u32
    }

    /// Takes one report; returns the intervals that every worker has now moved past.
    pub fn push(&mut self, report: Report) -> Vec<FlushedInterval> {
        match report {
            Report::Interval { worker, slot, histograms, ops, errors, unfinished, started_on_schedule, node_ops } => {
                let pending = self.pending.entry(slot).or_default();
                pending.histograms.add(&histograms);
                pending.ops += ops;
                pending.errors.merge(&errors);
                pending.unfinished += unfinished;
                self.totals.started_on_schedule += started_on_schedule;
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
            Some(horizon) => self.flush_before(horizon, None),
            None => Vec::new(),
        }
    }

    /// The earliest slot some running worker may still report into; everything before it is
    /// final. `None` while some running worker has not reported yet, or once every worker is
    /// done (then [`Aggregator::finish`] flushes the rest, knowing where the run stopped).
    fn horizon(&self) -> Option<Slot> {
        let mut horizon: Option<Slot> = None;
        for (progress, done) in self.progress.iter().zip(&self.done) {
            if *done {
                continue;
            }
            let slot = (*progress)?;
            horizon = Some(horizon.map_or(slot, |h| h.min(slot)));
        }
        horizon
    }

    fn flush_before(&mut self, horizon: Slot, run_end: Option<Instant>) -> Vec<FlushedInterval> {
        let mut flushed = Vec::new();
        while let Some(slot) = self.next_slot.filter(|s| *s < horizon) {
            let pending = self.pending.remove(&slot).unwrap_or_default();
            flushed.push(self.close(slot, pending, run_end));
            self.next_slot = self.timeline.next(slot);
        }
        flushed
    }

    fn close(&mut self, slot: Slot, pending: Pending, run_end: Option<Instant>) -> FlushedInterval {
        let (start, bound) = self.timeline.bounds(slot);
        let end = match (slot.phase, run_end) {
            (Phase::Drain, _) => self.totals.last_end.map_or(bound, |last| last.max(bound)),
            (_, Some(run_end)) => bound.min(run_end).max(start),
            (_, None) => bound,
        };
        let length = end - start;
        if slot.phase.is_measured() {
            self.totals.measured.add(&pending.histograms);
            self.totals.measured_ops += pending.ops;
            self.totals.measured_errors.merge(&pending.errors);
            self.totals.unfinished += pending.unfinished;
            self.totals.measured_span += length;
        } else {
            self.totals.warmup_ops += pending.ops;
        }
        let start_offset_s = self.timeline.offset_s(start);
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
            histograms: pending.histograms,
            ops: pending.ops,
            errors: pending.errors,
            unfinished: pending.unfinished,
            driver_rss_bytes: None,
            sample: Sample::default(),
        }
    }

    /// Flushes everything left and returns the totals; call after every reporter is done.
    /// `stopped_at` is where the run stopped issuing operations: the end of the measured
    /// phase, or earlier for a run stopped by Ctrl-C or an operation quota. Intervals are
    /// written up to where the run stopped or its last operation ended, whichever is later;
    /// the drain only if something ended or was given up in it.
    pub fn finish(mut self, stopped_at: Instant) -> (Vec<FlushedInterval>, Totals) {
        let run_end = self.totals.last_end.map_or(stopped_at, |last| last.max(stopped_at));
        let covered = self.timeline.slot(run_end.min(self.timeline.measure_end) - Duration::from_nanos(1));
        let last = self.pending.keys().next_back().map_or(covered, |s| covered.max(*s));
        let beyond = self.timeline.next(last).unwrap_or(Slot { phase: Phase::Drain, index: 1 });
        let flushed = self.flush_before(beyond, Some(run_end));
        if self.node_counts.is_empty() {
            self.totals.node_series.clear();
        }
        for interval in &mut self.totals.node_series {
            interval.node_ops = self.node_counts.remove(&interval.slot).unwrap_or_default();
            if interval.slot.phase.is_measured() {
                add_counts(&mut self.totals.node_ops, &interval.node_ops);
            }
        }
        (flushed, self.totals)
    }
}

#[cfg(test)]
mod tests {
    use super::super::histograms::Timing;
    use super::super::worker::{OpTimes, PaddedCounter, WorkerRecorder};
    use super::*;
    use std::sync::Arc;
    use std::sync::mpsc;
    use targets::target::OpError;

    fn timeline() -> Timeline {
        Timeline::new(Instant::now(), Duration::from_millis(1500), Duration::from_secs(3), Duration::from_secs(1))
    }

    fn aggregate(t: Timeline, receiver: mpsc::Receiver<Report>, workers: u32) -> (Vec<FlushedInterval>, Totals) {
        let mut aggregator = Aggregator::new(t, workers);
        let mut intervals: Vec<_> = receiver.iter().flat_map(|r| aggregator.push(r)).collect();
        let (rest, totals) = aggregator.finish(t.measure_end);
        intervals.extend(rest);
        (intervals, totals)
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
        let op = |start: u64, end: u64| OpTimes::unscheduled(at(start), None, at(end));
        // Worker 0: one warm-up op, two ops in the first measured second, one in the third.
        for (start, end) in [(0, 100), (1600, 1700), (1700, 1900), (3600, 3700)] {
            recorders[0].record(op(start, end), 1, None);
        }
        recorders[1].record(op(1500, 1510), 1, Some(OpError::new("refused")));
        recorders[1].record(op(2600, 2610), 1, None);
        for recorder in recorders {
            recorder.finish();
        }
        drop(sender);
        let (intervals, totals) = aggregate(t, receiver, 2);
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
        assert_eq!(totals.measured.response.len(), 4, "the failed operation adds no latency");
        let failed = totals.measured.failed.as_ref().unwrap();
        assert_eq!(failed.len(), 1, "its latency is kept apart");
        assert_eq!(failed.max(), failed.highest_equivalent(10_000_000), "in nanoseconds");
        assert_eq!(totals.measured_errors.describe(), "refused=1");
        assert_eq!(counters[0].get(), 3);
        assert_eq!(totals.measured_span, Duration::from_secs(3), "the time series covers the measured phase");
    }

    /// An operation ending just after the measured phase goes to the drain, whose length is
    /// its true one: no interval of a few microseconds reads as millions of operations a
    /// second in the last measured interval, and the summary still holds the operation.
    #[test]
    fn operations_ending_after_the_measured_phase_go_to_the_drain() {
        let t = timeline();
        let (sender, receiver) = mpsc::channel();
        let mut recorder = WorkerRecorder::new(0, t, Timing::PerOp, None, Arc::default(), sender);
        let end = t.measure_end + Duration::from_micros(7);
        recorder.record(OpTimes::unscheduled(t.measure_end - Duration::from_micros(3), None, end), 1, None);
        recorder.finish();
        let (intervals, totals) = aggregate(t, receiver, 1);
        let drain = intervals.last().unwrap();
        assert_eq!((drain.slot, drain.ops, drain.length), (Slot::DRAIN, 1, Duration::from_micros(7)));
        let last_measured = &intervals[intervals.len() - 2];
        assert_eq!(last_measured.length, Duration::from_secs(1));
        assert_eq!(totals.measured_ops, 1);
    }

    /// A recorder dropped mid-operation (an aborted worker) records the operation unfinished
    /// at the time it had waited, and sends its last interval: nothing is lost.
    #[test]
    fn a_dropped_recorder_records_its_operation_in_flight_as_unfinished() {
        let t = Timeline::new(Instant::now(), Duration::ZERO, Duration::from_millis(10), Duration::from_millis(10));
        let (sender, receiver) = mpsc::channel();
        let mut recorder = WorkerRecorder::new(0, t, Timing::PerOp, None, Arc::default(), sender).scheduled();
        let due = t.run_start + Duration::from_millis(2);
        recorder.record(
            OpTimes { intended: due, started: due, marked: None, end: due + Duration::from_millis(1) },
            1,
            None,
        );
        recorder.begin(t.run_start + Duration::from_millis(5), t.run_start + Duration::from_millis(6), 1);
        std::thread::sleep(Duration::from_millis(15));
        drop(recorder);
        let (_, totals) = aggregate(t, receiver, 1);
        assert_eq!((totals.measured_ops, totals.unfinished), (1, 1));
        assert_eq!(totals.measured.response.len(), 2, "the unfinished one's wait is in the tail");
        assert!(
            totals.measured.response.max() >= 10_000_000,
            "it had waited over 10 ms: {}",
            totals.measured.response.max()
        );
        assert_eq!(totals.started_on_schedule, 1);
    }
}
