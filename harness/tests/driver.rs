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
    let text = format!("[[scenario]]\nname = \"t\"\nfamily = \"noop\"\n{toml}");
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
    let measured: u64 = sink.0.iter().filter(|(p, _, _)| *p == Phase::Measure).map(|(_, _, ops)| ops).sum();
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
    let histogram = &report.totals.measured;
    assert!(histogram.value_at_quantile(0.99) > 100_000, "open-loop p99 {} us", histogram.value_at_quantile(0.99));
    assert!(histogram.value_at_quantile(0.90) > 10_000, "open-loop p90 {} us", histogram.value_at_quantile(0.90));
    assert!(report.totals.measured_ops >= 1900, "the backlog is issued, not skipped: {}", report.totals.measured_ops);

    let closed = workload("duration = \"1s\"\nwarmup = \"0s\"");
    let (report, _) = run(stalling(), &closed, Timing::PerOp);
    let histogram = &report.totals.measured;
    assert!(histogram.max() >= 300_000, "the stall is there: max {} us", histogram.max());
    assert!(
        histogram.value_at_quantile(0.99) < 1_000,
        "but it is one operation: closed-loop p99 {} us",
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
    let workload = workload(
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
#[test]
fn virtual_clock_simulates_the_timeline_exactly() {
    let workload = workload(
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
    let histogram = &report.totals.measured;
    let (low, high) = (histogram.lowest_equivalent(100_000), histogram.highest_equivalent(101_000));
    assert!(histogram.min() >= low && histogram.max() <= high, "{}..{}", histogram.min(), histogram.max());
    // One interval a minute, and one more for the operations in flight at the end.
    assert!((20..=21).contains(&sink.0.len()), "{} intervals", sink.0.len());
    assert!(sink.0[..20].iter().all(|(_, _, ops)| (1190..=1200).contains(ops)), "{:?}", sink.0);
    let fired_at = report.events[0].fired_at.unwrap();
    assert!(fired_at >= Duration::from_secs(90) && fired_at < Duration::from_millis(90_002), "{fired_at:?}");
}
