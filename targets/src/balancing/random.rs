//! `random`: a uniformly random backend, from the caller's own random stream. Ignores
//! weights and load.

use super::{BalancingError, BalancingParams, Pick, Selector};
use rand::Rng as _;

/// Uniform random choice.
pub struct Random {
    count: usize,
}

impl Selector for Random {
    fn build(weights: &[f64], _params: &BalancingParams) -> Result<Self, BalancingError> {
        Ok(Random { count: weights.len() })
    }

    #[inline]
    fn pick(&self, pick: &mut Pick<'_>) -> usize {
        pick.rng.random_range(0..self.count)
    }
}
