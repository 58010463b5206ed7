//! Parameters of the balancing family, read from a scenario's `[params]` table, and the
//! backends they describe.
//!
//! | name | default | meaning |
//! |---|---|---|
//! | `latency` | `constant:1ms` | every backend's latency model (see [`latency`](super::latency)) |
//! | `latencies` | — | one latency model per backend, overriding `latency` |
//! | `capacity` | unlimited | requests a backend serves at once; more wait in its queue |
//! | `capacities` | — | one capacity per backend |
//! | `error_rate` | 0 | fraction of requests a backend answers with an error |
//! | `error_rates` | — | one error rate per backend |
//! | `weights` | all 1 | backend weights (weighted strategies and the hash ring) |
//! | `balancers` | 1 | independent balancer instances sharing the backends; worker w uses instance w mod n |
//! | `ewma_decay` | `10s` | peak-EWMA decay time (`p2c-ewma`) |
//! | `ewma_default_rtt` | `30ms` | peak-EWMA estimate of a backend not yet heard from |
//! | `vnodes` | 160 | ring points per backend of weight 1 (hash strategies) |
//! | `epsilon` | 0.25 | load slack of `bounded-load` |
//!
//! Failure handling ([`failure`](super::failure), off by default):
//!
//! | name | default | meaning |
//! |---|---|---|
//! | `retries` | 0 | retries of a failed request, each on a backend it has not tried |
//! | `retry_on` | `["refused", "timeout"]` | which failures are retried (`refused`, `5xx`, `timeout`) |
//! | `retry_budget` | 0.2 | retry tokens each request deposits (reserve 10): retries ≤ budget × requests + 10 |
//! | `attempt_timeout` | none (proxy: 30s) | an attempt without an answer by then fails as `timeout` |
//! | `max_fails` | 0 (off) | nginx: this many failures within `fail_timeout` mark a backend down for `fail_timeout` |
//! | `fail_timeout` | `10s` | nginx's window and time down |
//! | `outlier_consecutive_errors` | 0 (off) | Envoy: this many failures in a row eject a backend |
//! | `outlier_success_rate_stdev` | off | Envoy: eject backends whose success rate is below mean − this × stdev |
//! | `outlier_min_requests` | 100 | requests in an interval for a backend to count in the success-rate detector |
//! | `outlier_interval` | `10s` | how often the success-rate detector runs |
//! | `ejection_time` | `30s` | an ejection lasts this × the times the backend was ejected (at most 300 s) |
//! | `max_ejection_percent` | 10 | the most backends ejected at once, in percent (at least one) |

use super::BalancingError;
use super::failure::FailureParams;
use super::latency::LatencyModel;
use super::load::EwmaSettings;
use super::readers::{duration, invalid, number, whole};
use std::collections::BTreeMap;
use std::time::Duration;

/// The most requests a simulated or networked backend serves at once, when limited.
pub const MAX_CAPACITY: u64 = 1_000_000;
/// The most balancer instances in one run.
pub const MAX_BALANCERS: u64 = 10_000;

/// One backend as the scenario describes it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BackendSpec {
    pub latency: LatencyModel,
    /// Requests served at once; `None` is unlimited.
    pub capacity: Option<u32>,
    pub error_rate: f64,
    pub weight: f64,
}

/// The family's parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct BalancingParams {
    pub latency: LatencyModel,
    pub latencies: Option<Vec<LatencyModel>>,
    pub capacity: Option<u32>,
    pub capacities: Option<Vec<u32>>,
    pub error_rate: f64,
    pub error_rates: Option<Vec<f64>>,
    pub weights: Option<Vec<f64>>,
    pub balancers: u32,
    pub ewma: EwmaSettings,
    pub vnodes: u32,
    pub epsilon: f64,
    /// Failure handling (off by default).
    pub failure: FailureParams,
}

impl Default for BalancingParams {
    fn default() -> Self {
        BalancingParams {
            latency: LatencyModel::Constant(Duration::from_millis(1)),
            latencies: None,
            capacity: None,
            capacities: None,
            error_rate: 0.0,
            error_rates: None,
            weights: None,
            balancers: 1,
            ewma: EwmaSettings::default(),
            vnodes: 160,
            epsilon: 0.25,
            failure: FailureParams::default(),
        }
    }
}

impl BalancingParams {
    /// The parameter names this family knows.
    pub const NAMES: [&'static str; 12] = [
        "latency",
        "latencies",
        "capacity",
        "capacities",
        "error_rate",
        "error_rates",
        "weights",
        "balancers",
        "ewma_decay",
        "ewma_default_rtt",
        "vnodes",
        "epsilon",
    ];

    /// Reads the `[params]` table; unknown names and bad values are errors naming the
    /// parameter.
    pub fn from_table(table: &BTreeMap<String, toml::Value>) -> Result<Self, BalancingError> {
        let mut params = BalancingParams::default();
        for (name, value) in table {
            match name.as_str() {
                "latency" => params.latency = latency(value, "latency")?,
                "latencies" => params.latencies = Some(list(value, "latencies", latency)?),
                "capacity" => params.capacity = Some(capacity(value, "capacity")?),
                "capacities" => params.capacities = Some(list(value, "capacities", capacity)?),
                "error_rate" => params.error_rate = fraction(value, "error_rate")?,
                "error_rates" => params.error_rates = Some(list(value, "error_rates", fraction)?),
                "weights" => params.weights = Some(list(value, "weights", weight)?),
                "balancers" => params.balancers = whole(value, "balancers", MAX_BALANCERS)? as u32,
                "ewma_decay" => params.ewma.decay = duration(value, "ewma_decay")?,
                "ewma_default_rtt" => params.ewma.default_rtt = duration(value, "ewma_default_rtt")?,
                "vnodes" => params.vnodes = whole(value, "vnodes", 1 << 16)? as u32,
                "epsilon" => params.epsilon = positive(value, "epsilon")?,
                other if params.failure.read(other, value)? => {}
                other => {
                    let known: Vec<&str> = Self::NAMES.iter().chain(&FailureParams::NAMES).copied().collect();
                    return Err(invalid(
                        "params",
                        format!("unknown parameter `{other}` (known: {})", known.join(", ")),
                    ));
                }
            }
        }
        Ok(params)
    }

    /// The `count` backends the parameters describe; per-backend lists must have `count`
    /// entries.
    pub fn backends(&self, count: u32) -> Result<Vec<BackendSpec>, BalancingError> {
        let count = count as usize;
        let per_backend = |param: &'static str, len: Option<usize>| match len {
            Some(len) if len != count => {
                Err(invalid(param, format!("has {len} entries but there are {count} backends (`nodes`)")))
            }
            _ => Ok(()),
        };
        per_backend("latencies", self.latencies.as_ref().map(Vec::len))?;
        per_backend("capacities", self.capacities.as_ref().map(Vec::len))?;
        per_backend("error_rates", self.error_rates.as_ref().map(Vec::len))?;
        per_backend("weights", self.weights.as_ref().map(Vec::len))?;
        Ok((0..count)
            .map(|i| BackendSpec {
                latency: self.latencies.as_ref().map_or(self.latency, |l| l[i]),
                capacity: self.capacities.as_ref().map_or(self.capacity, |c| Some(c[i])),
                error_rate: self.error_rates.as_ref().map_or(self.error_rate, |e| e[i]),
                weight: self.weights.as_ref().map_or(1.0, |w| w[i]),
            })
            .collect())
    }
}

fn latency(value: &toml::Value, param: &'static str) -> Result<LatencyModel, BalancingError> {
    let text = value.as_str().ok_or_else(|| invalid(param, format!("must be a string like \"5ms\", got {value}")))?;
    LatencyModel::parse(text).map_err(|message| invalid(param, message))
}

fn list<T>(
    value: &toml::Value,
    param: &'static str,
    item: fn(&toml::Value, &'static str) -> Result<T, BalancingError>,
) -> Result<Vec<T>, BalancingError> {
    let items = value.as_array().ok_or_else(|| invalid(param, format!("must be a list, got {value}")))?;
    items.iter().map(|v| item(v, param)).collect()
}

fn capacity(value: &toml::Value, param: &'static str) -> Result<u32, BalancingError> {
    whole(value, param, MAX_CAPACITY).map(|c| c as u32)
}

fn fraction(value: &toml::Value, param: &'static str) -> Result<f64, BalancingError> {
    number(value)
        .filter(|v| (0.0..=1.0).contains(v))
        .ok_or_else(|| invalid(param, format!("must be a fraction from 0 to 1, got {value}")))
}

fn positive(value: &toml::Value, param: &'static str) -> Result<f64, BalancingError> {
    number(value).filter(|v| *v > 0.0).ok_or_else(|| invalid(param, format!("must be a positive number, got {value}")))
}

fn weight(value: &toml::Value, param: &'static str) -> Result<f64, BalancingError> {
    positive(value, param)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> BTreeMap<String, toml::Value> {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn per_backend_lists_override_the_common_value() {
        let params = BalancingParams::from_table(&table(
            "latency = \"2ms\"\nlatencies = [\"1ms\", \"uniform:0..5ms\"]\ncapacity = 4\nweights = [1, 3]",
        ))
        .unwrap();
        let backends = params.backends(2).unwrap();
        assert_eq!(backends[0].latency, LatencyModel::Constant(Duration::from_millis(1)));
        assert_eq!(backends[1].capacity, Some(4));
        assert_eq!(backends[1].weight, 3.0);
        let message = params.backends(3).unwrap_err().to_string();
        assert!(message.contains("latencies") && message.contains("3 backends"), "{message}");
    }

    #[test]
    fn bad_values_name_the_parameter() {
        for (text, needle) in [
            ("latency = \"gauss:1ms\"", "latency"),
            ("latencies = [\"1ms\", 3]", "latencies"),
            ("capacity = 0", "capacity"),
            ("error_rate = 1.5", "error_rate"),
            ("weights = [1, -1]", "weights"),
            ("ewma_decay = \"0s\"", "ewma_decay"),
            ("balancer = 2", "balancer"),
        ] {
            let message = BalancingParams::from_table(&table(text)).unwrap_err().to_string();
            assert!(message.contains(needle), "{text}: {message}");
        }
    }
}
