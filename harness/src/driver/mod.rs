//! The driver: runs one workload against one system under test and takes every timestamp.
//!
//! [`drive`] starts a tokio runtime for the run, one task per worker running the loop for the
//! schedule kind ([`worker::closed_loop`] or [`worker::open_loop`]), a controller task for
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

pub mod clock;
pub mod controller;
pub mod http_load;
pub mod ops;
pub mod sampler;
pub mod worker;

use crate::recorder::{
    Aggregator, FlushedInterval, PaddedCounter, Report, Slot, Timeline, Timing, Totals, WorkerRecorder,
};
use anyhow::Context as _;
use clock::{Clock, RealClock};
use controller::FiredEvent;
use indicatif::ProgressBar;
use ops::OpSource;
use sampler::ResourceUsage;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, SystemTime};
use targets::target::{Sample, System};
use workloads::{ArrivalSchedule, LoadShape, Workload};

/// Time given to spawn the workers before the run starts, so that they all start together.
const START_DELAY: Duration = Duration::from_millis(20);
/// How long operations may run on after the measured phase ends before they are abandoned.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);
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

/// Everything the driver measured in one run.
#[derive(Debug)]
pub struct DriveReport {
    /// Wall-clock start of the run (warm-up included).
    pub started_at: SystemTime,
    pub totals: Totals,
    /// From the start of the measured phase to the end of its last operation.
    pub measured_span: Duration,
    pub events: Vec<FiredEvent>,
    /// Ctrl-C stopped the run early.
    pub interrupted: bool,
    /// Workers stopped at the hard deadline with an operation still in flight.
    pub abandoned_workers: u32,
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

/// [`drive`], starting the run (its warm-up) at the wall-clock instant `start_at` if given:
/// drivers on several machines started with the same `--start-at` then cut the same
/// wall-clock intervals, which `stratbench merge` adds up. The wait ends early on Ctrl-C.
pub fn drive_at<S: System>(
    system: Arc<S>,
    workload: &Workload,
    timing: Timing,
    start_at: Option<SystemTime>,
    sink: &mut dyn IntervalSink,
    progress: &ProgressBar,
) -> anyhow::Result<DriveReport> {
    drive_with::<RealClock, S>(system, workload, timing, start_at, sink, progress)
}

/// Runs `workload` against `system` on clock `C`, starting at `start_at` if given (real time
/// only: a virtual clock has no wall-clock instant to meet).
pub fn drive_with<C: Clock, S: System>(
    system: Arc<S>,
    workload: &Workload,
    timing: Timing,
    start_at: Option<SystemTime>,
    sink: &mut dyn IntervalSink,
    progress: &ProgressBar,
) -> anyhow::Result<DriveReport> {
    let workers = workload.shape.workers();
    let runtime = C::runtime(workers).context("cannot start the async runtime")?;
    let (started_at, delay) = start_delay(start_at);
    // A virtual clock only reads inside its runtime.
    let run_start = {
        let _inside = runtime.enter();
        C::now() + delay
    };
    let timeline = Timeline::new(run_start, workload.length.warmup, workload.length.duration, workload.interval);
    sink.begin(started_at + workload.length.warmup)?;
    let stop = Arc::new(AtomicBool::new(false));
    let (sampler_stop, sampler_stopped) = mpsc::channel::<()>();
    let (sender, receiver) = mpsc::channel::<Report>();
    let rss_bytes = AtomicU64::new(0);
    std::thread::scope(|scope| {
        let rss = &rss_bytes;
        let samples = Arc::new(Samples::default());
        let (sampled, boundary_samples) = (Arc::clone(&system), Arc::clone(&samples));
        let sample = move |slot| boundary_samples.take(slot).unwrap_or_else(|| sampled.sample());
        let aggregator = scope.spawn(move || aggregate(receiver, timeline, workers, sink, rss, &sample));
        let sampler = scope.spawn(move || sampler::sample_until(sampler_stopped, rss));
        let run = Run { system, workload, timing, timeline, stop: Arc::clone(&stop), sender, samples };
        let (events, interrupted, abandoned_workers) = runtime.block_on(run.execute::<C>(progress));
        drop(sampler_stop);
        let totals = aggregator.join().map_err(|_| anyhow::anyhow!("the aggregator thread panicked"))??;
        let resources = sampler.join().unwrap_or_default();
        let measured_span =
            totals.last_end.map_or(Duration::ZERO, |end| end.saturating_duration_since(timeline.measure_start));
        Ok(DriveReport { started_at, totals, measured_span, events, interrupted, abandoned_workers, resources })
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
}

/// The system's running counters as each interval ended, kept until the aggregator writes the
/// interval: it writes one only once every worker has moved past it, which a stalled worker
/// delays, so counters read then would be late.
#[derive(Default)]
struct Samples(std::sync::Mutex<std::collections::BTreeMap<Slot, Sample>>);

impl Samples {
    fn put(&self, slot: Slot, sample: Sample) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).insert(slot, sample);
    }

    fn take(&self, slot: Slot) -> Option<Sample> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).remove(&slot)
    }
}

/// Samples `system` at the end of every interval, until the hard deadline or `stop`.
async fn sample_at_boundaries<C: Clock, S: System>(
    system: Arc<S>,
    timeline: Timeline,
    samples: Arc<Samples>,
    stop: Arc<AtomicBool>,
) {
    let mut slot = timeline.first();
    loop {
        let end = timeline.bounds(slot).1;
        if end > timeline.measure_end + DRAIN_TIMEOUT || !worker::sleep_until::<C>(end, &stop).await {
            break;
        }
        samples.put(slot, system.sample());
        slot = timeline.next(slot);
    }
}

impl<S: System> Run<'_, S> {
    /// Spawns workers and the controller, supervises them, and returns the events, whether
    /// the run was interrupted, and how many workers were abandoned.
    async fn execute<C: Clock>(self, progress: &ProgressBar) -> (Vec<FiredEvent>, bool, u32) {
        let workers = self.workload.shape.workers();
        let counters: Arc<Vec<Arc<PaddedCounter>>> =
            Arc::new((0..workers).map(|_| Arc::new(PaddedCounter::default())).collect());
        let mut handles: Vec<_> =
            (0..workers).map(|w| tokio::spawn(self.worker_task::<C>(w, Arc::clone(&counters[w as usize])))).collect();
        drop(self.sender);
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
        let hard_deadline = self.timeline.measure_end + DRAIN_TIMEOUT;
        let mut interrupted = false;
        while !handles.iter().all(|h| h.is_finished()) {
            tokio::time::sleep(SUPERVISE_EVERY).await;
            let elapsed = C::now().saturating_duration_since(self.timeline.run_start);
            progress.set_position(elapsed.as_millis() as u64);
            progress.set_message(format!("{} ops", counters.iter().map(|c| c.get()).sum::<u64>()));
            if crate::interrupt::interrupted() && !interrupted {
                interrupted = true;
                self.stop.store(true, Ordering::Relaxed);
            }
            if C::now() > hard_deadline {
                self.stop.store(true, Ordering::Relaxed);
                break;
            }
        }
        let mut abandoned = 0;
        for handle in &mut handles {
            if !handle.is_finished() {
                handle.abort();
                abandoned += 1;
            }
        }
        for handle in handles {
            let _ = handle.await;
        }
        self.stop.store(true, Ordering::Relaxed);
        sampling.abort();
        let events = controller.await.unwrap_or_default();
        (events, interrupted, abandoned)
    }

    /// The task of worker `w`: waits for the common start, then runs the loop of the
    /// schedule kind.
    fn worker_task<C: Clock>(
        &self,
        w: u32,
        counter: Arc<PaddedCounter>,
    ) -> impl std::future::Future<Output = ()> + Send + 'static {
        let workload = self.workload;
        let workers = workload.shape.workers();
        let quota = workload
            .length
            .ops
            .map(|ops| ops / u64::from(workers) + u64::from(u64::from(w) < ops % u64::from(workers)));
        let recorder = WorkerRecorder::new(w, self.timeline, self.timing, quota, counter, self.sender.clone());
        let source = OpSource::new(workload, w, workers);
        let target = self.system.worker(w);
        let stop = Arc::clone(&self.stop);
        let run_start = self.timeline.run_start;
        let shape = workload.shape;
        let seed = workload.seed;
        let batch = self.timing.batch_size();
        async move {
            if !worker::sleep_until::<C>(run_start, &stop).await {
                recorder.finish();
                return;
            }
            match shape {
                LoadShape::Closed { .. } => worker::closed_loop::<C, _>(target, source, recorder, batch, stop).await,
                LoadShape::Open { rate_ops_s, arrivals, workers } => {
                    let schedule = ArrivalSchedule::new(arrivals, rate_ops_s, w, workers, seed);
                    worker::open_loop::<C, _>(target, source, recorder, schedule, run_start, stop).await
                }
            }
        }
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

/// The aggregator thread: merges reports until every worker has hung up, writing each
/// finished interval to `sink`, stamped with the driver's resident memory and the system's
/// running counters at that moment.
pub(crate) fn aggregate(
    receiver: mpsc::Receiver<Report>,
    timeline: Timeline,
    workers: u32,
    sink: &mut dyn IntervalSink,
    rss_bytes: &AtomicU64,
    sample: &dyn Fn(Slot) -> Sample,
) -> anyhow::Result<Totals> {
    let mut aggregator = Aggregator::new(timeline, workers);
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
    let (rest, totals) = aggregator.finish();
    write(rest);
    match sink_error {
        Some(error) => Err(error.context("cannot write the time series")),
        None => Ok(totals),
    }
}
