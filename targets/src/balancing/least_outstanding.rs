//! `least-outstanding`: the backend with the fewest requests in flight, found by scanning
//! all of them (O(N) per pick; `p2c` gets most of the benefit for two reads). The scan
//! starts at a random backend, so ties — every backend idle, at low load — spread out
//! instead of all going to backend 0. Ignores weights.

use super::{BalancingError, BalancingParams, Pick, Selector};
use rand::Rng as _;

/// Least outstanding requests.
pub struct LeastOutstanding {
    count: usize,
}

impl Selector for LeastOutstanding {
    fn build(weights: &[f64], _params: &BalancingParams) -> Result<Self, BalancingError> {
        Ok(LeastOutstanding { count: weights.len() })
    }

    #[inline]
    fn pick(&self, pick: &mut Pick<'_>) -> usize {
        let start = pick.rng.random_range(0..self.count);
        let mut best = start;
        let mut best_load = u32::MAX;
        // From the random start to the end, then from 0 to the start: no division per step.
        for index in (start..self.count).chain(0..start) {
            let load = pick.loads.outstanding(index);
            if load < best_load {
                best = index;
                best_load = load;
                if load == 0 {
                    break;
                }
            }
        }
        best
    }
}
