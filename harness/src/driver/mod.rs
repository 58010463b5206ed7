//! The driver: runs one workload against one system under test and takes every timestamp.
//!
//! [`drive`] starts a tokio runtime for the run, one task per worker running the loop for the
//! schedule kind ([`worker::closed_loop`] or [`worker::open_loop`]) — in real time on worker
//! threads of their own, one per core ([`threads`]) — a controller task for
//! scheduled events, an aggregator thread that merges the workers' interval histograms and
//! writes each finished interval through an [`IntervalSink`], and a sampler thread that
//! watches the driver's own CPU and memory. A supervisor loop updates the progress bar,
//! watches for Ctrl-C, and enforces a hard deadline so that no run outlives its schedule by
//! more than [`DRAIN_TIMEOUT`].
//!
//! The run's [`clock::Clock`] is a type parameter: [`drive`] uses real time; [`drive_with`]
//! takes [`clock::VirtualClock`] for simulations under tokio's paused time. Only the async
//! side (workers, controller, supervisor) reads the run's clock; the sampler and aggregator
//! threads work in real time and never compare their instants with it, so neither can hold a
//! virtual run back: the sampler stops the moment the run ends, and the aggregator only
//! waits for reports.

pub mod arrivals;
pub mod clock;
pub mod controller;
pub mod goose_load;
pub mod sampler;
pub mod threads;
pub mod worker;

use crate::recorder::{
    Aggregator, FlushedInterval, PaddedCounter, Report, Slot, Timeline, Timing, Totals, WorkerRecorder,
};
use anyhow::Context as _;
use arrivals::Arrivals;
use clock::{Clock, RealClock};
use controller::FiredEvent;
use indicatif::ProgressBar;
use sampler::ResourceUsage;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant, SystemTime};
use targets::sync::Recover as _;
use targets::target::{Sample, System};
use threads::WorkerThreads;
use workloads::ops::OpSource;
use workloads::{LoadShape, Workload};

/// Time given to spawn the workers before the run starts, so that they all start together.
const START_DELAY: Duration = Duration::from_millis(20);
/// How long operations may run on after the measured phase ends before the driver gives up on
/// them and records them unfinished.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);
/// How long operations in flight may run on after Ctrl-C: the run stops within a second.
pub const INTERRUPT_GRACE: Duration = Duration::from_millis(500);
/// How often the supervisor updates progress and checks for Ctrl-C.
const SUPERVISE_EVERY: Duration = Duration::from_millis(100);

/// Receives each finished interval of a run, in order.
pub trait IntervalSink: Send {
    /// Called once, before the first interval, with the wall-clock start of the measured
    /// phase.
    fn begin(&mut self, measure_start: SystemTime) -> anyhow::Result<()>;
    /// Called for every interval, warm-up ones included, empty ones included.
    fn interval(&mut self, interval: &FlushedInterval) -> anyhow::Result<()>;
}

/// How well an open loop kept its schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScheduleKept {
    /// Arrivals due in the measured phase (up to where the run stopped).
    pub due: u64,
    /// Of those, the ones started before the measured phase ended.
    pub started: u64,
}

impl ScheduleKept {
    /// The fraction of the schedule kept; `None` if nothing was due.
    pub fn fraction(&self) -> Option<f64> {
        (self.due > 0).then(|| self.started as f64 / self.due as f64)
    }
}

/// What produced a run's figures: the driver's own loops, or goose's simulated users (the
/// networked balancing family's closed-loop alternative, [`goose_load`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoadEngine {
    Driver,
    Goose,
}

impl LoadEngine {
    /// Every engine.
    pub const ALL: [LoadEngine; 2] = [LoadEngine::Driver, LoadEngine::Goose];

    /// The name in scenario params and in the `load_engine` column.
    pub fn as_str(self) -> &'static str {
        match self {
            LoadEngine::Driver => "driver",
            LoadEngine::Goose => "goose",
        }
    }

    /// Looks an engine up by name.
    pub fn from_name(name: &str) -> Option<LoadEngine> {
        Self::ALL.into_iter().find(|e| e.as_str() == name)
    }
}

/// Everything the driver measured in one run.
#[derive(Debug)]
pub struct DriveReport {
    /// Who generated the load and took the timestamps.
    pub load_engine: LoadEngine,
    /// Wall-clock start of the run (warm-up included).
    pub started_at: SystemTime,
    pub totals: Totals,
    /// From the start of the measured phase to where the run stopped or its last operation
    /// ended, whichever is later.
    pub measured_span: Duration,
    pub events: Vec<FiredEvent>,
    /// Ctrl-C stopped the run early.
    pub interrupted: bool,
    /// Open loop: the schedule and what was kept of it.
    pub schedule: Option<ScheduleKept>,
    pub resources: ResourceUsage,
}

/// Runs `workload` against `system`, timing operations as `timing` says.
pub fn drive<S: System>(
    system: Arc<S>,
    workload: &Workload,
    timing: Timing,
    sink: &mut dyn IntervalSink,
    progress: &ProgressBar,
) -> anyhow::Result<DriveReport> {
    drive_with::<RealClock, S>(system, workload, timing, None, sink, progress)
}

/// Runs `workload` against `system` on clock `C`, starting at `start_at` if given (real time
/// only: a virtual clock has no wall-clock instant to meet). Drivers on several machines
/// started with the same `--start-at` cut the same wall-clock intervals, which
/// `stratbench merge` adds up.
pub fn drive_with<C: Clock, S: System>(
    system: Arc<S>,
    workload: &Workload,
    timing: Timing,
    start_at: Option<SystemTime>,
    sink: &mut dyn IntervalSink,
    progress: &ProgressBar,
) -> anyhow::Result<DriveReport> {
    let workers = workload.shape.workers();
    let runtime = C::runtime().context("cannot start the async runtime")?;
    let worker_threads = match C::worker_threads(workers) {
        0 => None,
        count => Some(WorkerThreads::start(count).context("cannot start the worker threads")?),
    };
    let (started_at, delay) = start_delay(start_at);
    // A virtual clock only reads inside its runtime.
    let run_start = {
        let _inside = runtime.enter();
        C::now() + delay
    };
    let timeline = Timeline::new(run_start, workload.length.warmup, workload.length.duration, workload.interval);
    sink.begin(started_at + workload.length.warmup)?;
    let arrivals = match workload.shape {
        LoadShape::Open { rate_ops_s, arrivals, .. } => {
            let groups = worker_threads.as_ref().map_or(1, WorkerThreads::count);
            let schedule = Arrivals::new(arrivals, rate_ops_s, workload.seed, &timeline, workload.length.ops);
            Some(Arc::new(schedule.with_groups(groups)))
        }
        LoadShape::Closed { .. } => None,
    };
    let stop = Arc::new(AtomicBool::new(false));
    let (sampler_stop, sampler_stopped) = mpsc::channel::<()>();
    let (sender, receiver) = mpsc::channel::<Report>();
    let (stopped_at, stopped) = mpsc::channel::<Instant>();
    let rss_bytes = AtomicU64::new(0);
    std::thread::scope(|scope| {
        let rss = &rss_bytes;
        let samples = Arc::new(Samples::default());
        let (sampled, boundary_samples) = (Arc::clone(&system), Arc::clone(&samples));
        let sample = move |slot| boundary_samples.take(slot).unwrap_or_else(|| sampled.sample());
        let reporters = Reporters { workers, drain_reporter: arrivals.is_some() };
        let aggregator = scope.spawn(move || aggregate(receiver, stopped, timeline, reporters, sink, rss, &sample));
        let sampler = scope.spawn(move || sampler::sample_until(sampler_stopped, rss));
        let run = Run {
            system,
            workload,
            timing,
            timeline,
            stop: Arc::clone(&stop),
            sender,
            samples,
            arrivals: arrivals.clone(),
            worker_threads: worker_threads.as_ref(),
        };
        let ended = runtime.block_on(run.execute::<C>(progress));
        let _ = stopped_at.send(ended.stopped_at);
        drop(sampler_stop);
        let totals = aggregator.join().map_err(|_| anyhow::anyhow!("the aggregator thread panicked"))??;
        let resources = sampler.join().unwrap_or_default();
        let schedule = arrivals.map(|a| ScheduleKept { due: a.due_in_phase(), started: totals.started_on_schedule });
        let measured_span = totals.measured_span;
        let interrupted = ended.interrupted;
        let events = ended.events;
        let load_engine = LoadEngine::Driver;
        Ok(DriveReport { load_engine, started_at, totals, measured_span, events, interrupted, schedule, resources })
    })
}

/// The parts of one run that the async side needs.
struct Run<'a, S: System> {
    system: Arc<S>,
    workload: &'a Workload,
    timing: Timing,
    timeline: Timeline,
    stop: Arc<AtomicBool>,
    sender: mpsc::Sender<Report>,
    samples: Arc<Samples>,
    arrivals: Option<Arc<Arrivals>>,
    /// Where the worker tasks run; `None`: on the run's runtime.
    worker_threads: Option<&'a WorkerThreads>,
}

/// How the async side of a run ended.
struct Ended {
    events: Vec<FiredEvent>,
    interrupted: bool,
    /// Where the run stopped issuing operations: the end of the measured phase, or earlier
    /// (Ctrl-C, an operation quota).
    stopped_at: Instant,
}

/// The system's running counters as each interval ended, kept until the aggregator writes the
/// interval: it writes one only once every worker has moved past it, which a stalled worker
/// delays, so counters read then would be late.
#[derive(Default)]
struct Samples(std::sync::Mutex<std::collections::BTreeMap<Slot, Sample>>);

impl Samples {
    fn put(&self, slot: Slot, sample: Sample) {
        self.0.locked().insert(slot, sample);
    }

    fn take(&self, slot: Slot) -> Option<Sample> {
        self.0.locked().remove(&slot)
    }
}

/// Samples `system` at the end of every interval of the measured phase and before, until the
/// end of the measured phase or `stop`.
async fn sample_at_boundaries<C: Clock, S: System>(
    system: Arc<S>,
    timeline: Timeline,
    samples: Arc<Samples>,
    stop: Arc<AtomicBool>,
) {
    let mut slot = Some(timeline.first());
    while let Some(current) = slot.filter(|s| s.phase != crate::recorder::Phase::Drain) {
        let end = timeline.bounds(current).1;
        if !worker::sleep_until::<C>(end, &stop).await {
            break;
        }
        samples.put(current, system.sample());
        slot = timeline.next(current);
    }
}

/// The supervisor's view of the worker tasks.
struct Supervised {
    interrupted_at: Option<Instant>,
    /// When the last worker task ended (or was given up on).
    all_done_at: Instant,
}

impl<S: System> Run<'_, S> {
    /// Spawns workers and the controller, supervises them, accounts for the arrivals no slot
    /// started, and says how the run ended.
    async fn execute<C: Clock>(self, progress: &ProgressBar) -> Ended {
        let workers = self.workload.shape.workers();
        let counters: Arc<Vec<Arc<PaddedCounter>>> =
            Arc::new((0..workers).map(|_| Arc::new(PaddedCounter::default())).collect());
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                let task = self.worker_task::<C>(w, Arc::clone(&counters[w as usize]));
                match self.worker_threads {
                    Some(threads) => threads.spawn(w, task),
                    None => tokio::spawn(task),
                }
            })
            .collect();
        let controller = tokio::spawn(controller::run_events::<C, S>(
            Arc::clone(&self.system),
            self.workload.events.clone(),
            self.timeline.measure_start,
            Arc::clone(&counters),
            Arc::clone(&self.stop),
        ));
        let sampling = tokio::spawn(sample_at_boundaries::<C, S>(
            Arc::clone(&self.system),
            self.timeline,
            Arc::clone(&self.samples),
            Arc::clone(&self.stop),
        ));
        let supervised = self.supervise::<C>(handles, &counters, progress).await;
        self.stop.store(true, Ordering::Relaxed);
        sampling.abort();
        let events = controller.await.unwrap_or_default();
        let stopped_at = self.stopped_at(&supervised, &counters);
        if let Some(arrivals) = &self.arrivals {
            self.account_untaken::<C>(arrivals, stopped_at);
        }
        Ended { events, interrupted: supervised.interrupted_at.is_some(), stopped_at }
    }

    /// Waits for the worker tasks, updating progress, until they end, or until the drain limit
    /// (or, after Ctrl-C, a grace period) passes: then the ones still in flight are aborted,
    /// and their recorders record what they were doing as unfinished.
    async fn supervise<C: Clock>(
        &self,
        mut handles: Vec<tokio::task::JoinHandle<()>>,
        counters: &[Arc<PaddedCounter>],
        progress: &ProgressBar,
    ) -> Supervised {
        let mut deadline = self.timeline.measure_end + DRAIN_TIMEOUT;
        let mut interrupted_at = None;
        // Woken by the last worker's end, not by the next look: a run ended by an operation
        // quota ends where its last operation did, not up to SUPERVISE_EVERY later.
        while tokio::time::timeout(SUPERVISE_EVERY, join_each(&mut handles)).await.is_err() {
            let now = C::now();
            progress.set_position(now.saturating_duration_since(self.timeline.run_start).as_millis() as u64);
            progress.set_message(format!("{} ops", counters.iter().map(|c| c.get()).sum::<u64>()));
            if crate::interrupt::interrupted() && interrupted_at.is_none() {
                interrupted_at = Some(now);
                deadline = deadline.min(now + INTERRUPT_GRACE);
                self.stop.store(true, Ordering::Relaxed);
            }
            if now > deadline {
                self.stop.store(true, Ordering::Relaxed);
                break;
            }
        }
        for handle in &mut handles {
            handle.abort();
        }
        for handle in handles {
            let _ = handle.await;
        }
        Supervised { interrupted_at, all_done_at: C::now() }
    }

    /// Where the run stopped issuing operations: where Ctrl-C stopped it, where an operation
    /// quota ended it, or else the end of the measured phase.
    fn stopped_at(&self, supervised: &Supervised, counters: &[Arc<PaddedCounter>]) -> Instant {
        let quota_met = match (&self.arrivals, self.workload.length.ops) {
            (Some(arrivals), _) => arrivals.quota_used_up(),
            (None, Some(quota)) => counters.iter().map(|c| c.get()).sum::<u64>() >= quota,
            (None, None) => false,
        };
        let stopped = match supervised.interrupted_at {
            Some(at) => at,
            None if quota_met => supervised.all_done_at,
            None => self.timeline.measure_end,
        };
        stopped.min(self.timeline.measure_end)
    }

    /// Records every arrival due before the run stopped that no slot started as unfinished,
    /// through the aggregator's drain reporter.
    fn account_untaken<C: Clock>(&self, arrivals: &Arrivals, stopped_at: Instant) {
        let workers = self.workload.shape.workers();
        let counter = Arc::new(PaddedCounter::default());
        let mut recorder = WorkerRecorder::new(workers, self.timeline, self.timing, None, counter, self.sender.clone())
            .scheduled()
            .with_clock(C::now);
        let untaken = arrivals.account_untaken(stopped_at, C::now(), &mut recorder);
        if untaken > 0 {
            tracing::debug!("{untaken} arrivals due before the run stopped were never started");
        }
        recorder.finish();
    }

    /// The task of worker `w`: takes its handle on the system (on the thread it runs on, so
    /// that what the handle opens is driven there), waits for the common start, then runs the
    /// loop of the schedule kind.
    fn worker_task<C: Clock>(
        &self,
        w: u32,
        counter: Arc<PaddedCounter>,
    ) -> impl std::future::Future<Output = ()> + Send + 'static {
        let workload = self.workload;
        let workers = workload.shape.workers();
        let closed_quota = match (workload.shape, workload.length.ops) {
            (LoadShape::Closed { .. }, Some(ops)) => {
                Some(ops / u64::from(workers) + u64::from(u64::from(w) < ops % u64::from(workers)))
            }
            _ => None,
        };
        let recorder = WorkerRecorder::new(w, self.timeline, self.timing, closed_quota, counter, self.sender.clone())
            .with_clock(C::now);
        let source = OpSource::new(workload, w, workers);
        let system = Arc::clone(&self.system);
        let stop = Arc::clone(&self.stop);
        let run_start = self.timeline.run_start;
        let arrivals = self.arrivals.clone();
        let (batch, think) = (self.timing.batch_size(), workload.think);
        let group = self.worker_threads.map_or(0, |threads| threads.thread_of(w));
        async move {
            let target = system.worker(w);
            if !worker::sleep_until::<C>(run_start, &stop).await {
                recorder.finish();
                return;
            }
            match arrivals {
                None => worker::closed_loop::<C, _>(target, source, recorder, batch, think, stop).await,
                Some(arrivals) => {
                    worker::open_loop::<C, _>(target, source, recorder.scheduled(), arrivals, group, stop).await;
                }
            }
        }
    }
}

/// Waits for every task of `handles`, removing each as it ends; stopped early (a timeout), it
/// leaves the ones still running.
async fn join_each(handles: &mut Vec<tokio::task::JoinHandle<()>>) {
    while let Some(handle) = handles.last_mut() {
        let _ = handle.await;
        handles.pop();
    }
}

/// When a run starts: the wall-clock instant, and how long from now that is — [`START_DELAY`],
/// or until `start_at` (after sleeping until shortly before it; a `start_at` already past
/// starts now).
fn start_delay(start_at: Option<SystemTime>) -> (SystemTime, Duration) {
    let Some(at) = start_at else { return (SystemTime::now() + START_DELAY, START_DELAY) };
    let wake = at.checked_sub(START_DELAY).unwrap_or(at);
    while let Ok(left) = wake.duration_since(SystemTime::now()) {
        if crate::interrupt::interrupted() || left.is_zero() {
            break;
        }
        std::thread::sleep(left.min(SUPERVISE_EVERY));
    }
    let now_wall = SystemTime::now();
    match at.duration_since(now_wall) {
        Ok(ahead) => (at, ahead),
        Err(late) => {
            tracing::warn!("--start-at passed {:.3}s ago: starting now", late.duration().as_secs_f64());
            (now_wall, Duration::ZERO)
        }
    }
}

/// Who reports to the aggregator: the workers, and for an open loop the account of the
/// arrivals no slot started, which reports into the drain at the end.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Reporters {
    pub workers: u32,
    pub drain_reporter: bool,
}

/// The aggregator thread: merges reports until every reporter has hung up, writing each
/// finished interval to `sink`, stamped with the driver's resident memory and the system's
/// running counters at that moment; then, told where the run stopped, the rest.
pub(crate) fn aggregate(
    receiver: mpsc::Receiver<Report>,
    stopped: mpsc::Receiver<Instant>,
    timeline: Timeline,
    reporters: Reporters,
    sink: &mut dyn IntervalSink,
    rss_bytes: &AtomicU64,
    sample: &dyn Fn(Slot) -> Sample,
) -> anyhow::Result<Totals> {
    let mut aggregator = Aggregator::new(timeline, reporters.workers);
    if reporters.drain_reporter {
        aggregator.add_drain_reporter();
    }
    let mut sink_error = None;
    let mut write = |intervals: Vec<FlushedInterval>| {
        for mut interval in intervals {
            interval.driver_rss_bytes = Some(rss_bytes.load(Ordering::Relaxed)).filter(|b| *b > 0);
            interval.sample = sample(interval.slot);
            if sink_error.is_none()
                && let Err(error) = sink.interval(&interval)
            {
                sink_error = Some(error);
            }
        }
    };
    for report in receiver {
        write(aggregator.push(report));
    }
    let (rest, totals) = aggregator.finish(stopped.recv().unwrap_or(timeline.measure_end));
    write(rest);
    match sink_error {
        Some(error) => Err(error.context("cannot write the time series")),
        None => Ok(totals),
    }
}
