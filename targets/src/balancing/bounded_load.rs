//! `bounded-load`: consistent hashing with bounded loads applied to requests (Mirrokni,
//! Thorup & Zadimoghaddam, SODA 2018; as HAProxy's `hash-balance-factor` and Vimeo use it).
//! A request goes to the first backend clockwise from its key's point on the ring whose
//! requests in flight, counting this one, stay within ⌈(1+ε)·(in flight + 1)·w/W⌉ (ε =
//! `epsilon`, 0.25 by default). Keys keep their backend while it is not overloaded, and no
//! backend carries more than (1+ε) times its share of the requests in flight. The walk ends:
//! the caps add up to more than the requests in flight, so some backend has room.

use super::consistent_hash::ConsistentHash;
use super::{BalancingError, BalancingParams, Pick, Selector};
use crate::hashing::ring::Ring;

/// Consistent hashing with a load cap.
pub struct BoundedLoad {
    ring: Ring,
    /// (1+ε)·w/W of each backend.
    cap_factors: Vec<f64>,
}

impl Selector for BoundedLoad {
    fn build(weights: &[f64], params: &BalancingParams) -> Result<Self, BalancingError> {
        let total: f64 = weights.iter().sum();
        let cap_factors = weights.iter().map(|w| (1.0 + params.epsilon) * w / total).collect();
        Ok(BoundedLoad { ring: ConsistentHash::ring(weights, params)?, cap_factors })
    }

    #[inline]
    fn pick(&self, pick: &mut Pick<'_>) -> usize {
        let in_flight = (pick.loads.total_outstanding() + 1) as f64;
        let mut point = self.ring.successor(pick.key_hash);
        for _ in 0..self.ring.len() {
            let backend = self.ring.owner_at(point).0 as usize;
            let cap = (self.cap_factors[backend] * in_flight).ceil();
            if f64::from(pick.loads.outstanding(backend) + 1) <= cap {
                return backend;
            }
            point = (point + 1) % self.ring.len();
        }
        // Unreachable while the loads are consistent; a racing update may make every backend
        // look full for an instant, and then the key's own backend is the answer.
        self.ring.owner_at(self.ring.successor(pick.key_hash)).0 as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::balancing::load::{EwmaSettings, Loads};
    use workloads::rng::{Stream, stream_rng};

    #[test]
    fn no_backend_goes_over_its_cap() {
        let params = BalancingParams::default();
        let selector = BoundedLoad::build(&[1.0; 5], &params).unwrap();
        let now = std::time::Instant::now();
        let loads = Loads::new(5, EwmaSettings::default());
        let mut rng = stream_rng(0, Stream::Target, 0);
        // Every request asks for the same key: plain consistent hashing would pile them all
        // on one backend.
        let mut guards = Vec::new();
        for _ in 0..100 {
            let backend = selector.pick(&mut Pick { key_hash: 42, loads: &loads, rng: &mut rng, now });
            guards.push(loads.start(backend, now, false));
        }
        let peak = (0..5).map(|b| loads.outstanding(b)).max().unwrap();
        assert!(peak <= (1.25f64 * 100.0 / 5.0).ceil() as u32, "peak {peak}");
    }
}
