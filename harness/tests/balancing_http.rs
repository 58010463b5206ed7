//! Networked balancing on the driver's own HTTP worker, end to end through the binary: `--rate`
//! runs an open loop with the open loop's columns (it used to give an `unsupported` row); a
//! backend frozen (SIGSTOP) in the middle of a constant-rate run delays about T/D of the
//! operations by up to T, as wrk2 shows it — the coordinated omission a closed loop would
//! hide; goose is still there as a closed loop of users, and refuses a rate at plan time.

mod common;

use common::{stratbench, summary, text};
use hdrhistogram::Histogram;
use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use stratbench::rundir::IntervalLog;

/// `run --family balancing --mode net --strategy engine:direct` with one backend of `latency`,
/// seeded with `seed` (so the test finds its backend process), into `out`, plus `extra`.
fn direct_args<'a>(out: &'a str, seed: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["run", "--family", "balancing", "--mode", "net", "--strategy", "engine:direct"];
    args.extend(["--nodes", "1", "--seed", seed, "--param", "latency=\"1ms\"", "--out", out]);
    args.extend(extra);
    args
}

/// The pids of the `stratbench serve backend` processes started with `--seed seed`.
fn backends_of(seed: &str) -> Vec<u32> {
    let needle = format!("--seed {seed}");
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else { continue };
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if cmdline.contains(" serve backend ") && cmdline.contains(&needle) {
            found.push(pid);
        }
    }
    found
}

fn signal(pid: u32, signal: &str) {
    let sent = Command::new("kill").args([signal, &pid.to_string()]).status().unwrap();
    assert!(sent.success(), "kill {signal} {pid}");
}

/// Sends SIGCONT on drop, so that a failing test never leaves a backend stopped.
struct Thaw(u32);

impl Drop for Thaw {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-CONT", &self.0.to_string()]).status();
    }
}

/// The sum of the response-time (untagged) interval histograms of `dir/hlog/<run_id>.hlog`.
fn response_times(dir: &Path, run_id: &str) -> Histogram<u64> {
    let path = dir.join("hlog").join(format!("{run_id}.hlog"));
    IntervalLog::read(&path).unwrap().total().response
}

/// Runs `engine:direct` (see [`direct_args`]) into `dir/name` and returns its one summary row.
fn run_direct(dir: &Path, name: &str, seed: &str, extra: &[&str]) -> HashMap<String, String> {
    let out = dir.join(name);
    let output = stratbench(&direct_args(out.to_str().unwrap(), seed, extra));
    assert!(output.status.success(), "{}", text(&output));
    let mut rows = summary(&out);
    assert_eq!(rows.len(), 1, "{rows:?}");
    rows.remove(0)
}

fn number(row: &HashMap<String, String>, column: &str) -> f64 {
    row[column].parse().unwrap_or_else(|_| panic!("`{column}` is not a number: {row:?}"))
}

#[test]
fn rate_on_networked_balancing_runs_the_open_loop_with_its_columns() {
    let dir = tempfile::tempdir().unwrap();
    let extra = ["--rate", "400", "--concurrency", "8", "--duration", "1500ms", "--warmup", "300ms"];
    let row = &run_direct(dir.path(), "open", "918273611", &extra);
    let fields = ["status", "loop", "latency_basis", "load_engine", "ops_unfinished"];
    let values: Vec<&str> = fields.iter().map(|f| row[*f].as_str()).collect();
    assert_eq!(values, ["ok", "open", "intended-start", "driver", "0"], "{row:?}");
    for column in ["service_us_p50", "service_us_p99", "schedule_lag_us_p99", "schedule_lag_us_max", "latency_us_p99"] {
        assert!(number(row, column) > 0.0, "{column}: {row:?}");
    }
    // 400/s over 1.5 s, every arrival answered by a 1 ms backend.
    assert!((number(row, "achieved_rate_ops_s") - 400.0).abs() < 20.0, "{row:?}");
    assert!((550.0..=650.0).contains(&number(row, "ops")), "{row:?}");
    assert!(number(row, "service_us_p50") >= 1000.0, "the backend takes 1 ms: {row:?}");
    assert_eq!(row["backend_requests_share"], "1.0000", "{row:?}");
}

/// A backend frozen for T seconds in a D-second run at a constant rate: the arrivals of the
/// freeze wait for it to end, so about T/D of the operations are delayed, evenly up to T,
/// and (T/2)/D of them by more than T/2 — what wrk2 shows, and a closed loop hides (its
/// workers would simply stop sending).
#[test]
fn a_backend_frozen_mid_run_delays_about_t_over_d_of_the_operations_by_up_to_t() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("frozen");
    let seed = "918273612";
    let extra = ["--rate", "200", "--concurrency", "64", "--duration", "4s", "--warmup", "1s"];
    let out_arg = out.to_str().unwrap().to_string();
    let child = Command::new(env!("CARGO_BIN_EXE_stratbench"))
        .args(direct_args(&out_arg, seed, &extra))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while backends_of(seed).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid = *backends_of(seed).first().expect("the backend started");
    // The warm-up (1 s), then a second into the measured phase.
    std::thread::sleep(Duration::from_millis(2000));
    let thaw = Thaw(pid);
    let frozen_at = Instant::now();
    signal(pid, "-STOP");
    std::thread::sleep(Duration::from_secs(1));
    signal(pid, "-CONT");
    let frozen = frozen_at.elapsed();
    drop(thaw);
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", text(&output));
    let rows = summary(&out);
    let row = &rows[0];
    assert_eq!((row["status"].as_str(), row["ops_unfinished"].as_str()), ("ok", "0"), "{row:?}");
    let (t_us, d_s) = (frozen.as_secs_f64() * 1e6, number(row, "duration_s"));
    let p99_us = number(row, "latency_us_p99");
    assert!(p99_us >= 0.5 * t_us, "p99 {p99_us} us after a freeze of {t_us} us: {row:?}");
    assert!(number(row, "latency_us_max") <= 2.0 * t_us, "delays go up to about T, not beyond: {row:?}");
    let response = response_times(&out, &row["run_id"]);
    let half_t_ns = (t_us * 500.0) as u64;
    let above: u64 =
        response.iter_recorded().filter(|v| v.value_iterated_to() > half_t_ns).map(|v| v.count_at_value()).sum();
    let fraction = above as f64 / response.len() as f64;
    let expected = (t_us / 2e6) / d_s;
    assert!(
        (expected / 2.0..=expected * 2.0).contains(&fraction),
        "{above} of {} operations ({fraction:.3}) delayed by more than T/2; expected about {expected:.3}",
        response.len()
    );
    // The service time does not see the freeze's queue: only the requests out during it.
    assert!(number(row, "service_us_p50") < 0.1 * t_us, "{row:?}");
}

#[test]
fn goose_is_still_selectable_as_a_closed_loop_of_users_and_refuses_a_rate() {
    let dir = tempfile::tempdir().unwrap();
    let extra = ["--concurrency", "4", "--duration", "1s", "--warmup", "300ms", "--param", "load_engine=\"goose\""];
    let row = &run_direct(dir.path(), "goose", "918273613", &extra);
    let out = dir.path().join("goose");
    let values = [row["status"].as_str(), row["loop"].as_str(), row["load_engine"].as_str()];
    assert_eq!(values, ["ok", "closed", "goose"], "{row:?}");
    assert!(number(row, "ops") > 50.0, "{row:?}");
    let report = out.join("net").join(&row["run_id"]).join("goose-own-report.html");
    assert!(report.exists(), "goose's own report is kept: {}", report.display());
    let cases: [(&[&str], &str); 2] = [
        (&["--rate", "100", "--param", "load_engine=\"goose\""], "params.load_engine"),
        (&["--param", "load_engine=\"wrk\""], "unknown load engine"),
    ];
    for (extra, needle) in cases {
        let output = stratbench(&direct_args(out.to_str().unwrap(), "918273614", extra));
        assert_eq!(output.status.code(), Some(2), "{extra:?}: {}", text(&output));
        assert!(text(&output).contains(needle), "{extra:?}: {}", text(&output));
    }
}
