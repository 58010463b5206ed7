//! `p2c`: the power of two choices (Mitzenmacher, 2001): draw two distinct backends at
//! random and send the request to the one with fewer requests in flight (the first on a
//! tie). Two reads per pick, yet the most loaded backend's excess drops from
//! O(log n / log log n) to O(log log n). Ignores weights.

use super::{BalancingError, BalancingParams, Pick, Selector, two_choices};

/// Power of two choices on outstanding requests.
pub struct P2c {
    count: usize,
}

impl Selector for P2c {
    fn build(weights: &[f64], _params: &BalancingParams) -> Result<Self, BalancingError> {
        Ok(P2c { count: weights.len() })
    }

    #[inline]
    fn pick(&self, pick: &mut Pick<'_>) -> usize {
        let (a, b) = two_choices(pick.rng, self.count);
        if pick.loads.outstanding(b) < pick.loads.outstanding(a) { b } else { a }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::balancing::load::{EwmaSettings, Loads};
    use proptest::prelude::*;
    use workloads::rng::{Stream, stream_rng};

    proptest! {
        /// Whatever the loads, p2c picks one of its two choices, never the more loaded one.
        #[test]
        fn never_picks_the_more_loaded_of_its_two(
            loads in proptest::collection::vec(0u32..6, 2..12),
            seed in any::<u64>(),
        ) {
            let now = std::time::Instant::now();
            let state = Loads::new(loads.len(), EwmaSettings::default());
            let _guards: Vec<_> = loads
                .iter()
                .enumerate()
                .flat_map(|(i, &n)| (0..n).map(move |_| i))
                .map(|i| state.start(i, now, false))
                .collect();
            let p2c = P2c::build(&vec![1.0; loads.len()], &BalancingParams::default()).unwrap();
            for round in 0..20u64 {
                // The selector draws its two choices from this stream; draw them the same way.
                let mut rng = stream_rng(seed, Stream::Target, round);
                let (a, b) = two_choices(&mut rng.clone(), loads.len());
                prop_assert_ne!(a, b);
                let picked = p2c.pick(&mut Pick { key_hash: 0, loads: &state, rng: &mut rng, now });
                prop_assert!(picked == a || picked == b);
                let other = if picked == a { b } else { a };
                prop_assert!(loads[picked] <= loads[other], "picked {} (load {}) over {} (load {})",
                    picked, loads[picked], other, loads[other]);
            }
        }
    }
}
