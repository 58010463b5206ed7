//! Distribution-free confidence intervals of percentiles, from order statistics.
//!
//! Of n independent samples of a latency, the number B that fall at or below the true
//! q-quantile is Binomial(n, q). So the j-th smallest sample lies at or below the quantile
//! exactly when B ≥ j, and the k-th smallest lies above it when B < k: the interval
//! [X₍ⱼ₎, X₍ₖ₎] holds the quantile with probability P(j ≤ B < k), whatever the shape of the
//! distribution. The ranks j and k are chosen so that each tail has at most (1 − 95%)/2 of
//! that probability; the interval is then read off the run's HdrHistogram at those ranks
//! (the bucket's lowest value for the lower bound, its highest for the upper, so the
//! histogram's 3-digit precision only ever widens the interval).
//!
//! When no rank is far enough out — p99.9 from 500 samples: even the largest sample is
//! below the true p99.9 with probability 0.999⁵⁰⁰ = 61% — the percentile cannot be bounded
//! and is reported as such, with the sample size it would need ([`min_samples`]).
//!
//! The samples of a run are not quite independent (a slow interval slows its neighbours);
//! the [`super::trend`] check says when a run drifted, which is the common way they are not.

use super::CONFIDENCE;
use hdrhistogram::Histogram;
use statrs::distribution::{Binomial, DiscreteCDF as _};

/// A percentile's interval, in the histogram's recorded unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawInterval {
    pub lo: u64,
    pub hi: u64,
}

/// Why a percentile has no interval.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unbounded {
    /// The samples there were.
    pub samples: u64,
    /// The fewest samples that bound this percentile.
    pub needed: u64,
}

/// The 1-based ranks (j, k) of the order statistics that bound the `q`-quantile of `n`
/// samples, or why none do.
pub fn ranks(n: u64, q: f64) -> Result<(u64, u64), Unbounded> {
    assert!(q > 0.0 && q < 1.0, "a quantile strictly between 0 and 1, got {q}");
    let unbounded = Unbounded { samples: n, needed: min_samples(q) };
    if n == 0 {
        return Err(unbounded);
    }
    let binomial = Binomial::new(q, n).expect("q is a probability");
    let tail = (1.0 - CONFIDENCE) / 2.0;
    // j − 1 is the largest m with P(B ≤ m) ≤ tail; k − 1 the smallest with P(B ≤ m) ≥ 1 − tail.
    let below = smallest_at_least(&binomial, n, tail);
    let j = if binomial.cdf(below) <= tail { below + 1 } else { below };
    let k = smallest_at_least(&binomial, n, 1.0 - tail) + 1;
    if j < 1 || k > n { Err(unbounded) } else { Ok((j, k)) }
}

/// The smallest m in 0..=n with P(B ≤ m) ≥ p, by bisection (the CDF is monotone).
fn smallest_at_least(binomial: &Binomial, n: u64, p: f64) -> u64 {
    let (mut low, mut high) = (0u64, n);
    while low < high {
        let mid = low + (high - low) / 2;
        if binomial.cdf(mid) >= p {
            high = mid;
        } else {
            low = mid + 1;
        }
    }
    low
}

/// The fewest samples for which both ranks exist: the largest sample must exceed the
/// quantile with probability at least 1 − tail (1 − qⁿ), and the smallest fall below it
/// likewise (1 − (1 − q)ⁿ).
pub fn min_samples(q: f64) -> u64 {
    let tail = (1.0 - CONFIDENCE) / 2.0;
    let needed = |p: f64| (tail.ln() / p.ln()).ceil();
    needed(q).max(needed(1.0 - q)) as u64
}

/// The interval of the `q`-quantile of the values in `histogram`.
pub fn interval(histogram: &Histogram<u64>, q: f64) -> Result<RawInterval, Unbounded> {
    let (j, k) = ranks(histogram.len(), q)?;
    let lo = value_at_rank(histogram, j);
    let hi = value_at_rank(histogram, k);
    Ok(RawInterval { lo: histogram.lowest_equivalent(lo), hi: histogram.highest_equivalent(hi) })
}

/// The `rank`-th smallest value (1-based) recorded in `histogram`.
fn value_at_rank(histogram: &Histogram<u64>, rank: u64) -> u64 {
    let mut seen = 0;
    for bucket in histogram.iter_recorded() {
        seen += bucket.count_at_value();
        if seen >= rank {
            return bucket.value_iterated_to();
        }
    }
    histogram.max()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recorder::new_histogram;

    #[test]
    fn ranks_match_le_boudecs_table() {
        // Le Boudec, Performance Evaluation of Computer and Communication Systems, Table 2.1
        // (95%): the median of n = 100 lies between the 40th and the 61st smallest samples.
        assert_eq!(ranks(100, 0.5), Ok((40, 61)));
        // And of n = 10, between the 2nd and the 9th.
        assert_eq!(ranks(10, 0.5), Ok((2, 9)));
    }

    #[test]
    fn a_tail_percentile_of_a_small_sample_is_unbounded() {
        let error = ranks(500, 0.999).unwrap_err();
        assert_eq!(error, Unbounded { samples: 500, needed: 3688 });
        assert!(ranks(3688, 0.999).is_ok());
        assert!(ranks(3687, 0.999).is_err(), "min_samples is the least that works");
        assert_eq!(min_samples(0.99), 368);
        assert!(ranks(368, 0.99).is_ok() && ranks(367, 0.99).is_err());
        assert!(ranks(0, 0.5).is_err());
    }

    #[test]
    fn the_interval_holds_the_point_estimate() {
        let mut histogram = new_histogram();
        for v in 1..=10_000u64 {
            histogram.record(v * 1000).unwrap();
        }
        for q in [0.5, 0.9, 0.99, 0.999] {
            let point = histogram.value_at_quantile(q);
            let bounds = interval(&histogram, q).unwrap();
            assert!(bounds.lo <= point && point <= bounds.hi, "q={q}: {bounds:?} vs {point}");
            assert!(bounds.lo < bounds.hi, "q={q}: 10,000 distinct values give a real interval");
        }
        // p99 of 1..=10,000 ms: ranks 9881 and 9920 (±0.2%), read with 3-digit precision.
        let p99 = interval(&histogram, 0.99).unwrap();
        assert!((9_860_000..=9_885_000).contains(&p99.lo), "{p99:?}");
        assert!((9_915_000..=9_935_000).contains(&p99.hi), "{p99:?}");
    }

    /// Coverage: the property the intervals promise, checked over many seeds. Samples of a
    /// known distribution (exponential, mean 1 ms: true p99 = ln(100) ms) are recorded in a
    /// histogram as a run records them; the 95% interval of p99 must hold the true p99 in
    /// about 95% of the runs. The count is binomial(1000, 0.95) if the method is right: 950
    /// ± 14 (2 sd), so 925..=975 fails a broken method and passes a right one.
    #[test]
    fn p99_intervals_hold_the_true_p99_in_95_percent_of_runs() {
        use rand::{Rng as _, SeedableRng as _};
        let true_p99_ns = 100f64.ln() * 1e6;
        let runs = 1000;
        let mut covered = 0;
        for seed in 0..runs {
            let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed);
            let mut histogram = new_histogram();
            for _ in 0..2000 {
                let u: f64 = rng.random();
                histogram.record((-(1.0 - u).ln() * 1e6) as u64).unwrap();
            }
            let bounds = interval(&histogram, 0.99).unwrap();
            covered += u64::from((bounds.lo as f64) <= true_p99_ns && true_p99_ns <= bounds.hi as f64);
        }
        eprintln!("coverage: the 95% interval held the true p99 in {covered} of {runs} runs");
        assert!((925..=975).contains(&covered), "the 95% interval held the true p99 in {covered} of {runs} runs");
    }
}
