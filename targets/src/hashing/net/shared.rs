//! What the driver's workers, the migrations and the system share: the published routing
//! table and its epoch, the write ledger, the key names, and the running counters. Kept
//! apart from the system that owns it so that workers and migrations depend on it, not on
//! the system (and the system on them).

use super::client::KeyNames;
use super::ledger::Ledger;
use super::routing::Routing;
use arc_swap::ArcSwap;
use std::sync::atomic::AtomicU64;

/// Running counters, sampled into the time series.
#[derive(Debug, Default)]
pub(super) struct Counters {
    pub misses: AtomicU64,
    pub misses_migrating: AtomicU64,
    pub keys_migrated: AtomicU64,
    pub migrations_started: AtomicU64,
    pub migrations_finished: AtomicU64,
}

/// What the workers share.
pub struct Shared<P> {
    pub(super) routing: ArcSwap<Routing<P>>,
    /// The epoch of the published table; written after the table.
    pub(super) epoch: AtomicU64,
    pub(super) ledger: Ledger,
    pub(super) names: KeyNames,
    pub(super) value_size: usize,
    pub(super) counters: Counters,
}
