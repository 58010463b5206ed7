//! What a session prints on stdout at the end: by default a table with one line per run and
//! the figures a reader looks at first (or the same as GitHub markdown); with `--format csv`
//! or `json`, every column of every row, for scripts.

use super::format::{OutputFormat, csv_of, json_of, text_table};
use super::rows::SummaryRow;

/// `rows` in `format`.
pub fn render(rows: &[SummaryRow], format: OutputFormat) -> anyhow::Result<String> {
    match format {
        OutputFormat::Csv => csv_of(rows),
        OutputFormat::Json => json_of(rows),
        OutputFormat::Table | OutputFormat::Markdown => Ok(text_table(&HEADER, &cells(rows), format)),
    }
}

const HEADER: [&str; 12] = [
    "scenario",
    "strategy",
    "mode",
    "status",
    "ops/s",
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

/// Latency cells with their unit: µs per operation, or ns per operation for batch timing.
fn latency_cells(row: &SummaryRow) -> (String, String, String) {
    if row.latency_us_p50.is_some() {
        let cell = |v: Option<u64>| v.map_or_else(String::new, |v| format!("{v} us"));
        (cell(row.latency_us_p50), cell(row.latency_us_p99), cell(row.latency_us_p999))
    } else {
        let cell = |v: Option<u64>| v.map_or_else(String::new, |v| format!("{v} ns/op"));
        (cell(row.op_cost_ns_p50), cell(row.op_cost_ns_p99), String::new())
    }
}

fn fixed(value: Option<f64>, digits: usize) -> String {
    value.filter(|v| v.is_finite()).map_or_else(String::new, |v| format!("{v:.digits$}"))
}

/// 12345678.9 → "12.35M".
fn human_rate(value: f64) -> String {
    match value {
        v if v >= 1e9 => format!("{:.2}G", v / 1e9),
        v if v >= 1e6 => format!("{:.2}M", v / 1e6),
        v if v >= 1e3 => format!("{:.1}k", v / 1e3),
        v => format!("{v:.1}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_read_at_a_glance() {
        assert_eq!(human_rate(12_345_678.9), "12.35M");
        assert_eq!(human_rate(950.0), "950.0");
    }
}
