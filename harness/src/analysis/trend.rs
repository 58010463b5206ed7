//! Did a run's figures drift? The Mann–Kendall trend test over its per-interval values, with
//! Sen's slope for the size of the drift.
//!
//! Mann–Kendall counts, over every pair of intervals, whether the later one is higher or
//! lower (S = Σ sign(xⱼ − xᵢ)); without a trend S is centred on 0 with a known variance
//! (ties corrected), and the normal approximation gives a two-sided p-value. It assumes no
//! shape for the values, and one outlier interval moves S by at most n − 1. Sen's slope, the
//! median of the pairwise slopes, sizes the drift the same robust way.
//!
//! A run is called non-stationary when a figure's trend is both significant
//! ([`SIGNIFICANCE`]) and large ([`DRIFT_MIN_FRACTION`] of its median over the run): long
//! runs make tiny, harmless trends significant, and a drift of a percent does not change
//! which strategy a reader picks.

use statrs::distribution::{ContinuousCDF as _, Normal};

/// The p-value below which a trend is significant. Every run tests two figures, and a
/// session runs many strategies: 1% keeps false alarms rare.
pub const SIGNIFICANCE: f64 = 0.01;
/// The least change over the run, as a fraction of the figure's median, that counts as drift.
pub const DRIFT_MIN_FRACTION: f64 = 0.10;
/// The fewest intervals a trend can be found in at [`SIGNIFICANCE`]: with 6, even a strictly
/// monotone series has p = 0.009.
pub const MIN_INTERVALS: usize = 6;

/// The result of the test on one series.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Trend {
    /// Two-sided p-value of "no trend".
    pub p_value: f64,
    /// Sen's slope, per interval.
    pub slope_per_interval: f64,
    /// The change over the whole series (slope × (n − 1)) as a fraction of its median.
    pub change_fraction: f64,
}

impl Trend {
    /// Whether this is a drift worth reporting.
    pub fn is_drift(&self) -> bool {
        self.p_value < SIGNIFICANCE && self.change_fraction.abs() >= DRIFT_MIN_FRACTION
    }
}

/// Mann–Kendall and Sen's slope over `values` (in time order); `None` for fewer than
/// [`MIN_INTERVALS`] values or a non-positive median.
pub fn mann_kendall(values: &[f64]) -> Option<Trend> {
    let n = values.len();
    if n < MIN_INTERVALS || values.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let mut s = 0i64;
    let mut slopes = Vec::with_capacity(n * (n - 1) / 2);
    for i in 0..n {
        for j in i + 1..n {
            s += match values[j].partial_cmp(&values[i]) {
                Some(std::cmp::Ordering::Greater) => 1,
                Some(std::cmp::Ordering::Less) => -1,
                _ => 0,
            };
            slopes.push((values[j] - values[i]) / (j - i) as f64);
        }
    }
    let variance = variance_of_s(values);
    let z = match s {
        0 => 0.0,
        s if s > 0 => (s - 1) as f64 / variance.sqrt(),
        s => (s + 1) as f64 / variance.sqrt(),
    };
    let normal = Normal::new(0.0, 1.0).expect("the standard normal");
    let p_value = if variance > 0.0 { 2.0 * (1.0 - normal.cdf(z.abs())) } else { 1.0 };
    let slope = median(&mut slopes);
    let level = median(&mut values.to_vec());
    (level > 0.0).then(|| Trend { p_value, slope_per_interval: slope, change_fraction: slope * (n - 1) as f64 / level })
}

/// Var(S) with the correction for groups of tied values.
fn variance_of_s(values: &[f64]) -> f64 {
    let term = |t: f64| t * (t - 1.0) * (2.0 * t + 5.0);
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let ties: f64 = sorted.chunk_by(|a, b| a == b).map(|group| term(group.len() as f64)).sum();
    (term(values.len() as f64) - ties) / 18.0
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len().is_multiple_of(2) { (values[mid - 1] + values[mid]) / 2.0 } else { values[mid] }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rising_series_is_a_drift() {
        let rising: Vec<f64> = (0..10).map(|i| 100.0 + 5.0 * i as f64 + if i % 2 == 0 { 1.0 } else { -1.0 }).collect();
        let trend = mann_kendall(&rising).unwrap();
        assert!(trend.p_value < 0.001, "{trend:?}");
        assert!((trend.slope_per_interval - 5.0).abs() < 1.0, "{trend:?}");
        assert!(trend.is_drift());
    }

    #[test]
    fn noise_around_a_level_is_not_a_drift() {
        let flat = [100.0, 103.0, 98.0, 101.0, 99.0, 102.0, 97.0, 100.0, 104.0, 99.0];
        let trend = mann_kendall(&flat).unwrap();
        assert!(trend.p_value > 0.3, "{trend:?}");
        assert!(!trend.is_drift());
    }

    #[test]
    fn a_significant_but_tiny_trend_is_not_a_drift() {
        let creeping: Vec<f64> = (0..50).map(|i| 1000.0 + 0.1 * i as f64).collect();
        let trend = mann_kendall(&creeping).unwrap();
        assert!(trend.p_value < SIGNIFICANCE);
        assert!(!trend.is_drift(), "0.5% over the run: {trend:?}");
    }

    #[test]
    fn matches_a_published_example() {
        // Six strictly increasing values: S = 15, Var(S) = 6·5·17/18 = 28.33,
        // Z = 14 / 5.323 = 2.630, p = 0.0085.
        let trend = mann_kendall(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
        assert!((trend.p_value - 0.0085).abs() < 0.0005, "{trend:?}");
        assert_eq!(mann_kendall(&[1.0, 2.0, 3.0, 4.0, 5.0]), None, "too few intervals");
    }
}
