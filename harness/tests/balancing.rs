//! The balancing family end to end, through the binary: in-process runs on the virtual clock
//! give identical rows for a seed and see a slowed backend lose its traffic; a networked run
//! with three backend processes behind our proxy answers, counts each backend's share, and
//! leaves no process behind — after a normal end, after Ctrl-C, and when the harness itself
//! is killed; bad latency specs and backend lists exit 2 naming the problem.

mod common;

use common::{run_scenario, stratbench, text};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn rows(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    reader.records().map(|r| header.iter().cloned().zip(r.unwrap().iter().map(String::from)).collect()).collect()
}

/// Columns that describe the run's environment rather than its result.
fn environmental(column: &str) -> bool {
    column == "started_at" || column.starts_with("driver_") || column.starts_with("host_") || column == "git_commit"
}

const SCENARIO: &str = r#"
[[scenario]]
name = "det"
family = "balancing"
strategies = ["round-robin", "p2c", "p2c-ewma", "bounded-load"]
duration = "3s"
warmup = "500ms"
interval = "250ms"
rate = 3000.0
arrivals = "poisson"
concurrency = 200
nodes = 5
seed = 7
[scenario.params]
latency = "exp:5ms"
capacity = 6
[[scenario.events]]
at = "1s"
action = "slow-node"
node = 2
factor = 20.0
[[scenario.events]]
at = "2s"
action = "restore-node"
node = 2
"#;

#[test]
fn virtual_time_runs_are_identical_for_a_seed_and_react_to_a_slow_backend() {
    let dir = tempfile::tempdir().unwrap();
    let mut outputs = Vec::new();
    for run in ["a", "b"] {
        let started = Instant::now();
        let out = run_scenario(dir.path(), run, SCENARIO);
        // 3.5 s of simulated load per strategy, far less in real time even in a debug build.
        assert!(started.elapsed() < Duration::from_secs(60), "took {:?}", started.elapsed());
        outputs.push(out);
    }
    for file in ["summary.csv", "timeseries.csv", "nodes.csv", "events.csv"] {
        let (a, b) = (rows(&outputs[0].join(file)), rows(&outputs[1].join(file)));
        assert_eq!(a.len(), b.len(), "{file}");
        for (row_a, row_b) in a.iter().zip(&b) {
            for (column, value) in row_a {
                if !environmental(column) {
                    assert_eq!(value, &row_b[column], "{file}: column {column} differs");
                }
            }
        }
    }
    let summary = rows(&outputs[0].join("summary.csv"));
    for row in &summary {
        assert_eq!(row["status"], "ok", "{row:?}");
        assert_eq!(row["backend_requests_share"].split(';').count(), 5);
        assert!(row["ops"].parse::<u64>().unwrap() > 8_000, "{}", row["ops"]);
    }
    let of = |strategy: &str| summary.iter().find(|r| r["strategy"] == strategy).unwrap();
    // Round robin cannot move traffic off backend 2; peak-EWMA does, within the slowdown.
    assert_eq!(of("round-robin")["traffic_drain_s"], "");
    let drain: f64 = of("p2c-ewma")["traffic_drain_s"].parse().expect("p2c-ewma drains the slow backend");
    assert!(drain <= 1.0, "drain {drain}");
}

/// The pids of processes whose command line contains every one of `needles`.
fn processes_matching(needles: &[&str]) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else { continue };
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if needles.iter().all(|n| cmdline.contains(n)) && pid != std::process::id() {
            found.push(pid);
        }
    }
    found
}

/// The pids of `stratbench serve` processes whose command line contains `needle` (the servers
/// themselves, not the `stratbench supervise` processes that hold them; those are checked gone
/// by `assert_none_left`, which matches both).
fn processes_with(needle: &str) -> Vec<u32> {
    let supervisors = processes_matching(&[" supervise ", needle]);
    processes_matching(&[" serve ", needle]).into_iter().filter(|pid| !supervisors.contains(pid)).collect()
}

/// Waits (briefly) for every process matching `needles` to be gone.
fn assert_none_left(needles: &[&str]) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !processes_matching(needles).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(processes_matching(needles), Vec::<u32>::new(), "processes left matching {needles:?}");
}

fn net_args<'a>(out: &'a str, seed: &'a str, duration: &'a str) -> Vec<&'a str> {
    vec![
        "run",
        "--family",
        "balancing",
        "--mode",
        "net",
        "--nodes",
        "3",
        "--concurrency",
        "8",
        "--duration",
        duration,
        "--warmup",
        "300ms",
        "--seed",
        seed,
        "--param",
        "latency=\"1ms\"",
        "--out",
        out,
    ]
}

#[test]
fn networked_run_with_three_backends_counts_shares_and_leaves_no_process() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("net");
    let out = out.to_str().unwrap();
    let seed = "918273601";
    let mut args = net_args(out, seed, "1500ms");
    // nginx is installed by scripts/test.sh; without it the nginx row is an error row.
    args.extend(["--strategy", "round-robin,p2c-ewma,engine:nginx:round-robin,engine:direct"]);
    let output = stratbench(&args);
    assert!(output.status.success(), "{}", text(&output));
    let summary = rows(&Path::new(out).join("summary.csv"));
    assert_eq!(summary.len(), 4);
    for row in &summary {
        assert_eq!((row["status"].as_str(), row["mode"].as_str()), ("ok", "net"), "{row:?}");
        assert!(row["ops"].parse::<u64>().unwrap() > 50, "{row:?}");
        assert_eq!(row["errors"], "0", "{row:?}");
    }
    let shares: Vec<f64> = summary[0]["backend_requests_share"].split(';').map(|s| s.parse().unwrap()).collect();
    assert_eq!(shares.len(), 3);
    assert!(shares.iter().all(|s| (s - 1.0 / 3.0).abs() < 0.02), "round robin spreads evenly: {shares:?}");
    assert_eq!(summary[3]["backend_requests_share"], "1.0000;0.0000;0.0000", "engine:direct loads backend 0 only");
    assert!(summary.iter().all(|row| row["load_engine"] == "driver"), "the driver's HTTP worker is the default load");
    assert_none_left(&[" serve ", &format!("--seed {seed}")]);
    assert_none_left(&["nginx", out]);
}

#[test]
fn ctrl_c_and_a_killed_harness_leave_no_process() {
    let dir = tempfile::tempdir().unwrap();
    for (signal, seed, expected) in [("-INT", "918273602", Some(130)), ("-KILL", "918273603", None)] {
        let out = dir.path().join(seed);
        let mut args = net_args(out.to_str().unwrap(), seed, "60s");
        args.extend(["--strategy", "p2c"]);
        let child = Command::new(env!("CARGO_BIN_EXE_stratbench"))
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while processes_with(&format!("--seed {seed}")).len() < 4 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        assert_eq!(processes_with(&format!("--seed {seed}")).len(), 4, "three backends and a proxy started");
        std::thread::sleep(Duration::from_millis(700));
        let sent = Command::new("kill").args([signal, &child.id().to_string()]).status().unwrap();
        assert!(sent.success());
        let output = child.wait_with_output().unwrap();
        assert_eq!(output.status.code(), expected, "{signal}: {}", text(&output));
        assert_none_left(&[" serve ", &format!("--seed {seed}")]);
    }
}

#[test]
fn bad_latency_specs_and_backend_lists_exit_2_naming_them() {
    let cases: &[(&[&str], &[&str])] = &[
        (&["serve", "backend", "--latency", "gauss:1ms"], &["--latency", "gauss"]),
        (&["serve", "backend", "--latency", "uniform:9ms..1ms"], &["--latency", "above"]),
        (&["serve", "proxy", "--strategy", "p2c", "--backends", "localhost:x"], &["--backends", "localhost:x"]),
        (&["serve", "proxy", "--strategy", "p2c", "--backends", "10.0.0.1:80"], &["--backends", "loopback"]),
        (&["serve", "proxy", "--strategy", "p3c", "--backends", "127.0.0.1:80"], &["--strategy", "p3c"]),
        (&["serve", "backend", "--listen", "0.0.0.0:0"], &["--listen", "loopback"]),
        (&["run", "--family", "balancing", "--param", "latency=\"fast\""], &["params.latency", "fast"]),
        (&["run", "--family", "balancing", "--nodes", "3", "--param", "weights=[1,2]"], &["params.weights", "3"]),
    ];
    for (args, needles) in cases {
        let output = stratbench(args);
        let message = text(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {message}");
        for needle in *needles {
            assert!(message.contains(needle), "{args:?} should name `{needle}`: {message}");
        }
    }
}

#[test]
fn nginx_starts_when_the_results_directory_is_relative() {
    let tmp = tempfile::tempdir().unwrap();
    let args = [
        "run",
        "--family",
        "balancing",
        "--mode",
        "net",
        "--strategy",
        "engine:nginx:round-robin",
        "--quick",
        "--nodes",
        "2",
        "--out",
        "relative-out",
    ];
    let output = Command::new(env!("CARGO_BIN_EXE_stratbench")).args(args).current_dir(tmp.path()).output().unwrap();
    assert!(output.status.success(), "{}", text(&output));
    let rows = common::summary(&tmp.path().join("relative-out"));
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["status"], "ok", "nginx found its config: {}", rows[0]["message"]);
}
