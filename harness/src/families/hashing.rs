//! The `hashing` family.
//!
//! In-process (`inproc`): lookups against a placement structure, timed in batches (a lookup
//! costs nanoseconds), with resize events whose key movement is measured over the whole key
//! set. The structure is built (and, for `bounded-load`, the keys placed) before the run, and
//! the time that takes is the row's `build_time_us`.
//!
//! Networked (`net`): client-side sharding over N redis-server instances (started on loopback,
//! or given with `--redis`) with the same strategies (`targets::hashing::net`). Before the run
//! every key is loaded; `read` is `GET`, `update` is `SET`, each operation timed alone (or
//! pipelined `batch` at a time). Resize events migrate the keys that move while traffic goes
//! on, and the servers' count of keys moved is set against the in-process prediction; after
//! the run a verification pass reads every key back. The run's measured intervals, kept in
//! memory as they go to the interval log, are then cut at the migrations into throughput and
//! p99 before, during and after them.

use super::{FieldError, RunTiming, RuntimeError, StrategyInfo, measure_erased, measure_with, timing_for};
use crate::driver::clock::RealClock;
use crate::output::Session;
use crate::recorder::FlushedInterval;
use crate::run::{RunRecord, RunSpec, RunStatus};
use crate::rundir::add;
use indicatif::ProgressBar;
use std::sync::Arc;
use std::sync::mpsc::RecvTimeoutError;
use std::time::Duration;
use targets::hashing::any::AnyPlacement;
use targets::hashing::build::Built;
use targets::hashing::net::shards::ShardPool;
use targets::hashing::net::{NetParams, NetSystem, PhaseFigures, PhaseStats};
use targets::hashing::system::HashingSystem;
use targets::hashing::{HashingError, HashingParams, NodeId, Placement, Strategy};
use targets::target::EventStatus;
use workloads::scenario::Mode;
use workloads::{OpKind, Workload};

/// Lookups per timed batch unless the scenario says otherwise: long enough (tens of
/// microseconds) that two clock reads are noise, short enough for many samples per second.
pub const DEFAULT_BATCH: u32 = 1024;

/// The key set is held in memory (hash and owner of every key, 12 bytes each, plus a snapshot
/// per removed node): 50 million keys is under a gigabyte.
pub const MAX_KEYS: u64 = 50_000_000;
/// 100,000 nodes is 16 million ring points.
pub const MAX_NODES: u64 = 100_000;
/// How often a placement build in progress looks at the stop flag.
const BUILD_POLL: Duration = Duration::from_millis(20);
/// Networked: keys live in Redis (about 100 bytes of overhead each) and are loaded before
/// every run.
pub const MAX_NET_KEYS: u64 = 10_000_000;
/// Networked: one redis-server per node.
pub const MAX_NET_NODES: u32 = 64;
/// Networked: values carry an 8-byte write id; a megabyte is plenty.
pub const NET_VALUE_SIZE_BYTES: std::ops::RangeInclusive<u64> = 8..=1 << 20;
/// How long loading, verification and cleanup may each take.
const OFFLINE_TIMEOUT: Duration = Duration::from_secs(600);

/// Every hashing strategy, ours then the crate adapters, in-process and over Redis.
pub fn strategies() -> Vec<StrategyInfo> {
    Strategy::ALL
        .iter()
        .map(|s| StrategyInfo { name: s.name(), about: s.about(), modes: &[Mode::Inproc, Mode::Net] })
        .collect()
}

/// Checks `[params]` and the key and node counts (and, for the networked version, the value
/// size and the mix).
pub fn check(workload: &Workload) -> Result<(), FieldError> {
    let params = HashingParams::from_table(&NetParams::strategy_table(&workload.params)).map_err(param_error)?;
    params.node_set(workload.nodes).map_err(param_error)?;
    NetParams::from_table(&workload.params).map_err(param_error)?;
    if u64::from(workload.nodes) > MAX_NODES {
        let message = format!("the hashing family places at most {MAX_NODES} nodes, got {}", workload.nodes);
        return Err(FieldError::new("nodes", message));
    }
    if workload.keys > u64::from(u32::MAX) {
        let message = format!("the hashing family measures at most {} keys, got {}", u32::MAX, workload.keys);
        return Err(FieldError::new("keys", message));
    }
    if workload.mode.includes(Mode::Net) { check_net(workload) } else { Ok(()) }
}

fn check_net(workload: &Workload) -> Result<(), FieldError> {
    let net = |field: &str, message: String| Err(FieldError::new(field, format!("networked hashing: {message}")));
    if workload.keys > MAX_NET_KEYS {
        return net("keys", format!("loads at most {MAX_NET_KEYS} keys, got {}", workload.keys));
    }
    if workload.nodes > MAX_NET_NODES {
        return net("nodes", format!("runs at most {MAX_NET_NODES} servers, got {}", workload.nodes));
    }
    if !NET_VALUE_SIZE_BYTES.contains(&workload.value_size_bytes) {
        let (low, high) = (NET_VALUE_SIZE_BYTES.start(), NET_VALUE_SIZE_BYTES.end());
        return net("value_size", format!("must be from {low} to {high} bytes, got {}", workload.value_size_bytes));
    }
    if workload.mix.share(OpKind::Scan) > 0.0 {
        return net("mix", "has no scans (keys are hashed across shards): remove `scan`".into());
    }
    Ok(())
}

fn param_error(error: HashingError) -> FieldError {
    match error {
        HashingError::InvalidParam { param, message } => FieldError::param(param, message),
        other => FieldError::new("params", other.to_string()),
    }
}

/// Runs one hashing strategy.
pub fn run<'a>(spec: &'a RunSpec, session: &mut Session, progress: &ProgressBar) -> RunRecord<'a> {
    let strategy = Strategy::from_name(&spec.strategy).expect("the plan only holds known strategies");
    match spec.mode {
        Mode::Net => match on_build_thread(&spec.workload, move |w| targets::hashing::build::net(strategy, w)) {
            Ok(built) => run_net(spec, session, progress, built),
            Err(error) => build_failed(spec, error),
        },
        _ => match on_build_thread(&spec.workload, move |w| targets::hashing::build::inproc(strategy, w)) {
            Ok((system, build_time)) => {
                let run =
                    RunTiming { spec, timing: timing_for(&spec.workload, DEFAULT_BATCH), build_time: Some(build_time) };
                measure_with::<RealClock, _>(Arc::new(system), run, session, progress, &mut |_| {})
            }
            Err(error) => build_failed(spec, error),
        },
    }
}

/// Runs `build_now` (a strategy's structure over the workload, with the run's keys placed)
/// on a thread of its own, which the run abandons at Ctrl-C (`Err(None)`): a ring of 100,000
/// nodes takes minutes to build and cannot look at the stop flag itself.
fn on_build_thread<T: Send + 'static>(
    workload: &Workload,
    build_now: impl FnOnce(&Workload) -> Result<T, HashingError> + Send + 'static,
) -> Result<T, Option<HashingError>> {
    let owned = workload.clone();
    let (sender, receiver) = std::sync::mpsc::channel();
    let thread = std::thread::Builder::new().name("placement-build".into()).spawn(move || {
        let _ = sender.send(build_now(&owned));
    });
    if let Err(error) = thread {
        return Err(Some(HashingError::Unsupported(format!("cannot start the build's thread: {error}"))));
    }
    loop {
        match receiver.recv_timeout(BUILD_POLL) {
            Ok(built) => return built.map_err(Some),
            Err(RecvTimeoutError::Timeout) if crate::interrupt::interrupted() => return Err(None),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => {
                return Err(Some(HashingError::Unsupported("the build's thread panicked".into())));
            }
        }
    }
}

/// The row of a build that failed (`Some`) or was abandoned at Ctrl-C (`None`).
fn build_failed(spec: &RunSpec, error: Option<HashingError>) -> RunRecord<'_> {
    match error {
        None => RunRecord::failed(spec, RunStatus::Interrupted, "interrupted by Ctrl-C while building".into()),
        Some(HashingError::Unsupported(message)) => RunRecord::failed(spec, RunStatus::Unsupported, message),
        Some(error) => RunRecord::failed(spec, RunStatus::Error, error.to_string()),
    }
}

/// Runs the networked version over a built placement: loads the keys, drives the run, then
/// verifies and cleans up.
fn run_net<'a>(
    spec: &'a RunSpec,
    session: &mut Session,
    progress: &ProgressBar,
    built: Built<AnyPlacement>,
) -> RunRecord<'a> {
    let workload = &spec.workload;
    let Built { placement, key_hashes: keys, build_time } = built;
    let params = NetParams::from_table(&workload.params).expect("checked by the plan");
    let nodes: Vec<NodeId> = placement.nodes().nodes().iter().map(|n| n.id).collect();
    let pool = match spec.servers.redis.as_slice() {
        [] => ShardPool::managed(&nodes, params.persistence).map_err(|e| e.to_string()),
        given => ShardPool::given(given, &nodes),
    };
    let pool = match pool {
        Ok(pool) => pool,
        Err(message) => return RunRecord::failed(spec, RunStatus::Error, message),
    };
    let system = Arc::new(NetSystem::new(
        HashingSystem::new(placement, keys),
        pool,
        workload.keys,
        workload.shape.workers(),
        workload.value_size_bytes as usize,
        &targets::locks::run_namespace(),
        params,
        crate::interrupt::interrupted,
    ));
    let offline = match Offline::new() {
        Ok(offline) => offline,
        Err(error) => return RunRecord::failed(spec, RunStatus::Error, error.to_string()),
    };
    let loaded = offline.block_on(system.load()).map_or(0, |(loaded, _)| loaded);
    if loaded == 0 {
        let notes = system.notes().join("; ");
        return RunRecord::failed(spec, RunStatus::Error, format!("no key could be loaded: {notes}"));
    }
    let timing = timing_for(workload, 1);
    let mut measured = Vec::new();
    let mut keep = |interval: &FlushedInterval| {
        if interval.slot.phase.is_measured() {
            measured.push(MeasuredInterval::of(interval));
        }
    };
    let run = RunTiming { spec, timing, build_time: Some(build_time) };
    let mut record = measure_erased::<RealClock, _>(Arc::clone(&system), run, session, progress, &mut keep);
    finish(&mut record, &system, &offline, &measured);
    record
}

/// After the run: the verification pass, the phases cut at the migrations, the removal of the
/// run's keys from servers given by address.
fn finish(
    record: &mut RunRecord<'_>,
    system: &NetSystem<AnyPlacement>,
    offline: &Offline,
    measured: &[MeasuredInterval],
) {
    let verification = offline.block_on(system.verify());
    let cleanup = if system.managed() { None } else { offline.block_on(system.cleanup()) };
    let phases = record.drive.as_ref().and_then(|drive| {
        let windows = migration_windows(&drive.events);
        phases(measured, &windows, record.spec.workload.length.duration)
    });
    let mut notes = Vec::new();
    match &verification {
        Some(verification) => notes.push(verification.describe()),
        None => notes.push(format!("the verification pass did not finish within {OFFLINE_TIMEOUT:?}")),
    }
    if let Some(Err(error)) = cleanup {
        notes.push(format!("removing the run's keys failed: {error}"));
    }
    record.family.add_columns(verification);
    record.family.add_columns(phases);
    let message = record.message.take().into_iter().chain(notes).collect::<Vec<_>>().join("; ");
    record.message = Some(message);
}

/// A small runtime of its own for what happens outside the driver's run (loading,
/// verification, cleanup), each bounded in time.
struct Offline(tokio::runtime::Runtime);

impl Offline {
    fn new() -> Result<Self, RuntimeError> {
        Ok(Offline(tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?))
    }

    fn block_on<T>(&self, future: impl Future<Output = T>) -> Option<T> {
        self.0.block_on(async { tokio::time::timeout(OFFLINE_TIMEOUT, future).await.ok() })
    }
}

/// When each migration ran, from the start of the measured phase: the span of each resize
/// event applied.
fn migration_windows(events: &[crate::driver::controller::FiredEvent]) -> Vec<(Duration, Duration)> {
    events
        .iter()
        .filter(|e| e.report.status == EventStatus::Ok && e.report.resize.is_some())
        .filter_map(|e| Some((e.fired_at?, e.fired_at? + e.apply_duration?)))
        .collect()
}

/// One interval of the measured phase (and the drain), as the run's interval log holds it:
/// kept in memory as the run goes, for [`phases`].
struct MeasuredInterval {
    /// From the start of the measured phase.
    start: Duration,
    length: Duration,
    response: hdrhistogram::Histogram<u64>,
}

impl MeasuredInterval {
    fn of(interval: &FlushedInterval) -> Self {
        MeasuredInterval {
            start: Duration::from_secs_f64(interval.start_offset_s.max(0.0)),
            length: interval.length,
            response: interval.histograms.response.clone(),
        }
    }
}

/// Throughput and p99 over the measured intervals before the first migration, overlapping
/// any, and after the last (up to the end of the measured phase, `measured`: the drain is no
/// phase of the workload); `None` without migrations. Histogram counts are operations (a
/// batch is recorded once per operation in it), so they divide by seconds into a rate.
fn phases(
    intervals: &[MeasuredInterval],
    windows: &[(Duration, Duration)],
    measured: Duration,
) -> Option<PhaseFigures> {
    let first = windows.iter().map(|w| w.0).min()?;
    let last = windows.iter().map(|w| w.1).max()?;
    let origin = intervals.first()?.start;
    let mut parts = [Part::default(), Part::default(), Part::default()];
    for interval in intervals {
        let start = interval.start.saturating_sub(origin);
        let end = start + interval.length;
        if start >= measured {
            continue;
        }
        let part = if windows.iter().any(|(a, b)| start < *b && *a < end) {
            1
        } else if end <= first {
            0
        } else if start >= last {
            2
        } else {
            continue;
        };
        parts[part].add(&interval.response, interval.length);
    }
    let [before, during, after] = parts.map(Part::stats);
    Some(PhaseFigures { before, during, after })
}

/// Intervals added together.
#[derive(Default)]
struct Part {
    histogram: Option<hdrhistogram::Histogram<u64>>,
    length: Duration,
}

impl Part {
    fn add(&mut self, histogram: &hdrhistogram::Histogram<u64>, length: Duration) {
        add(self.histogram.get_or_insert_with(crate::recorder::new_histogram), histogram);
        self.length += length;
    }

    fn stats(self) -> Option<PhaseStats> {
        let histogram = self.histogram?;
        let seconds = self.length.as_secs_f64();
        Some(PhaseStats {
            throughput_ops_s: if seconds > 0.0 { histogram.len() as f64 / seconds } else { 0.0 },
            p99: (!histogram.is_empty()).then(|| histogram.value_at_quantile(0.99)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn interval(start_ms: u64, values: &[u64]) -> MeasuredInterval {
        let mut response = crate::recorder::new_histogram();
        values.iter().for_each(|v| response.record(*v).unwrap());
        MeasuredInterval { start: Duration::from_millis(start_ms), length: Duration::from_millis(100), response }
    }

    #[test]
    fn intervals_split_at_the_migrations() {
        let log = [
            interval(0, &[10, 10]),
            interval(100, &[10, 12]),
            interval(200, &[50, 900]),
            interval(300, &[60]),
            interval(400, &[11]),
        ];
        let windows = [(Duration::from_millis(250), Duration::from_millis(320))];
        let figures = phases(&log, &windows, Duration::from_millis(500)).unwrap();
        let (before, during, after) = (figures.before.unwrap(), figures.during.unwrap(), figures.after.unwrap());
        assert_eq!(before.throughput_ops_s, 20.0, "four operations over 200 ms");
        assert_eq!(during.throughput_ops_s, 15.0, "three operations over the two intervals the migration touched");
        assert!(during.p99.unwrap() >= 899, "the slow one is in the tail: {during:?}");
        assert_eq!(after.throughput_ops_s, 10.0);
        assert!(phases(&log, &[], Duration::from_millis(500)).is_none(), "no migration, no phases");
    }
}
