//! The in-process hashing target: driver workers look keys up in a placement structure while
//! a controller applies resize events and measures the key movement each one causes.
//!
//! Each worker holds its own `Arc` of the current structure and checks a version counter
//! before every timed batch (outside the timing), so lookups never contend on a lock. An
//! event builds the new structure on the controller's copy, measures it against the old
//! one over the whole key set, then publishes it for the workers to pick up.

use super::analysis::{self, Change};
use super::{HashingError, Node, NodeId, Placement, workload_key_hash};
use crate::sync::Recover as _;
use crate::target::{
    BatchOutcome, EventReport, EventStatus, FamilyMetrics, Op, OpResult, ResizeReport, System, Worker,
};
use arc_swap::ArcSwap;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use workloads::events::HashingAction;
use workloads::{Event, EventAction};

/// The hashes of keys `0..keys`: the key set over which balance and movement are measured.
pub fn key_set(keys: u64) -> Vec<u64> {
    (0..keys).map(workload_key_hash).collect()
}

struct Shared<P> {
    current: ArcSwap<P>,
    version: AtomicU64,
}

/// The controller's state: the authoritative structure and the owner of every key under it.
struct Control<P> {
    placement: P,
    key_hashes: Vec<u64>,
    owners: Vec<NodeId>,
    /// Owners just before a node was removed, to see whether re-adding it restores them.
    before_removal: HashMap<NodeId, Vec<NodeId>>,
    /// Nodes whose removal the strategy could not do: re-adding them is unsupported too,
    /// rather than an error of the scenario.
    not_removed: HashSet<NodeId>,
}

/// The in-process hashing system for strategy `P`.
pub struct HashingSystem<P: Placement> {
    shared: Arc<Shared<P>>,
    control: Mutex<Control<P>>,
    initial: FamilyMetrics,
}

impl<P: Placement> HashingSystem<P> {
    /// Wraps a built structure (whose keys, if it places keys, are already placed) and
    /// measures its balance over `key_hashes`.
    pub fn new(placement: P, key_hashes: Vec<u64>) -> Self {
        let owners = analysis::owners(&placement, &key_hashes);
        let initial = FamilyMetrics {
            memory_bytes: Some(placement.memory_bytes() as u64),
            load: Some(analysis::load_stats(&owners, placement.nodes())),
            node_shares: analysis::shares(&owners, placement.nodes()),
            ..FamilyMetrics::default()
        };
        let shared = Arc::new(Shared { current: ArcSwap::from_pointee(placement.clone()), version: AtomicU64::new(0) });
        let control = Mutex::new(Control {
            placement,
            key_hashes,
            owners,
            before_removal: HashMap::new(),
            not_removed: HashSet::new(),
        });
        HashingSystem { shared, control, initial }
    }

    /// Applies a resize and measures it, synchronously (the networked version runs this on a
    /// blocking thread: it goes over the whole key set).
    pub fn apply(&self, action: HashingAction) -> EventReport {
        match self.resize(action) {
            Ok(report) => EventReport { status: EventStatus::Ok, message: None, resize: Some(report) },
            Err(HashingError::Unsupported(message)) => EventReport::unsupported(message),
            Err(error) => EventReport { status: EventStatus::Error, message: Some(error.to_string()), resize: None },
        }
    }

    /// Applies a scheduled event: a resize, or none of the faults (the family has none).
    fn apply_event_now(&self, event: &Event) -> EventReport {
        match event.action {
            EventAction::Hashing(action) => self.apply(action),
            fault => EventReport::unsupported(format!(
                "the hashing family has no `{}` (it has no messages or processes)",
                fault.label()
            )),
        }
    }

    /// The current structure (the networked version routes keys with it).
    pub fn placement(&self) -> Arc<P> {
        self.shared.current.load_full()
    }

    fn resize(&self, action: HashingAction) -> Result<ResizeReport, HashingError> {
        let mut control = self.control.locked();
        let mut next = control.placement.clone();
        let nodes_before = next.nodes().len() as u32;
        let (change, ideal) = match action {
            HashingAction::AddNode { node } => {
                let id = node.map_or_else(|| next.nodes().next_free_id(), NodeId);
                if control.not_removed.remove(&id) {
                    return Err(HashingError::Unsupported(format!(
                        "node {} was never removed: the strategy could not remove it",
                        id.0
                    )));
                }
                next.add_node(Node { id, weight: 1.0 })?;
                (Change::Added(id), 1.0 / next.nodes().total_weight())
            }
            HashingAction::RemoveNode { node } => match remove(&mut next, NodeId(node)) {
                Err(HashingError::Unsupported(message)) => {
                    control.not_removed.insert(NodeId(node));
                    return Err(HashingError::Unsupported(message));
                }
                other => other?,
            },
            HashingAction::RemoveLast => {
                let last = next.nodes().last().ok_or(HashingError::EmptyCluster)?;
                remove(&mut next, last)?
            }
        };
        let owners = analysis::owners(&next, &control.key_hashes);
        let (moved, violations) = analysis::movement(&control.owners, &owners, change);
        let restored = match change {
            Change::Added(id) => control.before_removal.remove(&id).map(|old| analysis::agreement(&old, &owners)),
            Change::Removed(id) => {
                let before = control.owners.clone();
                control.before_removal.insert(id, before);
                None
            }
        };
        let report = ResizeReport {
            nodes_before,
            nodes_after: next.nodes().len() as u32,
            keys_moved_fraction: moved as f64 / owners.len().max(1) as f64,
            keys_moved_ideal_fraction: ideal,
            monotonicity_violations: violations,
            mapping_restored_fraction: restored,
            load: analysis::load_stats(&owners, next.nodes()),
        };
        self.shared.current.store(Arc::new(next.clone()));
        self.shared.version.fetch_add(1, Ordering::Release);
        control.placement = next;
        control.owners = owners;
        Ok(report)
    }
}

/// Removes `id`, returning the change and the ideal fraction (the removed node's share).
fn remove<P: Placement>(placement: &mut P, id: NodeId) -> Result<(Change, f64), HashingError> {
    let weight = placement.nodes().weight(id).ok_or(HashingError::UnknownNode(id))?;
    let ideal = weight / placement.nodes().total_weight();
    placement.remove_node(id)?;
    Ok((Change::Removed(id), ideal))
}

/// One driver worker's view: a snapshot of the structure and the version it was taken at.
pub struct HashingWorker<P: Placement> {
    shared: Arc<Shared<P>>,
    current: Arc<P>,
    version: u64,
}

impl<P: Placement> Worker for HashingWorker<P> {
    #[inline]
    fn prepare_batch(&mut self) {
        let version = self.shared.version.load(Ordering::Acquire);
        if version != self.version {
            self.current = self.shared.current.load_full();
            self.version = version;
        }
    }

    #[inline]
    async fn call(&mut self, op: Op) -> OpResult {
        LookupWorker::lookup(self, op);
        Ok(())
    }
}

impl<P: Placement> System for HashingSystem<P> {
    type Worker = HashingWorker<P>;

    fn worker(&self, _index: u32) -> HashingWorker<P> {
        let version = self.shared.version.load(Ordering::Acquire);
        HashingWorker { shared: Arc::clone(&self.shared), current: self.shared.current.load_full(), version }
    }

    async fn apply_event(&self, event: &Event) -> EventReport {
        self.apply_event_now(event)
    }

    fn metrics(&self) -> FamilyMetrics {
        self.initial.clone()
    }
}

/// Every strategy's in-process system behind one type, so that the driver is compiled once
/// for all of them (see [`crate::erased`] for why that matters). The strategy is erased per
/// timed batch, not per lookup: a batch is one virtual call into a loop compiled for the
/// strategy, so the lookups run as they would in [`HashingSystem`] itself; an operation timed
/// alone costs one virtual call more (no allocation: lookups are synchronous).
pub struct AnyHashingSystem(Box<dyn LookupSystem>);

impl AnyHashingSystem {
    /// Wraps the system of strategy `P`.
    pub fn new<P: Placement>(system: HashingSystem<P>) -> Self {
        AnyHashingSystem(Box::new(system))
    }
}

/// A driver worker of [`AnyHashingSystem`].
pub struct AnyHashingWorker(Box<dyn LookupWorker>);

/// What the driver needs of a [`HashingSystem`], as a trait object.
trait LookupSystem: Send + Sync + 'static {
    fn worker(&self, index: u32) -> AnyHashingWorker;
    fn apply_event(&self, event: &Event) -> EventReport;
    fn metrics(&self) -> FamilyMetrics;
}

impl<P: Placement> LookupSystem for HashingSystem<P> {
    fn worker(&self, index: u32) -> AnyHashingWorker {
        AnyHashingWorker(Box::new(System::worker(self, index)))
    }

    fn apply_event(&self, event: &Event) -> EventReport {
        self.apply_event_now(event)
    }

    fn metrics(&self) -> FamilyMetrics {
        self.initial.clone()
    }
}

/// What the driver needs of a [`HashingWorker`], as a trait object: its lookups, one or a
/// batch at a time.
trait LookupWorker: Send + 'static {
    fn prepare_batch(&mut self);
    fn lookup(&self, op: Op);
    fn lookup_batch(&self, ops: &[Op]);
}

impl<P: Placement> LookupWorker for HashingWorker<P> {
    fn prepare_batch(&mut self) {
        Worker::prepare_batch(self);
    }

    #[inline]
    fn lookup(&self, op: Op) {
        std::hint::black_box(self.current.locate(workload_key_hash(op.key)));
    }

    fn lookup_batch(&self, ops: &[Op]) {
        for op in ops {
            self.lookup(*op);
        }
    }
}

impl Worker for AnyHashingWorker {
    #[inline]
    fn prepare_batch(&mut self) {
        self.0.prepare_batch();
    }

    #[inline]
    async fn call(&mut self, op: Op) -> OpResult {
        self.0.lookup(op);
        Ok(())
    }

    #[inline]
    async fn call_batch(&mut self, ops: &[Op]) -> BatchOutcome {
        self.0.lookup_batch(ops);
        BatchOutcome::default()
    }
}

impl System for AnyHashingSystem {
    type Worker = AnyHashingWorker;

    fn worker(&self, index: u32) -> AnyHashingWorker {
        self.0.worker(index)
    }

    async fn apply_event(&self, event: &Event) -> EventReport {
        self.0.apply_event(event)
    }

    fn metrics(&self) -> FamilyMetrics {
        self.0.metrics()
    }
}
