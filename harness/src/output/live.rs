//! Live metrics for long runs (`run --metrics-listen 127.0.0.1:PORT`): the last finished
//! interval's throughput, response-time percentiles, errors and unfinished operations, and the
//! session's running totals, served at `/metrics` in the Prometheus text format (version
//! 0.0.4), so that a soak run can be watched on an existing dashboard while it goes.
//!
//! The figures are the ones `timeseries.csv` gets for the same interval (the same
//! [`TimeseriesRow`]), published as each interval is written; nothing is sampled twice and
//! nothing is computed here. Percentiles are gauges of that interval, not summaries over the
//! scrape period: a histogram's tail cannot be rebuilt from scraped percentiles, which is why
//! the `.hlog` files stay the record. Times are in seconds (Prometheus' base unit). Only
//! loopback addresses are accepted, like every other address the harness opens.

use super::rows::{RunKey, TimeseriesRow};
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use std::convert::Infallible;
use std::fmt::Write as _;
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex};
use targets::sync::Recover as _;

/// The Prometheus text exposition format's content type.
const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// What the endpoint serves, updated by the session as intervals finish.
#[derive(Debug, Default)]
pub struct LiveMetrics {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    current: Option<(RunKey, TimeseriesRow)>,
    ops_total: u64,
    errors_total: u64,
    intervals_total: u64,
}

fn lock(metrics: &LiveMetrics) -> std::sync::MutexGuard<'_, State> {
    // Plain numbers that a panic cannot leave half-written.
    metrics.state.locked()
}

impl LiveMetrics {
    /// Publishes a finished interval of run `key`.
    pub fn publish(&self, key: &RunKey, row: &TimeseriesRow) {
        let mut state = lock(self);
        state.ops_total += row.ops;
        state.errors_total += row.errors;
        state.intervals_total += 1;
        state.current = Some((key.clone(), row.clone()));
    }

    /// The exposition text.
    pub fn render(&self) -> String {
        let state = lock(self);
        let mut out = String::new();
        counter(
            &mut out,
            "stratbench_ops_total",
            "Operations ended so far in this session (completed or failed).",
            state.ops_total,
        );
        counter(&mut out, "stratbench_errors_total", "Failed operations so far in this session.", state.errors_total);
        counter(
            &mut out,
            "stratbench_intervals_total",
            "Intervals finished so far in this session.",
            state.intervals_total,
        );
        if let Some((key, row)) = &state.current {
            interval(&mut out, key, row);
        }
        out
    }
}

fn counter(out: &mut String, name: &str, help: &str, value: u64) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}");
}

/// The last interval's gauges, labelled with its run and phase.
fn interval(out: &mut String, key: &RunKey, row: &TimeseriesRow) {
    let labels = format!(
        "run_id=\"{}\",scenario=\"{}\",strategy=\"{}\",mode=\"{}\",phase=\"{}\"",
        escape(&key.run_id),
        escape(&key.scenario),
        escape(&key.strategy),
        escape(&key.mode),
        escape(&row.phase)
    );
    let gauges: [(&str, &str, Option<f64>); 5] = [
        (
            "stratbench_interval_start_seconds",
            "Start of the last finished interval, from the start of the measured phase.",
            Some(row.interval_start_s),
        ),
        (
            "stratbench_interval_throughput_ops_per_second",
            "Successful operations per second in the last finished interval (absent when the interval was too short for a rate).",
            row.throughput_ops_s,
        ),
        ("stratbench_interval_ops", "Operations that ended in the last finished interval.", Some(row.ops as f64)),
        ("stratbench_interval_errors", "Failed operations in the last finished interval.", Some(row.errors as f64)),
        (
            "stratbench_interval_unfinished_ops",
            "Operations recorded unfinished in the last finished interval (the drain).",
            Some(row.ops_unfinished as f64),
        ),
    ];
    for (name, help, value) in gauges {
        gauge(out, name, help, &labels, value);
    }
    let quantiles = [
        ("0.5", row.latency_us_p50),
        ("0.9", row.latency_us_p90),
        ("0.99", row.latency_us_p99),
        ("0.999", row.latency_us_p999),
        ("1", row.latency_us_max),
    ];
    let name = "stratbench_interval_response_seconds";
    if quantiles.iter().any(|(_, v)| v.is_some()) {
        let _ = writeln!(
            out,
            "# HELP {name} Response time of the last finished interval at each quantile (1 = max), from the intended start in an open loop.\n# TYPE {name} gauge"
        );
        for (quantile, micros) in quantiles {
            if let Some(micros) = micros {
                let _ = writeln!(out, "{name}{{{labels},quantile=\"{quantile}\"}} {}", micros * 1e-6);
            }
        }
    }
}

/// A gauge line, or nothing when `value` was not measured (never a 0 for a missing figure).
fn gauge(out: &mut String, name: &str, help: &str, labels: &str, value: Option<f64>) {
    if let Some(value) = value {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name}{{{labels}}} {value}");
    }
}

/// A label value with `\`, `"` and newlines escaped, as the format requires.
fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// Serves `metrics` at `/metrics` on `listener` from a thread of its own, for as long as the
/// process lives.
pub fn serve(listener: TcpListener, metrics: Arc<LiveMetrics>) -> anyhow::Result<SocketAddr> {
    let address = listener.local_addr()?;
    listener.set_nonblocking(true)?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    std::thread::Builder::new().name("metrics".into()).spawn(move || {
        runtime.block_on(async move {
            match tokio::net::TcpListener::from_std(listener) {
                Ok(listener) => {
                    if let Err(error) = targets::balancing::net::accept_loop(listener, metrics, answer).await {
                        tracing::warn!("--metrics-listen stopped: {error}");
                    }
                }
                Err(error) => tracing::warn!("--metrics-listen: {error}"),
            }
        });
    })?;
    Ok(address)
}

async fn answer(metrics: Arc<LiveMetrics>, request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let (status, body) = match request.uri().path() {
        "/metrics" => (StatusCode::OK, metrics.render()),
        _ => (StatusCode::NOT_FOUND, "not found: the metrics are at /metrics\n".to_string()),
    };
    let response = Response::builder().status(status).header(hyper::header::CONTENT_TYPE, CONTENT_TYPE);
    Ok(response.body(Full::new(Bytes::from(body))).expect("a static header is valid"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::rows::TimeseriesCore;

    #[test]
    fn the_exposition_has_totals_and_the_last_interval_without_unmeasured_figures() {
        let metrics = LiveMetrics::default();
        assert!(!metrics.render().contains("stratbench_interval_"), "no interval before the first");
        let key = RunKey {
            run_id: "r1".into(),
            scenario: "s\"x".into(),
            strategy: "ring".into(),
            mode: "inproc".into(),
            ..RunKey::default()
        };
        let row = |ops, p99| {
            TimeseriesRow::from(TimeseriesCore {
                phase: "measure".into(),
                ops,
                errors: 1,
                throughput_ops_s: None,
                latency_us_p99: p99,
                ..TimeseriesCore::default()
            })
        };
        metrics.publish(&key, &row(10, None));
        metrics.publish(&key, &row(5, Some(1500.0)));
        let text = metrics.render();
        assert!(text.contains("stratbench_ops_total 15\n"), "{text}");
        assert!(text.contains("stratbench_errors_total 2\n"), "{text}");
        assert!(text.contains("scenario=\"s\\\"x\""), "label values escaped: {text}");
        assert!(text.contains("quantile=\"0.99\"} 0.0015\n"), "µs as seconds: {text}");
        assert!(!text.contains("quantile=\"0.5\""), "an unmeasured percentile is absent, not 0: {text}");
        assert!(!text.contains("throughput_ops_per_second"), "no rate for a too-short interval: {text}");
        assert!(text.contains("stratbench_interval_ops{") && text.contains("} 5\n"), "{text}");
    }
}
