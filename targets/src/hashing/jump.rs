//! `jump`: Lamping & Veach's jump consistent hash ("A Fast, Minimal Memory, Consistent Hash
//! Algorithm", 2014). No structure at all: the bucket is computed from the key and the bucket
//! count in O(ln N) steps. Buckets are numbered by join order, so only the most recently
//! added node can leave; removing any other is reported as unsupported.

use super::{
    HashingError, HashingParams, Node, NodeId, NodeSet, Placement, node_set_bytes, require_uniform, vec_bytes,
};

/// Jump consistent hashing.
#[derive(Clone, Debug)]
pub struct Jump {
    buckets: JumpBuckets,
    params: HashingParams,
}

/// The reference algorithm, verbatim from the paper: the bucket in `[0, buckets)` of `key`.
/// (A version that keeps the candidate in floating point to skip Rust's saturating
/// float-to-integer checks was tried and measured slower: its clamp lands on the loop-carried
/// dependency chain, while the checks here are predictable branches beside it.)
#[inline]
pub fn jump_consistent_hash(mut key: u64, buckets: u32) -> u32 {
    let (mut b, mut j) = (-1i64, 0i64);
    while j < i64::from(buckets) {
        b = j;
        key = key.wrapping_mul(2_862_933_555_777_941_757).wrapping_add(1);
        j = ((b + 1) as f64 * ((1u64 << 31) as f64 / ((key >> 33) + 1) as f64)) as i64;
    }
    b as u32
}

/// The bucket list of a jump-hash placement, in join order, with the one resize jump hashing
/// allows besides adding: removing the last bucket. Shared by [`Jump`] and the
/// `crate:jumphash` adapter, which differ only in the function that picks the bucket.
#[derive(Clone, Debug)]
pub struct JumpBuckets {
    nodes: NodeSet,
    ids: Vec<NodeId>,
}

impl JumpBuckets {
    /// Buckets for `nodes` (weights are not supported).
    pub fn new(nodes: NodeSet, strategy: &str) -> Result<Self, HashingError> {
        require_uniform(&nodes, strategy)?;
        let ids = nodes.nodes().iter().map(|n| n.id).collect();
        Ok(JumpBuckets { nodes, ids })
    }

    /// The node of bucket `index`.
    #[inline]
    pub fn node(&self, index: u32) -> NodeId {
        self.ids[index as usize]
    }

    /// Number of buckets.
    #[inline]
    pub fn count(&self) -> u32 {
        self.ids.len() as u32
    }

    /// The nodes, sorted by id.
    pub fn nodes(&self) -> &NodeSet {
        &self.nodes
    }

    /// Heap and inline bytes.
    pub fn memory_bytes(&self) -> usize {
        vec_bytes(&self.ids) + node_set_bytes(&self.nodes)
    }

    /// Appends a bucket for `node`.
    pub fn add(&mut self, node: Node) -> Result<(), HashingError> {
        if node.weight != 1.0 {
            return Err(HashingError::Unsupported("jump hashing does not support node weights".into()));
        }
        self.nodes.insert(node)?;
        self.ids.push(node.id);
        Ok(())
    }

    /// Removes `id` if it holds the last bucket; any other removal is unsupported.
    pub fn remove(&mut self, id: NodeId) -> Result<(), HashingError> {
        if self.ids.last() != Some(&id) {
            return Err(HashingError::Unsupported(format!(
                "jump hashing can only remove the last bucket (node {}), not node {}",
                self.ids.last().map_or(0, |n| n.0),
                id.0
            )));
        }
        self.nodes.remove(id)?;
        self.ids.pop();
        Ok(())
    }
}

impl Placement for Jump {
    fn build(nodes: NodeSet, params: &HashingParams) -> Result<Self, HashingError> {
        Ok(Jump { buckets: JumpBuckets::new(nodes, "jump")?, params: params.clone() })
    }

    #[inline]
    fn locate(&self, key_hash: u64) -> NodeId {
        self.buckets.node(jump_consistent_hash(key_hash, self.buckets.count()))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Values from the Go and C++ ports of the paper's code (github.com/dgryski/go-jump and
    /// Guava's `Hashing.consistentHash` test vectors for the same LCG).
    #[test]
    fn matches_reference_vectors() {
        assert_eq!(jump_consistent_hash(0, 1), 0);
        assert_eq!(jump_consistent_hash(1, 1), 0);
        assert_eq!(jump_consistent_hash(42, 57), 43);
        assert_eq!(jump_consistent_hash(0xDEAD_10CC, 1), 0);
        assert_eq!(jump_consistent_hash(0xDEAD_10CC, 666), 361);
        assert_eq!(jump_consistent_hash(256, 1024), 520);
    }
}
