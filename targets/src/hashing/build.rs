//! Building a strategy named at run time: its structure over a workload's nodes, with the
//! run's keys placed, then erased — as an in-process system ([`AnyHashingSystem`]) or as the
//! placement of the networked one ([`AnyPlacement`]).
//!
//! The name is turned into a type here, in this crate, so every strategy's batch loop is
//! compiled together with its lookups and the maps they use: this crate is one codegen unit
//! in the release profile (Cargo.toml), so they inline into each other although the release
//! build has no link-time optimisation. Instantiated in the harness instead, the loop would
//! land in one of its codegen units and the lookup in another (bounded-load: 25 → 38 ns).

use super::any::AnyPlacement;
use super::net::NetParams;
use super::system::{AnyHashingSystem, HashingSystem, key_set};
use super::{HashingError, HashingParams, Placement, Strategy, StrategyVisitor};
use std::time::{Duration, Instant};
use workloads::Workload;

/// A built strategy: its structure, the key set's hashes, and how long building took (the
/// row's `build_time_us`).
pub struct Built<T> {
    pub placement: T,
    pub key_hashes: Vec<u64>,
    pub build_time: Duration,
}

/// Builds `strategy` for the in-process version: its system, and how long building took.
pub fn inproc(strategy: Strategy, workload: &Workload) -> Result<(AnyHashingSystem, Duration), HashingError> {
    strategy.visit(InProc(workload))
}

/// Builds `strategy` for the networked version: its placement behind one type.
pub fn net(strategy: Strategy, workload: &Workload) -> Result<Built<AnyPlacement>, HashingError> {
    strategy.visit(Net(workload))
}

/// Builds strategy `P` with the workload's `[params]` (those of the networked version left
/// out) over its nodes, and places its keys.
fn build<P: Placement>(workload: &Workload) -> Result<Built<P>, HashingError> {
    let params = HashingParams::from_table(&NetParams::strategy_table(&workload.params))?;
    let nodes = params.node_set(workload.nodes)?;
    let key_hashes = key_set(workload.keys);
    let start = Instant::now();
    let mut placement = P::build(nodes, &params)?;
    placement.place_keys(&key_hashes);
    Ok(Built { placement, key_hashes, build_time: start.elapsed() })
}

struct InProc<'w>(&'w Workload);

impl StrategyVisitor for InProc<'_> {
    type Output = Result<(AnyHashingSystem, Duration), HashingError>;

    fn visit<P: Placement>(self, _strategy: Strategy) -> Self::Output {
        let Built { placement, key_hashes, build_time } = build::<P>(self.0)?;
        Ok((AnyHashingSystem::new(HashingSystem::new(placement, key_hashes)), build_time))
    }
}

struct Net<'w>(&'w Workload);

impl StrategyVisitor for Net<'_> {
    type Output = Result<Built<AnyPlacement>, HashingError>;

    fn visit<P: Placement>(self, _strategy: Strategy) -> Self::Output {
        let Built { placement, key_hashes, build_time } = build::<P>(self.0)?;
        Ok(Built { placement: AnyPlacement::new(placement), key_hashes, build_time })
    }
}
