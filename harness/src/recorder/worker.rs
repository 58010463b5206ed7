//! The per-worker recorder: the current interval's histograms and counts, sent to the
//! aggregator as each interval ends — and, if the worker is dropped mid-operation (the driver
//! gave up on it), the operation in flight recorded as unfinished first.

use super::errors::ErrorCounts;
use super::histograms::{Histograms, Staged, Timing, new_histogram, record_value};
use super::timeline::{Phase, Slot, Timeline};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::Sender;
use std::time::{Duration, Instant};
use targets::target::OpError;

/// The timestamps of one timed unit (an operation, or a batch of them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpTimes {
    /// When it was due: the schedule's time in an open loop, the actual start in a closed one.
    pub intended: Instant,
    pub started: Instant,
    /// When the worker signalled the end of the unit's first phase, if it did.
    pub marked: Option<Instant>,
    pub end: Instant,
}

impl OpTimes {
    /// A unit that started when it was due (closed loop).
    #[inline]
    pub fn unscheduled(started: Instant, marked: Option<Instant>, end: Instant) -> Self {
        OpTimes { intended: started, started, marked, end }
    }
}

/// What a worker sends the aggregator.
pub enum Report {
    /// A finished interval of one worker.
    Interval {
        worker: u32,
        slot: Slot,
        histograms: Box<Histograms>,
        /// Operations that ended (completed or failed) in the interval.
        ops: u64,
        errors: ErrorCounts,
        /// Operations recorded unfinished in the interval.
        unfinished: u64,
        /// Operations due in the measured phase that started before its end (whatever
        /// interval they ended in): what an open loop kept of its schedule.
        started_on_schedule: u64,
        /// Operations per node (index = node id) by the interval they started in, counted
        /// since the previous report; empty if the family does not say.
        node_ops: Vec<(Slot, Vec<u64>)>,
    },
    /// The worker has stopped; `last_end` is when its last operation ended.
    Done { worker: u32, last_end: Option<Instant> },
}

/// The values of the histograms recorded on every operation, on their way to them.
#[derive(Debug, Default)]
struct StagedTimes {
    response: Staged,
    service: Staged,
    lag: Staged,
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

/// The per-worker recorder: the current interval's histograms and counts.
pub struct WorkerRecorder {
    worker: u32,
    timeline: Timeline,
    timing: Timing,
    /// An open loop records service time and schedule lag apart from the response time.
    scheduled: bool,
    slot: Slot,
    boundary: Instant,
    histograms: Box<Histograms>,
    /// Response times, service times and lags on their way to `histograms`.
    staged: Box<StagedTimes>,
    ops: u64,
    errors: ErrorCounts,
    unfinished: u64,
    started_on_schedule: u64,
    node_ops: Vec<(Slot, Vec<u64>)>,
    measured_ops: u64,
    quota: Option<u64>,
    last_end: Option<Instant>,
    measured_counter: Arc<PaddedCounter>,
    sender: Sender<Report>,
    /// The unit being performed (intended start, actual start, operations), if any: recorded
    /// unfinished if the recorder is dropped before it ends.
    in_flight: Option<(Instant, Instant, u32)>,
    /// The run's clock, read when the recorder is dropped mid-operation.
    now: fn() -> Instant,
    finished: bool,
}

impl WorkerRecorder {
    /// A recorder for `worker` of a closed loop; it stops the worker after `quota` measured
    /// operations, if set.
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
            scheduled: false,
            slot,
            boundary,
            histograms: Box::default(),
            staged: Box::default(),
            ops: 0,
            errors: ErrorCounts::default(),
            unfinished: 0,
            started_on_schedule: 0,
            node_ops: Vec::new(),
            measured_ops: 0,
            quota,
            last_end: None,
            measured_counter,
            sender,
            in_flight: None,
            now: Instant::now,
            finished: false,
        }
    }

    /// The same recorder for a slot of an open loop, whose units have an intended start of
    /// their own: it also records service time and schedule lag.
    pub fn scheduled(mut self) -> Self {
        self.scheduled = true;
        self
    }

    /// Reads the run's clock through `now` (a virtual clock, for simulations).
    pub fn with_clock(mut self, now: fn() -> Instant) -> Self {
        self.now = now;
        self
    }

    /// A unit of `ops` operations due at `intended` started at `started`: if the recorder is
    /// dropped before [`WorkerRecorder::record`] (the driver gave up on it), it is recorded
    /// unfinished.
    #[inline]
    pub fn begin(&mut self, intended: Instant, started: Instant, ops: u32) {
        self.in_flight = Some((intended, started, ops));
    }

    /// Records a timed unit of `ops` operations. A unit with a failure is counted by kind and
    /// its latency goes to the failures' histogram. Returns `false` once the worker should
    /// stop: its quota is met or the measured phase is over.
    #[inline]
    pub fn record(&mut self, times: OpTimes, ops: u32, failure: Option<OpError>) -> bool {
        self.in_flight = None;
        let end = times.end;
        if end >= self.boundary {
            self.rotate(end);
        }
        let timing = self.timing;
        let response = timing.value(end.saturating_duration_since(times.intended), ops);
        match failure {
            None => {
                self.staged.response.push(&mut self.histograms.response, response, u64::from(ops));
                if let Some(marked) = times.marked {
                    let value = timing.value(marked.saturating_duration_since(times.intended), ops);
                    record_value(self.histograms.phase.get_or_insert_with(new_histogram), value, u64::from(ops));
                }
            }
            Some(error) => self.record_failure(response, ops, error),
        }
        if self.scheduled {
            self.record_schedule(times);
        }
        self.ops += u64::from(ops);
        self.last_end = Some(end);
        if self.slot.phase.is_measured() {
            self.measured_ops += u64::from(ops);
            self.measured_counter.0.store(self.measured_ops, Ordering::Relaxed);
        }
        self.should_continue(end)
    }

    /// Service time and lag of an open loop's operation, and whether it kept its schedule.
    #[inline]
    fn record_schedule(&mut self, times: OpTimes) {
        let service = self.timing.value(times.end.saturating_duration_since(times.started), 1);
        self.staged.service.push(self.histograms.service.get_or_insert_with(new_histogram), service, 1);
        let lag = self.timing.value(times.started.saturating_duration_since(times.intended), 1);
        self.staged.lag.push(self.histograms.lag.get_or_insert_with(new_histogram), lag, 1);
        let timeline = &self.timeline;
        let due_in_phase = times.intended >= timeline.measure_start && times.intended < timeline.measure_end;
        if due_in_phase && times.started < timeline.measure_end {
            self.started_on_schedule += 1;
        }
    }

    /// Counts `count` more failed operations of `kind` in the unit just recorded: a batch in
    /// which several operations failed (the record counted the first).
    #[cold]
    pub fn add_failures(&mut self, kind: &'static str, count: u64) {
        self.errors.add_count(kind, count, None);
    }

    #[cold]
    fn record_failure(&mut self, value: u64, ops: u32, error: OpError) {
        record_value(self.histograms.failed.get_or_insert_with(new_histogram), value, u64::from(ops));
        self.errors.add(error);
    }

    /// Records `count` units of `ops` operations that had waited `waited` when the driver gave
    /// up at `at` without them ending: due at `at − waited` and, if `service` is given,
    /// started `service` before `at`. They are counted apart from the operations that ended,
    /// and their waits enter the response (and service and lag) histograms as lower bounds.
    #[cold]
    pub fn record_unfinished(
        &mut self,
        at: Instant,
        waited: Duration,
        service: Option<Duration>,
        ops: u32,
        count: u64,
    ) {
        let operations = count * u64::from(ops);
        if operations == 0 {
            return;
        }
        if at >= self.boundary {
            self.rotate(at);
        }
        let timing = self.timing;
        record_value(&mut self.histograms.response, timing.value(waited, ops), operations);
        if self.scheduled {
            if let Some(service) = service {
                record_value(
                    self.histograms.service.get_or_insert_with(new_histogram),
                    timing.value(service, ops),
                    operations,
                );
            }
            let lag = timing.value(waited.saturating_sub(service.unwrap_or_default()), ops);
            record_value(self.histograms.lag.get_or_insert_with(new_histogram), lag, operations);
        }
        self.unfinished += operations;
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
        now < self.timeline.measure_end && !self.quota_met()
    }

    /// Whether the worker's quota of measured operations is met.
    #[inline]
    pub fn quota_met(&self) -> bool {
        self.quota.is_some_and(|quota| self.measured_ops >= quota)
    }

    /// Sends the finished interval and starts the one that contains `at`.
    #[cold]
    fn rotate(&mut self, at: Instant) {
        self.send_interval();
        self.slot = self.timeline.slot(at);
        self.boundary = match self.slot.phase {
            // Nothing comes after the drain: everything later stays in it.
            Phase::Drain => self.timeline.run_start + Duration::from_secs(u64::from(u32::MAX)),
            _ => self.timeline.bounds(self.slot).1,
        };
    }

    /// Adds every staged value to the interval's histograms.
    fn flush_staged(&mut self) {
        let (staged, histograms) = (&mut self.staged, &mut self.histograms);
        staged.response.flush(&mut histograms.response);
        if !staged.service.is_empty() {
            staged.service.flush(histograms.service.get_or_insert_with(new_histogram));
        }
        if !staged.lag.is_empty() {
            staged.lag.flush(histograms.lag.get_or_insert_with(new_histogram));
        }
    }

    fn send_interval(&mut self) {
        self.flush_staged();
        if self.ops == 0 && self.unfinished == 0 && self.errors.total() == 0 && self.node_ops.is_empty() {
            return;
        }
        let report = Report::Interval {
            worker: self.worker,
            slot: self.slot,
            histograms: std::mem::take(&mut self.histograms),
            ops: std::mem::take(&mut self.ops),
            errors: std::mem::take(&mut self.errors),
            unfinished: std::mem::take(&mut self.unfinished),
            started_on_schedule: std::mem::take(&mut self.started_on_schedule),
            node_ops: std::mem::take(&mut self.node_ops),
        };
        // The aggregator outlives the workers; if it is gone the run is failing anyway.
        let _ = self.sender.send(report);
    }

    /// Sends the last interval and says the worker is done.
    pub fn finish(mut self) {
        self.close();
    }

    fn close(&mut self) {
        if std::mem::replace(&mut self.finished, true) {
            return;
        }
        if let Some((intended, started, ops)) = self.in_flight.take() {
            let now = (self.now)();
            let (waited, service) = (now.saturating_duration_since(intended), now.saturating_duration_since(started));
            self.record_unfinished(now, waited, Some(service), ops, 1);
        }
        self.send_interval();
        let _ = self.sender.send(Report::Done { worker: self.worker, last_end: self.last_end });
    }
}

/// A worker task aborted by the driver (an operation that never ended) drops its recorder:
/// the operation in flight is recorded unfinished and the worker's last interval is sent, so
/// nothing it measured is lost.
impl Drop for WorkerRecorder {
    fn drop(&mut self) {
        self.close();
    }
}
