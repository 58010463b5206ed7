//! Latency models of simulated and networked backends, written as short specs:
//!
//! | spec | model |
//! |---|---|
//! | `5ms` or `constant:5ms` | always 5 ms |
//! | `uniform:0ms..10ms` | uniform in [0, 10 ms] |
//! | `exp:5ms` | exponential with mean 5 ms |
//! | `lognormal:5ms,0.5` | log-normal with median 5 ms and σ = 0.5 (of the log) |
//!
//! Durations are written as humans write them (`500us`, `5ms`, `1s`); a bare `0` is zero.
//! The same spec drives the in-process simulation and `stratbench serve backend --latency`.

use rand::Rng;
use rand_distr::{Distribution, Exp, LogNormal};
use std::fmt;
use std::time::Duration;
use workloads::units::HumanDuration;

/// The largest latency a model may produce: a typo must not park a request for a day.
pub const MAX_LATENCY: Duration = Duration::from_secs(3600);

/// How long a backend takes to answer one request.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LatencyModel {
    Constant(Duration),
    Uniform { low: Duration, high: Duration },
    Exponential { mean: Duration },
    LogNormal { median: Duration, sigma: f64 },
}

impl LatencyModel {
    /// Parses a spec (see the module doc); the error says what is wrong and shows the forms.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let spec = spec.trim();
        let (kind, rest) = spec.split_once(':').unwrap_or(("constant", spec));
        let model = match kind.trim() {
            "constant" => LatencyModel::Constant(duration(rest)?),
            "uniform" => {
                let (low, high) = rest.split_once("..").ok_or_else(|| format!("`{spec}`: uniform needs LOW..HIGH"))?;
                let (low, high) = (duration(low)?, duration(high)?);
                if low > high {
                    return Err(format!("`{spec}`: the low bound is above the high bound"));
                }
                LatencyModel::Uniform { low, high }
            }
            "exp" | "exponential" => LatencyModel::Exponential { mean: duration(rest)? },
            "lognormal" => {
                let (median, sigma) =
                    rest.split_once(',').ok_or_else(|| format!("`{spec}`: lognormal needs MEDIAN,SIGMA"))?;
                let sigma: f64 =
                    sigma.trim().parse().map_err(|_| format!("`{spec}`: sigma `{sigma}` is not a number"))?;
                if !(0.0..=10.0).contains(&sigma) {
                    return Err(format!("`{spec}`: sigma must be from 0 to 10"));
                }
                LatencyModel::LogNormal { median: duration(median)?, sigma }
            }
            other => return Err(format!("`{spec}`: unknown latency model `{other}` ({FORMS})")),
        };
        Ok(model)
    }

    /// Draws one latency.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> Duration {
        let nanos = match *self {
            LatencyModel::Constant(d) => return d,
            LatencyModel::Uniform { low, high } if low == high => return low,
            LatencyModel::Uniform { low, high } => rng.random_range(low.as_nanos() as f64..=high.as_nanos() as f64),
            LatencyModel::Exponential { mean } if mean.is_zero() => return Duration::ZERO,
            LatencyModel::Exponential { mean } => {
                Exp::new(1.0 / mean.as_nanos() as f64).expect("positive mean").sample(rng)
            }
            LatencyModel::LogNormal { median, .. } if median.is_zero() => return Duration::ZERO,
            LatencyModel::LogNormal { median, sigma } => {
                LogNormal::new((median.as_nanos() as f64).ln(), sigma).expect("valid sigma").sample(rng)
            }
        };
        Duration::from_nanos(nanos as u64).min(MAX_LATENCY)
    }

    /// The mean latency.
    pub fn mean(&self) -> Duration {
        match *self {
            LatencyModel::Constant(d) => d,
            LatencyModel::Uniform { low, high } => (low + high) / 2,
            LatencyModel::Exponential { mean } => mean,
            LatencyModel::LogNormal { median, sigma } => median.mul_f64((sigma * sigma / 2.0).exp()),
        }
    }
}

const FORMS: &str = "write 5ms, constant:5ms, uniform:0ms..10ms, exp:5ms or lognormal:5ms,0.5";

fn duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    let parsed = HumanDuration::parse(text).map_err(|e| format!("{e} ({FORMS})"))?.0;
    if parsed > MAX_LATENCY {
        return Err(format!("`{text}` is longer than the longest latency allowed, {}", HumanDuration(MAX_LATENCY)));
    }
    Ok(parsed)
}

impl fmt::Display for LatencyModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = |d: Duration| HumanDuration(d).to_string().replace(' ', "");
        match *self {
            LatencyModel::Constant(value) => write!(f, "constant:{}", d(value)),
            LatencyModel::Uniform { low, high } => write!(f, "uniform:{}..{}", d(low), d(high)),
            LatencyModel::Exponential { mean } => write!(f, "exp:{}", d(mean)),
            LatencyModel::LogNormal { median, sigma } => write!(f, "lognormal:{},{sigma}", d(median)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use workloads::rng::{Stream, stream_rng};

    #[test]
    fn specs_parse_and_print_back() {
        for spec in ["constant:5ms", "uniform:0s..10ms", "exp:5ms", "lognormal:5ms,0.5"] {
            let model = LatencyModel::parse(spec).unwrap();
            assert_eq!(LatencyModel::parse(&model.to_string()).unwrap(), model, "{spec}");
        }
        assert_eq!(LatencyModel::parse("5ms").unwrap(), LatencyModel::Constant(Duration::from_millis(5)));
        assert_eq!(
            LatencyModel::parse("uniform:0..1s").unwrap(),
            LatencyModel::Uniform { low: Duration::ZERO, high: Duration::from_secs(1) }
        );
    }

    #[test]
    fn bad_specs_say_why() {
        for (spec, needle) in [
            ("gauss:5ms", "gauss"),
            ("uniform:5ms", "LOW..HIGH"),
            ("uniform:9ms..1ms", "above"),
            ("lognormal:5ms", "SIGMA"),
            ("lognormal:5ms,x", "x"),
            ("fast", "fast"),
            ("2h", "longest"),
        ] {
            let message = LatencyModel::parse(spec).unwrap_err();
            assert!(message.contains(needle), "{spec}: {message}");
        }
    }

    #[test]
    fn samples_have_the_model_mean() {
        let mut rng = stream_rng(1, Stream::Target, 0);
        for spec in ["uniform:0ms..10ms", "exp:5ms", "lognormal:5ms,0.5", "3ms"] {
            let model = LatencyModel::parse(spec).unwrap();
            let n = 20_000;
            let mean = (0..n).map(|_| model.sample(&mut rng).as_secs_f64()).sum::<f64>() / f64::from(n);
            let expected = model.mean().as_secs_f64();
            assert!((mean - expected).abs() < 0.05 * expected, "{spec}: mean {mean} vs {expected}");
        }
    }
}
