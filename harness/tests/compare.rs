//! `stratbench compare` end to end on real runs: a run compared with itself passes; the same
//! run with a slowdown injected into one strategy's repetitions (30% beyond the spread of
//! its repetitions) fails with exit 1 and names that run, and only it; a run missing from the current summary is reported (and
//! fails unless allowed); two real runs of the same seed agree exactly on the deterministic
//! metrics (key movement, balance, monotonicity).

mod common;

use common::{stratbench, text};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const SCENARIO: &str = r#"
[defaults]
duration = "300ms"
warmup = "100ms"
interval = "100ms"
seed = 7
repeat = 5

[[scenario]]
name = "cmp-hashing"
family = "hashing"
strategies = ["modulo", "ring", "jump"]
nodes = 10
keys = 50_000
dist = "zipfian"
[[scenario.events]]
at = "100ms"
action = "add-node"
[[scenario.events]]
at = "200ms"
action = "remove-last"

[[scenario]]
name = "cmp-driver"
family = "noop"
"#;

/// A real run of the scenario into `dir/name`.
fn real_run(dir: &Path, name: &str) -> PathBuf {
    common::run_scenario(dir, name, SCENARIO)
}

/// One real run shared by the tests of this file (they only read it), in cargo's scratch
/// directory for integration tests.
fn baseline() -> &'static Path {
    static RUN: OnceLock<PathBuf> = OnceLock::new();
    RUN.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("compare-test");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        real_run(&dir, "baseline")
    })
}

/// Rewrites `summary.csv` of `from` into `to`, passing each row (as header → value) through
/// `edit`; rows for which it returns false are dropped.
fn rewrite(from: &Path, to: &Path, edit: impl Fn(&mut Vec<(String, String)>) -> bool) {
    let mut reader = csv::Reader::from_path(from.join("summary.csv")).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let mut writer = csv::Writer::from_path(to).unwrap();
    writer.write_record(&header).unwrap();
    for record in reader.records() {
        let mut row: Vec<(String, String)> =
            header.iter().cloned().zip(record.unwrap().iter().map(String::from)).collect();
        if edit(&mut row) {
            writer.write_record(row.iter().map(|(_, v)| v)).unwrap();
        }
    }
    writer.flush().unwrap();
}

fn get<'a>(row: &'a [(String, String)], column: &str) -> &'a str {
    &row.iter().find(|(c, _)| c == column).unwrap().1
}

fn scale(row: &mut [(String, String)], column: &str, factor: f64) {
    let cell = &mut row.iter_mut().find(|(c, _)| c == column).unwrap().1;
    if let Ok(value) = cell.parse::<f64>() {
        *cell = format!("{}", value * factor);
    }
}

#[test]
fn an_unchanged_run_passes() {
    let run = baseline().to_str().unwrap();
    let output = stratbench(&["compare", run, run]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(text(&output).contains("0 regressions"), "{}", text(&output));
    assert!(text(&output).contains("cmp-hashing ring inproc"), "every run is listed: {}", text(&output));
}

/// The op-cost columns a slowdown changes.
const OP_COST_COLUMNS: [&str; 4] = ["op_cost_ns_mean", "op_cost_ns_p50", "op_cost_ns_p99", "op_cost_ns_max"];

/// `strategy`'s value of `column` in each repetition of the baseline, by repetition.
fn repetitions(strategy: &str, column: &str) -> std::collections::BTreeMap<String, f64> {
    let mut reader = csv::Reader::from_path(baseline().join("summary.csv")).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let mut values = std::collections::BTreeMap::new();
    for record in reader.records() {
        let row: Vec<(String, String)> = header.iter().cloned().zip(record.unwrap().iter().map(String::from)).collect();
        if get(&row, "strategy") == strategy {
            values.insert(get(&row, "repeat").to_string(), get(&row, column).parse().unwrap());
        }
    }
    values
}

/// max / min.
fn spread(values: impl Iterator<Item = f64> + Clone) -> f64 {
    values.clone().fold(f64::MIN, f64::max) / values.fold(f64::MAX, f64::min)
}

/// A slowdown of 30% beyond the noise of the baseline's repetitions: every repetition of
/// `ring` costs 1.3 × the baseline's widest spread (of its own costs, and of its costs
/// relative to `jump`) more, so that the whole spread moves past the threshold however noisy
/// this machine was when the baseline ran.
fn slowdown_beyond_noise() -> f64 {
    let spreads = OP_COST_COLUMNS.iter().flat_map(|column| {
        let (ring, jump) = (repetitions("ring", column), repetitions("jump", column));
        let relative: Vec<f64> = ring.iter().map(|(rep, cost)| cost / jump[rep]).collect();
        [spread(ring.values().copied()), spread(relative.into_iter())]
    });
    1.3 * spreads.fold(1.0, f64::max)
}

#[test]
fn a_30_percent_slowdown_beyond_the_noise_fails_and_names_the_row() {
    let dir = tempfile::tempdir().unwrap();
    let slower = dir.path().join("slower.csv");
    let factor = slowdown_beyond_noise();
    rewrite(baseline(), &slower, |row| {
        if get(row, "strategy") == "ring" {
            for column in OP_COST_COLUMNS {
                scale(row, column, factor);
            }
            scale(row, "throughput_ops_s", 1.0 / factor);
        }
        true
    });
    let output = stratbench(&["compare", baseline().to_str().unwrap(), slower.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(text(&output).contains("regressed: cmp-hashing ring inproc"), "{}", text(&output));

    let output = stratbench(&["compare", baseline().to_str().unwrap(), slower.to_str().unwrap(), "--format", "json"]);
    assert_eq!(output.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let regressions: Vec<(&str, &str)> = json["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["verdict"] == "regression")
        .map(|l| (l["run"].as_str().unwrap(), l["metric"].as_str().unwrap()))
        .collect();
    assert!(regressions.contains(&("cmp-hashing ring inproc", "op_cost_ns_p50")), "{regressions:?}");
    assert!(regressions.contains(&("cmp-hashing ring inproc", "op_cost_ns_p50_rel")), "{regressions:?}");
    assert!(regressions.iter().all(|(run, _)| *run == "cmp-hashing ring inproc"), "only ring: {regressions:?}");
}

#[test]
fn a_missing_row_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let fewer = dir.path().join("fewer.csv");
    rewrite(baseline(), &fewer, |row| get(row, "strategy") != "jump");
    let output = stratbench(&["compare", baseline().to_str().unwrap(), fewer.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(
        text(&output).contains("runs missing from the current summary: cmp-hashing jump inproc"),
        "{}",
        text(&output)
    );
    let output = stratbench(&["compare", baseline().to_str().unwrap(), fewer.to_str().unwrap(), "--allow-missing"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(text(&output).contains("MISSING"), "still listed: {}", text(&output));
    // The other way round, the run is new, which is no failure.
    let output = stratbench(&["compare", fewer.to_str().unwrap(), baseline().to_str().unwrap(), "--format", "csv"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(String::from_utf8_lossy(&output.stdout).contains("cmp-hashing jump inproc,(run),"), "{}", text(&output));
}

#[test]
fn deterministic_metrics_agree_exactly_across_two_real_runs() {
    let dir = tempfile::tempdir().unwrap();
    let again = real_run(dir.path(), "again");
    // Timings are off: this checks that the same seed moves the same keys.
    let output = stratbench(&["compare", baseline().to_str().unwrap(), again.to_str().unwrap(), "--threshold", "off"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let output = stratbench(&[
        "compare",
        baseline().to_str().unwrap(),
        again.to_str().unwrap(),
        "--threshold",
        "off",
        "--format",
        "json",
    ]);
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let exact: Vec<&serde_json::Value> = json["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| {
            ["keys_moved_ratio", "load_peak_to_mean", "monotonicity_violations"]
                .contains(&l["metric"].as_str().unwrap())
        })
        .collect();
    assert_eq!(exact.len(), 9, "three metrics of three strategies: {exact:?}");
    assert!(exact.iter().all(|l| l["verdict"] == "ok" && l["change_percent"] == 0.0), "{exact:?}");
}

#[test]
fn bad_input_exits_2() {
    let output = stratbench(&["compare", "/no/such/run", baseline().to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains("/no/such/run"));
    let output =
        stratbench(&["compare", baseline().to_str().unwrap(), baseline().to_str().unwrap(), "--threshold", "p99=5"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains("p99"));
}
