//! The goose load engine: goose, embedded, drives HTTP requests at a networked balancing row
//! while the harness times every request itself — the closed-loop alternative to the
//! driver's own HTTP worker ([`targets::balancing::net::client`]), chosen with
//! `load_engine = "goose"` in the scenario's params.
//!
//! Goose runs `workers` users, each a closed loop of GET requests to `/k/<key>`, the keys
//! drawn from the workload's distribution by the user's own seeded [`OpSource`]. Inside each
//! request's transaction the harness reads the clock before and after (`user.get()` and the
//! whole body), and records the latency into a per-user [`WorkerRecorder`] — the same
//! recorder, aggregator, time series, events controller and CSV rows as the driver — together
//! with the backend that answered, the answer classified as the driver's worker classifies it
//! ([`classify`]). Goose keeps its own statistics (whole milliseconds, time to first byte) and
//! writes them as its HTML report into the run directory: goose's own figures, not the row's.
//! Rows say `load_engine = goose`.
//!
//! Goose is a closed loop of users; an open loop (`rate`) is the driver's. Goose wants its
//! transactions as functions of the user alone, so the run's state reaches them through the
//! closures that wrap them ([`Context`]), not a global.
//!
//! The run's clock (warm-up, then the measured phase) starts when goose starts its first
//! user, not when goose is called: goose builds an HTTP client per user before it launches
//! them, which takes a second or more on a loaded machine, and that time must not eat the
//! warm-up or the measured phase.
//!
//! Goose is configured in code (`initialize_with_config`): no telnet or websocket controller,
//! quiet, no metrics printed, users launched at once. Ctrl-C stays with the harness (its own
//! handler is installed first, so goose's fails and is ignored); a watcher task turns the
//! harness's interrupt, and the end of the measured phase, into goose's killswitch. Requests
//! that start after the measured phase are not recorded, and goose's own run time ends the
//! run [`DRAIN_TIMEOUT`] after the measured phase at the latest.

use super::clock::RealClock;
use super::{DRAIN_TIMEOUT, DriveReport, IntervalSink, LoadEngine, Reporters, aggregate, controller, sampler};
use crate::recorder::{OpTimes, PaddedCounter, Report, Timeline, Timing, WorkerRecorder};
use anyhow::Context as _;
use goose::config::GooseConfiguration;
use goose::prelude::*;
use indicatif::ProgressBar;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock, mpsc};
use std::time::{Duration, Instant, SystemTime};
use targets::balancing::net::client::{Answer, REQUEST_TIMEOUT, classify};
use targets::sync::Recover as _;
use targets::target::{OpError, Sample, System};
use workloads::ops::OpSource;
use workloads::{LoadShape, Workload};

/// How often the watcher updates progress and checks for Ctrl-C and the end.
const WATCH_EVERY: Duration = Duration::from_millis(50);
/// Users launched per second: all of them at once, in practice.
const INCREASE_RATE: &str = "100000";
/// How long goose may take to start its first user.
const LAUNCH_TIMEOUT: Duration = Duration::from_secs(60);

/// What to load.
pub struct HttpLoad<'a> {
    /// `http://127.0.0.1:PORT`.
    pub target: String,
    pub workload: &'a Workload,
    /// Goose's HTML report.
    pub report_file: PathBuf,
}

/// One user's recorder and keys, shared with the run context so that the harness can finish
/// every recorder when goose is done, whatever goose does with its users.
struct UserState {
    recorder: WorkerRecorder,
    source: OpSource,
}

#[derive(Clone)]
struct UserSlot(Arc<Mutex<Option<UserState>>>);

/// The run's state, which goose's transactions reach through the closures that wrap them.
struct Context {
    /// The run's clock and its wall-clock start, started by the first user (see the module
    /// docs).
    timeline: OnceLock<(Timeline, SystemTime)>,
    /// Where the clock goes once it is started: the aggregator.
    started: Mutex<Option<mpsc::Sender<(Timeline, SystemTime)>>>,
    length: (Duration, Duration, Duration),
    workload: Workload,
    sender: Mutex<Option<mpsc::Sender<Report>>>,
    counters: Arc<Vec<Arc<PaddedCounter>>>,
    users: Mutex<Vec<UserSlot>>,
    next_user: AtomicU32,
}

impl Context {
    fn new_user(&self) -> Option<UserSlot> {
        let workers = self.counters.len() as u32;
        let index = self.next_user.fetch_add(1, Ordering::Relaxed);
        let sender = self.sender.locked().clone()?;
        if index >= workers {
            return None;
        }
        let counter = Arc::clone(&self.counters[index as usize]);
        let recorder = WorkerRecorder::new(index, self.start_clock(), Timing::PerOp, None, counter, sender);
        let source = OpSource::new(&self.workload, index, workers);
        let slot = UserSlot(Arc::new(Mutex::new(Some(UserState { recorder, source }))));
        self.users.locked().push(slot.clone());
        Some(slot)
    }

    /// The run's clock, started now if no user has started it yet.
    fn start_clock(&self) -> Timeline {
        let (timeline, _) = *self.timeline.get_or_init(|| {
            let (warmup, duration, interval) = self.length;
            let started = (Timeline::new(Instant::now(), warmup, duration, interval), SystemTime::now());
            if let Some(sender) = self.started.locked().take() {
                let _ = sender.send(started);
            }
            started
        });
        timeline
    }

    /// Finishes every user's recorder and hangs up, so the aggregator can end.
    fn finish(&self) {
        self.started.locked().take();
        for slot in self.users.locked().drain(..) {
            if let Some(state) = slot.0.locked().take() {
                state.recorder.finish();
            }
        }
        self.sender.locked().take();
    }
}

async fn start_user(context: Arc<Context>, user: &mut GooseUser) -> TransactionResult {
    if let Some(slot) = context.new_user() {
        user.set_session_data(slot);
    }
    Ok(())
}

async fn request(user: &mut GooseUser) -> TransactionResult {
    let Some(slot) = user.get_session_data::<UserSlot>().cloned() else {
        tokio::time::sleep(WATCH_EVERY).await;
        return Ok(());
    };
    let Some(path) = slot.next_path() else {
        // The measured phase is over; goose stops at the killswitch.
        tokio::time::sleep(WATCH_EVERY).await;
        return Ok(());
    };
    let start = Instant::now();
    let answer = get(user, &path).await;
    let end = Instant::now();
    slot.record(start, end, answer);
    Ok(())
}

/// A goose transaction from an async function of the user.
fn transaction<F>(function: F) -> Transaction
where
    F: for<'r> Fn(&'r mut GooseUser) -> Pin<Box<dyn Future<Output = TransactionResult> + Send + 'r>>
        + Send
        + Sync
        + 'static,
{
    Transaction::new(Arc::new(function))
}

/// The scenario of every user: take a recorder when starting, then request in a loop.
fn scenario(context: Arc<Context>) -> Scenario {
    let start = transaction(move |user| Box::pin(start_user(Arc::clone(&context), user)));
    let request = transaction(|user| Box::pin(request(user)));
    scenario!("stratbench").register_transaction(start.set_on_start()).register_transaction(request)
}

impl UserSlot {
    /// The next request's path, or `None` once the measured phase is over.
    fn next_path(&self) -> Option<String> {
        let mut state = self.0.locked();
        let state = state.as_mut()?;
        state.recorder.should_continue(Instant::now()).then(|| format!("/k/{}", state.source.next_op().key))
    }

    fn record(&self, start: Instant, end: Instant, answer: Answer) {
        let mut state = self.0.locked();
        if let Some(state) = state.as_mut() {
            state.recorder.record(OpTimes::unscheduled(start, None, end), 1, answer.failure);
            if let Some(node) = answer.backend {
                state.recorder.count_node(node, start);
            }
        }
    }
}

/// One GET, body included, classified as the driver's HTTP worker classifies its answers.
async fn get(user: &mut GooseUser, path: &str) -> Answer {
    let fail = |kind: &'static str, detail: String| Answer {
        failure: Some(OpError { kind, detail: Some(detail) }),
        backend: None,
    };
    let goose = match user.get(path).await {
        Ok(goose) => goose,
        Err(error) => return fail("request", error.to_string()),
    };
    let response = match goose.response {
        Ok(response) => response,
        Err(error) if error.is_timeout() => return fail("timeout", error.to_string()),
        Err(error) if error.is_connect() => return fail("refused", error.to_string()),
        Err(error) => return fail("io", error.to_string()),
    };
    let answer = classify(response.status(), response.headers());
    match response.bytes().await {
        Ok(_) => answer,
        Err(error) => Answer { failure: Some(OpError { kind: "io", detail: Some(error.to_string()) }), ..answer },
    }
}

fn configuration(load: &HttpLoad<'_>, users: u32) -> GooseConfiguration {
    let length = load.workload.length;
    let run_time = (LAUNCH_TIMEOUT + length.warmup + length.duration + DRAIN_TIMEOUT).as_secs() + 1;
    let mut config = GooseConfiguration::default();
    config.host = Some(load.target.clone());
    config.users = Some(users as usize);
    config.increase_rate = Some(INCREASE_RATE.into());
    config.run_time = Some(format!("{run_time}s"));
    config.no_telnet = true;
    config.no_websocket = true;
    config.quiet = 1;
    config.no_print_metrics = true;
    config.no_error_summary = true;
    config.timeout = Some(REQUEST_TIMEOUT.as_secs().to_string());
    config.report_file = vec![load.report_file.display().to_string()];
    config
}

/// Loads `load.target` with goose for the workload's warm-up and duration, firing its events
/// at `system`, and measures every request.
pub fn drive_http<S: System>(
    system: Arc<S>,
    load: HttpLoad<'_>,
    sink: &mut dyn IntervalSink,
    progress: &ProgressBar,
) -> anyhow::Result<DriveReport> {
    let workload = load.workload;
    let LoadShape::Closed { workers } = workload.shape else {
        anyhow::bail!("goose's load is a closed loop of users: give `concurrency`, not `rate`");
    };
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start goose's runtime")?;
    let (sender, receiver) = mpsc::channel::<Report>();
    let (clock_started, aggregator_start) = mpsc::channel();
    let counters: Arc<Vec<Arc<PaddedCounter>>> =
        Arc::new((0..workers).map(|_| Arc::new(PaddedCounter::default())).collect());
    let context = Arc::new(Context {
        timeline: OnceLock::new(),
        started: Mutex::new(Some(clock_started)),
        length: (workload.length.warmup, workload.length.duration, workload.interval),
        workload: workload.clone(),
        sender: Mutex::new(Some(sender)),
        counters: Arc::clone(&counters),
        users: Mutex::new(Vec::new()),
        next_user: AtomicU32::new(0),
    });
    let config = configuration(&load, workers);
    let (sampler_stop, sampler_stopped) = mpsc::channel::<()>();
    let rss_bytes = std::sync::atomic::AtomicU64::new(0);
    let outcome = std::thread::scope(|scope| {
        let rss = &rss_bytes;
        let aggregator = scope.spawn(move || {
            let (timeline, wall) = aggregator_start.recv().map_err(|_| anyhow::anyhow!("goose started no user"))?;
            sink.begin(wall + timeline.measure_start.duration_since(timeline.run_start))?;
            let reporters = Reporters { workers, drain_reporter: false };
            // Goose's users stop at the end of the measured phase (or at Ctrl-C, which the
            // last intervals then show as short of operations).
            let (stopped_at, stopped) = mpsc::channel();
            let _ = stopped_at.send(timeline.measure_end);
            let totals = aggregate(receiver, stopped, timeline, reporters, sink, rss, &|_| Sample::default())?;
            anyhow::Ok((totals, wall))
        });
        let sampler = scope.spawn(move || sampler::sample_until(sampler_stopped, rss));
        let attack = runtime.block_on(attack(system, config, Arc::clone(&context), counters, progress));
        context.finish();
        drop(sampler_stop);
        let totals = aggregator.join().map_err(|_| anyhow::anyhow!("the aggregator thread panicked"))?;
        let resources = sampler.join().unwrap_or_default();
        anyhow::Ok((attack, totals, resources))
    });
    let (attack, totals, resources) = outcome?;
    let (events, interrupted) = attack?;
    let (totals, started_at) = totals?;
    let measured_span = totals.measured_span;
    let load_engine = LoadEngine::Goose;
    Ok(DriveReport { load_engine, started_at, totals, measured_span, events, interrupted, schedule: None, resources })
}

/// Runs goose, the events controller and the watcher; returns the events and whether Ctrl-C
/// stopped the run.
async fn attack<S: System>(
    system: Arc<S>,
    config: GooseConfiguration,
    context: Arc<Context>,
    counters: Arc<Vec<Arc<PaddedCounter>>>,
    progress: &ProgressBar,
) -> anyhow::Result<(Vec<controller::FiredEvent>, bool)> {
    let stop = Arc::new(AtomicBool::new(false));
    let interrupted = Arc::new(AtomicBool::new(false));
    // Events and the end of the run follow the clock, which the first user starts.
    let (events, stopping, interrupting, progress) =
        (context.workload.events.clone(), Arc::clone(&stop), Arc::clone(&interrupted), progress.clone());
    let clock = Arc::clone(&context);
    let controller = tokio::spawn(async move {
        let Some(timeline) = clock_started(&clock, &stopping).await else {
            return Vec::new();
        };
        let watcher = watch(timeline, Arc::clone(&counters), interrupting, progress, Arc::clone(&stopping));
        let events = controller::run_events::<RealClock, S>(system, events, timeline.measure_start, counters, stopping);
        tokio::join!(events, watcher).0
    });
    let goose = GooseAttack::initialize_with_config(config)
        .map(|attack| attack.register_scenario(scenario(context)))
        .context("cannot configure goose");
    let result = match goose {
        Ok(goose) => goose.execute().await.map(|_| ()).context("goose failed"),
        Err(error) => Err(error),
    };
    stop.store(true, Ordering::Relaxed);
    let events = controller.await.unwrap_or_default();
    result.map(|()| (events, interrupted.load(Ordering::Relaxed)))
}

/// The run's clock once goose's first user has started it; `None` if goose ends first or
/// starts no user within [`LAUNCH_TIMEOUT`] (then it is stopped).
async fn clock_started(context: &Context, stop: &AtomicBool) -> Option<Timeline> {
    let deadline = Instant::now() + LAUNCH_TIMEOUT;
    while !stop.load(Ordering::Relaxed) {
        if let Some((timeline, _)) = context.timeline.get().copied() {
            return Some(timeline);
        }
        if Instant::now() > deadline {
            goose::trigger_killswitch("goose started no user in time");
            return None;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    None
}

/// Updates progress; stops goose at the end of the measured phase or on Ctrl-C; returns once
/// the attack is over (`stop`).
async fn watch(
    timeline: Timeline,
    counters: Arc<Vec<Arc<PaddedCounter>>>,
    interrupted: Arc<AtomicBool>,
    progress: ProgressBar,
    stop: Arc<AtomicBool>,
) {
    while !stop.load(Ordering::Relaxed) {
        tokio::time::sleep(WATCH_EVERY).await;
        let now = Instant::now();
        progress.set_position(now.saturating_duration_since(timeline.run_start).as_millis() as u64);
        progress.set_message(format!("{} ops", counters.iter().map(|c| c.get()).sum::<u64>()));
        if crate::interrupt::interrupted() {
            interrupted.store(true, Ordering::Relaxed);
            goose::trigger_killswitch("interrupted by Ctrl-C");
        }
        if now >= timeline.measure_end {
            goose::trigger_killswitch("the measured phase is over");
        }
    }
}
