//! The `balancing` family: a load balancer in front of N backends.
//!
//! - `inproc`: [`SimSystem`] — balancers in front of simulated backends (latency model,
//!   capacity, error rate, weight), driven on the driver's *virtual* clock: a minute of load
//!   takes a fraction of the time, and a seed gives the same rows every time. Each operation
//!   is timed alone; the driver counts which backend served it (from the worker), so the rows
//!   carry each backend's share of requests, per run and per interval.
//! - `net` ([`NetSystem`]): backend processes (`stratbench serve backend`) behind our proxy
//!   (`stratbench serve proxy`, the same selectors), behind nginx (`engine:nginx:*`), or
//!   with no proxy at all (`engine:direct`, the baseline of the proxy's overhead), loaded by
//!   the driver's own loops through an HTTP worker per slot (closed or open loop, like every
//!   other family), or by goose's simulated users (`load_engine = "goose"`, closed loop only).
//!   The system starts and stops the processes and applies the faults; this module runs the
//!   load and writes the row. Children's stderr and nginx's config and logs are kept under
//!   `RUN_DIR/net/<run_id>/`, with goose's own report ([`GOOSE_REPORT`]).
//!
//! `load_engine` is the one parameter that is the harness's, not the balancers': it is read
//! here ([`load_engine`]) and kept out of what the proxy and the backends are given
//! ([`target_params`]). In-process rows are always the driver's and ignore it.

use super::{FieldError, RunTiming, StrategyInfo, measure, measure_erased, record, timing_for};
use crate::driver::LoadEngine;
use crate::driver::clock::VirtualClock;
use crate::driver::goose_load::{HttpLoad, drive_http};
use crate::output::Session;
use crate::recorder::Timing;
use crate::run::{RunRecord, RunSpec, RunStatus};
use indicatif::ProgressBar;
use std::collections::BTreeMap;
use std::sync::Arc;
use targets::balancing::net::nginx;
use targets::balancing::net::system::{DIRECT, NetRow, NetSystem};
use targets::balancing::sim::SimSystem;
use targets::balancing::{BalancingError, BalancingParams, Selector, SelectorVisitor, Strategy};
use targets::target::System as _;
use workloads::scenario::Mode;
use workloads::{LoadShape, Workload};

/// The most backends a scenario may have (each is a process in the networked version).
pub const MAX_BACKENDS: u32 = 10_000;

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

/// The parameter that picks the load engine of networked rows.
pub const LOAD_ENGINE_PARAM: &str = "load_engine";

/// Checks `[params]` against the backend count, and the load engine against the loop.
pub fn check(workload: &Workload) -> Result<(), FieldError> {
    if workload.nodes > MAX_BACKENDS {
        return Err(FieldError::new("nodes", format!("the balancing family runs at most {MAX_BACKENDS} backends")));
    }
    let engine = load_engine(workload)?;
    if engine == LoadEngine::Goose && matches!(workload.shape, LoadShape::Open { .. }) {
        let message = "goose runs a closed loop of users: give `concurrency` without `rate`, or leave the load \
                       engine to the driver (`load_engine = \"driver\"`), which runs open loops";
        return Err(FieldError::param(LOAD_ENGINE_PARAM, message));
    }
    balancing_params(workload).and_then(|p| p.backends(workload.nodes)).map_err(param_error)?;
    Ok(())
}

/// The load engine of networked rows: `params.load_engine`, the driver by default.
pub fn load_engine(workload: &Workload) -> Result<LoadEngine, FieldError> {
    let Some(value) = workload.params.get(LOAD_ENGINE_PARAM) else { return Ok(LoadEngine::Driver) };
    let known = || LoadEngine::ALL.map(LoadEngine::as_str).join(", ");
    value.as_str().and_then(LoadEngine::from_name).ok_or_else(|| {
        FieldError::param(LOAD_ENGINE_PARAM, format!("unknown load engine {value} (known: {})", known()))
    })
}

/// The scenario's parameters that belong to the balancers and the backends: all but
/// [`LOAD_ENGINE_PARAM`].
pub fn target_params(workload: &Workload) -> BTreeMap<String, toml::Value> {
    workload.params.iter().filter(|(name, _)| *name != LOAD_ENGINE_PARAM).map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// The balancers' and backends' parameters.
pub fn balancing_params(workload: &Workload) -> Result<BalancingParams, BalancingError> {
    BalancingParams::from_table(&target_params(workload))
}

fn param_error(error: BalancingError) -> FieldError {
    match error {
        BalancingError::InvalidParam { param, message } => FieldError::param(param, message),
        other => FieldError::new("params", other.to_string()),
    }
}

/// Runs one strategy in one mode.
pub fn run<'a>(spec: &'a RunSpec, session: &mut Session, progress: &ProgressBar) -> RunRecord<'a> {
    if spec.mode == Mode::Net {
        return run_net(spec, session, progress);
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
        let built =
            balancing_params(workload).and_then(|params| SimSystem::<S>::new(workload.nodes, &params, workload.seed));
        match built {
            Ok(system) => {
                let run = RunTiming { spec: self.spec, timing: timing_for(workload, 1), build_time: None };
                // Erased like the networked systems: the latencies are virtual time, which the
                // boundary's virtual call and allocation do not add to.
                measure_erased::<VirtualClock, _>(Arc::new(system), run, self.session, self.progress, &mut |_| {})
            }
            Err(BalancingError::Unsupported(message)) => RunRecord::failed(self.spec, RunStatus::Unsupported, message),
            Err(error) => RunRecord::failed(self.spec, RunStatus::Error, error.to_string()),
        }
    }
}

/// Goose's own report, beside the row's figures.
pub const GOOSE_REPORT: &str = "goose-own-report.html";

/// Runs one networked row: the system under test
/// ([`NetSystem`]) starts and stops the processes and applies the faults; this runs the load
/// and writes the row.
fn run_net<'a>(spec: &'a RunSpec, session: &mut Session, progress: &ProgressBar) -> RunRecord<'a> {
    let engine = load_engine(&spec.workload).expect("the plan checked the load engine");
    let dir = session.dir().join("net").join(&spec.run_id);
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(error) => {
            let message = format!("cannot find the stratbench executable: {error}");
            return RunRecord::failed(spec, RunStatus::Error, message);
        }
    };
    let params = target_params(&spec.workload);
    let row = NetRow { strategy: &spec.strategy, workload: &spec.workload, params: &params, exe: &exe, dir: &dir };
    let system = match NetSystem::start(row) {
        Ok(system) => Arc::new(system),
        Err(error) => return RunRecord::failed(spec, RunStatus::Error, error.to_string()),
    };
    let mut record = match engine {
        LoadEngine::Driver => measure(Arc::clone(&system), spec, Timing::PerOp, None, session, progress),
        LoadEngine::Goose => {
            let drive = session.interval_sink(spec, Timing::PerOp).and_then(|mut sink| {
                let target = format!("http://{}", system.front());
                let load = HttpLoad { target, workload: &spec.workload, report_file: dir.join(GOOSE_REPORT) };
                drive_http(Arc::clone(&system), load, &mut sink, progress)
            });
            record(spec, Timing::PerOp, None, drive, system.metrics())
        }
    };
    // Stops every process (which ends their attempt logs) before the row is written.
    record.family.add_columns(NetSystem::finish(system));
    record
}
