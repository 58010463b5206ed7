//! The families of strategies, and how each one's system under test is built and driven.
//!
//! This is the one place that dispatches on the family: its strategies and their modes (from
//! the family's registry in `targets`), the checks on its parameters (a [`FieldError`] names
//! the field refused), and the function that runs one of its strategies. A family module
//! builds its [`System`](targets::target::System) (with static dispatch on the strategy type)
//! and hands it to [`measure`], which runs the driver and collects the record. The family's
//! identity, [`Family`], is in [`run`](mod@crate::run), below this module, with the spec and the record
//! it fills.

pub mod balancing;
pub mod commit;
pub mod consensus;
pub mod hashing;
pub mod locks;
pub mod noop;

use crate::driver::clock::{Clock, RealClock};
use crate::driver::{self, IntervalSink};
use crate::output::Session;
use crate::recorder::{FlushedInterval, Timing};
use crate::run::{Family, RunRecord, RunSpec, RunStatus};
use indicatif::ProgressBar;
use std::sync::Arc;
use std::time::Duration;
use targets::erased::ErasedSystem;
use targets::target::System;
use workloads::Workload;
use workloads::scenario::Mode;

/// A scenario field a family refuses: which field (`nodes`, `params.ttl`) and why. The plan
/// turns it into bad input that names the scenario too.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("field `{field}`: {message}")]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError { field: field.into(), message: message.into() }
    }

    /// A parameter refused: field `params.<param>`, or `params` when the table as a whole is
    /// (an unknown name).
    pub fn param(param: &str, message: impl Into<String>) -> Self {
        let field = if param == "params" { "params".to_string() } else { format!("params.{param}") };
        FieldError::new(field, message)
    }
}

/// A runtime of its own that the harness could not start (for work outside the driver's
/// run: loading keys, cleaning up).
#[derive(Debug, thiserror::Error)]
#[error("cannot start a runtime: {0}")]
pub struct RuntimeError(#[from] std::io::Error);

/// A strategy as listed by `stratbench list`.
#[derive(Clone, Copy, Debug)]
pub struct StrategyInfo {
    pub name: &'static str,
    pub about: &'static str,
    /// The versions that exist: in-process, networked, or both.
    pub modes: &'static [Mode],
}

/// What each family does: the one place that dispatches on the family (its identity, name
/// and description, is [`Family`]'s in [`run`](mod@crate::run)).
impl Family {
    /// The family's strategies.
    pub fn strategies(self) -> Vec<StrategyInfo> {
        match self {
            Family::Hashing => hashing::strategies(),
            Family::Locks => locks::strategies(),
            Family::Commit => commit::strategies(),
            Family::Consensus => consensus::strategies(),
            Family::Balancing => balancing::strategies(),
            Family::Noop => noop::strategies(),
        }
    }

    /// A strategy of this family, by name.
    pub fn strategy(self, name: &str) -> Option<StrategyInfo> {
        self.strategies().into_iter().find(|s| s.name == name)
    }

    /// Checks the family's parameters in `workload`.
    pub fn check(self, workload: &Workload) -> Result<(), FieldError> {
        match self {
            Family::Hashing => hashing::check(workload),
            Family::Locks => locks::check(workload),
            Family::Commit => commit::check(workload),
            Family::Consensus => consensus::check(workload),
            Family::Balancing => balancing::check(workload),
            Family::Noop => noop::check(workload),
        }
    }

    /// Runs `spec`, writing its intervals into `session`.
    pub fn run<'a>(self, spec: &'a RunSpec, session: &mut Session, progress: &ProgressBar) -> RunRecord<'a> {
        match self {
            Family::Hashing => hashing::run(spec, session, progress),
            Family::Locks => locks::run(spec, session, progress),
            Family::Commit => commit::run(spec, session, progress),
            Family::Consensus => consensus::run(spec, session, progress),
            Family::Balancing => balancing::run(spec, session, progress),
            Family::Noop => noop::run(spec, session, progress),
        }
    }
}

/// Drives `system` through `spec`'s workload and collects the record: the driver's figures,
/// the family's own metrics, and a status that says whether the run finished, was
/// interrupted, or failed. The caller may keep a handle on `system` (to clean up after the
/// run).
///
/// For systems whose operations cost microseconds or more (networked, in other processes or
/// threads): the system goes to the driver as an [`ErasedSystem`], so that one driver serves
/// them all (the release build compiled one per system type). A system whose operations cost
/// nanoseconds goes through [`measure_with`] as its own type instead.
pub fn measure<'a, S: System>(
    system: Arc<S>,
    spec: &'a RunSpec,
    timing: Timing,
    build_time: Option<Duration>,
    session: &mut Session,
    progress: &ProgressBar,
) -> RunRecord<'a> {
    let run = RunTiming { spec, timing, build_time };
    measure_erased::<RealClock, S>(system, run, session, progress, &mut |_| {})
}

/// [`measure_with`] for a system whose operations cost microseconds or more: it reaches the
/// driver as an [`ErasedSystem`], so one driver per clock serves every such system.
pub fn measure_erased<'a, C: Clock, S: System>(
    system: Arc<S>,
    run: RunTiming<'a>,
    session: &mut Session,
    progress: &ProgressBar,
    observe: &mut (dyn FnMut(&FlushedInterval) + Send),
) -> RunRecord<'a> {
    measure_with::<C, ErasedSystem>(Arc::new(ErasedSystem::new(system)), run, session, progress, observe)
}

/// A run as [`measure_with`] takes it: the spec, how operations are timed, and how long the
/// system took to build.
#[derive(Clone, Copy)]
pub struct RunTiming<'a> {
    pub spec: &'a RunSpec,
    pub timing: Timing,
    pub build_time: Option<Duration>,
}

/// [`measure`] on clock `C` (real or virtual time) with the system as given (each type
/// given here compiles a driver of its own), showing `observe` every interval on its way to
/// the session (a family that needs the run's histograms after it reads them here,
/// not back from the files).
pub fn measure_with<'a, C: Clock, S: System>(
    system: Arc<S>,
    run: RunTiming<'a>,
    session: &mut Session,
    progress: &ProgressBar,
    observe: &mut (dyn FnMut(&FlushedInterval) + Send),
) -> RunRecord<'a> {
    let RunTiming { spec, timing, build_time } = run;
    let start_at = session.take_start_at();
    let drive = session.interval_sink(spec, timing).and_then(|mut sink| {
        let mut sink = Observed { sink: &mut sink, observe };
        driver::drive_with::<C, S>(Arc::clone(&system), &spec.workload, timing, start_at, &mut sink, progress)
    });
    record(spec, timing, build_time, drive, system.metrics())
}

/// A sink that shows each interval to `observe` before passing it on.
struct Observed<'s> {
    sink: &'s mut dyn IntervalSink,
    observe: &'s mut (dyn FnMut(&FlushedInterval) + Send),
}

impl IntervalSink for Observed<'_> {
    fn begin(&mut self, measure_start: std::time::SystemTime) -> anyhow::Result<()> {
        self.sink.begin(measure_start)
    }

    fn interval(&mut self, interval: &FlushedInterval) -> anyhow::Result<()> {
        (self.observe)(interval);
        self.sink.interval(interval)
    }
}

/// The record of a run that the driver (or another load generator) measured.
pub fn record<'a>(
    spec: &'a RunSpec,
    timing: Timing,
    build_time: Option<Duration>,
    drive: anyhow::Result<driver::DriveReport>,
    family: targets::target::FamilyMetrics,
) -> RunRecord<'a> {
    match drive {
        Ok(drive) => {
            let (status, message) = match (drive.interrupted, overload(&spec.workload, &drive)) {
                (true, _) => (RunStatus::Interrupted, Some("interrupted by Ctrl-C".to_string())),
                (false, Some(why)) => (RunStatus::Overloaded, Some(why)),
                (false, None) => (RunStatus::Ok, None),
            };
            let message = join_messages(message, drive.totals.measured_errors.details());
            let message = join_messages(message, family.notes.clone());
            RunRecord { spec, status, message, timing, build_time, drive: Some(drive), family }
        }
        Err(error) => RunRecord::failed(spec, RunStatus::Error, format!("{error:#}")),
    }
}

/// The least fraction of its schedule an open loop must keep to be `ok`: below it, the
/// figures describe a run at another rate than the one asked for.
pub const SCHEDULE_KEPT_MIN: f64 = 0.95;

/// Why a run did not keep its schedule, if it did not: operations the driver gave up on
/// (still in flight at the drain limit, or never started), or an open loop that started less
/// than [`SCHEDULE_KEPT_MIN`] of the operations due in its measured phase.
fn overload(workload: &Workload, drive: &driver::DriveReport) -> Option<String> {
    let unfinished = drive.totals.unfinished;
    let mut reasons = Vec::new();
    if unfinished > 0 {
        reasons.push(format!(
            "{unfinished} operations unfinished when the driver gave up ({}s after the measured phase): their \
             latencies are the time they had waited, a lower bound",
            driver::DRAIN_TIMEOUT.as_secs()
        ));
    }
    if let (Some(kept), workloads::LoadShape::Open { rate_ops_s, .. }) = (drive.schedule, workload.shape)
        && let Some(fraction) = kept.fraction().filter(|f| *f < SCHEDULE_KEPT_MIN)
    {
        reasons.push(format!(
            "the schedule was not kept: {} of {} operations due started on time ({:.1}%), {:.1} of {rate_ops_s} ops/s",
            kept.started,
            kept.due,
            100.0 * fraction,
            rate_ops_s * fraction
        ));
    }
    (!reasons.is_empty()).then(|| format!("overloaded: {}", reasons.join("; ")))
}

fn join_messages(first: Option<String>, rest: Vec<String>) -> Option<String> {
    let all: Vec<String> = first.into_iter().chain(rest).collect();
    (!all.is_empty()).then(|| all.join("; "))
}

/// Removes a run's node data directory after a run whose checkers found nothing (it is kept
/// for inspection otherwise), and the `data` directory above it once it is empty.
pub fn remove_run_data(record: &RunRecord<'_>, dir: &std::path::Path) {
    if record.family.violations != Some(0) || !dir.exists() {
        return;
    }
    if let Err(error) = std::fs::remove_dir_all(dir) {
        tracing::warn!("cannot remove {}: {error}", dir.display());
    }
    // Removing a non-empty directory fails, harmlessly.
    if let Some(parent) = dir.parent() {
        let _ = std::fs::remove_dir(parent);
    }
}

/// The running `stratbench` binary, which networked families start as node processes.
pub fn stratbench_exe() -> anyhow::Result<std::path::PathBuf> {
    std::env::current_exe()
        .map_err(|e| anyhow::anyhow!("cannot find the stratbench binary to start node processes: {e}"))
}

/// The timing a closed-loop run uses with `default_batch`, unless the workload sets `batch`;
/// open-loop runs always time each operation.
pub fn timing_for(workload: &Workload, default_batch: u32) -> Timing {
    match (workload.shape, workload.batch.unwrap_or(default_batch)) {
        (workloads::LoadShape::Open { .. }, _) | (_, 1) => Timing::PerOp,
        (_, n) => Timing::Batch(n),
    }
}
