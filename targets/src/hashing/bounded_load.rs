//! `bounded-load`: consistent hashing with bounded loads (Mirrokni, Thorup & Zadimoghaddam,
//! SODA 2018), as Vimeo and HAProxy use it. Keys are placed one at a time on a ring with
//! virtual nodes; a node that already holds its capacity ⌈(1+ε)·m·w/W⌉ (m keys, weight w of
//! total W) passes the key on clockwise. No node ever exceeds its capacity.
//!
//! The placement depends on the set of keys and on their order, so this strategy keeps an
//! assignment table: the run's keys are placed in key order by [`Placement::place_keys`], and
//! after every resize all of them are placed again in the same order. Keys outside that set
//! fall back to the plain ring. The movement this causes on a resize is exactly what the
//! key-movement columns measure (the paper bounds it at O(1/ε²) times the ideal).

use super::ring::Ring;
use super::{HashingError, HashingParams, Node, NodeId, NodeSet, Placement, vec_bytes};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Key hashes are already uniform: the table indexes them as they are.
#[derive(Default, Clone, Copy)]
pub struct IdentityHasher(u64);

impl Hasher for IdentityHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }
}

type Assignment = HashMap<u64, NodeId, BuildHasherDefault<IdentityHasher>>;

/// Consistent hashing with bounded loads.
#[derive(Clone, Debug)]
pub struct BoundedLoad {
    ring: Ring,
    keys: Vec<u64>,
    assignment: Assignment,
}

impl BoundedLoad {
    /// Capacity of each node (in node-set order) for `keys` keys.
    pub fn capacities(&self, keys: usize) -> Vec<u64> {
        let nodes = self.ring.nodes();
        let total = nodes.total_weight();
        let epsilon = self.ring.params().epsilon;
        nodes.nodes().iter().map(|n| ((1.0 + epsilon) * keys as f64 * n.weight / total).ceil() as u64).collect()
    }

    /// Places every key in order, each on the first node clockwise with room.
    fn assign(&mut self) {
        let nodes = self.ring.nodes();
        let capacities = self.capacities(self.keys.len());
        let mut loads = vec![0u64; capacities.len()];
        let dense = |id: NodeId| nodes.nodes().binary_search_by_key(&id, |n| n.id).expect("ring owners are nodes");
        let mut assignment = Assignment::with_capacity_and_hasher(self.keys.len(), Default::default());
        for &key in &self.keys {
            let mut point = self.ring.successor(key);
            let owner = loop {
                let candidate = self.ring.owner_at(point);
                let slot = dense(candidate);
                if loads[slot] < capacities[slot] {
                    loads[slot] += 1;
                    break candidate;
                }
                point = (point + 1) % self.ring.len();
            };
            assignment.insert(key, owner);
        }
        self.assignment = assignment;
    }
}

impl Placement for BoundedLoad {
    fn build(nodes: NodeSet, params: &HashingParams) -> Result<Self, HashingError> {
        Ok(BoundedLoad { ring: Ring::build(nodes, params)?, keys: Vec::new(), assignment: Assignment::default() })
    }

    #[inline]
    fn locate(&self, key_hash: u64) -> NodeId {
        match self.assignment.get(&key_hash) {
            Some(owner) => *owner,
            None => self.ring.locate(key_hash),
        }
    }

    fn nodes(&self) -> &NodeSet {
        self.ring.nodes()
    }

    fn params(&self) -> &HashingParams {
        self.ring.params()
    }

    fn memory_bytes(&self) -> usize {
        let entry = std::mem::size_of::<(u64, NodeId)>() + 1;
        std::mem::size_of::<Self>() + self.ring.memory_bytes() - std::mem::size_of::<Ring>()
            + vec_bytes(&self.keys)
            + self.assignment.capacity() * entry
    }

    fn add_node(&mut self, node: Node) -> Result<(), HashingError> {
        self.ring.add_node(node)?;
        self.assign();
        Ok(())
    }

    fn remove_node(&mut self, id: NodeId) -> Result<(), HashingError> {
        self.ring.remove_node(id)?;
        self.assign();
        Ok(())
    }

    fn place_keys(&mut self, key_hashes: &[u64]) {
        self.keys = key_hashes.to_vec();
        self.assign();
    }
}
