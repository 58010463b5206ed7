//! `p2c-ewma`: power of two choices on a latency-aware cost, as Finagle's and Linkerd's
//! `p2cPeakEwma` (and tower's `p2c::Balance` over `PeakEwma`): draw two distinct backends and
//! send the request to the one whose peak-EWMA round-trip estimate times its outstanding
//! requests plus one is lower (see [`load`](super::load)). A slow backend's estimate jumps up
//! with its first slow answer, so traffic leaves it at once; the estimate decays with time
//! constant `ewma_decay`, 10 s by default, so a recovered backend is tried again. Backends not
//! yet heard from are costed at `ewma_default_rtt`, 30 ms. Ignores weights.

use super::{BalancingError, BalancingParams, Pick, Selector, two_choices};

/// Power of two choices on peak-EWMA cost.
pub struct P2cEwma {
    count: usize,
}

impl Selector for P2cEwma {
    const USES_LATENCY: bool = true;

    fn build(weights: &[f64], _params: &BalancingParams) -> Result<Self, BalancingError> {
        Ok(P2cEwma { count: weights.len() })
    }

    #[inline]
    fn pick(&self, pick: &mut Pick<'_>) -> usize {
        let (a, b) = two_choices(pick.rng, self.count);
        if a == b {
            return a;
        }
        if pick.loads.ewma_cost(b, pick.now) < pick.loads.ewma_cost(a, pick.now) { b } else { a }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::balancing::Balancer;
    use std::time::Duration;
    use workloads::rng::{Stream, stream_rng};

    /// After one backend answers slowly, nearly every pick that can avoid it does.
    #[test]
    fn a_slow_answer_moves_traffic_away() {
        let now = std::time::Instant::now();
        let balancer = Balancer::<P2cEwma>::new(&[1.0; 4], &BalancingParams::default()).unwrap();
        let slow = balancer.loads().start(2, now, true);
        slow.finish(now + Duration::from_secs(1));
        let mut rng = stream_rng(3, Stream::Target, 0);
        let later = now + Duration::from_secs(1);
        let picks = (0..1000).filter(|_| balancer.pick(0, &mut rng, later) == 2).count();
        assert_eq!(picks, 0, "backend 2 costs 1 s against 30 ms for the others");
    }
}
