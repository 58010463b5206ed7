//! The `commit` family: two-phase commit (presumed abort) over P participants, in-process
//! (nodes as tasks over channels, on their own thread) or networked (each node a
//! `stratbench serve` process on loopback). Strategies differ in the log:
//!
//! - `2pc`: in memory (in-process only): the protocol's own cost;
//! - `2pc-file`: a file per node, written but not fsynced;
//! - `2pc-fsync`: a file per node, fsynced at every forced write (group commit per turn);
//! - `engine:postgres-2pc` (networked only): the same transactions as PostgreSQL prepared
//!   transactions across P databases of a server the harness starts, fsync as
//!   `params.engine_fsync` says.
//!
//! Logs go under `RUN_DIR/data/<run_id>/` and are removed after a run whose checkers found
//! nothing (kept for inspection otherwise). Each operation is one transaction, timed by the
//! driver; a run whose checkers find a violation fails the session with exit code 1.

use super::{FieldError, StrategyInfo, measure, remove_run_data, stratbench_exe, timing_for};
use crate::output::Session;
use crate::run::{RunRecord, RunSpec, RunStatus};
use indicatif::ProgressBar;
use std::path::Path;
use targets::commit::cluster::{InprocCluster, LogKind};
use targets::commit::net::{NetCluster, NetConfig};
use targets::commit::params::CommitParams;
use targets::commit::postgres::PostgresSystem;
use targets::commit::strategy::Strategy;
use targets::commit::system::CommitSystem;
use targets::protocol::ProtocolError;
use workloads::Workload;
use workloads::scenario::Mode;

/// The family's strategies: which log, and where they run.
pub fn strategies() -> Vec<StrategyInfo> {
    Strategy::ALL.iter().map(|s| StrategyInfo { name: s.name(), about: s.about(), modes: s.modes() }).collect()
}

/// Checks `[params]`.
pub fn check(workload: &Workload) -> Result<(), FieldError> {
    CommitParams::from_table(&workload.params).map(|_| ()).map_err(|error| match error {
        ProtocolError::InvalidParam { param, message } => FieldError::param(&param, message),
        other => FieldError::new("params", other.to_string()),
    })
}

/// Runs one commit strategy in the spec's mode.
pub fn run<'a>(spec: &'a RunSpec, session: &mut Session, progress: &ProgressBar) -> RunRecord<'a> {
    let params = CommitParams::from_table(&spec.workload.params).expect("the plan checked the parameters");
    let dir = session.dir().join("data").join(&spec.run_id);
    let timing = timing_for(&spec.workload, 1);
    let strategy = Strategy::from_name(&spec.strategy).expect("the plan only holds known strategies");
    let fsync = strategy == Strategy::TwoPcFsync;
    let record = match (spec.mode, strategy) {
        (_, Strategy::EnginePostgres) => match PostgresSystem::start(params, &spec.workload) {
            Ok(system) => measure(std::sync::Arc::new(system), spec, timing, None, session, progress),
            Err(error) => RunRecord::failed(spec, RunStatus::Error, error.to_string()),
        },
        (Mode::Net, _) => match net_config(&dir, fsync, spec.workload.seed)
            .and_then(|c| NetCluster::start(params, c).map_err(Into::into))
        {
            Ok(cluster) => measure(
                std::sync::Arc::new(CommitSystem::new(cluster, &spec.workload)),
                spec,
                timing,
                None,
                session,
                progress,
            ),
            Err(error) => RunRecord::failed(spec, RunStatus::Error, format!("{error:#}")),
        },
        (_, strategy) => {
            let logs = match strategy {
                Strategy::TwoPc => LogKind::Memory,
                _ => LogKind::File { dir: dir.clone(), fsync },
            };
            match InprocCluster::start(params, &logs, spec.workload.seed) {
                Ok(cluster) => measure(
                    std::sync::Arc::new(CommitSystem::new(cluster, &spec.workload)),
                    spec,
                    timing,
                    None,
                    session,
                    progress,
                ),
                Err(error) => RunRecord::failed(spec, RunStatus::Error, error.to_string()),
            }
        }
    };
    remove_run_data(&record, &dir);
    record
}

fn net_config(dir: &Path, fsync: bool, seed: u64) -> anyhow::Result<NetConfig> {
    Ok(NetConfig { exe: stratbench_exe()?, dir: dir.to_path_buf(), fsync, seed })
}
