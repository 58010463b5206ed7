//! `rendezvous`: highest random weight (Thaler & Ravishankar, 1998). Every node scores the
//! key and the highest score wins; a node that leaves takes only its own keys with it.
//! Weighted nodes score −w/ln(h) with h the key-node hash mapped into (0, 1), which gives
//! each node a share proportional to its weight (Schindelhauer & Schomaker's logarithmic
//! method). With equal weights the score reduces to the raw hash, which orders keys the same
//! way and skips the logarithm. Lookup is O(N).

use super::{HashingError, HashingParams, NodeId, NodeSet, Placement, mix64, node_set_bytes, vec_bytes};
use xxhash_rust::xxh3::xxh3_64;

/// Rendezvous (HRW) hashing.
#[derive(Clone, Debug)]
pub struct Rendezvous {
    nodes: NodeSet,
    params: HashingParams,
    ids: Vec<NodeId>,
    seeds: Vec<u64>,
    /// `None` when every weight is equal.
    weights: Option<Vec<f64>>,
}

impl Rendezvous {
    #[inline]
    fn score_bits(key_hash: u64, seed: u64) -> u64 {
        mix64(key_hash ^ seed)
    }

    /// −w/ln(h), h in (0, 1) from the top 53 bits.
    #[inline]
    fn weighted_score(bits: u64, weight: f64) -> f64 {
        let unit = ((bits >> 11) as f64 + 0.5) * (1.0 / (1u64 << 53) as f64);
        -weight / unit.ln()
    }
}

impl Placement for Rendezvous {
    fn build(nodes: NodeSet, params: &HashingParams) -> Result<Self, HashingError> {
        let ids = nodes.nodes().iter().map(|n| n.id).collect();
        let seeds = nodes.nodes().iter().map(|n| xxh3_64(n.id.name().as_bytes())).collect();
        let weights = (!nodes.is_uniform()).then(|| nodes.nodes().iter().map(|n| n.weight).collect());
        Ok(Rendezvous { nodes, params: params.clone(), ids, seeds, weights })
    }

    #[inline]
    fn locate(&self, key_hash: u64) -> NodeId {
        let mut best = 0;
        match &self.weights {
            None => {
                let mut best_score = 0u64;
                for (i, seed) in self.seeds.iter().enumerate() {
                    let score = Self::score_bits(key_hash, *seed);
                    if score > best_score || i == 0 {
                        (best, best_score) = (i, score);
                    }
                }
            }
            Some(weights) => {
                let mut best_score = f64::NEG_INFINITY;
                for (i, (seed, weight)) in self.seeds.iter().zip(weights).enumerate() {
                    let score = Self::weighted_score(Self::score_bits(key_hash, *seed), *weight);
                    if score > best_score {
                        (best, best_score) = (i, score);
                    }
                }
            }
        }
        self.ids[best]
    }

    fn nodes(&self) -> &NodeSet {
        &self.nodes
    }

    fn params(&self) -> &HashingParams {
        &self.params
    }

    fn memory_bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + vec_bytes(&self.ids)
            + vec_bytes(&self.seeds)
            + self.weights.as_ref().map_or(0, vec_bytes)
            + node_set_bytes(&self.nodes)
    }
}
