//! Medians and the Mann–Whitney rank test on the repetitions of a run, pure maths: `compare`
//! judges regressions with them and the table's verdict ranks strategies by the median. They
//! sit here, below both, so that the output layer does not import `compare`.
//!
//! A timing that moved by more than its threshold is only called a regression when the
//! repetitions say so; the rank test asks how likely it is that the current repetitions rank
//! this high against the baseline's by chance alone. It makes no assumption about the shape
//! of the noise (timings on a shared machine are skewed, with occasional outliers), and its
//! exact distribution is computed here, ties included, by counting the subsets of ranks.

/// The largest pooled sample for which the exact distribution is computed; beyond it the
/// normal approximation is used (and is good).
const EXACT_MAX_SAMPLES: usize = 60;

/// The median of `values` (mean of the two middle values for an even count); `None` if empty.
pub fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    Some(if sorted.len().is_multiple_of(2) { (sorted[mid - 1] + sorted[mid]) / 2.0 } else { sorted[mid] })
}

/// One-sided Mann–Whitney U test: the probability, if `current` and `baseline` came from the
/// same distribution, that `current` would rank at least as high as it does. Small values say
/// that `current` is really larger. `None` if a side is empty.
pub fn p_value_greater(baseline: &[f64], current: &[f64]) -> Option<f64> {
    if baseline.is_empty() || current.is_empty() {
        return None;
    }
    let ranks = doubled_midranks(baseline, current);
    let observed: u64 = ranks[baseline.len()..].iter().sum();
    if ranks.len() <= EXACT_MAX_SAMPLES {
        Some(exact_tail(&ranks, current.len(), observed))
    } else {
        Some(normal_tail(&ranks, baseline.len(), current.len(), observed))
    }
}

/// Ranks (1-based, ties sharing their mean rank) of the pooled sample, baseline first, doubled
/// so that every midrank is an integer.
fn doubled_midranks(baseline: &[f64], current: &[f64]) -> Vec<u64> {
    let pooled: Vec<f64> = baseline.iter().chain(current).copied().collect();
    let mut order: Vec<usize> = (0..pooled.len()).collect();
    order.sort_by(|a, b| pooled[*a].total_cmp(&pooled[*b]));
    let mut ranks = vec![0u64; pooled.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && pooled[order[end]] == pooled[order[start]] {
            end += 1;
        }
        // Positions start..end (0-based) share the ranks start+1..=end: their mean, doubled.
        let doubled = (start + 1 + end) as u64;
        for position in &order[start..end] {
            ranks[*position] = doubled;
        }
        start = end;
    }
    ranks
}

/// P(sum of a random `take`-subset of `ranks` >= `observed`), by counting subsets per sum.
fn exact_tail(ranks: &[u64], take: usize, observed: u64) -> f64 {
    let max_sum: u64 = ranks.iter().sum();
    let width = max_sum as usize + 1;
    // ways[k][s]: subsets of size k of the ranks seen so far whose sum is s.
    let mut ways = vec![vec![0f64; width]; take + 1];
    ways[0][0] = 1.0;
    for (seen, rank) in ranks.iter().enumerate() {
        let rank = *rank as usize;
        for k in (1..=take.min(seen + 1)).rev() {
            let (lower, upper) = ways.split_at_mut(k);
            for s in (rank..width).rev() {
                upper[0][s] += lower[k - 1][s - rank];
            }
        }
    }
    let total: f64 = ways[take].iter().sum();
    let tail: f64 = ways[take][observed as usize..].iter().sum();
    tail / total
}

/// The same tail from the normal approximation, with the tie and continuity corrections.
fn normal_tail(ranks: &[u64], n_baseline: usize, n_current: usize, observed: u64) -> f64 {
    let (n1, n2) = (n_baseline as f64, n_current as f64);
    let n = n1 + n2;
    let mean = n2 * (n + 1.0) / 2.0;
    let mut counts = std::collections::HashMap::new();
    for rank in ranks {
        *counts.entry(*rank).or_insert(0u64) += 1;
    }
    let ties: f64 = counts.values().map(|t| (*t as f64).powi(3) - *t as f64).sum();
    let variance = n1 * n2 / 12.0 * ((n + 1.0) - ties / (n * (n - 1.0)));
    if variance <= 0.0 {
        return 1.0;
    }
    let z = (observed as f64 / 2.0 - mean - 0.5) / variance.sqrt();
    0.5 * erfc(z / std::f64::consts::SQRT_2)
}

/// The complementary error function (Numerical Recipes' erfcc, relative error < 1.2e-7).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98 + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn complete_separation_has_the_smallest_p_value() {
        // C(6,3) = 20 equally likely rank sets; only one puts all of `current` on top.
        let p = p_value_greater(&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0]).unwrap();
        assert!((p - 1.0 / 20.0).abs() < 1e-12, "{p}");
        // C(10,5) = 252.
        let p = p_value_greater(&[1.0, 2.0, 3.0, 4.0, 5.0], &[6.0, 7.0, 8.0, 9.0, 10.0]).unwrap();
        assert!((p - 1.0 / 252.0).abs() < 1e-12, "{p}");
        // The other way round, every arrangement is at least as extreme.
        assert!((p_value_greater(&[4.0, 5.0, 6.0], &[1.0, 2.0, 3.0]).unwrap() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn one_swap_is_the_next_smallest() {
        // Rank sum of current 3+5+6 = 14: sets with sum >= 14 are {4,5,6}, {3,5,6}.
        let p = p_value_greater(&[1.0, 2.0, 4.0], &[3.0, 5.0, 6.0]).unwrap();
        assert!((p - 2.0 / 20.0).abs() < 1e-12, "{p}");
    }

    #[test]
    fn identical_samples_are_not_significant() {
        let p = p_value_greater(&[5.0, 5.0, 5.0], &[5.0, 5.0, 5.0]).unwrap();
        assert!((p - 1.0).abs() < 1e-12, "{p}");
        let p = p_value_greater(&[1.0, 2.0, 3.0], &[1.0, 2.0, 3.0]).unwrap();
        assert!(p > 0.4, "{p}");
    }

    #[test]
    fn normal_approximation_agrees_with_the_exact_count() {
        let baseline: Vec<f64> = (0..30).map(|i| f64::from(i) * 1.7 % 23.0).collect();
        let current: Vec<f64> = (0..30).map(|i| f64::from(i) * 1.3 % 23.0 + 8.0).collect();
        let ranks = doubled_midranks(&baseline, &current);
        let observed: u64 = ranks[30..].iter().sum();
        let exact = exact_tail(&ranks, 30, observed);
        let approx = normal_tail(&ranks, 30, 30, observed);
        assert!((exact - approx).abs() < 0.01, "exact {exact} approx {approx}");
        assert!(exact < 0.05, "a shift of 8 on a spread of 23 over 30 samples is visible: {exact}");
    }

    proptest::proptest! {
        /// p is a probability, and shifting `current` up never makes it larger.
        #[test]
        fn p_values_are_probabilities_and_monotone_in_a_shift(
            baseline in proptest::collection::vec(0.0f64..100.0, 1..8),
            current in proptest::collection::vec(0.0f64..100.0, 1..8),
            shift in 0.0f64..50.0,
        ) {
            let p = p_value_greater(&baseline, &current).unwrap();
            proptest::prop_assert!((0.0..=1.0 + 1e-9).contains(&p));
            let shifted: Vec<f64> = current.iter().map(|v| v + shift).collect();
            let q = p_value_greater(&baseline, &shifted).unwrap();
            proptest::prop_assert!(q <= p + 1e-9, "p {} then {}", p, q);
        }
    }
}
