//! [`AnyPlacement`]: any strategy's placement behind one type, for code whose cost per lookup
//! is dominated by something else (the networked version: a round trip to Redis per
//! operation), so that it is compiled once rather than once per strategy.
//!
//! Each call is one virtual call into the strategy's own code. The in-process lookups, where
//! a lookup costs nanoseconds, keep the strategy's type (see
//! [`AnyHashingSystem`](super::system::AnyHashingSystem), which erases it per batch).

use super::{HashingError, HashingParams, Node, NodeId, NodeSet, Placement};

/// A built placement of any strategy.
pub struct AnyPlacement(Box<dyn DynPlacement>);

impl AnyPlacement {
    /// Wraps the built placement of strategy `P`.
    pub fn new<P: Placement>(placement: P) -> Self {
        AnyPlacement(Box::new(placement))
    }
}

/// [`Placement`] without its constructor and with a boxed clone, so that it can be a trait
/// object.
trait DynPlacement: Send + Sync + 'static {
    fn clone_boxed(&self) -> Box<dyn DynPlacement>;
    fn dyn_locate(&self, key_hash: u64) -> NodeId;
    fn dyn_nodes(&self) -> &NodeSet;
    fn dyn_params(&self) -> &HashingParams;
    fn dyn_memory_bytes(&self) -> usize;
    fn dyn_add_node(&mut self, node: Node) -> Result<(), HashingError>;
    fn dyn_remove_node(&mut self, id: NodeId) -> Result<(), HashingError>;
    fn dyn_place_keys(&mut self, key_hashes: &[u64]);
}

impl<P: Placement> DynPlacement for P {
    fn clone_boxed(&self) -> Box<dyn DynPlacement> {
        Box::new(self.clone())
    }

    fn dyn_locate(&self, key_hash: u64) -> NodeId {
        self.locate(key_hash)
    }

    fn dyn_nodes(&self) -> &NodeSet {
        self.nodes()
    }

    fn dyn_params(&self) -> &HashingParams {
        self.params()
    }

    fn dyn_memory_bytes(&self) -> usize {
        self.memory_bytes()
    }

    fn dyn_add_node(&mut self, node: Node) -> Result<(), HashingError> {
        self.add_node(node)
    }

    fn dyn_remove_node(&mut self, id: NodeId) -> Result<(), HashingError> {
        self.remove_node(id)
    }

    fn dyn_place_keys(&mut self, key_hashes: &[u64]) {
        self.place_keys(key_hashes);
    }
}

impl Clone for AnyPlacement {
    fn clone(&self) -> Self {
        AnyPlacement(self.0.clone_boxed())
    }
}

impl Placement for AnyPlacement {
    /// An erased placement has no strategy to build with: it is made from a built one, by
    /// [`AnyPlacement::new`]. Changes go through the wrapped strategy's own `add_node` and
    /// `remove_node`, so nothing calls this.
    fn build(_nodes: NodeSet, _params: &HashingParams) -> Result<Self, HashingError> {
        Err(HashingError::Unsupported("an erased placement is made from a built one (AnyPlacement::new)".into()))
    }

    #[inline]
    fn locate(&self, key_hash: u64) -> NodeId {
        self.0.dyn_locate(key_hash)
    }

    fn nodes(&self) -> &NodeSet {
        self.0.dyn_nodes()
    }

    fn params(&self) -> &HashingParams {
        self.0.dyn_params()
    }

    fn memory_bytes(&self) -> usize {
        self.0.dyn_memory_bytes()
    }

    fn add_node(&mut self, node: Node) -> Result<(), HashingError> {
        self.0.dyn_add_node(node)
    }

    fn remove_node(&mut self, id: NodeId) -> Result<(), HashingError> {
        self.0.dyn_remove_node(id)
    }

    fn place_keys(&mut self, key_hashes: &[u64]) {
        self.0.dyn_place_keys(key_hashes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hashing::jump::Jump;
    use crate::hashing::ring::Ring;

    fn built<P: Placement>(nodes: u32) -> P {
        let params = HashingParams::default();
        P::build(params.node_set(nodes).unwrap(), &params).unwrap()
    }

    #[test]
    fn an_erased_placement_locates_and_resizes_as_its_strategy_does() {
        let mut ring: Ring = built(5);
        let mut any = AnyPlacement::new(ring.clone());
        let snapshot = any.clone();
        ring.add_node(Node { id: NodeId(9), weight: 1.0 }).unwrap();
        any.add_node(Node { id: NodeId(9), weight: 1.0 }).unwrap();
        for key in 0..2_000u64 {
            let hash = crate::hashing::workload_key_hash(key);
            assert_eq!(any.locate(hash), ring.locate(hash), "key {key}");
        }
        assert_eq!(any.nodes().len(), 6);
        assert_eq!(snapshot.nodes().len(), 5, "a clone is a copy, not a view");
    }

    #[test]
    fn an_erased_placement_keeps_its_strategys_refusals() {
        let jump: Jump = built(4);
        let mut any = AnyPlacement::new(jump);
        let error = any.remove_node(NodeId(1)).unwrap_err();
        assert!(matches!(error, HashingError::Unsupported(_)), "jump cannot remove a middle node: {error}");
        assert!(AnyPlacement::build(any.nodes().clone(), any.params()).is_err(), "no strategy to build with");
    }
}
