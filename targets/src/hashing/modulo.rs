//! `modulo`: `hash % N` over the nodes in id order. The baseline every consistent scheme is
//! measured against: on a resize almost every key moves (N/(N+1) of them on add).

use super::{HashingError, HashingParams, NodeId, NodeSet, Placement, node_set_bytes, require_uniform, vec_bytes};

/// Modulo placement.
#[derive(Clone, Debug)]
pub struct Modulo {
    nodes: NodeSet,
    params: HashingParams,
    ids: Vec<NodeId>,
}

impl Placement for Modulo {
    fn build(nodes: NodeSet, params: &HashingParams) -> Result<Self, HashingError> {
        require_uniform(&nodes, "modulo")?;
        let ids = nodes.nodes().iter().map(|n| n.id).collect();
        Ok(Modulo { nodes, params: params.clone(), ids })
    }

    #[inline]
    fn locate(&self, key_hash: u64) -> NodeId {
        self.ids[(key_hash % self.ids.len() as u64) as usize]
    }

    fn nodes(&self) -> &NodeSet {
        &self.nodes
    }

    fn params(&self) -> &HashingParams {
        &self.params
    }

    fn memory_bytes(&self) -> usize {
        std::mem::size_of::<Self>() + vec_bytes(&self.ids) + node_set_bytes(&self.nodes)
    }
}
