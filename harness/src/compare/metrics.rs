//! What `compare` compares: each metric's direction, how it is judged, and its threshold, with
//! the thresholds a user sets per metric and per row (flags and a TOML file).
//!
//! Two kinds of metric:
//! - **timings** (throughput, latency and cost percentiles, their ratios to a reference
//!   strategy measured in the same run, build time, memory) vary from run to run; a threshold
//!   is a percentage of the baseline, and a move beyond it is a regression only when the
//!   repetitions confirm it (see [`super::judge`]);
//! - **exact** metrics (safety violations, key movement over the ideal, balance, monotonicity)
//!   are deterministic for a given seed; any change beyond a tiny absolute tolerance counts.
//!
//! Thresholds file (`--thresholds FILE`):
//! ```toml
//! [thresholds]                # per metric: percent (timings) or absolute tolerance (exact)
//! latency_us_p99 = 30
//! throughput_ops_s = "off"    # reported, never fails
//! [reference]                 # the strategy the `*_rel` metrics divide by, per family
//! hashing = "jump"
//! [[rows]]                    # rows matching every given identity column get these
//! match = { scenario = "ci-hashing", strategy = "bounded-load" }
//! thresholds = { op_cost_ns_p99_rel = 50 }
//! ```
//! Precedence: built-in default < file `[thresholds]` < `--threshold` < file `[[rows]]`.

use crate::error::bad_input;
use crate::rundir::IDENTITY_COLUMNS;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// Which way is better.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Better {
    Higher,
    Lower,
}

/// How a metric is judged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Noisy: a percentage threshold, confirmed by the repetitions.
    Timing,
    /// Deterministic: an absolute tolerance.
    Exact,
}

/// A metric of `summary.csv`, or one derived from it (`*_rel`).
#[derive(Clone, Copy, Debug)]
pub struct Metric {
    pub name: &'static str,
    pub better: Better,
    pub kind: Kind,
    /// Percent for timings, absolute tolerance for exact metrics, or off (shown only).
    pub default_threshold: Threshold,
    /// For a `*_rel` metric, the column divided by the reference strategy's.
    pub relative_to: Option<&'static str>,
}

const fn timing(name: &'static str, better: Better, percent: f64) -> Metric {
    Metric { name, better, kind: Kind::Timing, default_threshold: Threshold::Value(percent), relative_to: None }
}

const fn exact(name: &'static str, better: Better, tolerance: f64) -> Metric {
    Metric { name, better, kind: Kind::Exact, default_threshold: Threshold::Value(tolerance), relative_to: None }
}

const fn relative(name: &'static str, of: &'static str, better: Better, percent: f64) -> Metric {
    Metric { name, better, kind: Kind::Timing, default_threshold: Threshold::Value(percent), relative_to: Some(of) }
}

/// `metric`, shown but not judged unless a threshold is set.
const fn shown(metric: Metric) -> Metric {
    Metric { default_threshold: Threshold::Off, ..metric }
}

/// Tolerance of "exact" comparisons: the CSV rounds ratios and fractions to six decimals, so
/// this is rounding, not measurement noise.
pub const EXACT: f64 = 1e-6;

/// Every compared metric, in the order they are printed. The default thresholds are set above
/// the drift seen between sessions of the `ci` preset on a shared 2-core machine (medians
/// moved by up to 12%, throughput by up to 40% when neighbours were busy). Tails drift
/// further: on that machine 14 of 28 comparisons between sessions of the same commit still
/// failed on `op_cost_ns_p99` or throughput, which is why CI judges only what held still
/// (results/baselines/ci-thresholds.toml: none of the 28 failed). Ratios of tails and of
/// throughput to the reference are shown but not judged by default: the reference's own tail
/// and throughput are as noisy as the run's, so the ratio adds both noises (a jump p99 caught
/// by one interruption moved every `op_cost_ns_p99_rel` of a session twentyfold).
pub const METRICS: &[Metric] = &[
    timing("throughput_ops_s", Better::Higher, 20.0),
    timing("capacity_ops_s", Better::Higher, 10.0),
    timing("latency_us_p50", Better::Lower, 15.0),
    timing("latency_us_p90", Better::Lower, 20.0),
    timing("latency_us_p99", Better::Lower, 30.0),
    timing("latency_us_p999", Better::Lower, 40.0),
    timing("op_cost_ns_p50", Better::Lower, 15.0),
    timing("op_cost_ns_p99", Better::Lower, 30.0),
    shown(relative("throughput_rel", "throughput_ops_s", Better::Higher, 20.0)),
    relative("latency_us_p50_rel", "latency_us_p50", Better::Lower, 15.0),
    shown(relative("latency_us_p99_rel", "latency_us_p99", Better::Lower, 30.0)),
    relative("op_cost_ns_p50_rel", "op_cost_ns_p50", Better::Lower, 15.0),
    shown(relative("op_cost_ns_p99_rel", "op_cost_ns_p99", Better::Lower, 30.0)),
    timing("build_time_us", Better::Lower, 50.0),
    timing("memory_bytes", Better::Lower, 10.0),
    exact("error_rate", Better::Lower, 0.01),
    exact("violations", Better::Lower, EXACT),
    exact("keys_moved_ratio", Better::Lower, EXACT),
    exact("monotonicity_violations", Better::Lower, EXACT),
    exact("mapping_restored_fraction", Better::Higher, EXACT),
    exact("resize_unsupported", Better::Lower, EXACT),
    exact("load_peak_to_mean", Better::Lower, EXACT),
];

/// The reference strategy of each family that `*_rel` metrics divide by, unless the
/// thresholds file or `--reference` says otherwise. A family without one has no `*_rel`.
///
/// For hashing it is `jump` rather than the `modulo` baseline: modulo's lookup costs about
/// 2 ns, so the noise of a nanosecond (a cache miss, a timer read) is half of it; jump's
/// (about 25 ns) is steadier, and it is as plain a computation (no memory beyond the node
/// count), which is what makes the ratio travel between machines.
pub const DEFAULT_REFERENCES: &[(&str, &str)] = &[("hashing", "jump")];

/// The relative change that the recording alone can cause in `column`'s value written as
/// `cell`: histograms keep 3 significant digits (a bucket is at most 1/1024 of its value), and
/// a column's quantum is 0.001 of its unit (a nanosecond in `_us` columns, a picosecond in
/// `op_cost_ns_`). Summaries written before values carried decimals hold whole µs or ns
/// (no `.` in the cell): there one unit is the resolution, which made a 2 ns cost recorded
/// as 3 ns read as +50%. Columns that are not recorded timings have none.
pub fn resolution(column: &str, cell: &str) -> f64 {
    let recorded =
        (column.starts_with("latency_us_") || column.starts_with("op_cost_ns_") || column == "build_time_us")
            && !column.ends_with("_mean");
    let value = cell.parse::<f64>().unwrap_or(0.0);
    if !recorded || value <= 0.0 {
        return 0.0;
    }
    let quantum = if cell.contains('.') && column != "build_time_us" { 0.001 } else { 1.0 };
    let histogram_bucket = if column == "build_time_us" { 0.0 } else { 1.0 / 1024.0 };
    quantum / value + histogram_bucket
}

/// The columns of `metric`'s 95% interval (`latency_us_p99_lo`, `_hi`; `capacity_ops_s_lo`,
/// `_hi`), for the metrics that have one; a `*_rel` ratio has none.
pub fn interval_columns(metric: &Metric) -> Option<(String, String)> {
    metric.relative_to.is_none().then(|| (format!("{}_lo", metric.name), format!("{}_hi", metric.name)))
}

/// A metric by name.
pub fn metric(name: &str) -> Option<&'static Metric> {
    METRICS.iter().find(|m| m.name == name)
}

/// A threshold: a number, or off (reported, never a failure).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Threshold {
    Value(f64),
    Off,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawThreshold {
    Number(f64),
    Text(String),
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    thresholds: BTreeMap<String, RawThreshold>,
    #[serde(default)]
    reference: BTreeMap<String, String>,
    #[serde(default)]
    rows: Vec<RawRow>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRow {
    #[serde(rename = "match")]
    matches: BTreeMap<String, String>,
    thresholds: BTreeMap<String, RawThreshold>,
}

/// A per-row rule: identity column values to match, and thresholds.
#[derive(Clone, Debug)]
struct RowRule {
    matches: Vec<(usize, String)>,
    thresholds: BTreeMap<String, Threshold>,
}

/// Thresholds per metric and per row, and the reference strategies.
#[derive(Clone, Debug)]
pub struct Thresholds {
    per_metric: BTreeMap<String, Threshold>,
    rows: Vec<RowRule>,
    pub references: BTreeMap<String, String>,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            per_metric: METRICS.iter().map(|m| (m.name.to_string(), m.default_threshold)).collect(),
            rows: Vec::new(),
            references: DEFAULT_REFERENCES.iter().map(|(f, s)| (f.to_string(), s.to_string())).collect(),
        }
    }
}

impl Thresholds {
    /// Lays the thresholds file at `path` over the defaults.
    pub fn load_file(&mut self, path: &Path) -> anyhow::Result<()> {
        let at = |message: String| bad_input(format!("thresholds file {}: {message}", path.display()));
        let text = std::fs::read_to_string(path).map_err(|e| at(e.to_string()))?;
        let raw: RawFile = toml::from_str(&text).map_err(|e| at(e.to_string()))?;
        for (name, value) in raw.thresholds {
            let value = parse_threshold(&name, value).map_err(at)?;
            self.per_metric.insert(name, value);
        }
        self.references.extend(raw.reference);
        for (i, row) in raw.rows.into_iter().enumerate() {
            let mut matches = Vec::new();
            for (column, value) in row.matches {
                let index = IDENTITY_COLUMNS.iter().position(|c| *c == column).ok_or_else(|| {
                    at(format!("rows[{i}].match: `{column}` is not one of {}", IDENTITY_COLUMNS.join(", ")))
                })?;
                matches.push((index, value));
            }
            let mut thresholds = BTreeMap::new();
            for (name, value) in row.thresholds {
                let value = parse_threshold(&name, value).map_err(|e| at(format!("rows[{i}]: {e}")))?;
                thresholds.insert(name, value);
            }
            self.rows.push(RowRule { matches, thresholds });
        }
        Ok(())
    }

    /// Applies a `--threshold` flag: `PCT` for every timing metric, or `METRIC=VALUE`.
    pub fn apply_flag(&mut self, flag: &str) -> anyhow::Result<()> {
        let (name, value) = match flag.split_once('=') {
            Some((name, value)) => (Some(name.trim()), value.trim()),
            None => (None, flag.trim()),
        };
        let raw = match value.parse::<f64>() {
            Ok(number) => RawThreshold::Number(number),
            Err(_) => RawThreshold::Text(value.to_string()),
        };
        match name {
            Some(name) => {
                let value = parse_threshold(name, raw).map_err(|e| bad_input(format!("--threshold: {e}")))?;
                self.per_metric.insert(name.to_string(), value);
            }
            None => {
                let value =
                    parse_threshold("throughput_ops_s", raw).map_err(|e| bad_input(format!("--threshold: {e}")))?;
                for metric in METRICS.iter().filter(|m| m.kind == Kind::Timing) {
                    self.per_metric.insert(metric.name.to_string(), value);
                }
            }
        }
        Ok(())
    }

    /// Sets the reference strategy of a family (`--reference FAMILY=STRATEGY`).
    pub fn apply_reference(&mut self, flag: &str) -> anyhow::Result<()> {
        let (family, strategy) =
            flag.split_once('=').ok_or_else(|| bad_input(format!("--reference `{flag}` is not FAMILY=STRATEGY")))?;
        self.references.insert(family.trim().to_string(), strategy.trim().to_string());
        Ok(())
    }

    /// The threshold of `metric` for the row with identity values `identity`.
    pub fn get(&self, metric: &Metric, identity: &[String]) -> Threshold {
        let row = self.rows.iter().rev().find(|rule| {
            rule.thresholds.contains_key(metric.name)
                && rule.matches.iter().all(|(i, value)| identity.get(*i).is_some_and(|v| v == value))
        });
        match row {
            Some(rule) => rule.thresholds[metric.name],
            None => self.per_metric.get(metric.name).copied().unwrap_or(metric.default_threshold),
        }
    }
}

fn parse_threshold(name: &str, value: RawThreshold) -> Result<Threshold, String> {
    if metric(name).is_none() {
        let names: Vec<_> = METRICS.iter().map(|m| m.name).collect();
        return Err(format!("unknown metric `{name}` (metrics: {})", names.join(", ")));
    }
    match value {
        RawThreshold::Number(v) if v.is_finite() && v >= 0.0 => Ok(Threshold::Value(v)),
        RawThreshold::Number(v) => Err(format!("`{name}`: threshold {v} must be zero or positive")),
        RawThreshold::Text(t) if t == "off" => Ok(Threshold::Off),
        RawThreshold::Text(t) => Err(format!("`{name}`: threshold `{t}` is neither a number nor \"off\"")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolution_follows_how_a_value_was_recorded() {
        // A 2 ns cost in whole nanoseconds: one unit is half of it (and a histogram bucket).
        assert_eq!(resolution("op_cost_ns_p50", "2"), 0.5 + 1.0 / 1024.0);
        // The same cost at picosecond resolution: the histogram's 3 digits dominate.
        let fine = resolution("op_cost_ns_p50", "2.047");
        assert!(fine < 0.002, "{fine}");
        assert_eq!(resolution("throughput_ops_s", "2.5"), 0.0);
        assert_eq!(resolution("op_cost_ns_mean", "2"), 0.0, "a mean is not one recorded value");
        assert_eq!(resolution("build_time_us", "40"), 1.0 / 40.0);
    }

    fn identity(scenario: &str, strategy: &str) -> Vec<String> {
        let mut id = vec![String::new(); IDENTITY_COLUMNS.len()];
        id[0] = scenario.into();
        id[2] = strategy.into();
        id
    }

    #[test]
    fn precedence_is_default_file_flag_row() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.toml");
        std::fs::write(
            &path,
            "[thresholds]\nlatency_us_p99 = 35\nthroughput_ops_s = \"off\"\n\
             [[rows]]\nmatch = { strategy = \"ring\" }\nthresholds = { latency_us_p99 = 50 }\n",
        )
        .unwrap();
        let mut t = Thresholds::default();
        let p99 = metric("latency_us_p99").unwrap();
        assert_eq!(t.get(p99, &identity("s", "ring")), Threshold::Value(30.0));
        t.load_file(&path).unwrap();
        assert_eq!(t.get(p99, &identity("s", "jump")), Threshold::Value(35.0));
        assert_eq!(t.get(p99, &identity("s", "ring")), Threshold::Value(50.0));
        assert_eq!(t.get(metric("throughput_ops_s").unwrap(), &identity("s", "jump")), Threshold::Off);
        t.apply_flag("12").unwrap();
        assert_eq!(t.get(p99, &identity("s", "jump")), Threshold::Value(12.0));
        assert_eq!(t.get(p99, &identity("s", "ring")), Threshold::Value(50.0), "a row rule wins");
        let violations = metric("violations").unwrap();
        assert_eq!(t.get(violations, &identity("s", "jump")), Threshold::Value(EXACT), "exact metrics keep theirs");
        t.apply_flag("violations=2").unwrap();
        assert_eq!(t.get(violations, &identity("s", "jump")), Threshold::Value(2.0));
    }

    #[test]
    fn bad_thresholds_name_the_problem() {
        let mut t = Thresholds::default();
        assert!(format!("{:#}", t.apply_flag("latency_p99=3").unwrap_err()).contains("latency_p99"));
        assert!(format!("{:#}", t.apply_flag("-5").unwrap_err()).contains("-5"));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.toml");
        std::fs::write(&path, "[[rows]]\nmatch = { color = \"red\" }\nthresholds = {}\n").unwrap();
        assert!(format!("{:#}", t.load_file(&path).unwrap_err()).contains("color"));
    }
}
