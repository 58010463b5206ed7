//! The `hashing` family, in-process: lookups against a placement structure, timed in batches
//! (a lookup costs nanoseconds), with resize events whose key movement is measured over the
//! whole key set. The structure is built (and, for `bounded-load`, the keys placed) before the
//! run, and the time that takes is the row's `build_time_us`.

use super::{StrategyInfo, measure, timing_for};
use crate::output::Session;
use crate::output::rows::{RunRecord, RunStatus};
use crate::plan::RunSpec;
use indicatif::ProgressBar;
use std::time::Instant;
use targets::hashing::system::{HashingSystem, key_set};
use targets::hashing::{HashingError, HashingParams, Placement, Strategy, StrategyVisitor};
use workloads::Workload;
use workloads::scenario::Mode;

/// Lookups per timed batch unless the scenario says otherwise: long enough (tens of
/// microseconds) that two clock reads are noise, short enough for many samples per second.
pub const DEFAULT_BATCH: u32 = 1024;

/// The key set is held in memory (hash and owner of every key, 12 bytes each, plus a snapshot
/// per removed node): 50 million keys is under a gigabyte.
pub const MAX_KEYS: u64 = 50_000_000;
/// 100,000 nodes is 16 million ring points.
pub const MAX_NODES: u64 = 100_000;

/// Every hashing strategy, ours then the crate adapters.
pub fn strategies() -> Vec<StrategyInfo> {
    Strategy::ALL.iter().map(|s| StrategyInfo { name: s.name(), about: s.about(), modes: &[Mode::Inproc] }).collect()
}

/// Checks `[params]` and the key and node counts.
pub fn check(workload: &Workload) -> Result<(), (String, String)> {
    let params = HashingParams::from_table(&workload.params).map_err(param_error)?;
    params.node_set(workload.nodes).map_err(param_error)?;
    if workload.keys > u64::from(u32::MAX) {
        return Err((
            "keys".into(),
            format!("the hashing family measures at most {} keys, got {}", u32::MAX, workload.keys),
        ));
    }
    Ok(())
}

fn param_error(error: HashingError) -> (String, String) {
    match error {
        HashingError::InvalidParam { param, message } => (format!("params.{param}"), message),
        other => ("params".into(), other.to_string()),
    }
}

/// Runs one hashing strategy.
pub fn run<'a>(spec: &'a RunSpec, session: &mut Session, progress: &ProgressBar) -> RunRecord<'a> {
    let strategy = Strategy::from_name(&spec.strategy).expect("the plan only holds known strategies");
    strategy.visit(HashingRun { spec, session, progress })
}

struct HashingRun<'s, 'a> {
    spec: &'a RunSpec,
    session: &'s mut Session,
    progress: &'s ProgressBar,
}

impl<'a> StrategyVisitor for HashingRun<'_, 'a> {
    type Output = RunRecord<'a>;

    fn visit<P: Placement>(self, _strategy: Strategy) -> RunRecord<'a> {
        let workload = &self.spec.workload;
        let built = HashingParams::from_table(&workload.params).and_then(|params| {
            let nodes = params.node_set(workload.nodes)?;
            let keys = key_set(workload.keys);
            let start = Instant::now();
            let mut placement = P::build(nodes, &params)?;
            placement.place_keys(&keys);
            Ok((placement, keys, start.elapsed()))
        });
        match built {
            Ok((placement, keys, build_time)) => {
                let system = HashingSystem::new(placement, keys);
                let timing = timing_for(workload, DEFAULT_BATCH);
                measure(std::sync::Arc::new(system), self.spec, timing, Some(build_time), self.session, self.progress)
            }
            Err(HashingError::Unsupported(message)) => RunRecord::failed(self.spec, RunStatus::Unsupported, message),
            Err(error) => RunRecord::failed(self.spec, RunStatus::Error, error.to_string()),
        }
    }
}
