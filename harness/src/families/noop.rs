//! The `noop` family: a target that returns at once, so that a run measures the driver's own
//! ceiling — the cost of drawing an operation, reading the clock twice and recording a
//! latency. Timed per operation unless the scenario sets `batch`.

use super::{FieldError, StrategyInfo, measure, timing_for};
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

/// Runs the no-op target.
pub fn run<'a>(spec: &'a RunSpec, session: &mut Session, progress: &ProgressBar) -> RunRecord<'a> {
    measure(std::sync::Arc::new(NoopSystem), spec, timing_for(&spec.workload, 1), None, session, progress)
}
