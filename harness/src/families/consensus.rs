//! The `consensus` family: a key-value store replicated by `replicas` replicas (3 by
//! default), in-process (replicas as tasks over channels, on their own thread) or networked
//! (each replica a `stratbench serve replica` process on loopback), and etcd beside them:
//!
//! - `multi-paxos`: a stable leader, phase 2 only per slot, batched and pipelined;
//! - `paxos`: single-decree Paxos per command, both phases each time, one command per slot;
//! - `engine:etcd` (networked only): 1 or 3 etcd members on loopback (or `--etcd`), with the
//!   same durability as the replicas' `log` parameter.
//!
//! Logs go under `RUN_DIR/data/<run_id>/` and are removed after a run whose checkers found
//! nothing (kept for inspection otherwise). A run whose checkers find a violation fails the
//! session with exit code 1.

use super::{FieldError, StrategyInfo, measure, remove_run_data, stratbench_exe, timing_for};
use crate::output::Session;
use crate::run::{RunRecord, RunSpec, RunStatus};
use indicatif::ProgressBar;
use std::path::Path;
use std::sync::Arc;
use targets::consensus::PaxosMode;
use targets::consensus::cluster::{InprocReplicas, log_kind};
use targets::consensus::net::{NetConfig, NetReplicas};
use targets::consensus::params::ConsensusParams;
use targets::consensus::strategy::Strategy;
use targets::consensus::system::ConsensusSystem;
use targets::protocol::ProtocolError;
use workloads::Workload;
use workloads::scenario::Mode;

/// The family's strategies.
pub fn strategies() -> Vec<StrategyInfo> {
    Strategy::ALL.iter().map(|s| StrategyInfo { name: s.name(), about: s.about(), modes: s.modes() }).collect()
}

/// Checks `[params]`.
pub fn check(workload: &Workload) -> Result<(), FieldError> {
    ConsensusParams::from_table(&workload.params).map(|_| ()).map_err(|error| match error {
        ProtocolError::InvalidParam { param, message } => FieldError::param(&param, message),
        other => FieldError::new("params", other.to_string()),
    })
}

/// Runs one consensus strategy in the spec's mode.
pub fn run<'a>(spec: &'a RunSpec, session: &mut Session, progress: &ProgressBar) -> RunRecord<'a> {
    let params = ConsensusParams::from_table(&spec.workload.params).expect("the plan checked the parameters");
    let dir = session.dir().join("data").join(&spec.run_id);
    let timing = timing_for(&spec.workload, 1);
    let strategy = Strategy::from_name(&spec.strategy).expect("the plan only holds known strategies");
    let measured = match (strategy.paxos_mode(), spec.mode) {
        (None, _) => run_etcd(spec, params, session, progress),
        (Some(mode), Mode::Net) => net_config(&dir, mode, spec.workload.seed)
            .and_then(|config| NetReplicas::start(params, config).map_err(Into::into))
            .map(|replicas| {
                measure(Arc::new(ConsensusSystem::new(replicas, &spec.workload)), spec, timing, None, session, progress)
            }),
        (Some(mode), _) => InprocReplicas::start(params, mode, &log_kind(&params, &dir), spec.workload.seed)
            .map_err(Into::into)
            .map(|replicas| {
                measure(Arc::new(ConsensusSystem::new(replicas, &spec.workload)), spec, timing, None, session, progress)
            }),
    };
    let record = measured.unwrap_or_else(|error| RunRecord::failed(spec, RunStatus::Error, format!("{error:#}")));
    remove_run_data(&record, &dir);
    record
}

fn run_etcd<'a>(
    spec: &'a RunSpec,
    params: ConsensusParams,
    session: &mut Session,
    progress: &ProgressBar,
) -> anyhow::Result<RunRecord<'a>> {
    let namespace = format!("stratbench/{}", spec.run_id);
    let engine = targets::consensus::engine::EtcdEngine::start(params, &spec.workload, &spec.servers.etcd, &namespace)?;
    Ok(measure(Arc::new(engine), spec, timing_for(&spec.workload, 1), None, session, progress))
}

fn net_config(dir: &Path, mode: PaxosMode, seed: u64) -> anyhow::Result<NetConfig> {
    Ok(NetConfig { exe: stratbench_exe()?, dir: dir.to_path_buf(), mode, seed })
}
