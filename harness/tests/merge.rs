//! Several drivers: two `stratbench run --driver-id .. --start-at ..` processes on this machine
//! load the no-op target at the same time, `stratbench merge` combines their run directories,
//! and the result is checked against the drivers' own files (operation counts add; every
//! percentile equals the one of the directly summed histograms) and against one driver that
//! carried both loads (the same run identity, the same operation count within the schedule's
//! rounding, the same intervals).

mod common;

use common::{stratbench, text};
use hdrhistogram::Histogram;
use hdrhistogram::serialization::Deserializer;
use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

const RATE_PER_DRIVER: u32 = 2000;

fn load_args(rate: u32, workers: u32, out: &Path) -> Vec<String> {
    ["run", "--family", "noop", "--duration", "2s", "--warmup", "200ms", "--interval", "500ms"]
        .iter()
        .map(|s| s.to_string())
        .chain(["--rate".into(), rate.to_string(), "--concurrency".into(), workers.to_string()])
        .chain(["--out".into(), out.display().to_string()])
        .collect()
}

/// The only summary row of a run directory, as header → value.
fn summary(dir: &Path) -> std::collections::HashMap<String, String> {
    let mut reader = csv::Reader::from_path(dir.join("summary.csv")).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 1, "{}", dir.display());
    header.into_iter().zip(rows[0].iter().map(String::from)).collect()
}

fn number(row: &std::collections::HashMap<String, String>, column: &str) -> f64 {
    row[column].parse().unwrap_or_else(|_| panic!("{column} = `{}`", row[column]))
}

/// Every untagged (response-time) interval histogram of every `.hlog` under `dir/hlog`, and
/// their wall-clock starts.
fn histograms(dir: &Path) -> (Vec<Histogram<u64>>, Vec<Duration>) {
    tagged_histograms(dir, None)
}

/// The interval histograms with `tag` (`None`: untagged) of every `.hlog` under `dir/hlog`,
/// and the logs' wall-clock starts.
fn tagged_histograms(dir: &Path, tag: Option<&str>) -> (Vec<Histogram<u64>>, Vec<Duration>) {
    let mut all = Vec::new();
    let mut starts = Vec::new();
    for entry in std::fs::read_dir(dir.join("hlog")).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        for item in IntervalLogIterator::new(&bytes) {
            match item.unwrap() {
                LogEntry::StartTime(start) => starts.push(start),
                LogEntry::Interval(interval) if interval.tag().map(|t| t.as_str()) == tag => {
                    let raw = decode_base64(interval.encoded_histogram());
                    let histogram: Histogram<u64> = Deserializer::new().deserialize(&mut &raw[..]).unwrap();
                    all.push(histogram);
                }
                LogEntry::BaseTime(_) | LogEntry::Interval(_) => {}
            }
        }
    }
    (all, starts)
}

fn decode_base64(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(text).unwrap()
}

fn sum(histograms: &[Histogram<u64>]) -> Histogram<u64> {
    let mut total = Histogram::<u64>::new(3).unwrap();
    for h in histograms {
        total.add(h).unwrap();
    }
    total
}

#[test]
fn two_drivers_merge_like_one_driver_carrying_both_loads() {
    let dir = tempfile::tempdir().unwrap();
    let start = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs_f64() + 2.0;
    let start = format!("{start:.3}");
    let children: Vec<_> = ["east", "west"]
        .iter()
        .map(|id| {
            let mut args = load_args(RATE_PER_DRIVER, 1, &dir.path().join(id));
            args.extend(["--driver-id".into(), id.to_string(), "--start-at".into(), start.clone()]);
            Command::new(env!("CARGO_BIN_EXE_stratbench"))
                .args(&args)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "{}", text(&output));
    }
    let (east, west, merged) = (dir.path().join("east"), dir.path().join("west"), dir.path().join("merged"));
    let output =
        stratbench(&["merge", east.to_str().unwrap(), west.to_str().unwrap(), "--out", merged.to_str().unwrap()]);
    assert!(output.status.success(), "{}", text(&output));

    let (e, w, m) = (summary(&east), summary(&west), summary(&merged));
    assert_eq!(e["driver_id"], "east");
    assert_eq!(m["driver_id"], "east+west");
    assert_eq!(number(&m, "ops"), number(&e, "ops") + number(&w, "ops"), "operation counts add");
    assert_eq!(number(&m, "errors"), number(&e, "errors") + number(&w, "errors"));
    assert_eq!(number(&m, "workers"), 2.0);
    assert_eq!(number(&m, "target_rate_ops_s"), f64::from(2 * RATE_PER_DRIVER));
    assert!(!m["message"].contains("off the common interval grid"), "{}", m["message"]);

    // Percentiles come from the summed histograms, never from averaged percentiles.
    let (mut parts, starts) = histograms(&east);
    let (west_parts, west_starts) = histograms(&west);
    assert_eq!(starts, west_starts, "both drivers started their measured phase at the same wall-clock time");
    parts.extend(west_parts);
    let direct = sum(&parts);
    assert_eq!(direct.len(), number(&m, "ops") as u64, "every operation is in the logs once");
    for (column, quantile) in
        [("latency_us_p50", 0.5), ("latency_us_p90", 0.9), ("latency_us_p99", 0.99), ("latency_us_p999", 0.999)]
    {
        assert_eq!(number(&m, column), direct.value_at_quantile(quantile) as f64 / 1000.0, "{column}: ns in µs");
    }
    assert_eq!(number(&m, "latency_us_max"), direct.max() as f64 / 1000.0);
    // So do the service time and the schedule lag, kept beside them in the logs.
    for (tag, column, quantile) in [("service", "service_us_p99", 0.99), ("lag", "schedule_lag_us_p99", 0.99)] {
        let mut tagged = tagged_histograms(&east, Some(tag)).0;
        tagged.extend(tagged_histograms(&west, Some(tag)).0);
        assert_eq!(number(&m, column), sum(&tagged).value_at_quantile(quantile) as f64 / 1000.0, "{column}");
    }
    let (merged_log, _) = histograms(&merged);
    assert_eq!(sum(&merged_log), direct, "the merged interval log holds the same histograms");

    // Its time series adds the drivers' intervals slot by slot.
    let mut reader = csv::Reader::from_path(merged.join("timeseries.csv")).unwrap();
    let ops_column = reader.headers().unwrap().iter().position(|c| c == "ops").unwrap();
    let intervals: Vec<f64> = reader.records().map(|r| r.unwrap()[ops_column].parse().unwrap()).collect();
    assert_eq!(intervals.iter().sum::<f64>(), number(&m, "ops"));

    // One driver carrying both loads: the same run, the same count within 2% (the count is
    // set by the schedule, not by the machine's speed; but an operation due at the end of the
    // warm-up that finishes after it counts as measured, and on a loaded machine there are a
    // few more of those), the same intervals.
    let one = dir.path().join("one");
    let output = stratbench(&load_args(2 * RATE_PER_DRIVER, 2, &one).iter().map(String::as_str).collect::<Vec<_>>());
    assert!(output.status.success(), "{}", text(&output));
    let o = summary(&one);
    let expected = f64::from(2 * RATE_PER_DRIVER) * 2.0;
    for ops in [number(&m, "ops"), number(&o, "ops")] {
        assert!((ops - expected).abs() <= 0.02 * expected, "{ops} operations, {expected} scheduled");
    }
    let (one_intervals, _) = histograms(&one);
    // An operation due just before the end may end just after it, in one more interval.
    assert!(
        one_intervals.len().abs_diff(merged_log.len()) <= 1,
        "the same intervals: {} and {}",
        one_intervals.len(),
        merged_log.len()
    );
    let output = stratbench(&[
        "compare",
        one.to_str().unwrap(),
        merged.to_str().unwrap(),
        "--threshold",
        "off",
        "--format",
        "csv",
    ]);
    assert_eq!(output.status.code(), Some(0), "the merged run matches the single driver's: {}", text(&output));
    assert!(!String::from_utf8_lossy(&output.stdout).contains("missing"), "{}", text(&output));
}

/// A merge that would count a driver twice, overwrite one of its inputs, or silently leave a
/// driver's latencies out is refused, naming the problem.
#[test]
fn merge_refuses_a_directory_twice_an_output_among_its_inputs_and_a_driver_without_logs() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    for out in [&a, &b] {
        let args =
            ["run", "--family", "noop", "--duration", "200ms", "--warmup", "50ms", "--out", out.to_str().unwrap()];
        assert!(stratbench(&args).status.success());
    }
    let (a_path, b_path) = (a.to_str().unwrap(), b.to_str().unwrap());
    let merged = dir.path().join("m");
    let merged_path = merged.to_str().unwrap();
    common::assert_bad_input(&[
        (&["merge", a_path, a_path, "--out", merged_path], "given twice"),
        (&["merge", a_path, b_path, "--out", a_path], "is one of the inputs"),
    ]);
    std::fs::remove_dir_all(b.join("hlog")).unwrap();
    common::assert_bad_input(&[(&["merge", a_path, b_path, "--out", merged_path], "no hlog/")]);
    let output = stratbench(&["merge", a_path, b_path, "--out", merged_path, "--allow-partial"]);
    assert!(output.status.success(), "{}", text(&output));
}

/// `merge --format csv` prints the merged summary as `summary.csv` holds it: the same header,
/// in the same column order, and the merged row (it failed with the csv crate's "serializing
/// maps is not supported").
#[test]
fn merge_prints_its_summary_as_csv_in_the_files_column_order() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, merged) = (dir.path().join("a"), dir.path().join("b"), dir.path().join("m"));
    for out in [&a, &b] {
        let args =
            ["run", "--family", "noop", "--duration", "200ms", "--warmup", "50ms", "--out", out.to_str().unwrap()];
        assert!(stratbench(&args).status.success());
    }
    let args = ["merge", a.to_str().unwrap(), b.to_str().unwrap(), "--out", merged.to_str().unwrap()];
    let output = stratbench(&[&args[..], &["--format", "csv"]].concat());
    assert!(output.status.success(), "{}", text(&output));
    let printed = String::from_utf8(output.stdout).unwrap();
    let written = std::fs::read_to_string(merged.join("summary.csv")).unwrap();
    assert_eq!(printed, written);
    assert_eq!(printed.lines().count(), 2, "{printed}");
}

#[test]
fn a_start_time_in_the_past_is_bad_input() {
    let output = stratbench(&["run", "--family", "noop", "--start-at", "1000000000"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains("--start-at") && text(&output).contains("in the past"), "{}", text(&output));
}
