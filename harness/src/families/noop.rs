//! The `noop` family: a target that returns at once, so that a run measures the driver's own
//! ceiling — the cost of drawing an operation, reading the clock twice and recording a
//! latency. Timed per operation unless the scenario sets `batch`.

use super::{FieldError, RunTiming, StrategyInfo, measure_with, timing_for};
use crate::driver::clock::RealClock;
use crate::output::Session;
use crate::run::{RunRecord, RunSpec};
use indicatif::ProgressBar;
use targets::noop::NoopSystem;
use workloads::Workload;
use workloads::scenario::Mode;

/// The family's one strategy.
pub fn strategies() -> Vec<StrategyInfo> {
    vec![StrategyInfo {
        name: "noop",
        about: "returns at once; measures the driver's overhead",
        modes: &[Mode::Inproc],
    }]
}

/// The family has no parameters.
pub fn check(workload: &Workload) -> Result<(), FieldError> {
    match workload.params.keys().next() {
        Some(name) => Err(FieldError::new("params", format!("the noop family takes no parameters, got `{name}`"))),
        None => Ok(()),
    }
}

/// Runs the no-op target, as its own type: its operations cost nothing, so the one virtual
/// call and allocation [`measure`](super::measure) adds would be most of what it measures.
pub fn run<'a>(spec: &'a RunSpec, session: &mut Session, progress: &ProgressBar) -> RunRecord<'a> {
    let run = RunTiming { spec, timing: timing_for(&spec.workload, 1), build_time: None };
    measure_with::<RealClock, _>(std::sync::Arc::new(NoopSystem), run, session, progress, &mut |_| {})
}
