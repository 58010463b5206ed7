//! `consistent-hash`: the request's key on a consistent-hash ring — the hashing family's
//! ketama-style [`Ring`] with 160 virtual nodes per backend of weight 1 (`vnodes`), weights
//! scaling the count. The same key always goes to the same backend while the set does not
//! change (cache affinity), whatever the load; nginx's `hash $request_uri consistent` does the
//! same with its own ring.

use super::{BalancingError, BalancingParams, Pick, Selector};
use crate::hashing::ring::Ring;
use crate::hashing::{HashingError, HashingParams, NodeSet, Placement};

/// Consistent hashing of request keys.
pub struct ConsistentHash {
    ring: Ring,
}

impl ConsistentHash {
    /// The hashing family's ring over backends `0..weights.len()`.
    pub fn ring(weights: &[f64], params: &BalancingParams) -> Result<Ring, BalancingError> {
        let hashing = HashingParams { vnodes: params.vnodes, ..HashingParams::default() };
        let nodes = NodeSet::weighted(weights).map_err(hashing_error)?;
        Ring::build(nodes, &hashing).map_err(hashing_error)
    }
}

fn hashing_error(error: HashingError) -> BalancingError {
    match error {
        HashingError::InvalidParam { param, message } => BalancingError::InvalidParam { param, message },
        other => BalancingError::Unsupported(other.to_string()),
    }
}

impl Selector for ConsistentHash {
    fn build(weights: &[f64], params: &BalancingParams) -> Result<Self, BalancingError> {
        Ok(ConsistentHash { ring: Self::ring(weights, params)? })
    }

    #[inline]
    fn pick(&self, pick: &mut Pick<'_>) -> usize {
        self.ring.locate(pick.key_hash).0 as usize
    }
}
