//! How sure a figure is: pure statistics over what a run recorded.
//!
//! - [`quantile_ci`]: distribution-free confidence intervals of percentiles from order
//!   statistics, read off an HdrHistogram (the method Le Boudec's *Performance Evaluation*
//!   and Lancet, USENIX ATC '19, use for tail latencies), and the sample size below which a
//!   percentile cannot be bounded at all.
//! - [`rank_test`]: medians and the Mann–Whitney rank test on the repetitions of a run, by
//!   which `compare` calls a regression.
//! - [`trend`]: the Mann–Kendall trend test with Sen's slope, to say whether a run's
//!   per-interval figures drifted (the system still warming, leaking or throttling).
//! - [`mean_interval`]: the mean of repetitions with its Student t-interval.
//!
//! Nothing here does I/O or knows a family; the output layer fills columns from it, `sweep`
//! judges objectives and `compare` regressions with it.

pub mod quantile_ci;
pub mod rank_test;
pub mod trend;

use statrs::distribution::{ContinuousCDF as _, StudentsT};

/// The confidence level of every interval the harness prints.
pub const CONFIDENCE: f64 = 0.95;

/// A mean with its two-sided [`CONFIDENCE`] interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MeanInterval {
    pub mean: f64,
    pub lo: f64,
    pub hi: f64,
}

/// The mean of `values` and its Student t-interval (repetitions are few, their spread
/// unknown); `None` for fewer than two values, which bound nothing.
pub fn mean_interval(values: &[f64]) -> Option<MeanInterval> {
    let n = values.len();
    if n < 2 || values.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let t = StudentsT::new(0.0, 1.0, (n - 1) as f64).ok()?.inverse_cdf(1.0 - (1.0 - CONFIDENCE) / 2.0);
    let half = t * (variance / n as f64).sqrt();
    Some(MeanInterval { mean, lo: mean - half, hi: mean + half })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_interval_matches_the_textbook_value() {
        // n = 5, mean 10, sample variance 2.5: t(0.975, 4) = 2.7764, half-width
        // 2.7764 · sqrt(2.5 / 5) = 1.9632.
        let values = [8.0, 9.0, 10.0, 11.0, 12.0];
        let interval = mean_interval(&values).unwrap();
        assert!((interval.mean - 10.0).abs() < 1e-12);
        assert!((interval.hi - interval.mean - 1.9632).abs() < 1e-3, "{interval:?}");
        assert!((interval.mean - interval.lo - 1.9632).abs() < 1e-3);
    }

    #[test]
    fn one_repetition_has_no_interval() {
        assert_eq!(mean_interval(&[5.0]), None);
        assert_eq!(mean_interval(&[]), None);
    }
}
