//! The `balancing` family: a load balancer in front of N backends.
//!
//! - `inproc`: [`SimSystem`] — balancers in front of simulated backends (latency model,
//!   capacity, error rate, weight), driven on the driver's *virtual* clock: a minute of load
//!   takes a fraction of the time, and a seed gives the same rows every time. Each operation
//!   is timed alone; the driver counts which backend served it (from the worker), so the rows
//!   carry each backend's share of requests, per run and per interval.
//! - `net` ([`net`]): backend processes (`stratbench serve backend`) behind our proxy
//!   (`stratbench serve proxy`, the same selectors), behind nginx (`engine:nginx:*`), or
//!   with no proxy at all (`engine:direct`, the baseline of the proxy's overhead), loaded by
//!   goose.

pub mod net;

use super::{StrategyInfo, measure_on, timing_for};
use crate::driver::clock::VirtualClock;
use crate::output::Session;
use crate::output::rows::{RunRecord, RunStatus};
use crate::plan::RunSpec;
use indicatif::ProgressBar;
use targets::balancing::net::nginx;
use targets::balancing::sim::SimSystem;
use targets::balancing::{BalancingError, BalancingParams, Selector, SelectorVisitor, Strategy};
use workloads::Workload;
use workloads::scenario::Mode;

/// The most backends a scenario may have (each is a process in the networked version).
pub const MAX_BACKENDS: u32 = 10_000;
/// The row that loads backend 0 with no proxy in between.
pub const DIRECT: &str = "engine:direct";

const BOTH: &[Mode] = &[Mode::Inproc, Mode::Net];
const NET: &[Mode] = &[Mode::Net];

/// Our strategies (both versions), then the reference rows (networked only).
pub fn strategies() -> Vec<StrategyInfo> {
    let ours = Strategy::ALL.iter().map(|s| StrategyInfo { name: s.name(), about: s.about(), modes: BOTH });
    let nginx = nginx::Method::ALL.iter().map(|(_, name)| StrategyInfo {
        name,
        about: "nginx 1.22 upstream with the equivalent method (when nginx is installed)",
        modes: NET,
    });
    let direct =
        StrategyInfo { name: DIRECT, about: "no proxy: straight to backend 0 (proxy overhead baseline)", modes: NET };
    ours.chain(nginx).chain(std::iter::once(direct)).collect()
}

/// Checks `[params]` against the backend count.
pub fn check(workload: &Workload) -> Result<(), (String, String)> {
    if workload.nodes > MAX_BACKENDS {
        return Err(("nodes".into(), format!("the balancing family runs at most {MAX_BACKENDS} backends")));
    }
    let params = BalancingParams::from_table(&workload.params).map_err(param_error)?;
    params.backends(workload.nodes).map_err(param_error)?;
    Ok(())
}

fn param_error(error: BalancingError) -> (String, String) {
    match error {
        BalancingError::InvalidParam { param: "params", message } => ("params".into(), message),
        BalancingError::InvalidParam { param, message } => (format!("params.{param}"), message),
        other => ("params".into(), other.to_string()),
    }
}

/// Runs one strategy in one mode.
pub fn run<'a>(spec: &'a RunSpec, session: &mut Session, progress: &ProgressBar) -> RunRecord<'a> {
    if spec.mode == Mode::Net {
        return net::run(spec, session, progress);
    }
    let strategy = Strategy::from_name(&spec.strategy).expect("the plan only holds known strategies");
    strategy.visit(InprocRun { spec, session, progress })
}

struct InprocRun<'s, 'a> {
    spec: &'a RunSpec,
    session: &'s mut Session,
    progress: &'s ProgressBar,
}

impl<'a> SelectorVisitor for InprocRun<'_, 'a> {
    type Output = RunRecord<'a>;

    fn visit<S: Selector>(self, _strategy: Strategy) -> RunRecord<'a> {
        let workload = &self.spec.workload;
        let built = BalancingParams::from_table(&workload.params)
            .and_then(|params| SimSystem::<S>::new(workload.nodes, &params, workload.seed));
        match built {
            Ok(system) => {
                let timing = timing_for(workload, 1);
                measure_on::<VirtualClock, _>(
                    std::sync::Arc::new(system),
                    self.spec,
                    timing,
                    None,
                    self.session,
                    self.progress,
                )
            }
            Err(BalancingError::Unsupported(message)) => RunRecord::failed(self.spec, RunStatus::Unsupported, message),
            Err(error) => RunRecord::failed(self.spec, RunStatus::Error, error.to_string()),
        }
    }
}
