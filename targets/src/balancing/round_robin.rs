//! `round-robin`: each backend in turn, from one shared counter. Ignores weights and load.

use super::{BalancingError, BalancingParams, Pick, Selector};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Round robin.
pub struct RoundRobin {
    next: AtomicUsize,
    count: usize,
}

impl Selector for RoundRobin {
    fn build(weights: &[f64], _params: &BalancingParams) -> Result<Self, BalancingError> {
        Ok(RoundRobin { next: AtomicUsize::new(0), count: weights.len() })
    }

    #[inline]
    fn pick(&self, _pick: &mut Pick<'_>) -> usize {
        self.next.fetch_add(1, Ordering::Relaxed) % self.count
    }
}
