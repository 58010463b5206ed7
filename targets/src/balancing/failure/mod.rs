//! Failure handling as a layer over any selector: retries on another backend, passive health
//! checks and outlier ejection — what production balancers put between the pick and the
//! network, kept apart from the pick as nginx, Envoy and Finagle keep it.
//!
//! - **Retries** (nginx `proxy_next_upstream` + `proxy_next_upstream_tries`, Envoy retry
//!   policy): a request whose attempt failed in one of the `retry_on` ways (`refused`: the
//!   connection failed or broke before an answer; `5xx`: the backend answered with a server
//!   error; `timeout`: no answer within `attempt_timeout`) is sent again, to a backend it has
//!   not tried yet, up to `retries` times.
//! - **Retry budget** (Finagle's `RetryBudget`, Envoy's `retry_budget`): each request deposits
//!   `retry_budget` tokens (up to a reserve of [`RETRY_BUDGET_RESERVE`]), each retry takes one;
//!   so over any stretch of time retries ≤ `retry_budget` × requests + the reserve, and a
//!   dead fleet cannot turn every request into `retries + 1` attempts.
//! - **Passive health checks** (nginx `max_fails` within `fail_timeout`): `max_fails` failed
//!   attempts within `fail_timeout` mark a backend down for `fail_timeout`; a success resets
//!   the count (nginx resets it when a request succeeds).
//! - **Outlier ejection** (Envoy's outlier detection): `outlier_consecutive_errors` failures
//!   in a row, or (every `outlier_interval`) a success rate below mean − `stdev` × standard
//!   deviation of the backends with at least `outlier_min_requests` requests (when at least
//!   [`SUCCESS_RATE_MIN_HOSTS`] have that many), eject a backend for `ejection_time` × the
//!   number of times it has been ejected (at most [`MAX_EJECTION_TIME`]); at most
//!   `max_ejection_percent` of the backends are ejected at once (but at least one, as Envoy).
//!
//! A backend that is down or ejected is skipped: the selector picks again (with the key
//! rehashed, so hash strategies move to another point of the ring) and, after
//! [`MAX_REPICKS`] tries, the least loaded usable backend is taken. When no backend is
//! usable, the pick stands (Envoy's panic mode): traffic is never refused by the layer itself.
//!
//! The layer keeps no clock: every call takes `now`, so the simulation runs it on virtual
//! time and the proxy on the wall clock — one implementation for both. It is sans-IO: the
//! caller sends each attempt and reports its outcome ([`layer::Request`]).
//!
//! Everything is off by default (`retries = 0`, no health checks, no ejection): a scenario
//! without these parameters measures the selectors alone, as before.

pub mod attempts;
pub mod columns;
pub mod layer;

pub use attempts::{Attempt, FailureMetrics, FaultMark};
pub use layer::{FailureLayer, LayerCounts, Next, Request};

use super::BalancingError;
use super::readers::{duration, invalid, number, whole};
use std::fmt::Write as _;
use std::time::Duration;

/// The most retries of one request.
pub const MAX_RETRIES: u32 = 10;
/// Retry tokens a balancer starts with and can save at most.
pub const RETRY_BUDGET_RESERVE: f64 = 10.0;
/// The most tokens one request may deposit (`retry_budget`).
pub const MAX_RETRY_BUDGET: f64 = 10.0;
/// The longest an ejection lasts, however often the backend was ejected (Envoy's default
/// `max_ejection_time`).
pub const MAX_EJECTION_TIME: Duration = Duration::from_secs(300);
/// The success-rate detector runs only when at least this many backends have enough requests
/// in the interval (Envoy's `success_rate_minimum_hosts`).
pub const SUCCESS_RATE_MIN_HOSTS: usize = 5;
/// How many times the selector is asked again when it picks a backend that is out or was
/// tried already, before the layer takes the next usable one in index order.
pub const MAX_REPICKS: u32 = 8;

/// How one attempt failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FailureKind {
    /// The connection was refused or broke before an answer (nginx's `error`).
    Refused,
    /// The backend answered with a 5xx status.
    ServerError,
    /// No answer within `attempt_timeout`.
    Timeout,
}

impl FailureKind {
    /// The label used in parameters and rows.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::Refused => "refused",
            FailureKind::ServerError => "5xx",
            FailureKind::Timeout => "timeout",
        }
    }

    const ALL: [FailureKind; 3] = [FailureKind::Refused, FailureKind::ServerError, FailureKind::Timeout];
}

/// The failures worth a retry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryOn {
    pub refused: bool,
    pub server_error: bool,
    pub timeout: bool,
}

impl Default for RetryOn {
    /// nginx's default `proxy_next_upstream error timeout`.
    fn default() -> Self {
        RetryOn { refused: true, server_error: false, timeout: true }
    }
}

impl RetryOn {
    /// Whether a failure of `kind` is retried.
    pub fn covers(self, kind: FailureKind) -> bool {
        match kind {
            FailureKind::Refused => self.refused,
            FailureKind::ServerError => self.server_error,
            FailureKind::Timeout => self.timeout,
        }
    }

    /// `refused+5xx+timeout`.
    pub fn describe(self) -> String {
        let kinds: Vec<&str> = FailureKind::ALL.iter().filter(|k| self.covers(**k)).map(|k| k.as_str()).collect();
        if kinds.is_empty() { "nothing".into() } else { kinds.join("+") }
    }
}

/// The layer's parameters (scenario `[params]`; see the family's parameter table).
#[derive(Clone, Debug, PartialEq)]
pub struct FailureParams {
    pub retries: u32,
    pub retry_on: RetryOn,
    pub retry_budget: f64,
    pub attempt_timeout: Option<Duration>,
    pub max_fails: u32,
    pub fail_timeout: Duration,
    pub consecutive_errors: u32,
    pub success_rate_stdev: Option<f64>,
    pub outlier_min_requests: u32,
    pub outlier_interval: Duration,
    pub ejection_time: Duration,
    pub max_ejection_percent: f64,
}

impl Default for FailureParams {
    fn default() -> Self {
        FailureParams {
            retries: 0,
            retry_on: RetryOn::default(),
            retry_budget: 0.2,
            attempt_timeout: None,
            max_fails: 0,
            fail_timeout: Duration::from_secs(10),
            consecutive_errors: 0,
            success_rate_stdev: None,
            outlier_min_requests: 100,
            outlier_interval: Duration::from_secs(10),
            ejection_time: Duration::from_secs(30),
            max_ejection_percent: 10.0,
        }
    }
}

impl FailureParams {
    /// The parameter names of the layer.
    pub const NAMES: [&'static str; 12] = [
        "retries",
        "retry_on",
        "retry_budget",
        "attempt_timeout",
        "max_fails",
        "fail_timeout",
        "outlier_consecutive_errors",
        "outlier_success_rate_stdev",
        "outlier_min_requests",
        "outlier_interval",
        "ejection_time",
        "max_ejection_percent",
    ];

    /// Reads parameter `name` if it is one of the layer's; `Ok(false)` if it is not.
    pub fn read(&mut self, name: &str, value: &toml::Value) -> Result<bool, BalancingError> {
        match name {
            "retries" => self.retries = whole_or_zero(value, "retries", u64::from(MAX_RETRIES))? as u32,
            "retry_on" => self.retry_on = retry_on(value)?,
            "retry_budget" => {
                self.retry_budget = number(value).filter(|v| (0.0..=MAX_RETRY_BUDGET).contains(v)).ok_or_else(|| {
                    invalid(
                        "retry_budget",
                        format!("must be from 0 to {MAX_RETRY_BUDGET} tokens per request, got {value}"),
                    )
                })?
            }
            "attempt_timeout" => self.attempt_timeout = Some(duration(value, "attempt_timeout")?),
            "max_fails" => self.max_fails = whole_or_zero(value, "max_fails", 1_000_000)? as u32,
            "fail_timeout" => self.fail_timeout = duration(value, "fail_timeout")?,
            "outlier_consecutive_errors" => {
                self.consecutive_errors = whole_or_zero(value, "outlier_consecutive_errors", 1_000_000)? as u32
            }
            "outlier_success_rate_stdev" => {
                self.success_rate_stdev = Some(number(value).filter(|v| *v > 0.0 && *v <= 100.0).ok_or_else(|| {
                    invalid("outlier_success_rate_stdev", format!("must be a number above 0, got {value}"))
                })?)
            }
            "outlier_min_requests" => {
                self.outlier_min_requests = whole(value, "outlier_min_requests", 1_000_000_000)? as u32
            }
            "outlier_interval" => self.outlier_interval = duration(value, "outlier_interval")?,
            "ejection_time" => self.ejection_time = duration(value, "ejection_time")?,
            "max_ejection_percent" => {
                self.max_ejection_percent = number(value).filter(|v| (0.0..=100.0).contains(v)).ok_or_else(|| {
                    invalid("max_ejection_percent", format!("must be a percentage from 0 to 100, got {value}"))
                })?
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Whether retries are on.
    pub fn retries_on(&self) -> bool {
        self.retries > 0
    }

    /// Whether any health tracking is on (passive checks or outlier ejection).
    pub fn health_on(&self) -> bool {
        self.max_fails > 0 || self.consecutive_errors > 0 || self.success_rate_stdev.is_some()
    }

    /// Whether the layer does anything.
    pub fn enabled(&self) -> bool {
        self.retries_on() || self.health_on() || self.attempt_timeout.is_some()
    }

    /// The most backends of `count` that outlier ejection takes out at once.
    pub fn max_ejected(&self, count: usize) -> usize {
        if self.max_ejection_percent <= 0.0 {
            return 0;
        }
        ((count as f64 * self.max_ejection_percent / 100.0).floor() as usize).max(1)
    }

    /// The `failure_layer` column: `off`, or what is on.
    pub fn describe(&self) -> String {
        if !self.enabled() {
            return "off".into();
        }
        let mut parts = Vec::new();
        if self.retries_on() {
            parts.push(format!(
                "retries={} on {} budget={}",
                self.retries,
                self.retry_on.describe(),
                self.retry_budget
            ));
        }
        if let Some(timeout) = self.attempt_timeout {
            parts.push(format!("attempt_timeout={}", workloads::units::HumanDuration(timeout)));
        }
        if self.max_fails > 0 {
            parts.push(format!(
                "max_fails={} fail_timeout={}",
                self.max_fails,
                workloads::units::HumanDuration(self.fail_timeout)
            ));
        }
        let mut outlier = String::new();
        if self.consecutive_errors > 0 {
            let _ = write!(outlier, "consecutive={} ", self.consecutive_errors);
        }
        if let Some(stdev) = self.success_rate_stdev {
            let _ = write!(
                outlier,
                "success_rate={stdev}sd/{}req/{} ",
                self.outlier_min_requests,
                workloads::units::HumanDuration(self.outlier_interval)
            );
        }
        if !outlier.is_empty() {
            parts.push(format!(
                "eject {outlier}for {}xN cap {}%",
                workloads::units::HumanDuration(self.ejection_time),
                self.max_ejection_percent
            ));
        }
        parts.join("; ")
    }
}

fn whole_or_zero(value: &toml::Value, param: &'static str, max: u64) -> Result<u64, BalancingError> {
    match value.as_integer() {
        Some(0) => Ok(0),
        _ => whole(value, param, max)
            .map_err(|_| invalid(param, format!("must be a whole number from 0 to {max}, got {value}"))),
    }
}

fn retry_on(value: &toml::Value) -> Result<RetryOn, BalancingError> {
    let items = value.as_array().ok_or_else(|| {
        invalid("retry_on", format!("must be a list of \"refused\", \"5xx\", \"timeout\", got {value}"))
    })?;
    let mut on = RetryOn { refused: false, server_error: false, timeout: false };
    for item in items {
        match item.as_str() {
            Some("refused") => on.refused = true,
            Some("5xx") => on.server_error = true,
            Some("timeout") => on.timeout = true,
            _ => {
                return Err(invalid(
                    "retry_on",
                    format!("unknown failure {item} (known: \"refused\", \"5xx\", \"timeout\")"),
                ));
            }
        }
    }
    Ok(on)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<FailureParams, BalancingError> {
        let table: toml::Table = toml::from_str(text).unwrap();
        let mut params = FailureParams::default();
        for (name, value) in &table {
            assert!(params.read(name, value)?, "{name} is a layer parameter");
        }
        Ok(params)
    }

    #[test]
    fn the_layer_is_off_unless_a_parameter_turns_it_on() {
        let off = FailureParams::default();
        assert!(!off.enabled());
        assert_eq!(off.describe(), "off");
        let on = read("retries = 2\nretry_on = [\"refused\", \"5xx\"]\nmax_fails = 1\noutlier_consecutive_errors = 5")
            .unwrap();
        assert!(on.enabled() && on.health_on());
        let text = on.describe();
        assert!(text.contains("retries=2 on refused+5xx") && text.contains("max_fails=1"), "{text}");
    }

    #[test]
    fn bad_layer_values_name_the_parameter() {
        for (text, needle) in [
            ("retries = 11", "retries"),
            ("retry_on = [\"502\"]", "retry_on"),
            ("retry_budget = -1", "retry_budget"),
            ("max_ejection_percent = 150", "max_ejection_percent"),
            ("fail_timeout = \"0s\"", "fail_timeout"),
        ] {
            let message = read(text).unwrap_err().to_string();
            assert!(message.contains(needle), "{text}: {message}");
        }
    }

    #[test]
    fn the_ejection_cap_is_a_share_but_at_least_one_backend() {
        let params = FailureParams { max_ejection_percent: 10.0, ..FailureParams::default() };
        assert_eq!((params.max_ejected(3), params.max_ejected(10), params.max_ejected(25)), (1, 1, 2));
        assert_eq!(FailureParams { max_ejection_percent: 0.0, ..params }.max_ejected(10), 0);
    }
}
