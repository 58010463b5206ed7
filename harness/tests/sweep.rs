//! `stratbench sweep` end to end: a simulated balancing target whose capacity is known by
//! construction (2 backends × 4 slots, every request 10 ms: 800 requests/s) under virtual
//! time, so every step is deterministic for the seed; the capacity found must bracket the
//! true one, and an objective broken at the first rate, one never broken, and a target that
//! cannot be reached must each end in a row that says so.

mod common;

use common::{stratbench, summary, text};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Requests/s the known target serves: 2 backends × 4 slots / 10 ms.
const CAPACITY_OPS_S: f64 = 800.0;
/// Above capacity the queue grows by (rate − 800) requests each second; over the 3.5 s of
/// warm-up and measured phase, p99 stays under 15 ms (10 ms of service + 5 ms of queueing)
/// only while (rate − 800) × 3.5 / 800 < 5 ms, i.e. up to 801.2 requests/s. The true capacity
/// at `p99<15ms` is in [800, 801.2].
const CAPACITY_AT_OBJECTIVE_MAX_OPS_S: f64 = 801.2;

const KNOWN: &str = r#"
[[scenario]]
name = "known"
family = "balancing"
mode = "inproc"
strategies = ["round-robin"]
duration = "3s"
warmup = "500ms"
interval = "500ms"
concurrency = 100
nodes = 2
keys = 1000
seed = 7
[scenario.params]
latency = "10ms"
capacity = 4
[scenario.sweep]
slo = "p99<15ms"
start = 150.0
"#;

/// Writes `scenario`, sweeps it with `flags`, asserts the session succeeded, and returns
/// the results directory.
fn sweep(dir: &Path, scenario: &str, flags: &[&str]) -> PathBuf {
    let file = dir.join("scenario.toml");
    std::fs::write(&file, scenario).unwrap();
    let out = dir.join("out");
    let mut args = vec!["sweep", file.to_str().unwrap(), "--out", out.to_str().unwrap()];
    args.extend_from_slice(flags);
    let output = stratbench(&args);
    assert!(output.status.success(), "{}", text(&output));
    out
}

fn rows_of(file: &Path) -> Vec<HashMap<String, String>> {
    let mut reader = csv::Reader::from_path(file).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    reader.records().map(|r| header.iter().cloned().zip(r.unwrap().iter().map(String::from)).collect()).collect()
}

fn number(row: &HashMap<String, String>, column: &str) -> f64 {
    row[column].parse().unwrap_or_else(|_| panic!("{column} = {:?} is not a number", row[column]))
}

/// The one summary row that carries the capacity columns (its `message` states the verdict,
/// naming the objective).
fn capacity_row(out: &Path) -> HashMap<String, String> {
    let rows = summary(out);
    let with: Vec<_> = rows.into_iter().filter(|r| !r["slo"].is_empty() && r["message"].contains(&r["slo"])).collect();
    assert_eq!(with.len(), 1, "one row carries the capacity: {with:?}");
    with.into_iter().next().unwrap()
}

#[test]
fn a_target_of_known_capacity_is_found_inside_the_sweeps_bracket() {
    let tmp = tempfile::tempdir().unwrap();
    let out = sweep(tmp.path(), KNOWN, &[]);
    let steps = rows_of(&out.join("sweep.csv"));
    assert!(steps.len() >= 5, "geometric steps then a bisection: {steps:?}");
    for step in &steps {
        let rate = number(step, "target_rate_ops_s");
        if rate <= CAPACITY_OPS_S {
            assert_eq!(step["verdict"], "holds", "{rate} req/s is within capacity: {step:?}");
        } else if rate > CAPACITY_AT_OBJECTIVE_MAX_OPS_S {
            assert_eq!(step["verdict"], "breaks", "{rate} req/s is past capacity: {step:?}");
        }
    }
    assert_eq!(steps.iter().filter(|s| s["knee"] == "true").count(), 1, "one knee");

    let row = capacity_row(&out);
    let (lo, hi) = (number(&row, "capacity_ops_s_lo"), number(&row, "capacity_ops_s_hi"));
    assert_eq!(number(&row, "capacity_ops_s"), lo, "the capacity is the highest rate that held");
    assert!(
        lo <= CAPACITY_AT_OBJECTIVE_MAX_OPS_S && CAPACITY_OPS_S <= hi,
        "[{lo}, {hi}] must contain the true capacity [{CAPACITY_OPS_S}, {CAPACITY_AT_OBJECTIVE_MAX_OPS_S}]"
    );
    assert!(hi <= lo * 1.05, "the bisection closed to the 5% resolution: [{lo}, {hi}]");
    let knee = steps.iter().find(|s| s["knee"] == "true").unwrap();
    assert_eq!(knee["run_id"], row["run_id"], "sweep.csv's knee is the capacity row");
    assert!(summary(&out).iter().all(|r| r["slo"] == "p99<15ms"), "every step names its objective");

    let report = stratbench(&["report", out.to_str().unwrap()]);
    assert!(report.status.success(), "{}", text(&report));
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let plot = html.split("data-plot=\"latency-throughput\"").nth(1).expect("a latency-throughput plot");
    let plot = plot.split("</figure>").next().unwrap();
    assert_eq!(plot.matches("<circle").count(), 1, "the knee circled once");
    for line in ["round-robin p50", "round-robin p99", "round-robin p99.9"] {
        assert!(plot.contains(line), "legend names {line}");
    }
}

#[test]
fn an_objective_broken_at_the_first_rate_gives_only_an_upper_bound_and_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    // Every request takes 10 ms: p99 < 5 ms cannot hold at any rate.
    let out = sweep(tmp.path(), KNOWN, &["--slo", "p99<5ms"]);
    let steps = rows_of(&out.join("sweep.csv"));
    assert_eq!(steps.len(), 1, "the search stops at the first break: {steps:?}");
    assert_eq!(steps[0]["verdict"], "breaks");
    assert!(steps[0]["reason"].contains("is not within 5.00 ms"), "{}", steps[0]["reason"]);
    let row = capacity_row(&out);
    assert_eq!((row["capacity_ops_s"].as_str(), row["capacity_ops_s_lo"].as_str()), ("", ""), "{row:?}");
    assert_eq!(number(&row, "capacity_ops_s_hi"), 150.0);
    assert!(row["message"].contains("broken at the lowest rate tried"), "{}", row["message"]);
}

#[test]
fn an_objective_never_broken_gives_only_a_lower_bound_and_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let out = sweep(tmp.path(), KNOWN, &["--max-rate", "500"]);
    let steps = rows_of(&out.join("sweep.csv"));
    let rates: Vec<f64> = steps.iter().map(|s| number(s, "target_rate_ops_s")).collect();
    assert_eq!(rates, [150.0, 300.0, 500.0], "doubling, capped at the maximum rate");
    assert!(steps.iter().all(|s| s["verdict"] == "holds"), "{steps:?}");
    let row = capacity_row(&out);
    assert_eq!((row["capacity_ops_s"].as_str(), row["capacity_ops_s_hi"].as_str()), ("", ""), "{row:?}");
    assert_eq!(number(&row, "capacity_ops_s_lo"), 500.0);
    assert!(row["message"].contains("held at every rate tried"), "{}", row["message"]);
}

#[test]
fn an_unreachable_target_is_an_error_row_and_the_next_strategy_still_sweeps() {
    let tmp = tempfile::tempdir().unwrap();
    let scenarios = format!(
        "{}\n{KNOWN}",
        r#"
[[scenario]]
name = "gone"
family = "locks"
mode = "net"
strategies = ["redis"]
duration = "1s"
[scenario.sweep]
slo = "p99<10ms"
"#
    );
    let out = sweep(tmp.path(), &scenarios, &["--redis", "redis://127.0.0.1:1", "--max-steps", "2"]);
    let rows = summary(&out);
    let gone: Vec<_> = rows.iter().filter(|r| r["scenario"] == "gone").collect();
    assert_eq!(gone.len(), 1, "the sweep stops at the first failed step: {gone:?}");
    assert_eq!(gone[0]["status"], "error");
    assert!(gone[0]["message"].contains("127.0.0.1:1"), "names the address: {}", gone[0]["message"]);
    assert!(gone[0]["message"].starts_with("no capacity at p99<10ms"), "{}", gone[0]["message"]);
    assert_eq!(gone[0]["message"].matches("127.0.0.1:1").count(), 1, "said once: {}", gone[0]["message"]);
    assert!(gone[0]["capacity_ops_s"].is_empty() && gone[0]["capacity_ops_s_lo"].is_empty());
    let known: Vec<_> = rows.iter().filter(|r| r["scenario"] == "known").collect();
    assert_eq!(known.len(), 2, "the next scenario ran its 2 steps");
    assert!(known.iter().all(|r| r["status"] == "ok"), "{known:?}");
}

#[test]
fn bad_sweep_settings_exit_2_naming_them_before_anything_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("scenario.toml");
    std::fs::write(&file, KNOWN).unwrap();
    let out = tmp.path().join("out");
    for (flags, names) in [
        (&["--slo", "q99<10ms"][..], "q99"),
        (&["--slo", "p99<"][..], "sweep.slo"),
        (&["--slo", "p99<10ms,errors<150%"][..], "150%"),
        (&["--factor", "1"][..], "factor"),
    ] {
        let mut args = vec!["sweep", file.to_str().unwrap(), "--out", out.to_str().unwrap()];
        args.extend_from_slice(flags);
        let output = stratbench(&args);
        assert_eq!(output.status.code(), Some(2), "{flags:?}: {}", text(&output));
        assert!(text(&output).contains(names), "{flags:?} names `{names}`: {}", text(&output));
        assert!(!out.join("summary.csv").exists(), "{flags:?}: nothing ran");
    }
}

#[test]
fn compare_flags_a_capacity_drop_only_when_the_brackets_separate() {
    let tmp = tempfile::tempdir().unwrap();
    let sweep_into = |name: &str, scenario: &str| {
        let dir = tmp.path().join(name);
        std::fs::create_dir(&dir).unwrap();
        sweep(&dir, scenario, &[])
    };
    let baseline = sweep_into("baseline", KNOWN);
    let again = sweep_into("again", KNOWN);
    // One slot fewer per backend (600 requests/s) stands for a slower build of the same run:
    // its summary names the baseline's parameters so that the rows match.
    let slower = sweep_into("slower", &KNOWN.replace("capacity = 4", "capacity = 3"));
    let summary_csv = slower.join("summary.csv");
    let rows = std::fs::read_to_string(&summary_csv).unwrap();
    assert!(rows.contains("capacity=3"), "the parameters are in the summary");
    std::fs::write(&summary_csv, rows.replace("capacity=3", "capacity=4")).unwrap();
    let compare = |current: &Path| stratbench(&["compare", baseline.to_str().unwrap(), current.to_str().unwrap()]);

    let same = compare(&again);
    assert_eq!(same.status.code(), Some(0), "{}", text(&same));
    let dropped = compare(&slower);
    assert_eq!(dropped.status.code(), Some(1), "{}", text(&dropped));
    let report = text(&dropped);
    let line = report.lines().find(|l| l.contains("capacity_ops_s")).expect("a capacity line");
    assert!(line.contains("REGRESSION") && line.contains("intervals separate"), "{line}");
    assert!(line.contains("1/1"), "one capacity row a side, matched whatever rate the knee was at: {line}");
}
