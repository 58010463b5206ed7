//! A target frozen in the middle of a constant-rate run, as wrk2 shows it: a real redis-server
//! stopped (SIGSTOP) for `FREEZE` seconds of a `MEASURED` seconds long open loop delays about
//! FREEZE/MEASURED of the operations, each by up to FREEZE (the ones due first in the freeze
//! waited longest), so that the fraction of operations slower than x is (FREEZE − x)/MEASURED.
//! A driver that timed from the actual send instead of the intended start, or that skipped the
//! operations due while it waited, would show one slow operation per connection instead.
//! Checked for networked hashing and for Redis locks, each against a server the test owns.

mod common;

use common::{summary, text};
use hdrhistogram::Histogram;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use stratbench::rundir::IntervalLog;
use targets::servers::redis::{Persistence, RedisServer};

/// How long the server is stopped.
const FREEZE: Duration = Duration::from_secs(1);
/// The measured phase.
const MEASURED: Duration = Duration::from_secs(6);
/// From the load's first commands to the freeze: past the warm-up, well before the end.
const FREEZE_AFTER: Duration = Duration::from_millis(2000);
/// The longest wait for the load to reach the server.
const START_LIMIT: Duration = Duration::from_secs(60);

/// The commands the server has processed so far.
fn commands_processed(server: &RedisServer) -> u64 {
    let port = server.addr().port().to_string();
    let output = Command::new("redis-cli").args(["-p", &port, "INFO", "stats"]).output().unwrap();
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("total_commands_processed:"))
        .map_or(0, |n| n.trim().parse().unwrap())
}

/// Waits until commands keep arriving at `server` (two polls in a row each saw some): the
/// open loop is running.
fn wait_for_load(server: &RedisServer) {
    let deadline = Instant::now() + START_LIMIT;
    let (mut last, mut busy_polls) = (commands_processed(server), 0);
    while busy_polls < 2 {
        assert!(Instant::now() < deadline, "no load reached the server within {START_LIMIT:?}");
        std::thread::sleep(Duration::from_millis(50));
        let now = commands_processed(server);
        busy_polls = if now >= last + 5 { busy_polls + 1 } else { 0 };
        last = now;
    }
}

/// Runs `scenario` against `server`, freezing the server for [`FREEZE`] in the measured phase,
/// and returns the run's summary row and its response-time histogram (nanoseconds).
fn run_frozen(scenario: &str, server: &RedisServer) -> (std::collections::HashMap<String, String>, Histogram<u64>) {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("frozen.toml");
    std::fs::write(&file, scenario).unwrap();
    let out = tmp.path().join("out");
    let child = Command::new(env!("CARGO_BIN_EXE_stratbench"))
        .args(["run", file.to_str().unwrap(), "--out", out.to_str().unwrap(), "--redis", &server.url()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_load(server);
    std::thread::sleep(FREEZE_AFTER);
    let pid = Pid::from_raw(server.pid().expect("the server runs") as i32);
    kill(pid, Signal::SIGSTOP).unwrap();
    std::thread::sleep(FREEZE);
    kill(pid, Signal::SIGCONT).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", text(&output));
    let row = summary(&out).remove(0);
    (row, response_times(&out))
}

/// Every response time the run logged.
fn response_times(out: &Path) -> Histogram<u64> {
    let logs: Vec<_> = std::fs::read_dir(out.join("hlog")).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(logs.len(), 1, "{logs:?}");
    IntervalLog::read(&logs[0]).unwrap().total().response
}

/// The share of operations slower than `threshold`.
fn fraction_slower(histogram: &Histogram<u64>, threshold: Duration) -> f64 {
    let above = histogram.len() - histogram.count_between(0, threshold.as_nanos() as u64);
    above as f64 / histogram.len() as f64
}

/// The checks: about (FREEZE − x)/MEASURED of the operations are slower than x, the slowest
/// waited about FREEZE, the median is untouched, and nothing was dropped. The upper bounds
/// leave room for the catch-up after the freeze (the backlog is served by a pool of 16 on a
/// shared machine); a driver that timed from the actual send, or skipped what fell due in the
/// freeze, shows about 16 slow operations in 3,000 and fails the lower bounds by far.
fn assert_frozen_as_theory_says(row: &std::collections::HashMap<String, String>, histogram: &Histogram<u64>) {
    let name = &row["strategy"];
    let profile: Vec<String> = [1u64, 10, 100, 250, 500, 750, 1000]
        .iter()
        .map(|ms| format!("> {ms} ms: {:.4}", fraction_slower(histogram, Duration::from_millis(*ms))))
        .collect();
    assert_ne!(row["status"], "error", "{name}: {}", row["message"]);
    assert_eq!(row["errors"], "0", "{name}: {}", row["error_kinds"]);
    let measured_s = MEASURED.as_secs_f64();
    for x in [FREEZE / 4, FREEZE / 2, FREEZE * 3 / 4] {
        let expected = (FREEZE - x).as_secs_f64() / measured_s;
        let seen = fraction_slower(histogram, x);
        assert!(
            seen > expected * 0.6 && seen < expected * 2.0 + 0.01,
            "{name}: {seen:.4} of the operations slower than {x:?}, theory says {expected:.4} ({profile:?})"
        );
    }
    let max = Duration::from_nanos(histogram.max());
    assert!(
        max > FREEZE * 9 / 10 && max < FREEZE * 3 / 2,
        "{name}: the slowest waited {max:?}, the freeze was {FREEZE:?}"
    );
    let p50 = Duration::from_nanos(histogram.value_at_quantile(0.5));
    assert!(p50 < FREEZE / 20, "{name}: the median is not the freeze's: {p50:?}");
    let p99_us: f64 = row["latency_us_p99"].parse().unwrap();
    let expected_p99 = FREEZE.as_secs_f64() - 0.01 * measured_s;
    assert!((p99_us / 1e6 - expected_p99).abs() < 0.15, "{name}: p99 {p99_us} us, theory {expected_p99} s");
    let due = row["target_rate_ops_s"].parse::<f64>().unwrap() * measured_s;
    let accounted = histogram.len() as f64;
    assert!(accounted > due * 0.97, "{name}: {accounted} operations accounted for, {due} were due");
}

#[test]
fn a_frozen_redis_shard_delays_the_operations_due_in_the_freeze_by_up_to_the_freeze() {
    let server = RedisServer::start(Persistence::Off).unwrap();
    let scenario = "[[scenario]]\nname = 'frozen'\nfamily = 'hashing'\nmode = 'net'\nstrategies = ['ring']\n\
                    nodes = 1\nkeys = 2000\nmix = { read = 0.5, update = 0.5 }\nrate = 500\nconcurrency = 16\n\
                    duration = '6s'\nwarmup = '500ms'\n";
    let (row, histogram) = run_frozen(scenario, &server);
    assert_frozen_as_theory_says(&row, &histogram);
}

#[test]
fn a_frozen_redis_lock_server_delays_the_acquires_due_in_the_freeze_by_up_to_the_freeze() {
    let server = RedisServer::start(Persistence::Off).unwrap();
    let scenario = "[[scenario]]\nname = 'frozen'\nfamily = 'locks'\nmode = 'net'\nstrategies = ['redis']\n\
                    keys = 1000\nrate = 300\nconcurrency = 16\nduration = '6s'\nwarmup = '500ms'\n";
    let (row, histogram) = run_frozen(scenario, &server);
    assert_frozen_as_theory_says(&row, &histogram);
}
