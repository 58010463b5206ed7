//! `weighted-random`: a random backend with probability proportional to its weight, by a
//! binary search of a uniform draw in the cumulative weights.

use super::{BalancingError, BalancingParams, Pick, Selector};
use rand::Rng as _;

/// Weighted random choice.
pub struct WeightedRandom {
    cumulative: Vec<f64>,
}

impl Selector for WeightedRandom {
    fn build(weights: &[f64], _params: &BalancingParams) -> Result<Self, BalancingError> {
        let cumulative = weights
            .iter()
            .scan(0.0, |sum, weight| {
                *sum += weight;
                Some(*sum)
            })
            .collect();
        Ok(WeightedRandom { cumulative })
    }

    #[inline]
    fn pick(&self, pick: &mut Pick<'_>) -> usize {
        let total = *self.cumulative.last().expect("at least one backend");
        let draw = pick.rng.random::<f64>() * total;
        self.cumulative.partition_point(|&c| c <= draw).min(self.cumulative.len() - 1)
    }
}
