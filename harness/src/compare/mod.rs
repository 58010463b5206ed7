//! `stratbench compare BASELINE CURRENT`: the change of every metric of every run between two
//! summaries, and a verdict that CI can act on (exit 1 on a regression).
//!
//! Rows are matched by the columns that define a run ([`IDENTITY_COLUMNS`]); the repetitions
//! of a run (`run --repeat N`, column `repeat`) form its sample on each side. A timing is
//! judged on the medians and confirmed by the repetitions ([`judge`]); correctness metrics
//! compare exactly. Ratios to a reference strategy measured in the same session (`*_rel`,
//! for example a lookup's cost over `jump`'s) cancel most of the difference between two
//! machines or two noisy moments, which makes them the metrics to gate CI on. Rows present on
//! one side only are listed, never dropped.
//!
//! With a single repetition on each side there is no spread to check a timing against, but a
//! percentile carries its own 95% interval (`latency_us_p99_lo`/`_hi`): a move beyond the
//! threshold is a regression only when the two intervals share no point ([`by_intervals`]).
//! A sweep (rows with an `slo`) is compared by its capacity: its steps' rates differ between
//! sessions, so only the row carrying `capacity_ops_s` is kept, matched by its objective
//! instead of its rate, and judged the same way on the bracket `capacity_ops_s_lo`..`_hi`.

pub mod input;
pub mod metrics;
pub mod render;

use crate::analysis::rank_test;
use crate::cli::CompareArgs;
use crate::error::Outcome;
use crate::rundir::{CsvTable, IDENTITY_COLUMNS};
use metrics::{Better, Kind, METRICS, Metric, Threshold, Thresholds};
use serde::Serialize;
use std::borrow::Cow;
use std::collections::HashMap;

/// Significance level of a whole comparison: the chance, if nothing changed and repetitions
/// were independent, that some run is called a regression by the rank test alone. Each test
/// runs at `ALPHA / m` for `m` runs with judged timings (Bonferroni over runs: the timings of
/// one run — its throughput, median, ratio to the reference — move together, so they count
/// once). Comparing many runs then does not multiply false alarms: with 3 repetitions a side
/// the rank test alone never decides (its smallest p is 0.05) and the spread rule does; with 5
/// repetitions and up to 12 runs it can.
pub const ALPHA: f64 = 0.05;

/// The outcome of one metric of one run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Ok,
    /// Worse beyond the threshold, confirmed by the repetitions: fails the comparison.
    Regression,
    /// Better beyond the threshold, confirmed.
    Improved,
    /// Beyond the threshold at the medians, but the repetitions overlap too much to say.
    Noise,
    /// The threshold is off: shown, not judged.
    Off,
    /// In the baseline, not in the current run (a row, or a value of a row).
    Missing,
    /// In the current run only.
    New,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Regression => "REGRESSION",
            Verdict::Improved => "improved",
            Verdict::Noise => "noise",
            Verdict::Off => "off",
            Verdict::Missing => "MISSING",
            Verdict::New => "new",
        }
    }
}

/// One line of the comparison: a metric of a run, or a row present on one side only.
#[derive(Clone, Debug, Serialize)]
pub struct Line {
    /// The run: scenario, strategy, mode, and whatever else tells it apart.
    pub run: String,
    pub metric: String,
    /// Median over the repetitions.
    pub baseline: Option<f64>,
    pub current: Option<f64>,
    /// Current median over baseline median, minus one, in percent.
    pub change_percent: Option<f64>,
    /// `10%` (timings), `exact` or `±0.01` (deterministic metrics), or `off`.
    pub threshold: String,
    pub baseline_repeats: usize,
    pub current_repeats: usize,
    /// One-sided Mann–Whitney p-value that the change in the worse direction is chance.
    pub p_value: Option<f64>,
    pub verdict: Verdict,
    pub note: String,
    /// A timing judged with at least two repetitions on each side (counts towards `m`).
    #[serde(skip)]
    rank_tested: bool,
    /// The verdict rests on the rank test alone (checked against `ALPHA / m`).
    #[serde(skip)]
    confirmed_by_rank_test: bool,
}

/// The whole comparison.
#[derive(Debug, Serialize)]
pub struct Comparison {
    pub lines: Vec<Line>,
    /// Notes on the inputs (different machines, for example).
    pub notes: Vec<String>,
}

impl Comparison {
    /// Lines with `verdict`.
    pub fn count(&self, verdict: Verdict) -> usize {
        self.lines.iter().filter(|l| l.verdict == verdict).count()
    }
}

/// `stratbench compare`.
pub fn command(args: &CompareArgs) -> anyhow::Result<Outcome> {
    let mut thresholds = Thresholds::default();
    if let Some(path) = &args.thresholds {
        thresholds.load_file(path)?;
    }
    for flag in &args.threshold {
        thresholds.apply_flag(flag)?;
    }
    for flag in &args.reference {
        thresholds.apply_reference(flag)?;
    }
    let baseline = input::read(&args.baseline)?;
    let current = input::read(&args.current)?;
    let comparison = compare(&baseline, &current, &thresholds);
    print!("{}", render::render(&comparison, args.format));
    let failed =
        comparison.count(Verdict::Regression) > 0 || (!args.allow_missing && comparison.count(Verdict::Missing) > 0);
    Ok(if failed { Outcome::ChecksFailed } else { Outcome::Ok })
}

/// One side: its table, and its rows grouped by run identity in file order.
struct Side<'a> {
    table: &'a CsvTable,
    groups: Vec<(Vec<String>, Vec<usize>)>,
}

impl<'a> Side<'a> {
    fn new(table: &'a CsvTable) -> Self {
        let mut groups: Vec<(Vec<String>, Vec<usize>)> = Vec::new();
        for (i, row) in table.rows.iter().enumerate() {
            let identity = table.identity(row);
            match groups.iter_mut().find(|(id, _)| *id == identity) {
                Some((_, rows)) => rows.push(i),
                None => groups.push((identity, vec![i])),
            }
        }
        Side { table, groups }
    }

    fn group(&self, identity: &[String]) -> Option<&[usize]> {
        self.groups.iter().find(|(id, _)| id == identity).map(|(_, rows)| rows.as_slice())
    }

    fn ok_rows(&self, rows: &[usize]) -> Vec<&'a [String]> {
        rows.iter().map(|i| self.table.rows[*i].as_slice()).filter(|r| self.table.get(r, "status") == "ok").collect()
    }

    /// The values of `metric` over the ok repetitions of a run, and the median of their
    /// relative recording resolution ([`metrics::resolution`]; for a ratio, the sum over its
    /// two terms).
    fn values(&self, rows: &[usize], metric: &Metric, thresholds: &Thresholds) -> Result<(Vec<f64>, f64), String> {
        let rows = self.ok_rows(rows);
        let mut values = Vec::new();
        let mut resolutions = Vec::new();
        for row in rows {
            let Some(column) = metric.relative_to else {
                if let Some(value) = self.table.num(row, metric.name) {
                    values.push(value);
                    resolutions.push(metrics::resolution(metric.name, self.table.get(row, metric.name)));
                }
                continue;
            };
            let Some(value) = self.table.num(row, column) else { continue };
            let (reference, reference_cell) = self.reference_value(row, column, thresholds)?;
            if reference > 0.0 {
                values.push(value / reference);
                let cell = self.table.get(row, column);
                resolutions.push(metrics::resolution(column, cell) + metrics::resolution(column, &reference_cell));
            }
        }
        Ok((values, rank_test::median(&resolutions).unwrap_or(0.0)))
    }

    /// The 95% intervals of `metric` over the ok repetitions of a run that have one.
    fn intervals(&self, rows: &[usize], metric: &Metric) -> Vec<(f64, f64)> {
        let Some((lo, hi)) = metrics::interval_columns(metric) else { return Vec::new() };
        let bounds = |row: &&[String]| Some((self.table.num(row, &lo)?, self.table.num(row, &hi)?));
        self.ok_rows(rows).iter().filter_map(bounds).collect()
    }

    /// The reference strategy's `column` for `row` (and its cell as written): its repetition
    /// with the same number if there is one, else the median of its repetitions.
    fn reference_value(&self, row: &[String], column: &str, thresholds: &Thresholds) -> Result<(f64, String), String> {
        let family = self.table.get(row, "family");
        let strategy = thresholds.references.get(family).ok_or_else(|| format!("no reference for `{family}`"))?;
        let mut identity = self.table.identity(row);
        identity[2] = strategy.clone();
        let rows = self.group(&identity).map(|rows| self.ok_rows(rows)).unwrap_or_default();
        let repeat = self.table.get(row, "repeat");
        let same =
            rows.iter().find(|r| self.table.get(r, "repeat") == repeat).filter(|r| self.table.num(r, column).is_some());
        if let Some(same) = same {
            return Ok((self.table.num(same, column).unwrap_or_default(), self.table.get(same, column).to_string()));
        }
        let all: Vec<f64> = rows.iter().filter_map(|r| self.table.num(r, column)).collect();
        let cell = rows.first().map_or_else(String::new, |r| self.table.get(r, column).to_string());
        rank_test::median(&all).map(|m| (m, cell)).ok_or_else(|| format!("no `{strategy}` row to divide by"))
    }
}

/// Compares every run of `current` with the same run of `baseline`.
pub fn compare(baseline: &CsvTable, current: &CsvTable, thresholds: &Thresholds) -> Comparison {
    let (baseline_runs, current_runs) = (sweeps_by_capacity(baseline), sweeps_by_capacity(current));
    let (base, cur) = (Side::new(&baseline_runs), Side::new(&current_runs));
    let mut identities: Vec<Vec<String>> = base.groups.iter().map(|(id, _)| id.clone()).collect();
    identities.extend(cur.groups.iter().map(|(id, _)| id.clone()).filter(|id| base.group(id).is_none()));
    let labels = labels(&identities);
    let mut lines = Vec::new();
    for (identity, label) in identities.iter().zip(&labels) {
        match (base.group(identity), cur.group(identity)) {
            (Some(b), Some(c)) => lines.extend(compare_run(&base, b, &cur, c, identity, label, thresholds)),
            (Some(b), None) => lines.push(presence_line(label, Verdict::Missing, b.len(), 0)),
            (None, Some(c)) => lines.push(presence_line(label, Verdict::New, 0, c.len())),
            (None, None) => {}
        }
    }
    correct_for_multiple_tests(&mut lines);
    Comparison { lines, notes: host_notes(baseline, current) }
}

/// `table` with each sweep (rows with an `slo`) reduced to the row that carries its capacity:
/// its rate replaced by `sweep <slo>` so that it matches the other side's whatever rate the
/// knee was found at, its status `ok` (the step may be the overloaded one that bounds the
/// capacity from above), and every compared metric but the capacity left empty (they were
/// measured at that step's rate, which differs between sessions). The other steps are left
/// out. A table without sweeps is returned as it is.
fn sweeps_by_capacity(table: &CsvTable) -> Cow<'_, CsvTable> {
    let is_step = |row: &Vec<String>| !table.get(row, "slo").is_empty();
    if !table.rows.iter().any(is_step) {
        return Cow::Borrowed(table);
    }
    let capacity = ["capacity_ops_s", "capacity_ops_s_lo", "capacity_ops_s_hi"];
    let mut reduced = table.clone();
    reduced.rows.retain(|row| !is_step(row) || capacity.iter().any(|c| !table.get(row, c).is_empty()));
    for row in reduced.rows.iter_mut().filter(|row| is_step(row)) {
        let objective = format!("sweep {}", table.get(row, "slo"));
        table.set(row, "target_rate_ops_s", objective);
        table.set(row, "status", "ok".into());
        for metric in METRICS.iter().filter(|m| m.name != "capacity_ops_s") {
            table.set(row, metric.name, String::new());
        }
    }
    Cow::Owned(reduced)
}

/// Keeps a verdict that rests on the rank test alone only if its p-value passes `ALPHA / m`,
/// `m` being the number of runs with timings judged with repetitions on both sides.
fn correct_for_multiple_tests(lines: &mut [Line]) {
    let runs: std::collections::HashSet<&str> =
        lines.iter().filter(|l| l.rank_tested).map(|l| l.run.as_str()).collect();
    let judged = runs.len().max(1);
    let alpha = ALPHA / judged as f64;
    for line in lines.iter_mut().filter(|l| l.confirmed_by_rank_test) {
        let p = line.p_value.unwrap_or(1.0);
        if p > alpha {
            line.verdict = Verdict::Noise;
            line.note = format!(
                "beyond the threshold at the medians; repetitions overlap, rank test p = {p:.3} > {alpha:.4} (0.05 over {judged} runs)"
            );
        } else {
            line.note = format!("rank test on the repetitions: p = {p:.4} <= {alpha:.4} (0.05 over {judged} runs)");
        }
    }
}

fn presence_line(label: &str, verdict: Verdict, baseline_repeats: usize, current_repeats: usize) -> Line {
    let note = match verdict {
        Verdict::Missing => "run in the baseline, not in the current summary",
        _ => "run in the current summary only",
    };
    Line {
        run: label.to_string(),
        metric: "(run)".into(),
        baseline: None,
        current: None,
        change_percent: None,
        threshold: String::new(),
        baseline_repeats,
        current_repeats,
        p_value: None,
        verdict,
        note: note.into(),
        rank_tested: false,
        confirmed_by_rank_test: false,
    }
}

/// The lines of one run present on both sides: its status first, then every metric that has
/// a value on either side.
fn compare_run(
    base: &Side<'_>,
    base_rows: &[usize],
    cur: &Side<'_>,
    cur_rows: &[usize],
    identity: &[String],
    label: &str,
    thresholds: &Thresholds,
) -> Vec<Line> {
    let (base_ok, cur_ok) = (base.ok_rows(base_rows).len(), cur.ok_rows(cur_rows).len());
    let overloaded = cur_rows.iter().any(|i| cur.table.get(&cur.table.rows[*i], "status") == "overloaded");
    let mut lines = Vec::new();
    if (base_ok > 0 && cur_ok < cur_rows.len()) || overloaded {
        let failed = cur_rows.iter().map(|i| &cur.table.rows[*i]).find(|r| cur.table.get(r, "status") != "ok");
        let note = failed.map_or_else(String::new, |r| {
            format!("status {}: {}", cur.table.get(r, "status"), cur.table.get(r, "message"))
        });
        let mut line = presence_line(label, Verdict::Regression, base_rows.len(), cur_rows.len());
        line.metric = "status".into();
        line.note = format!("{} of {} repetitions not ok; {note}", cur_rows.len() - cur_ok, cur_rows.len());
        lines.push(line);
    }
    for metric in METRICS {
        let b = base.values(base_rows, metric, thresholds);
        let c = cur.values(cur_rows, metric, thresholds);
        let ((b, b_resolution), (c, c_resolution), why) = match (b, c) {
            (Ok(b), Ok(c)) => (b, c, None),
            (Ok(b), Err(why)) => (b, (Vec::new(), 0.0), Some(why)),
            (Err(_), Ok(c)) => ((Vec::new(), 0.0), c, None),
            (Err(_), Err(_)) => continue,
        };
        if b.is_empty() && c.is_empty() {
            continue;
        }
        let threshold = thresholds.get(metric, identity);
        let mut line = judge(metric, threshold, &b, &c, b_resolution + c_resolution);
        by_intervals(&mut line, &base.intervals(base_rows, metric), &cur.intervals(cur_rows, metric));
        line.run = label.to_string();
        if let Some(why) = why.filter(|_| line.verdict == Verdict::Missing) {
            line.note = why;
        }
        lines.push(line);
    }
    lines
}

/// Judges one metric from its repetitions on each side. `resolution` is the relative change
/// that the recording's resolution alone can cause (a 2 ns cost recorded as 3 ns is +50%):
/// no smaller change counts, whatever the threshold.
pub fn judge(metric: &Metric, threshold: Threshold, baseline: &[f64], current: &[f64], resolution: f64) -> Line {
    let (bm, cm) = (rank_test::median(baseline), rank_test::median(current));
    let mut line = Line {
        run: String::new(),
        metric: metric.name.to_string(),
        baseline: bm,
        current: cm,
        change_percent: None,
        threshold: describe_threshold(metric, threshold),
        baseline_repeats: baseline.len(),
        current_repeats: current.len(),
        p_value: None,
        verdict: Verdict::Ok,
        note: String::new(),
        rank_tested: false,
        confirmed_by_rank_test: false,
    };
    let (Some(bm), Some(cm)) = (bm, cm) else {
        line.verdict = if bm.is_some() { Verdict::Missing } else { Verdict::New };
        line.note = if bm.is_some() { "no value in the current run".into() } else { "no value in the baseline".into() };
        return line;
    };
    line.change_percent = relative_change(bm, cm).map(|c| c * 100.0);
    let Threshold::Value(limit) = threshold else {
        line.verdict = Verdict::Off;
        return line;
    };
    match metric.kind {
        Kind::Exact => judge_exact(&mut line, metric.better, limit, bm, cm),
        Kind::Timing => judge_timing(&mut line, metric.better, limit / 100.0, resolution, baseline, current),
    }
    line
}

fn judge_exact(line: &mut Line, better: Better, tolerance: f64, bm: f64, cm: f64) {
    let worse = if better == Better::Lower { cm - bm } else { bm - cm };
    line.verdict = if worse > tolerance {
        Verdict::Regression
    } else if -worse > tolerance {
        Verdict::Improved
    } else {
        Verdict::Ok
    };
    if line.verdict != Verdict::Ok {
        line.note = "deterministic metric: any change beyond the tolerance counts".into();
    }
}

/// A timing moved by `change` (as a fraction; positive = worse) beyond `limit` only counts
/// when the repetitions confirm it: with one repetition on a side nothing can be checked and
/// the medians decide; otherwise either every current repetition is beyond the threshold
/// from every baseline one (the whole spread moved), or the rank test finds the shift
/// significant.
fn judge_timing(line: &mut Line, better: Better, limit: f64, resolution: f64, baseline: &[f64], current: &[f64]) {
    let (bm, cm) = (rank_test::median(baseline).unwrap_or(0.0), rank_test::median(current).unwrap_or(0.0));
    let change = relative_change(bm, cm).unwrap_or(0.0);
    let worse = if better == Better::Lower { change } else { -change };
    line.rank_tested = baseline.len() >= 2 && current.len() >= 2;
    if worse.abs() <= limit {
        return;
    }
    if worse.abs() <= resolution {
        line.note = format!("within the recording resolution (±{:.1}%)", resolution * 100.0);
        return;
    }
    let limit = limit.max(resolution);
    let regression = worse > 0.0;
    // Orient both samples so that "larger" means "in the direction of the change".
    let toward_change = |v: &f64| if (better == Better::Lower) == regression { *v } else { -*v };
    let b: Vec<f64> = baseline.iter().map(toward_change).collect();
    let c: Vec<f64> = current.iter().map(toward_change).collect();
    let found = if regression { Verdict::Regression } else { Verdict::Improved };
    if b.len() < 2 || c.len() < 2 {
        line.verdict = found;
        line.note = "one repetition on a side: medians only, not noise-checked (use --repeat 3 or more)".into();
        return;
    }
    let p = rank_test::p_value_greater(&b, &c).unwrap_or(1.0);
    line.p_value = Some(p);
    let min_current = c.iter().copied().fold(f64::INFINITY, f64::min);
    let max_baseline = b.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if spread_beyond(max_baseline, min_current, limit) {
        line.verdict = found;
        line.note = "every repetition moved beyond the threshold".into();
    } else if p <= ALPHA {
        // Provisional: `correct_for_multiple_tests` checks p against ALPHA / m.
        line.verdict = found;
        line.confirmed_by_rank_test = true;
    } else {
        line.verdict = Verdict::Noise;
        line.note = format!("beyond the threshold at the medians, but the repetitions overlap (p = {p:.3})");
    }
}

/// A move of a single run against a single baseline, judged on the medians alone, stands only
/// when the two 95% intervals share no point (the current interval entirely on the side the
/// value moved to); overlapping intervals make it noise. With repetitions on both sides the
/// spread and the rank test decide, as before; without an interval on each side nothing
/// changes.
pub fn by_intervals(line: &mut Line, baseline: &[(f64, f64)], current: &[(f64, f64)]) {
    let moved = matches!(line.verdict, Verdict::Regression | Verdict::Improved);
    let single = line.baseline_repeats == 1 && line.current_repeats == 1;
    let (&[(b_lo, b_hi)], &[(c_lo, c_hi)]) = (baseline, current) else { return };
    if !moved || !single {
        return;
    }
    let up = line.current > line.baseline;
    let separate = if up { c_lo > b_hi } else { c_hi < b_lo };
    let intervals = format!("baseline [{}, {}], current [{}, {}]", short(b_lo), short(b_hi), short(c_lo), short(c_hi));
    if separate {
        line.note = format!("the 95% intervals separate: {intervals}");
    } else {
        line.verdict = Verdict::Noise;
        line.note = format!("beyond the threshold, but the 95% intervals overlap: {intervals}");
    }
}

fn short(value: f64) -> String {
    format!("{value:.4}").trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Whether `low` (the largest oriented baseline value) and `high` (the smallest oriented
/// current value) are more than `limit` apart, relative to the baseline.
fn spread_beyond(low: f64, high: f64, limit: f64) -> bool {
    high - low > limit * low.abs()
}

fn relative_change(baseline: f64, current: f64) -> Option<f64> {
    if baseline == current {
        Some(0.0)
    } else if baseline == 0.0 {
        None
    } else {
        Some((current - baseline) / baseline.abs())
    }
}

fn describe_threshold(metric: &Metric, threshold: Threshold) -> String {
    match (threshold, metric.kind) {
        (Threshold::Off, _) => "off".into(),
        (Threshold::Value(v), Kind::Timing) => format!("{v}%"),
        (Threshold::Value(v), Kind::Exact) if v <= metrics::EXACT => "exact".into(),
        (Threshold::Value(v), Kind::Exact) => format!("±{v}"),
    }
}

/// A readable name for each run: `scenario strategy mode`, plus the identity values that tell
/// apart runs that would otherwise share a name.
fn labels(identities: &[Vec<String>]) -> Vec<String> {
    let short = |id: &Vec<String>| format!("{} {} {}", id[0], id[2], id[3]);
    let mut by_short: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, id) in identities.iter().enumerate() {
        by_short.entry(short(id)).or_default().push(i);
    }
    identities
        .iter()
        .map(|id| {
            let same = &by_short[&short(id)];
            let differing: Vec<String> = (0..IDENTITY_COLUMNS.len())
                .filter(|c| same.iter().any(|other| identities[*other][*c] != id[*c]))
                .map(|c| format!("{}={}", IDENTITY_COLUMNS[c], id[c]))
                .collect();
            if differing.is_empty() { short(id) } else { format!("{} ({})", short(id), differing.join(", ")) }
        })
        .collect()
}

/// Says when the two sides were measured on different machines or builds.
fn host_notes(baseline: &CsvTable, current: &CsvTable) -> Vec<String> {
    let first = |table: &CsvTable, column: &str| table.rows.first().map(|r| table.get(r, column).to_string());
    let mut notes = Vec::new();
    let (b, c) = (first(baseline, "host_cpu"), first(current, "host_cpu"));
    if b != c {
        notes.push(format!(
            "different machines: baseline on `{}`, current on `{}`; absolute timings differ by machine, the `*_rel` ratios much less",
            b.unwrap_or_default(),
            c.unwrap_or_default()
        ));
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p99() -> &'static Metric {
        metrics::metric("latency_us_p99").unwrap()
    }

    #[test]
    fn a_shift_of_every_repetition_beyond_the_threshold_is_a_regression() {
        let line = judge(p99(), Threshold::Value(20.0), &[100.0, 104.0, 98.0], &[130.0, 135.0, 128.0], 0.0);
        assert_eq!(line.verdict, Verdict::Regression, "{line:?}");
        assert!((line.change_percent.unwrap() - 30.0).abs() < 1e-9);
    }

    #[test]
    fn overlapping_repetitions_are_noise_not_a_regression() {
        // The medians moved 30%, but one baseline repetition was as slow as the current ones.
        let line =
            judge(p99(), Threshold::Value(20.0), &[100.0, 140.0, 98.0, 101.0], &[130.0, 99.0, 131.0, 125.0], 0.0);
        assert_eq!(line.verdict, Verdict::Noise, "{line:?}");
    }

    #[test]
    fn rank_test_confirms_a_shift_with_some_overlap() {
        // One baseline repetition is slower than two current ones: p = 4/252.
        let base = [100.0, 102.0, 99.0, 101.0, 131.0];
        let cur = [130.0, 133.0, 129.0, 132.0, 135.0];
        let line = judge(p99(), Threshold::Value(20.0), &base, &cur, 0.0);
        assert_eq!(line.verdict, Verdict::Regression, "{line:?}");
        assert!(line.p_value.unwrap() <= ALPHA);
        // Alone it stands; among 10 judged runs, p = 4/252 is not below 0.05 / 10. Other
        // metrics of the same run do not count.
        let named = |run: &str, mut line: Line| {
            line.run = run.into();
            line
        };
        let mut alone = vec![named("a", line.clone())];
        alone.extend((0..9).map(|_| named("a", judge(p99(), Threshold::Value(20.0), &base, &base, 0.0))));
        correct_for_multiple_tests(&mut alone);
        assert_eq!(alone[0].verdict, Verdict::Regression);
        let mut many = vec![named("a", line.clone())];
        many.extend((0..9).map(|i| named(&format!("r{i}"), judge(p99(), Threshold::Value(20.0), &base, &base, 0.0))));
        correct_for_multiple_tests(&mut many);
        assert_eq!(many[0].verdict, Verdict::Noise, "{:?}", many[0]);
    }

    #[test]
    fn higher_is_better_metrics_regress_downwards() {
        let throughput = metrics::metric("throughput_ops_s").unwrap();
        let line = judge(throughput, Threshold::Value(10.0), &[1000.0, 1010.0, 990.0], &[700.0, 720.0, 710.0], 0.0);
        assert_eq!(line.verdict, Verdict::Regression);
        let line = judge(throughput, Threshold::Value(10.0), &[700.0, 720.0, 710.0], &[1000.0, 1010.0, 990.0], 0.0);
        assert_eq!(line.verdict, Verdict::Improved);
        let line = judge(throughput, Threshold::Off, &[1000.0], &[100.0], 0.0);
        assert_eq!(line.verdict, Verdict::Off);
    }

    #[test]
    fn exact_metrics_flag_any_change() {
        let moved = metrics::metric("keys_moved_ratio").unwrap();
        let line = judge(moved, Threshold::Value(metrics::EXACT), &[1.0003], &[1.0004], 0.0);
        assert_eq!(line.verdict, Verdict::Regression);
        assert_eq!(judge(moved, Threshold::Value(metrics::EXACT), &[1.0003], &[1.0003], 0.0).verdict, Verdict::Ok);
        let restored = metrics::metric("mapping_restored_fraction").unwrap();
        assert_eq!(judge(restored, Threshold::Value(metrics::EXACT), &[1.0], &[0.9], 0.0).verdict, Verdict::Regression);
        assert_eq!(judge(restored, Threshold::Value(metrics::EXACT), &[1.0], &[], 0.0).verdict, Verdict::Missing);
    }

    #[test]
    fn a_change_within_the_recording_resolution_does_not_count() {
        let p50 = metrics::metric("op_cost_ns_p50").unwrap();
        // 2 ns then 3 ns, recorded in whole nanoseconds: +50%, but one unit.
        let line = judge(p50, Threshold::Value(10.0), &[2.0, 2.0, 2.0], &[3.0, 3.0, 3.0], 0.5 + 1.0 / 3.0);
        assert_eq!(line.verdict, Verdict::Ok, "{line:?}");
        assert!(line.note.contains("resolution"));
        let line = judge(p50, Threshold::Value(10.0), &[20.0, 20.0, 20.0], &[30.0, 30.0, 30.0], 0.05 + 1.0 / 30.0);
        assert_eq!(line.verdict, Verdict::Regression, "{line:?}");
    }

    #[test]
    fn a_single_run_regresses_only_when_the_intervals_separate() {
        let judged = || judge(p99(), Threshold::Value(20.0), &[100.0], &[130.0], 0.0);
        assert_eq!(judged().verdict, Verdict::Regression, "medians alone");
        let mut overlapping = judged();
        by_intervals(&mut overlapping, &[(90.0, 125.0)], &[(120.0, 140.0)]);
        assert_eq!(overlapping.verdict, Verdict::Noise, "{overlapping:?}");
        assert!(overlapping.note.contains("overlap"), "{}", overlapping.note);
        let mut separate = judged();
        by_intervals(&mut separate, &[(95.0, 110.0)], &[(120.0, 140.0)]);
        assert_eq!(separate.verdict, Verdict::Regression, "{separate:?}");
        assert!(separate.note.contains("separate"), "{}", separate.note);
        let mut unbounded = judged();
        by_intervals(&mut unbounded, &[], &[(120.0, 140.0)]);
        assert_eq!(unbounded.verdict, Verdict::Regression, "no interval on a side: the medians decide");
    }

    #[test]
    fn a_capacity_drop_counts_only_when_the_brackets_separate() {
        let capacity = metrics::metric("capacity_ops_s").unwrap();
        let mut dropped = judge(capacity, Threshold::Value(10.0), &[800.0], &[600.0], 0.0);
        by_intervals(&mut dropped, &[(800.0, 835.0)], &[(600.0, 630.0)]);
        assert_eq!(dropped.verdict, Verdict::Regression, "{dropped:?}");
        let mut overlapping = judge(capacity, Threshold::Value(10.0), &[800.0], &[700.0], 0.0);
        by_intervals(&mut overlapping, &[(800.0, 900.0)], &[(700.0, 850.0)]);
        assert_eq!(overlapping.verdict, Verdict::Noise, "{overlapping:?}");
        let mut raised = judge(capacity, Threshold::Value(10.0), &[600.0], &[800.0], 0.0);
        by_intervals(&mut raised, &[(600.0, 630.0)], &[(800.0, 835.0)]);
        assert_eq!(raised.verdict, Verdict::Improved, "{raised:?}");
    }

    #[test]
    fn labels_tell_apart_runs_that_differ_only_in_parameters() {
        let mut a = vec![String::new(); IDENTITY_COLUMNS.len()];
        a[0] = "s".into();
        a[2] = "ring".into();
        a[3] = "inproc".into();
        let mut b = a.clone();
        b[11] = "vnodes=40".into();
        let mut c = a.clone();
        c[2] = "jump".into();
        let labels = labels(&[a, b, c]);
        assert_eq!(labels[0], "s ring inproc (params=)");
        assert_eq!(labels[1], "s ring inproc (params=vnodes=40)");
        assert_eq!(labels[2], "s jump inproc");
    }
}
