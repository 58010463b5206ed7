//! Adapters over crates that implement the same algorithms, measured as `crate:<name>` rows
//! beside ours: what a user would otherwise pick.
//!
//! | row | crate | algorithm |
//! |---|---|---|
//! | `crate:hashring` | hashring 0.3 | ring; we add 160 virtual nodes per node |
//! | `crate:jumphash` | jumphash 0.1 | jump consistent hash |
//! | `crate:maglev` | maglev 0.2 | Maglev table, same prime size as ours |
//! | `crate:anchorhash` | anchorhash 0.2 | AnchorHash, same capacity as ours |
//! | `crate:mpchash` | mpchash 2 | multi-probe (its own 23 probes and xxh3 partitioner) |
//!
//! Fairness: each crate receives the same input as our strategies, the key's xxh3 hash as a
//! `u64`, through [`PassThroughBuildHasher`], whose integer writes pass the value through (the
//! input is already uniform) and whose byte writes (node names) go through xxh3. So a crate
//! that accepts a hasher does no extra hashing of its own, and the comparison is of the
//! algorithms. `mpchash` takes no hasher and rehashes the key once per probe.

use super::jump::JumpBuckets;
use super::{HashingError, HashingParams, Node, NodeId, NodeSet, Placement, node_set_bytes, require_uniform};
use std::hash::{BuildHasher, Hasher};
use xxhash_rust::xxh3::xxh3_64_with_seed;

/// A hasher for already-hashed input: integers are XOR-ed in as they are, byte strings are
/// hashed with xxh3 seeded by the state so far.
#[derive(Clone, Copy, Debug, Default)]
pub struct PassThroughHasher(u64);

impl Hasher for PassThroughHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0 = xxh3_64_with_seed(bytes, self.0);
    }
    fn write_u8(&mut self, value: u8) {
        self.0 ^= u64::from(value);
    }
    fn write_u32(&mut self, value: u32) {
        self.0 ^= u64::from(value);
    }
    fn write_u64(&mut self, value: u64) {
        self.0 ^= value;
    }
    fn write_usize(&mut self, value: usize) {
        self.0 ^= value as u64;
    }
}

/// Builds [`PassThroughHasher`]s.
#[derive(Clone, Copy, Debug, Default)]
pub struct PassThroughBuildHasher;

impl BuildHasher for PassThroughBuildHasher {
    type Hasher = PassThroughHasher;
    fn build_hasher(&self) -> PassThroughHasher {
        PassThroughHasher::default()
    }
}

/// `crate:hashring`: the `hashring` crate with our virtual-node count.
#[derive(Clone)]
pub struct CrateHashring {
    nodes: NodeSet,
    params: HashingParams,
    ring: hashring::HashRing<(String, NodeId), PassThroughBuildHasher>,
    points: usize,
}

impl Placement for CrateHashring {
    fn build(nodes: NodeSet, params: &HashingParams) -> Result<Self, HashingError> {
        let mut ring = hashring::HashRing::with_hasher(PassThroughBuildHasher);
        let mut points = 0;
        for node in nodes.nodes() {
            let count = ((f64::from(params.vnodes) * node.weight).round() as u32).max(1);
            for i in 0..count {
                ring.add((format!("{}-{i}", node.id.name()), node.id));
            }
            points += count as usize;
        }
        Ok(CrateHashring { nodes, params: params.clone(), ring, points })
    }

    #[inline]
    fn locate(&self, key_hash: u64) -> NodeId {
        self.ring.get(&key_hash).expect("the ring has nodes").1
    }

    fn nodes(&self) -> &NodeSet {
        &self.nodes
    }

    fn params(&self) -> &HashingParams {
        &self.params
    }

    fn memory_bytes(&self) -> usize {
        // Each point holds its u64 position and the (String, NodeId) node, plus the name bytes.
        let point = std::mem::size_of::<(u64, (String, NodeId))>() + 16;
        std::mem::size_of::<Self>() + self.points * point + node_set_bytes(&self.nodes)
    }
}

/// `crate:jumphash`: the `jumphash` crate fed the key hash unchanged.
#[derive(Clone)]
pub struct CrateJumphash {
    buckets: JumpBuckets,
    params: HashingParams,
    hasher: jumphash::CustomJumpHasher<PassThroughHasher>,
}

impl Placement for CrateJumphash {
    fn build(nodes: NodeSet, params: &HashingParams) -> Result<Self, HashingError> {
        let buckets = JumpBuckets::new(nodes, "crate:jumphash")?;
        let hasher = jumphash::CustomJumpHasher::new(PassThroughHasher::default());
        Ok(CrateJumphash { buckets, params: params.clone(), hasher })
    }

    #[inline]
    fn locate(&self, key_hash: u64) -> NodeId {
        self.buckets.node(self.hasher.slot(&key_hash, self.buckets.count()))
    }

    fn nodes(&self) -> &NodeSet {
        self.buckets.nodes()
    }

    fn params(&self) -> &HashingParams {
        &self.params
    }

    fn memory_bytes(&self) -> usize {
        std::mem::size_of::<Self>() + self.buckets.memory_bytes()
    }

    fn add_node(&mut self, node: Node) -> Result<(), HashingError> {
        self.buckets.add(node)
    }

    fn remove_node(&mut self, id: NodeId) -> Result<(), HashingError> {
        self.buckets.remove(id)
    }
}

/// `crate:maglev`: the `maglev` crate over node names, with our table size.
#[derive(Clone)]
pub struct CrateMaglev {
    nodes: NodeSet,
    params: HashingParams,
    table: maglev::Maglev<NamedNode, PassThroughBuildHasher>,
}

/// A node that hashes as its name, so the crate's permutations come from well-mixed hashes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NamedNode {
    name: String,
    id: NodeId,
}

impl std::hash::Hash for NamedNode {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

impl Placement for CrateMaglev {
    fn build(nodes: NodeSet, params: &HashingParams) -> Result<Self, HashingError> {
        require_uniform(&nodes, "crate:maglev")?;
        let named = nodes.nodes().iter().map(|n| NamedNode { name: n.id.name(), id: n.id });
        let table =
            maglev::Maglev::with_capacity_and_hasher(named, params.maglev_table as usize, PassThroughBuildHasher);
        Ok(CrateMaglev { nodes, params: params.clone(), table })
    }

    #[inline]
    fn locate(&self, key_hash: u64) -> NodeId {
        use maglev::ConsistentHasher;
        self.table.get(&key_hash).expect("the table has nodes").id
    }

    fn nodes(&self) -> &NodeSet {
        &self.nodes
    }

    fn params(&self) -> &HashingParams {
        &self.params
    }

    fn memory_bytes(&self) -> usize {
        use maglev::ConsistentHasher;
        let nodes = self.nodes.len() * (std::mem::size_of::<NamedNode>() + 16);
        std::mem::size_of::<Self>()
            + self.table.capacity() * std::mem::size_of::<isize>()
            + nodes
            + node_set_bytes(&self.nodes)
    }
}

/// `crate:anchorhash`: the `anchorhash` crate with our anchor capacity.
#[derive(Clone)]
pub struct CrateAnchorhash {
    nodes: NodeSet,
    params: HashingParams,
    anchor: anchorhash::AnchorHash<u64, NodeId, PassThroughBuildHasher>,
    capacity: u16,
}

impl Placement for CrateAnchorhash {
    fn build(nodes: NodeSet, params: &HashingParams) -> Result<Self, HashingError> {
        require_uniform(&nodes, "crate:anchorhash")?;
        let working = nodes.len() as u32;
        let capacity = params.anchor_capacity.unwrap_or((2 * working).max(16));
        let capacity = u16::try_from(capacity).ok().filter(|c| u32::from(*c) >= working).ok_or_else(|| {
            HashingError::InvalidParam {
                param: "anchor_capacity",
                message: format!("{capacity} does not fit {working} nodes in the crate's u16 capacity"),
            }
        })?;
        let anchor = anchorhash::Builder::with_hasher(PassThroughBuildHasher)
            .with_resources(nodes.nodes().iter().map(|n| n.id))
            .build(capacity);
        Ok(CrateAnchorhash { nodes, params: params.clone(), anchor, capacity })
    }

    #[inline]
    fn locate(&self, key_hash: u64) -> NodeId {
        *self.anchor.get_resource(key_hash).expect("the anchor has nodes")
    }

    fn nodes(&self) -> &NodeSet {
        &self.nodes
    }

    fn params(&self) -> &HashingParams {
        &self.params
    }

    fn memory_bytes(&self) -> usize {
        // Five u16 arrays of `capacity`, and a map from bucket to node.
        let arrays = 5 * 2 * usize::from(self.capacity);
        let map = self.nodes.len() * (std::mem::size_of::<(u16, NodeId)>() + 1);
        std::mem::size_of::<Self>() + arrays + map + node_set_bytes(&self.nodes)
    }

    fn add_node(&mut self, node: Node) -> Result<(), HashingError> {
        self.nodes.insert(node)?;
        self.anchor.add_resource(node.id).map_err(|e| HashingError::Unsupported(format!("crate:anchorhash: {e}")))
    }

    fn remove_node(&mut self, id: NodeId) -> Result<(), HashingError> {
        self.nodes.remove(id)?;
        self.anchor.remove_resource(&id).map_err(|e| HashingError::Unsupported(format!("crate:anchorhash: {e}")))
    }
}

/// `crate:mpchash`: the `mpchash` crate's multi-probe ring over node names.
pub struct CrateMpchash {
    nodes: NodeSet,
    params: HashingParams,
    ring: mpchash::HashRing<NamedNodeHash>,
}

/// `mpchash` needs `Hash + Send + 'static` nodes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct NamedNodeHash(String, u32);

impl Clone for CrateMpchash {
    /// The crate's ring is a concurrent skip list without `Clone`: rebuild it from the nodes.
    fn clone(&self) -> Self {
        Self::build(self.nodes.clone(), &self.params).expect("the same nodes built before")
    }
}

impl Placement for CrateMpchash {
    fn build(nodes: NodeSet, params: &HashingParams) -> Result<Self, HashingError> {
        require_uniform(&nodes, "crate:mpchash")?;
        let ring = mpchash::HashRing::new();
        for node in nodes.nodes() {
            ring.add(NamedNodeHash(node.id.name(), node.id.0));
        }
        Ok(CrateMpchash { nodes, params: params.clone(), ring })
    }

    #[inline]
    fn locate(&self, key_hash: u64) -> NodeId {
        NodeId(self.ring.node(&key_hash).expect("the ring has nodes").node().1)
    }

    fn nodes(&self) -> &NodeSet {
        &self.nodes
    }

    fn params(&self) -> &HashingParams {
        &self.params
    }

    fn memory_bytes(&self) -> usize {
        // A skip-list entry per node: position, node, and about two tower pointers.
        let entry = 8 + std::mem::size_of::<NamedNodeHash>() + 16 + 2 * 8;
        std::mem::size_of::<Self>() + self.nodes.len() * entry + node_set_bytes(&self.nodes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hashing::jump::{Jump, jump_consistent_hash};

    #[test]
    fn crate_jumphash_agrees_with_ours_on_the_same_input() {
        let nodes = NodeSet::uniform(37);
        let ours = Jump::build(nodes.clone(), &HashingParams::default()).unwrap();
        let theirs = CrateJumphash::build(nodes, &HashingParams::default()).unwrap();
        for key in (0..10_000u64).map(crate::hashing::workload_key_hash) {
            assert_eq!(ours.locate(key), theirs.locate(key));
        }
        assert_eq!(jump_consistent_hash(42, 57), 43);
    }
}
