//! `ring`: a ketama-style consistent-hash ring. Each node of weight w gets round(160·w)
//! virtual nodes, points on a 64-bit circle at xxh3(`node-<id>-<i>`); a key belongs to the
//! first point at or after its hash, wrapping around. Lookup is a binary search over the
//! sorted points (kept apart from the owners so the search touches only 8-byte keys).

use super::{HashingError, HashingParams, NodeId, NodeSet, Placement, node_set_bytes, vec_bytes};
use xxhash_rust::xxh3::xxh3_64;

/// A consistent-hash ring with virtual nodes.
#[derive(Clone, Debug)]
pub struct Ring {
    nodes: NodeSet,
    params: HashingParams,
    points: Vec<u64>,
    owners: Vec<NodeId>,
}

impl Ring {
    /// Index of the first point at or after `hash`, wrapping to 0.
    #[inline]
    pub fn successor(&self, hash: u64) -> usize {
        let index = self.points.partition_point(|&p| p < hash);
        if index == self.points.len() { 0 } else { index }
    }

    /// Number of points on the ring.
    pub fn len(&self) -> usize {
        self.points.len()
    }

    /// Whether the ring has no points.
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// The owner of point `index`.
    #[inline]
    pub fn owner_at(&self, index: usize) -> NodeId {
        self.owners[index]
    }

    /// Virtual nodes for a node of `weight`.
    fn vnode_count(vnodes: u32, weight: f64) -> u32 {
        ((f64::from(vnodes) * weight).round() as u32).max(1)
    }
}

impl Placement for Ring {
    fn build(nodes: NodeSet, params: &HashingParams) -> Result<Self, HashingError> {
        let mut points: Vec<(u64, NodeId)> = nodes
            .nodes()
            .iter()
            .flat_map(|node| {
                let name = node.id.name();
                (0..Self::vnode_count(params.vnodes, node.weight))
                    .map(move |i| (xxh3_64(format!("{name}-{i}").as_bytes()), node.id))
            })
            .collect();
        // Ties (vanishingly rare) are broken by node id, so the ring is a function of the set.
        points.sort_unstable();
        let (points, owners) = points.into_iter().unzip();
        Ok(Ring { nodes, params: params.clone(), points, owners })
    }

    #[inline]
    fn locate(&self, key_hash: u64) -> NodeId {
        self.owners[self.successor(key_hash)]
    }

    fn nodes(&self) -> &NodeSet {
        &self.nodes
    }

    fn params(&self) -> &HashingParams {
        &self.params
    }

    fn memory_bytes(&self) -> usize {
        std::mem::size_of::<Self>() + vec_bytes(&self.points) + vec_bytes(&self.owners) + node_set_bytes(&self.nodes)
    }
}
