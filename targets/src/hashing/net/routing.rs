//! The router's table and its read rule, and how a resize knows that no worker still uses the
//! table it replaced.
//!
//! A [`Routing`] is an immutable snapshot: the placement keys are routed by, the placement of
//! the previous node set while a migration runs, and each node's server. Workers check an
//! epoch counter before each operation and pick up a new snapshot when it moved.
//!
//! **Writes** always go to the key's owner under the current placement, and nothing else ever
//! writes there on the key's behalf except a migration that copies *only if absent*
//! (`MIGRATE` without `REPLACE`): a write that reached the new owner first is never
//! overwritten by an older copy. **Reads** follow [`read_steps`]: the new owner; during a
//! migration, for a key whose owner changed and that the new owner lacks, the old owner; then
//! the new owner once more, because between the first two reads the key may have been copied
//! to the new owner and deleted from the old one. The logical value of a moving key is the new
//! owner's copy if it has one, else the old owner's; every step of a migration (copy if
//! absent, then delete from the old owner) leaves it unchanged, so no acknowledged write is
//! lost and a read returns a value the key held during the read.
//!
//! One race remains: a write sent to the *old* owner by a worker still holding the table from
//! before the resize, landing after the migration copied the key. So a resize publishes the
//! new table and then waits, before copying anything, until every worker's operation in flight
//! uses it ([`ActiveSlot`]: each worker marks the epoch of the table its operation uses, and
//! idle workers mark nothing).

use super::shards::ShardAddr;
use crate::hashing::{NodeId, Placement, workload_key_hash};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The table keys are routed by.
pub struct Routing<P> {
    /// Bumped by each change of the table.
    pub epoch: u64,
    pub current: Arc<P>,
    /// The placement before the resize whose migration is running.
    pub previous: Option<Arc<P>>,
    /// Each node's server, by node id.
    pub shards: Vec<Option<ShardAddr>>,
}

impl<P: Placement> Routing<P> {
    /// The table over `shards`.
    pub fn new(epoch: u64, current: Arc<P>, previous: Option<Arc<P>>, shards: &[ShardAddr]) -> Self {
        let slots = shards.iter().map(|s| s.node.0 as usize + 1).max().unwrap_or(0);
        let mut by_node = vec![None; slots];
        for shard in shards {
            by_node[shard.node.0 as usize] = Some(shard.clone());
        }
        Routing { epoch, current, previous, shards: by_node }
    }

    /// The key's owner, and during a migration its previous owner if that differs.
    #[inline]
    pub fn route(&self, key: u64) -> (NodeId, Option<NodeId>) {
        let hash = workload_key_hash(key);
        let owner = self.current.locate(hash);
        let previous = self.previous.as_ref().map(|p| p.locate(hash)).filter(|p| *p != owner);
        (owner, previous)
    }

    /// The server of `node`; every node of either placement has one.
    #[inline]
    pub fn shard(&self, node: NodeId) -> &ShardAddr {
        self.shards
            .get(node.0 as usize)
            .and_then(Option::as_ref)
            .expect("the resize gives every node of the table a server before publishing it")
    }

    /// Whether a migration is running.
    pub fn migrating(&self) -> bool {
        self.previous.is_some()
    }
}

/// The shards a read asks, in order, until one has the key (see the module doc).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadSteps {
    steps: [NodeId; 3],
    len: usize,
}

impl ReadSteps {
    /// The shards in order.
    pub fn as_slice(&self) -> &[NodeId] {
        &self.steps[..self.len]
    }
}

/// The read rule: the new owner; for a moving key, then the old owner and the new one again.
#[inline]
pub fn read_steps(owner: NodeId, previous: Option<NodeId>) -> ReadSteps {
    match previous {
        None => ReadSteps { steps: [owner; 3], len: 1 },
        Some(old) => ReadSteps { steps: [owner, old, owner], len: 3 },
    }
}

/// A worker that is between operations.
pub const IDLE: u64 = u64::MAX;
/// A worker that is starting an operation and has not yet said with which table.
const PENDING: u64 = u64::MAX - 1;

/// The epoch of the table one worker's operation in flight uses, alone on its cache line.
#[derive(Debug)]
#[repr(align(128))]
pub struct ActiveSlot(AtomicU64);

impl Default for ActiveSlot {
    fn default() -> Self {
        ActiveSlot(AtomicU64::new(IDLE))
    }
}

impl ActiveSlot {
    /// Marks the start of an operation: `current` is the epoch now published; `table` gives
    /// the epoch of the table the worker will use (refreshing it if it is older). The
    /// sequentially consistent pending mark and epoch read pair with the resize's epoch write
    /// and slot read: either the worker sees the new epoch, or the resize sees the worker.
    #[inline]
    pub fn enter(self: &Arc<Self>, current: &AtomicU64, table: impl FnOnce(u64) -> u64) -> ActiveGuard {
        self.0.store(PENDING, Ordering::SeqCst);
        let epoch = table(current.load(Ordering::SeqCst));
        self.0.store(epoch, Ordering::SeqCst);
        ActiveGuard(Arc::clone(self))
    }

    /// Whether this worker's operation in flight, if any, uses a table of `epoch` or later.
    pub fn caught_up(&self, epoch: u64) -> bool {
        match self.0.load(Ordering::SeqCst) {
            IDLE => true,
            PENDING => false,
            used => used >= epoch,
        }
    }
}

/// Marks the worker idle when its operation ends (or is dropped).
pub struct ActiveGuard(Arc<ActiveSlot>);

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        self.0.0.store(IDLE, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_fall_back_to_the_old_owner_then_retry_the_new_one() {
        assert_eq!(read_steps(NodeId(2), None).as_slice(), [NodeId(2)]);
        assert_eq!(read_steps(NodeId(3), Some(NodeId(1))).as_slice(), [NodeId(3), NodeId(1), NodeId(3)]);
    }

    #[test]
    fn a_slot_is_caught_up_when_idle_or_on_the_new_table() {
        let slot = Arc::new(ActiveSlot::default());
        let epoch = AtomicU64::new(4);
        assert!(slot.caught_up(5), "idle");
        let guard = slot.enter(&epoch, |published| published);
        assert!(slot.caught_up(4) && !slot.caught_up(5), "in flight on epoch 4");
        drop(guard);
        assert!(slot.caught_up(5), "idle again");
        let stale = slot.enter(&epoch, |_| 3);
        assert!(!slot.caught_up(4), "a worker that kept an older table is waited for");
        drop(stale);
    }
}
