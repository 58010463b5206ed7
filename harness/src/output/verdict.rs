//! One line per scenario under the table: which strategy did best on the scenario's headline
//! metric, and by how much, so that a reader who runs a matrix sees the answer at a glance.
//!
//! The headline metric follows how the load was driven. In a closed loop the driver sends as
//! fast as the target answers, so throughput is the result (higher is better). In an open loop
//! every strategy gets the same offered rate, so throughput says nothing and the tail is the
//! result: p99 response time (lower is better). Batched rows have no per-operation response
//! time; their cost per operation (p50) is the result. Only `ok` rows compete: a run that was
//! overloaded or failed has no figure worth ranking. With repetitions a strategy's figure is
//! the median of its runs. Rows are grouped by scenario and mode (in-process and networked
//! runs of one scenario measure different things).

use super::rows::SummaryRow;
use crate::analysis::rank_test::median;
use std::collections::BTreeMap;

/// The metric a scenario is ranked on.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Headline {
    Throughput,
    LatencyP99,
    CostP50,
}

impl Headline {
    fn of(row: &SummaryRow) -> Self {
        if row.latency_us_p99.is_none() && row.op_cost_ns_p50.is_some() {
            Headline::CostP50
        } else if row.target_rate_ops_s.is_some() {
            Headline::LatencyP99
        } else {
            Headline::Throughput
        }
    }

    fn value(self, row: &SummaryRow) -> Option<f64> {
        match self {
            Headline::Throughput => row.throughput_ops_s,
            Headline::LatencyP99 => row.latency_us_p99,
            Headline::CostP50 => row.op_cost_ns_p50,
        }
        .filter(|v| v.is_finite() && *v > 0.0)
    }

    fn higher_is_better(self) -> bool {
        self == Headline::Throughput
    }

    fn describe(self) -> &'static str {
        match self {
            Headline::Throughput => "highest throughput",
            Headline::LatencyP99 => "lowest p99 at the same offered rate",
            Headline::CostP50 => "lowest cost per operation (p50)",
        }
    }
}

/// The verdict lines for `rows`, one per scenario and mode with at least two strategies that
/// ran `ok`; empty when there is nothing to rank.
pub fn lines(rows: &[SummaryRow]) -> Vec<String> {
    let mut groups: BTreeMap<(&str, &str), Vec<&SummaryRow>> = BTreeMap::new();
    for row in rows {
        groups.entry((row.scenario.as_str(), row.mode.as_str())).or_default().push(row);
    }
    groups.into_iter().filter_map(|((scenario, mode), rows)| verdict(scenario, mode, &rows)).collect()
}

fn verdict(scenario: &str, mode: &str, rows: &[&SummaryRow]) -> Option<String> {
    let headline = Headline::of(rows.first()?);
    let ranked = ranked(headline, rows);
    let [(best, best_value), (next, next_value), ..] = ranked.as_slice() else { return None };
    let factor = if headline.higher_is_better() { best_value / next_value } else { next_value / best_value };
    let not_ok = rows.iter().filter(|r| r.status != "ok").count();
    let left_out = if not_ok > 0 { format!(" ({not_ok} run(s) not ok left out)") } else { String::new() };
    Some(format!(
        "verdict {scenario} ({mode}): {best} has the {}, {} {next}{left_out}",
        headline.describe(),
        by_how_much(factor)
    ))
}

/// Strategies with their median headline value, best first.
fn ranked<'a>(headline: Headline, rows: &[&'a SummaryRow]) -> Vec<(&'a str, f64)> {
    let mut values: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for row in rows.iter().filter(|r| r.status == "ok" && Headline::of(r) == headline) {
        if let Some(value) = headline.value(row) {
            values.entry(row.strategy.as_str()).or_default().push(value);
        }
    }
    let mut ranked: Vec<(&str, f64)> =
        values.into_iter().filter_map(|(strategy, v)| Some((strategy, median(&v)?))).collect();
    ranked.sort_by(|a, b| a.1.total_cmp(&b.1));
    if headline.higher_is_better() {
        ranked.reverse();
    }
    ranked
}

/// 1.83 → "1.83× better than"; 1.004 → "level (within 1%) with".
fn by_how_much(factor: f64) -> String {
    if factor < 1.01 { "level (within 1%) with".to_string() } else { format!("{factor:.2}× better than") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::rows::SummaryCore;

    fn row(scenario: &str, strategy: &str, status: &str, throughput: f64, rate: Option<f64>, p99: f64) -> SummaryRow {
        SummaryRow::from(SummaryCore {
            scenario: scenario.into(),
            strategy: strategy.into(),
            mode: "inproc".into(),
            status: status.into(),
            throughput_ops_s: Some(throughput),
            target_rate_ops_s: rate,
            latency_us_p99: Some(p99),
            ..SummaryCore::default()
        })
    }

    #[test]
    fn a_closed_loop_scenario_is_won_on_throughput_by_the_median_of_repetitions() {
        let rows = [
            row("s", "slow", "ok", 100.0, None, 1.0),
            row("s", "fast", "ok", 150.0, None, 9.0),
            row("s", "fast", "ok", 250.0, None, 9.0),
            row("s", "fast", "ok", 200.0, None, 9.0),
        ];
        assert_eq!(lines(&rows), ["verdict s (inproc): fast has the highest throughput, 2.00× better than slow"]);
    }

    #[test]
    fn an_open_loop_scenario_is_won_on_p99_and_failed_runs_do_not_compete() {
        let rows = [
            row("s", "a", "ok", 100.0, Some(100.0), 30.0),
            row("s", "b", "ok", 100.0, Some(100.0), 10.0),
            row("s", "c", "overloaded", 60.0, Some(100.0), 1.0),
        ];
        assert_eq!(
            lines(&rows),
            [
                "verdict s (inproc): b has the lowest p99 at the same offered rate, 3.00× better than a (1 run(s) not ok left out)"
            ]
        );
    }

    #[test]
    fn a_scenario_with_one_strategy_or_a_tie_says_so_or_nothing() {
        assert!(lines(&[row("s", "only", "ok", 100.0, None, 1.0)]).is_empty());
        let tie = [row("t", "a", "ok", 1000.0, None, 1.0), row("t", "b", "ok", 1005.0, None, 1.0)];
        assert_eq!(lines(&tie), ["verdict t (inproc): b has the highest throughput, level (within 1%) with a"]);
    }
}
