//! What a session prints on stdout at the end: by default a table with one line per run and
//! the figures a reader looks at first (or the same as GitHub markdown); with `--format csv`
//! or `json`, every column of every row, for scripts. Under a table, one verdict line per
//! scenario ([`super::verdict`]).

use super::format::{OutputFormat, csv_of, json_of, text_table};
use super::rows::SummaryRow;
use super::verdict;

/// `rows` in `format`.
pub fn render(rows: &[SummaryRow], format: OutputFormat) -> anyhow::Result<String> {
    match format {
        OutputFormat::Csv => csv_of(rows),
        OutputFormat::Json => json_of(rows),
        OutputFormat::Table | OutputFormat::Markdown => {
            let verdicts: String = verdict::lines(rows).iter().map(|line| format!("{line}\n")).collect();
            let table = text_table(&HEADER, &cells(rows), format);
            Ok(if verdicts.is_empty() { table } else { format!("{table}\n{verdicts}") })
        }
    }
}

const HEADER: [&str; 13] = [
    "scenario",
    "strategy",
    "mode",
    "status",
    "ops/s",
    "errors",
    "p50",
    "p99",
    "p99.9",
    "load peak/mean",
    "moved/ideal",
    "mono. viol.",
    "violations",
];

fn cells(rows: &[SummaryRow]) -> Vec<Vec<String>> {
    rows.iter()
        .map(|row| {
            let (p50, p99, p999) = latency_cells(row);
            vec![
                row.scenario.clone(),
                row.strategy.clone(),
                row.mode.clone(),
                row.status.clone(),
                row.throughput_ops_s.map_or_else(String::new, human_rate),
                row.error_rate.map_or_else(String::new, percent),
                p50,
                p99,
                p999,
                fixed(row.load_peak_to_mean, 3),
                fixed(row.keys_moved_ratio, 3),
                row.monotonicity_violations.map_or_else(String::new, |v| v.to_string()),
                row.violations.map_or_else(String::new, |v| v.to_string()),
            ]
        })
        .collect()
}

/// Latency cells, each with its unit: the response time of operations timed alone, or the
/// cost per operation of batches (marked `/op`).
fn latency_cells(row: &SummaryRow) -> (String, String, String) {
    if row.latency_us_p50.is_some() || row.latency_us_max.is_some() {
        let cell = |v: Option<f64>, lo: Option<f64>, hi: Option<f64>| {
            v.map_or_else(String::new, |us| format!("{}{}", human_duration(us * 1e-6), plus_minus(us, lo, hi)))
        };
        (
            cell(row.latency_us_p50, row.latency_us_p50_lo, row.latency_us_p50_hi),
            cell(row.latency_us_p99, row.latency_us_p99_lo, row.latency_us_p99_hi),
            cell(row.latency_us_p999, row.latency_us_p999_lo, row.latency_us_p999_hi),
        )
    } else {
        let cell = |v: Option<f64>| v.map_or_else(String::new, |ns| format!("{}/op", human_duration(ns * 1e-9)));
        (cell(row.op_cost_ns_p50), cell(row.op_cost_ns_p99), String::new())
    }
}

/// The half-width of a percentile's interval relative to it, the wider side: ` ±4%`; empty
/// without an interval.
fn plus_minus(point: f64, lo: Option<f64>, hi: Option<f64>) -> String {
    let (Some(lo), Some(hi)) = (lo, hi) else { return String::new() };
    if point <= 0.0 {
        return String::new();
    }
    let half = 100.0 * (point - lo).max(hi - point) / point;
    if half < 1.0 { format!(" ±{half:.1}%") } else { format!(" ±{half:.0}%") }
}

fn fixed(value: Option<f64>, digits: usize) -> String {
    value.filter(|v| v.is_finite()).map_or_else(String::new, |v| format!("{v:.digits$}"))
}

/// 0.0123 → "1.23%"; no errors → "0".
fn percent(fraction: f64) -> String {
    match fraction {
        0.0 => "0".to_string(),
        f if f < 0.0001 => format!("{:.4}%", f * 100.0),
        f => format!("{:.2}%", f * 100.0),
    }
}

/// 12345678.9 → "12.35M".
pub fn human_rate(value: f64) -> String {
    match value {
        v if v >= 1e9 => format!("{:.2}G", v / 1e9),
        v if v >= 1e6 => format!("{:.2}M", v / 1e6),
        v if v >= 1e3 => format!("{:.1}k", v / 1e3),
        v => format!("{v:.1}"),
    }
}

/// A duration in seconds, with three significant digits in the unit that reads best:
/// 1.37e-7 → "137 ns", 4.213e-6 → "4.21 µs", 0.1952 → "195 ms", 5.5378 → "5.54 s".
pub fn human_duration(seconds: f64) -> String {
    let (value, unit) = match seconds.abs() {
        s if s < 1e-6 => (seconds * 1e9, "ns"),
        s if s < 1e-3 => (seconds * 1e6, "µs"),
        s if s < 1.0 => (seconds * 1e3, "ms"),
        _ => (seconds, "s"),
    };
    let digits = match value.abs() {
        v if v >= 99.95 => 0,
        v if v >= 9.995 => 1,
        _ => 2,
    };
    format!("{value:.digits$} {unit}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::rows::SummaryCore;

    #[test]
    fn rates_read_at_a_glance() {
        assert_eq!(human_rate(12_345_678.9), "12.35M");
        assert_eq!(human_rate(950.0), "950.0");
    }

    #[test]
    fn durations_read_in_the_unit_that_fits() {
        assert_eq!(human_duration(137e-9), "137 ns");
        assert_eq!(human_duration(1.299e-9), "1.30 ns");
        assert_eq!(human_duration(4.213e-6), "4.21 µs");
        assert_eq!(human_duration(0.1952), "195 ms");
        assert_eq!(human_duration(5.5378), "5.54 s");
        assert_eq!(human_duration(0.0), "0.00 ns");
        assert_eq!(percent(0.0123), "1.23%");
        assert_eq!(percent(0.0), "0");
    }

    #[test]
    fn p99_reads_with_its_interval() {
        let row = SummaryRow::from(SummaryCore {
            latency_us_p50: Some(1000.0),
            latency_us_p99: Some(1210.0),
            latency_us_p99_lo: Some(1180.0),
            latency_us_p99_hi: Some(1258.0),
            ..SummaryCore::default()
        });
        let (p50, p99, p999) = latency_cells(&row);
        assert_eq!(p99, "1.21 ms ±4%");
        assert_eq!(p50, "1.00 ms", "no interval, no ±");
        assert_eq!(p999, "", "an unbounded percentile is not printed");
    }
}
