//! `weighted-round-robin`: nginx's *smooth* weighted round robin
//! (`ngx_http_upstream_get_peer`). Each pick adds every backend's weight to its current
//! weight, takes the backend with the largest current weight (the first one on a tie) and
//! subtracts the total weight from it. Over a cycle of W picks each backend gets exactly its
//! weight, spread out rather than in bursts: weights {5, 1, 1} give a a b a c a a. The current
//! weights are shared by every caller, behind a short lock.

use super::{BalancingError, BalancingParams, Pick, Selector};
use crate::sync::Recover as _;
use std::sync::Mutex;

/// Smooth weighted round robin.
pub struct WeightedRoundRobin {
    weights: Vec<f64>,
    total: f64,
    current: Mutex<Vec<f64>>,
}

impl Selector for WeightedRoundRobin {
    fn build(weights: &[f64], _params: &BalancingParams) -> Result<Self, BalancingError> {
        Ok(WeightedRoundRobin {
            weights: weights.to_vec(),
            total: weights.iter().sum(),
            current: Mutex::new(vec![0.0; weights.len()]),
        })
    }

    #[inline]
    fn pick(&self, _pick: &mut Pick<'_>) -> usize {
        let mut current = self.current.locked();
        let mut best = 0;
        for index in 0..current.len() {
            current[index] += self.weights[index];
            if current[index] > current[best] {
                best = index;
            }
        }
        current[best] -= self.total;
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::balancing::load::{EwmaSettings, Loads};
    use workloads::rng::{Stream, stream_rng};

    /// nginx's sequence for weights {5, 1, 1}: a a b a c a a, then again.
    #[test]
    fn smooth_sequence_for_5_1_1_is_nginxs() {
        let wrr = WeightedRoundRobin::build(&[5.0, 1.0, 1.0], &BalancingParams::default()).unwrap();
        let now = std::time::Instant::now();
        let loads = Loads::new(3, EwmaSettings::default());
        let mut rng = stream_rng(0, Stream::Target, 0);
        let names: String = (0..14)
            .map(|_| ["a", "b", "c"][wrr.pick(&mut Pick { key_hash: 0, loads: &loads, rng: &mut rng, now })])
            .collect();
        assert_eq!(names, "aabacaaaabacaa");
    }
}
