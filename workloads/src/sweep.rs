//! Sweeps: the search for a strategy's capacity at a latency objective.
//!
//! A sweep runs one scenario open loop at increasing rates — geometric steps from `start`,
//! each `factor` times the last, then a bisection between the last rate that held the
//! objective and the first that broke it — until the bracket is within `resolution` or
//! `max_steps` runs were made. The objective ([`Objective`]) is a latency percentile under a
//! bound, optionally with an error-rate bound: `p99<10ms`, `p99.9<50ms,errors<1%`.
//!
//! ```toml
//! [scenario.sweep]
//! slo = "p99<10ms"
//! start = 500.0
//! factor = 2.0
//! max_rate = 100000.0
//! ```

use crate::units::{HumanDuration, Positive, Rate};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Duration;

/// The most runs one strategy's sweep makes.
pub const MAX_STEPS_LIMIT: u64 = 50;
/// Defaults of a sweep's settings.
pub const DEFAULT_START_OPS_S: f64 = 100.0;
pub const DEFAULT_FACTOR: f64 = 2.0;
pub const DEFAULT_MAX_STEPS: u64 = 20;
pub const DEFAULT_RESOLUTION: f64 = 0.05;

/// A latency objective: the `quantile` of latency at most `bound`, and at most
/// `error_rate_max` of operations failed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Objective {
    /// In (0, 1): 0.99 for p99.
    pub quantile: f64,
    pub bound: Duration,
    pub error_rate_max: Option<f64>,
}

impl Objective {
    /// Parses `p99<10ms`, `p99.9<50ms`, `p50<1ms,errors<1%` (clauses comma-separated; the
    /// error bound also reads as a fraction, `errors<0.01`).
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut latency = None;
        let mut error_rate_max = None;
        for clause in text.split(',').map(str::trim).filter(|c| !c.is_empty()) {
            let (left, right) = clause
                .split_once('<')
                .ok_or_else(|| format!("`{clause}` is not `pNN<DURATION` or `errors<PCT%` (example: p99<10ms)"))?;
            let (left, right) = (left.trim(), right.trim_start_matches('=').trim());
            if left == "errors" || left == "error_rate" {
                error_rate_max = Some(parse_fraction(right)?);
            } else {
                latency = Some((parse_percentile(left)?, HumanDuration::parse(right)?.0));
            }
        }
        let (quantile, bound) =
            latency.ok_or_else(|| format!("`{text}` names no latency percentile (example: p99<10ms)"))?;
        if bound.is_zero() {
            return Err(format!("`{text}`: a latency bound of zero cannot be met"));
        }
        Ok(Objective { quantile, bound, error_rate_max })
    }

    /// The percentile's name: `p99`, `p99.9`.
    pub fn percentile_name(&self) -> String {
        let percent = format!("{:.4}", self.quantile * 100.0);
        format!("p{}", percent.trim_end_matches('0').trim_end_matches('.'))
    }
}

impl fmt::Display for Objective {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}<{}", self.percentile_name(), HumanDuration(self.bound))?;
        if let Some(max) = self.error_rate_max {
            write!(f, ",errors<{}%", max * 100.0)?;
        }
        Ok(())
    }
}

fn parse_percentile(text: &str) -> Result<f64, String> {
    let number = text.strip_prefix('p').ok_or_else(|| format!("`{text}` is not a percentile like p99 or p99.9"))?;
    let percent: f64 = number.parse().map_err(|_| format!("`{text}` is not a percentile like p99 or p99.9"))?;
    if !(percent > 0.0 && percent < 100.0) {
        return Err(format!("`{text}`: a percentile is between p0 and p100 (exclusive)"));
    }
    Ok(percent / 100.0)
}

fn parse_fraction(text: &str) -> Result<f64, String> {
    let (number, scale) = match text.strip_suffix('%') {
        Some(number) => (number, 100.0),
        None => (text, 1.0),
    };
    let value: f64 = number.trim().parse().map_err(|_| format!("`{text}` is not an error rate like 1% or 0.01"))?;
    let fraction = value / scale;
    if !(0.0..1.0).contains(&fraction) {
        return Err(format!("`{text}`: an error-rate bound is from 0% to under 100%"));
    }
    Ok(fraction)
}

/// `[scenario.sweep]` as written; every field optional so that the command line can lay its
/// flags over it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepSpec {
    /// The objective, `p99<10ms` (see [`Objective::parse`]).
    pub slo: Option<String>,
    /// The first rate, in operations per second.
    pub start: Option<Rate>,
    /// Each geometric step's rate over the last one's (more than 1).
    pub factor: Option<f64>,
    /// The highest rate tried.
    pub max_rate: Option<Rate>,
    /// The most runs per strategy.
    pub max_steps: Option<Positive>,
    /// The bisection stops when the failing rate is within this fraction above the holding
    /// one.
    pub resolution: Option<f64>,
}

/// A sweep's settings, checked.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sweep {
    pub objective: Objective,
    pub start_ops_s: f64,
    pub factor: f64,
    pub max_rate_ops_s: f64,
    pub max_steps: u64,
    pub resolution: f64,
}

impl SweepSpec {
    /// `top` laid over `self`, field by field.
    pub fn overlay(&self, top: &SweepSpec) -> SweepSpec {
        SweepSpec {
            slo: top.slo.clone().or_else(|| self.slo.clone()),
            start: top.start.or(self.start),
            factor: top.factor.or(self.factor),
            max_rate: top.max_rate.or(self.max_rate),
            max_steps: top.max_steps.or(self.max_steps),
            resolution: top.resolution.or(self.resolution),
        }
    }

    /// Checks every field; the error is (field, message). `rate_ops_s` is the scenario's own
    /// rate, the default start; `max_rate_ops_s` the most one driver schedules.
    pub fn resolve(&self, rate_ops_s: Option<f64>, max_rate_ops_s: f64) -> Result<Sweep, (String, String)> {
        let field = |name: &str, message: String| (format!("sweep.{name}"), message);
        let slo = self.slo.as_deref().ok_or_else(|| field("slo", "is required (for example \"p99<10ms\")".into()))?;
        let objective = Objective::parse(slo).map_err(|m| field("slo", m))?;
        let factor = self.factor.unwrap_or(DEFAULT_FACTOR);
        if !(factor > 1.0 && factor <= 10.0) {
            return Err(field("factor", format!("must be more than 1 and at most 10, got {factor}")));
        }
        let resolution = self.resolution.unwrap_or(DEFAULT_RESOLUTION);
        if !(resolution > 0.0 && resolution < factor - 1.0) {
            return Err(field("resolution", format!("must be above 0 and below factor - 1, got {resolution}")));
        }
        let max_steps = self.max_steps.map_or(DEFAULT_MAX_STEPS, |s| s.0);
        if max_steps > MAX_STEPS_LIMIT {
            return Err(field("max_steps", format!("must be at most {MAX_STEPS_LIMIT}, got {max_steps}")));
        }
        let max_rate = self.max_rate.map_or(max_rate_ops_s, |r| r.0);
        if max_rate > max_rate_ops_s {
            return Err(field("max_rate", format!("must be at most {max_rate_ops_s}, got {max_rate}")));
        }
        let start = self.start.map(|r| r.0).or(rate_ops_s).unwrap_or(DEFAULT_START_OPS_S);
        if start > max_rate {
            return Err(field("start", format!("{start} ops/s is above max_rate {max_rate}")));
        }
        Ok(Sweep { objective, start_ops_s: start, factor, max_rate_ops_s: max_rate, max_steps, resolution })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objectives_read_any_percentile_and_an_error_bound() {
        let o = Objective::parse("p99<10ms").unwrap();
        assert_eq!((o.quantile, o.bound, o.error_rate_max), (0.99, Duration::from_millis(10), None));
        let o = Objective::parse("p99.9 < 50ms, errors<1%").unwrap();
        assert!((o.quantile - 0.999).abs() < 1e-12);
        assert_eq!(o.error_rate_max, Some(0.01));
        assert_eq!(o.to_string(), "p99.9<50ms,errors<1%");
        assert_eq!(Objective::parse("p50<1ms,errors<0.05").unwrap().error_rate_max, Some(0.05));
    }

    #[test]
    fn bad_objectives_say_what_is_wrong() {
        for (text, says) in [
            ("p99", "not `pNN<DURATION`"),
            ("q99<10ms", "not a percentile"),
            ("p100<10ms", "between p0 and p100"),
            ("p99<fast", "cannot read `fast`"),
            ("errors<1%", "names no latency percentile"),
            ("p99<10ms,errors<150%", "from 0% to under 100%"),
            ("p99<0ms", "zero cannot be met"),
        ] {
            let error = Objective::parse(text).unwrap_err();
            assert!(error.contains(says), "{text}: {error}");
        }
    }

    #[test]
    fn settings_are_checked_against_each_other() {
        let spec = |slo: &str| SweepSpec { slo: Some(slo.into()), ..SweepSpec::default() };
        let sweep = spec("p99<10ms").resolve(Some(500.0), 1e7).unwrap();
        assert_eq!((sweep.start_ops_s, sweep.factor, sweep.max_steps), (500.0, 2.0, DEFAULT_MAX_STEPS));
        assert_eq!(SweepSpec::default().resolve(None, 1e7).unwrap_err().0, "sweep.slo");
        let too_fast = SweepSpec { start: Some(Rate(2e7)), ..spec("p99<1ms") };
        assert_eq!(too_fast.resolve(None, 1e7).unwrap_err().0, "sweep.start");
        let flat = SweepSpec { factor: Some(1.0), ..spec("p99<1ms") };
        assert_eq!(flat.resolve(None, 1e7).unwrap_err().0, "sweep.factor");
    }
}
