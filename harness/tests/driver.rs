//! The driver against in-process systems with known behaviour: operation quotas are exact,
//! an open loop charges a stall to every operation that was due during it (the
//! coordinated-omission correction) while a closed loop hides it, count-triggered events
//! fire, the time series covers the run with warm-up apart, and on the virtual clock a run's
//! timeline is simulated: exact, and not held back by the driver's real-time helpers.

use indicatif::ProgressBar;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};
use stratbench::driver::clock::VirtualClock;
use stratbench::driver::{self, DriveReport, IntervalSink};
use stratbench::recorder::{FlushedInterval, Phase, Timing};
use targets::noop::NoopSystem;
use targets::target::{EventReport, EventStatus, FamilyMetrics, Op, OpResult, System, Worker};
use workloads::scenario::{ScenarioFile, WorkloadSpec};
use workloads::{Event, Workload};

#[derive(Default)]
struct Collect(Vec<(Phase, u64, u64)>);

impl IntervalSink for Collect {
    fn begin(&mut self, _: SystemTime) -> anyhow::Result<()> {
        Ok(())
    }
    fn interval(&mut self, interval: &FlushedInterval) -> anyhow::Result<()> {
        self.0.push((interval.slot.phase, interval.slot.index, interval.ops));
        Ok(())
    }
}

fn workload(toml: &str) -> Workload {
    workload_of("noop", toml)
}

/// A workload whose events are the hashing family's resizes.
fn resize_workload(toml: &str) -> Workload {
    workload_of("hashing", toml)
}

fn workload_of(family: &str, toml: &str) -> Workload {
    let text = format!("[[scenario]]\nname = \"t\"\nfamily = \"{family}\"\n{toml}");
    ScenarioFile::parse(&text, "test").unwrap().workloads("test", &WorkloadSpec::default()).unwrap().remove(0)
}

fn run<S: System>(system: S, workload: &Workload, timing: Timing) -> (DriveReport, Collect) {
    let mut sink = Collect::default();
    let report = driver::drive(Arc::new(system), workload, timing, &mut sink, &ProgressBar::hidden()).unwrap();
    (report, sink)
}

#[test]
fn operation_quota_is_exact_across_workers() {
    let workload = workload("ops = 100001\nconcurrency = 3\nduration = \"30s\"\nwarmup = \"0s\"");
    let (report, _) = run(NoopSystem, &workload, Timing::PerOp);
    assert_eq!(report.totals.measured_ops, 100_001);
    assert!(report.measured_span < Duration::from_secs(30), "the quota ends the run, not the duration");
}

#[test]
fn intervals_cover_warmup_and_measurement_in_order() {
    let workload = workload("duration = \"600ms\"\nwarmup = \"300ms\"\ninterval = \"200ms\"\nconcurrency = 2");
    let (report, sink) = run(NoopSystem, &workload, Timing::PerOp);
    let slots: Vec<(Phase, u64)> = sink.0.iter().map(|(p, i, _)| (*p, *i)).collect();
    assert_eq!(&slots[..2], &[(Phase::Warmup, 0), (Phase::Warmup, 1)]);
    assert_eq!(&slots[2..5], &[(Phase::Measure, 0), (Phase::Measure, 1), (Phase::Measure, 2)]);
    // The summary holds the measured intervals and the drain (what ended after the phase).
    let measured: u64 = sink.0.iter().filter(|(p, _, _)| p.is_measured()).map(|(_, _, ops)| ops).sum();
    let warmup: u64 = sink.0.iter().filter(|(p, _, _)| *p == Phase::Warmup).map(|(_, _, ops)| ops).sum();
    assert_eq!(measured, report.totals.measured_ops);
    assert_eq!(warmup, report.totals.warmup_ops);
    assert!(warmup > 0 && measured > 0);
}

/// A system whose first operation after `stall_after` operations takes `stall`.
struct Stalling {
    stalled: Arc<AtomicBool>,
    calls_before_stall: u64,
    stall: Duration,
}

struct StallingWorker {
    stalled: Arc<AtomicBool>,
    calls: u64,
    calls_before_stall: u64,
    stall: Duration,
}

impl Worker for StallingWorker {
    async fn call(&mut self, _op: Op) -> OpResult {
        self.calls += 1;
        if self.calls > self.calls_before_stall && !self.stalled.swap(true, Ordering::SeqCst) {
            tokio::time::sleep(self.stall).await;
        }
        Ok(())
    }
}

impl System for Stalling {
    type Worker = StallingWorker;
    fn worker(&self, _: u32) -> StallingWorker {
        StallingWorker {
            stalled: Arc::clone(&self.stalled),
            calls: 0,
            calls_before_stall: self.calls_before_stall,
            stall: self.stall,
        }
    }
    async fn apply_event(&self, _: &Event) -> EventReport {
        EventReport::unsupported("no events")
    }
    fn metrics(&self) -> FamilyMetrics {
        FamilyMetrics::default()
    }
}

fn stalling() -> Stalling {
    Stalling { stalled: Arc::new(AtomicBool::new(false)), calls_before_stall: 500, stall: Duration::from_millis(300) }
}

/// 1000 ops/s for 2 s with one 300 ms stall: about 300 operations were due during the stall,
/// so in an open loop about 15% of operations wait tens to hundreds of milliseconds and p99
/// is over 100 ms. A closed loop sees one slow operation among many fast ones.
#[test]
fn open_loop_charges_a_stall_to_every_operation_due_during_it() {
    let open = workload("rate = 1000.0\nduration = \"2s\"\nwarmup = \"0s\"");
    let (report, _) = run(stalling(), &open, Timing::PerOp);
    let histogram = &report.totals.measured.response;
    assert!(histogram.value_at_quantile(0.99) > 100_000_000, "open-loop p99 {} ns", histogram.value_at_quantile(0.99));
    assert!(histogram.value_at_quantile(0.90) > 10_000_000, "open-loop p90 {} ns", histogram.value_at_quantile(0.90));
    assert!(report.totals.measured_ops >= 1900, "the backlog is issued, not skipped: {}", report.totals.measured_ops);

    let closed = workload("duration = \"1s\"\nwarmup = \"0s\"");
    let (report, _) = run(stalling(), &closed, Timing::PerOp);
    let histogram = &report.totals.measured.response;
    assert!(histogram.max() >= 300_000_000, "the stall is there: max {} ns", histogram.max());
    assert!(
        histogram.value_at_quantile(0.99) < 1_000_000,
        "but it is one operation: closed-loop p99 {} ns",
        histogram.value_at_quantile(0.99)
    );
}

/// A system that records which events it was asked to apply.
#[derive(Default)]
struct Recording(std::sync::Mutex<Vec<String>>);

impl System for Recording {
    type Worker = targets::noop::NoopWorker;
    fn worker(&self, _: u32) -> Self::Worker {
        targets::noop::NoopWorker
    }
    async fn apply_event(&self, event: &Event) -> EventReport {
        self.0.lock().unwrap().push(event.action.label());
        EventReport { status: EventStatus::Ok, message: None, resize: None }
    }
    fn metrics(&self) -> FamilyMetrics {
        FamilyMetrics::default()
    }
}

#[test]
fn events_fire_by_time_and_by_count_and_late_ones_are_reported() {
    let workload = resize_workload(
        "duration = \"500ms\"\nwarmup = \"0s\"\n\
         [[scenario.events]]\nat = \"100ms\"\naction = \"add-node\"\n\
         [[scenario.events]]\nafter_ops = 1000\naction = \"remove-last\"\n\
         [[scenario.events]]\nat = \"10s\"\naction = \"add-node\"",
    );
    let (report, _) = run(Recording::default(), &workload, Timing::PerOp);
    let statuses: Vec<_> = report.events.iter().map(|e| e.report.status).collect();
    assert_eq!(statuses, vec![EventStatus::Ok, EventStatus::Ok, EventStatus::NotReached]);
    let fired_at = report.events[0].fired_at.unwrap();
    assert!(fired_at >= Duration::from_millis(100) && fired_at < Duration::from_millis(300), "{fired_at:?}");
}

/// A system whose operations take exactly 100 ms, by tokio's clock.
struct Sleepy;

struct SleepyWorker;

impl Worker for SleepyWorker {
    async fn call(&mut self, _op: Op) -> OpResult {
        tokio::time::sleep(Duration::from_millis(100)).await;
        Ok(())
    }
}

impl System for Sleepy {
    type Worker = SleepyWorker;
    fn worker(&self, _: u32) -> SleepyWorker {
        SleepyWorker
    }
    async fn apply_event(&self, _: &Event) -> EventReport {
        EventReport::unsupported("no events")
    }
    fn metrics(&self) -> FamilyMetrics {
        FamilyMetrics::default()
    }
}

/// Twenty minutes of 100 ms operations on the virtual clock: every operation takes exactly
/// 100 ms of simulated time, there are exactly as many as fit, an event fires on time, and
/// the whole run takes a small fraction of its simulated length in real time (the sampler
/// thread and the supervisor, which wait in real or virtual time, do not hold it back).
/// An operation quota ends the run where its last operation ends: two 100 ms operations, one
/// after the other, span 0.2 s (on the virtual clock, exactly their response times). The run
/// used to end at the driver's next look at its workers, every 100 ms: 0.28 s, and a
/// throughput 30% low (the same for 50 operations of 1 ms: 0.08 s, 625 instead of 1,000/s).
#[test]
fn an_operation_quota_ends_the_run_at_its_last_operation() {
    let workload = workload("ops = 2\nconcurrency = 1\nduration = \"1m\"\nwarmup = \"0s\"");
    let (report, _) = run_virtual(Sleepy, &workload);
    let response = &report.totals.measured.response;
    assert_eq!(report.totals.measured_ops, 2);
    let busy_ns = response.mean() * response.len() as f64;
    let span_ns = report.measured_span.as_nanos() as f64;
    assert!((span_ns - busy_ns).abs() <= busy_ns * 0.01, "span {span_ns} ns, operations {busy_ns} ns");
}

#[test]
fn virtual_clock_simulates_the_timeline_exactly() {
    let workload = resize_workload(
        "duration = \"20m\"\nwarmup = \"0s\"\nconcurrency = 2\ninterval = \"1m\"\n\
         [[scenario.events]]\nat = \"90s\"\naction = \"add-node\"",
    );
    let mut sink = Collect::default();
    let started = std::time::Instant::now();
    let report = driver::drive_with::<VirtualClock, _>(
        Arc::new(Sleepy),
        &workload,
        Timing::PerOp,
        None,
        &mut sink,
        &ProgressBar::hidden(),
    )
    .unwrap();
    assert!(started.elapsed() < Duration::from_secs(60), "20 simulated minutes took {:?}", started.elapsed());
    // Two workers, 1200 s, 10 operations a second each; tokio's timers tick in whole
    // milliseconds, so allow one per operation.
    assert!((23_700..=24_002).contains(&report.totals.measured_ops), "{}", report.totals.measured_ops);
    let histogram = &report.totals.measured.response;
    let (low, high) = (histogram.lowest_equivalent(100_000_000), histogram.highest_equivalent(101_000_000));
    assert!(histogram.min() >= low && histogram.max() <= high, "{}..{}", histogram.min(), histogram.max());
    // One interval a minute, and the drain for the operations in flight at the end.
    assert!((20..=21).contains(&sink.0.len()), "{} intervals", sink.0.len());
    assert!(sink.0[..20].iter().all(|(_, _, ops)| (1190..=1200).contains(ops)), "{:?}", sink.0);
    let fired_at = report.events[0].fired_at.unwrap();
    assert!(fired_at >= Duration::from_secs(90) && fired_at < Duration::from_millis(90_002), "{fired_at:?}");
}

/// Fails every operation on an odd key, and exposes how many calls it has served as a running
/// counter (in the `misses` slot of the sharding sample, for want of a generic one).
#[derive(Default)]
struct OddFailing {
    calls: Arc<std::sync::atomic::AtomicU64>,
    failures: Arc<std::sync::atomic::AtomicU64>,
}

struct OddFailingWorker {
    calls: Arc<std::sync::atomic::AtomicU64>,
    failures: Arc<std::sync::atomic::AtomicU64>,
}

impl Worker for OddFailingWorker {
    async fn call(&mut self, op: Op) -> OpResult {
        self.calls.fetch_add(1, Ordering::Relaxed);
        if op.key % 2 == 1 {
            self.failures.fetch_add(1, Ordering::Relaxed);
            return Err(targets::target::OpError::new("odd"));
        }
        Ok(())
    }
}

impl System for OddFailing {
    type Worker = OddFailingWorker;
    fn worker(&self, _: u32) -> OddFailingWorker {
        OddFailingWorker { calls: Arc::clone(&self.calls), failures: Arc::clone(&self.failures) }
    }
    async fn apply_event(&self, _: &Event) -> EventReport {
        EventReport::unsupported("no events")
    }
    fn metrics(&self) -> FamilyMetrics {
        FamilyMetrics::default()
    }
    fn sample(&self) -> targets::target::Sample {
        let misses = self.calls.load(Ordering::Relaxed);
        targets::target::Sample(Some(Arc::new(Calls(misses))))
    }
}

/// The calls made so far: `OddFailing`'s running counter.
#[derive(Debug)]
struct Calls(u64);

impl targets::target::SampleColumns for Calls {
    fn write_change(&self, _: Option<&dyn targets::target::SampleColumns>, _: &mut targets::columns::ColumnWriter) {}
}

/// In a batch, each failed operation counts as one error (not one per batch), and every
/// interval carries the system's counters, sampled as it ended.
#[test]
fn batches_count_every_failed_operation_and_intervals_carry_samples() {
    let workload = workload("ops = 12800\nduration = \"20s\"\nwarmup = \"0s\"\ninterval = \"10ms\"\nkeys = 1000");
    let system = OddFailing::default();
    let failures = Arc::clone(&system.failures);
    struct Samples(Vec<u64>);
    impl IntervalSink for Samples {
        fn begin(&mut self, _: SystemTime) -> anyhow::Result<()> {
            Ok(())
        }
        fn interval(&mut self, interval: &FlushedInterval) -> anyhow::Result<()> {
            let sample = interval.sample.0.as_deref().expect("the system samples");
            self.0.push((sample as &dyn std::any::Any).downcast_ref::<Calls>().expect("its own counter").0);
            Ok(())
        }
    }
    let mut sink = Samples(Vec::new());
    let report =
        driver::drive(Arc::new(system), &workload, Timing::Batch(64), &mut sink, &ProgressBar::hidden()).unwrap();
    let failed = failures.load(Ordering::Relaxed);
    assert_eq!(report.totals.measured_ops, 12_800);
    assert!(failed > 1000, "about half the keys are odd: {failed}");
    assert_eq!(report.totals.measured_errors.count("odd"), failed, "one error per failed operation");
    assert!(sink.0.windows(2).all(|w| w[0] <= w[1]), "the counter only grows: {:?}", sink.0);
    assert_eq!(sink.0.last().copied(), Some(12_800), "the last interval sees every call");
}

/// A system whose every operation takes `millis` of tokio's (virtual) time.
struct Slow(u64);

struct SlowWorker(u64);

impl Worker for SlowWorker {
    async fn call(&mut self, _op: Op) -> OpResult {
        tokio::time::sleep(Duration::from_millis(self.0)).await;
        Ok(())
    }
}

impl System for Slow {
    type Worker = SlowWorker;
    fn worker(&self, _: u32) -> SlowWorker {
        SlowWorker(self.0)
    }
    async fn apply_event(&self, _: &Event) -> EventReport {
        EventReport::unsupported("no events")
    }
    fn metrics(&self) -> FamilyMetrics {
        FamilyMetrics::default()
    }
}

fn run_virtual<S: System>(system: S, workload: &Workload) -> (DriveReport, Vec<FlushedInterval>) {
    struct Keep(Vec<FlushedInterval>);
    impl IntervalSink for Keep {
        fn begin(&mut self, _: SystemTime) -> anyhow::Result<()> {
            Ok(())
        }
        fn interval(&mut self, interval: &FlushedInterval) -> anyhow::Result<()> {
            self.0.push(FlushedInterval { histograms: interval.histograms.clone(), ..copy_counts(interval) });
            Ok(())
        }
    }
    fn copy_counts(i: &FlushedInterval) -> FlushedInterval {
        FlushedInterval {
            slot: i.slot,
            start_offset_s: i.start_offset_s,
            length: i.length,
            histograms: Default::default(),
            ops: i.ops,
            errors: i.errors.clone(),
            unfinished: i.unfinished,
            driver_rss_bytes: None,
            sample: Default::default(),
        }
    }
    let mut sink = Keep(Vec::new());
    let report = driver::drive_with::<VirtualClock, _>(
        Arc::new(system),
        workload,
        Timing::PerOp,
        None,
        &mut sink,
        &ProgressBar::hidden(),
    )
    .unwrap();
    (report, sink.0)
}

/// 1000 operations due in a second against a target that serves 100 a second, one slot: the
/// drain limit ends the run with most of them never started. Every one is accounted for —
/// completed, or unfinished at the time it had waited — the tail is not cut off, and the
/// schedule is known not to have been kept.
#[test]
fn an_open_loop_that_cannot_keep_up_counts_every_due_operation_and_is_overloaded() {
    let workload = workload("rate = 1000.0\nconcurrency = 1\nduration = \"1s\"\nwarmup = \"0s\"");
    let (report, intervals) = run_virtual(Slow(10), &workload);
    let totals = &report.totals;
    assert_eq!(totals.measured_ops + totals.unfinished, 1000, "{} + {}", totals.measured_ops, totals.unfinished);
    assert!(
        (595..=615).contains(&totals.measured_ops),
        "6 s (and a supervisor tick) at 100/s: {}",
        totals.measured_ops
    );
    assert_eq!(totals.measured.response.len(), 1000, "the unfinished ones are in the latency histogram");
    let drain_limit_ns = (1 + driver::DRAIN_TIMEOUT.as_secs()) * 1_000_000_000;
    assert!(totals.measured.response.max() >= drain_limit_ns - 2_000_000_000, "max {}", totals.measured.response.max());
    let kept = report.schedule.unwrap();
    assert_eq!(kept.due, 1000);
    assert!(kept.fraction().unwrap() < 0.15, "about 100 of 1000 started on time: {kept:?}");
    assert!(
        report.measured_span >= Duration::from_secs(6),
        "the span reaches the drain limit: {:?}",
        report.measured_span
    );
    let drain = intervals.last().unwrap();
    assert_eq!((drain.slot.phase, drain.unfinished), (Phase::Drain, totals.unfinished));
}

/// The pool serves one schedule: an arrival is started by any free slot, so one slow
/// operation holds one slot while the other slots keep the schedule.
#[test]
fn a_busy_slot_does_not_hold_back_arrivals_that_another_slot_can_start() {
    let workload = workload("rate = 100.0\nconcurrency = 4\nduration = \"2s\"\nwarmup = \"0s\"");
    // Every operation takes 25 ms: with 4 slots and one arrival every 10 ms, at most 3 are
    // in flight, so none waits for a slot.
    let (report, _) = run_virtual(Slow(25), &workload);
    let lag = report.totals.measured.lag.as_ref().unwrap();
    assert_eq!(lag.max(), 0, "no arrival waited for a slot");
    assert_eq!(report.schedule.unwrap().fraction(), Some(1.0));
    let service = report.totals.measured.service.as_ref().unwrap();
    assert_eq!(service.value_at_quantile(0.5), report.totals.measured.response.value_at_quantile(0.5));
}

/// Operations ending just after the measured phase go to the drain, labelled as such; the
/// measured intervals end exactly with the phase, and a sliver of a drain has no rate.
#[test]
fn the_time_series_ends_with_the_measured_phase_and_a_drain_without_a_spike() {
    let workload = workload("duration = \"500ms\"\nwarmup = \"0s\"\ninterval = \"200ms\"");
    let (report, intervals) = run_virtual(Slow(30), &workload);
    let lengths: Vec<_> = intervals.iter().map(|i| (i.slot.phase, i.length)).collect();
    let ms = Duration::from_millis;
    assert_eq!(&lengths[..3], &[(Phase::Measure, ms(200)), (Phase::Measure, ms(200)), (Phase::Measure, ms(100))]);
    let drain = &intervals[3];
    assert_eq!(drain.slot.phase, Phase::Drain);
    assert!(drain.length < ms(30), "{:?}", drain.length);
    let row = stratbench::output::rows::TimeseriesRow::new(drain, Timing::PerOp, ms(200));
    assert_eq!(row.throughput_ops_s, None, "{:?} is no interval to read a rate from", drain.length);
    assert_eq!(intervals.iter().map(|i| i.ops).sum::<u64>(), report.totals.measured_ops);
}

/// Per-operation latencies are nanoseconds: the driver's no-op operation is a fraction of a
/// microsecond, not 0.
#[test]
fn the_noop_median_is_above_zero_and_below_a_microsecond() {
    let workload = workload("duration = \"300ms\"\nwarmup = \"50ms\"");
    let (report, _) = run(NoopSystem, &workload, Timing::PerOp);
    let p50_ns = report.totals.measured.response.value_at_quantile(0.5);
    assert!(p50_ns > 0 && p50_ns < 1000, "p50 {p50_ns} ns");
}

/// Think time is slept between a closed loop's operations, outside the timed span.
#[test]
fn think_time_is_not_latency() {
    let workload = workload("duration = \"300ms\"\nwarmup = \"0s\"\nthink = \"50ms\"");
    let (report, _) = run_virtual(Slow(1), &workload);
    let response = &report.totals.measured.response;
    assert!(response.max() < 2_000_000, "a 1 ms operation reads {} ns", response.max());
    assert!((5..=7).contains(&report.totals.measured_ops), "one every 51 ms: {}", report.totals.measured_ops);
}
