//! The locks family through the `stratbench` binary, against servers it starts itself: every
//! networked strategy runs and cleans up; given addresses that do not answer and missing
//! binaries give `status=error` rows that say what failed while the other strategies run; bad
//! parameters exit 2 naming the field; faults show up in the safety columns; and no server
//! process outlives the run, even one stopped by Ctrl-C.

mod common;

use common::{interrupt_once_servers_run, processes_under, text};
use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Stdio};

fn stratbench(args: &[&str], tmp: &Path, path: Option<&str>) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_stratbench"));
    command.args(args).env("TMPDIR", tmp.canonicalize().unwrap());
    if let Some(path) = path {
        command.env("PATH", path);
    }
    command
}

fn summary(dir: &Path) -> Vec<HashMap<String, String>> {
    common::summary(dir)
}

#[test]
fn every_networked_strategy_runs_cleans_up_and_stops_its_servers() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let output = stratbench(
        &["run", "--family", "locks", "--mode", "all", "--quick", "--concurrency", "4", "--keys", "8"],
        tmp.path(),
        None,
    )
    .args(["--out", out.to_str().unwrap()])
    .output()
    .unwrap();
    assert!(output.status.success(), "{}", text(&output));
    let rows = summary(&out);
    let strategies: Vec<&str> = rows.iter().map(|r| r["strategy"].as_str()).collect();
    assert_eq!(strategies, ["lease", "redis", "redlock", "zookeeper", "etcd"]);
    for row in &rows {
        let name = &row["strategy"];
        assert_eq!(row["status"], "ok", "{name}: {}", row["message"]);
        assert!(row["ops"].parse::<u64>().unwrap() > 0, "{name} ran cycles");
        assert_eq!(row["overlaps"], "0", "{name}: mutual exclusion");
        assert_eq!(row["violations"], "0", "{name}");
        assert_eq!(row["locks_left_after_run"], "0", "{name}: no lock key or znode left");
        assert!(!row["acquire_latency_us_p50"].is_empty(), "{name}: acquire latency measured");
        // A quick run may have too few acquires to bound p99: then the row must say so.
        assert!(
            !row["acquire_latency_us_p99"].is_empty() || row["ci_unbounded"].contains("acquire_latency_us_p99"),
            "{name}: acquire p99 neither measured nor explained: {:?}",
            row["ci_unbounded"]
        );
        if name != "redlock" {
            assert_eq!(row["token_regressions"], "0", "{name}: tokens grow");
        }
    }
    assert_eq!(processes_under(tmp.path()), Vec::<String>::new(), "no server left running");
}

#[test]
fn unreachable_addresses_and_missing_servers_are_error_rows() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("given");
    let redis = "redis://127.0.0.1:1,redis://127.0.0.1:2,redis://127.0.0.1:3";
    let args = ["run", "--family", "locks", "--mode", "all", "--quick", "--redis", redis];
    let output = stratbench(&args, tmp.path(), None)
        .args(["--zookeeper", "127.0.0.1:1", "--etcd", "http://127.0.0.1:1", "--out", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(output.status.success(), "an unreachable target is a row, not a failed session: {}", text(&output));
    for row in summary(&out) {
        if row["strategy"] == "lease" {
            assert_eq!(row["status"], "ok", "the in-process strategy still runs");
            continue;
        }
        assert_eq!(row["status"], "error", "{}", row["strategy"]);
        assert!(row["message"].contains("127.0.0.1:1"), "names the address: {}", row["message"]);
    }

    // No server on PATH: each strategy says what to install.
    let empty_path = tmp.path().join("empty-path");
    std::fs::create_dir(&empty_path).unwrap();
    let out = tmp.path().join("missing");
    let output = stratbench(&["run", "--family", "locks", "--mode", "net", "--quick"], tmp.path(), empty_path.to_str())
        .args(["--out", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output));
    let messages: HashMap<String, String> =
        summary(&out).into_iter().map(|r| (r["strategy"].clone(), r["message"].clone())).collect();
    assert!(messages["redis"].contains("apt-get install redis-server"), "{}", messages["redis"]);
    assert!(messages["redlock"].contains("apt-get install redis-server"), "{}", messages["redlock"]);
    assert!(messages["zookeeper"].contains("apt-get install zookeeper"), "{}", messages["zookeeper"]);
    assert!(messages["etcd"].contains("apt-get install etcd-server"), "{}", messages["etcd"]);
}

#[test]
fn bad_parameters_exit_2_naming_the_field() {
    let tmp = tempfile::tempdir().unwrap();
    for (param, needle) in [
        ("ttl=\"0ms\"", "params.ttl"),
        ("ttl=\"soon\"", "params.ttl"),
        ("masters=4", "params.masters"),
        ("acquire_timeout=\"-1s\"", "params.acquire_timeout"),
        ("ttll=\"1s\"", "ttll"),
    ] {
        let output = stratbench(&["run", "--family", "locks", "--param", param], tmp.path(), None).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{param}: {}", text(&output));
        assert!(text(&output).contains(needle), "{param}: {}", text(&output));
    }
    let output = stratbench(&["run", "--family", "locks", "--keys", "2000000"], tmp.path(), None).output().unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains("keys"), "{}", text(&output));
}

/// A holder paused past its lease: the next client takes the lock, so the critical sections
/// overlap; with fencing the stale write is rejected, without it the write lands (a violation
/// the lease strategy does not promise to prevent: exit code 0).
#[test]
fn a_paused_holder_overlaps_and_fencing_rejects_its_write() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("faults");
    let output = stratbench(&["run", "locks-faults", "--strategy", "lease", "--quick"], tmp.path(), None)
        .args(["--out", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output));
    let rows: HashMap<String, HashMap<String, String>> =
        summary(&out).into_iter().map(|r| (r["scenario"].clone(), r)).collect();
    let fenced = &rows["pause-fenced"];
    assert!(fenced["overlaps"].parse::<u64>().unwrap() >= 1, "{fenced:?}");
    assert_eq!(fenced["stale_writes_rejected"], "1");
    assert_eq!(fenced["violations"], "0");
    let unfenced = &rows["pause-unfenced"];
    assert_eq!(unfenced["violations"], "1");
    assert_eq!(unfenced["safety_promised"], "false");
    let killed = &rows["kill-holder"];
    assert_eq!(killed["holder_deaths"], "1");
    let reacquire_us: f64 = killed["reacquire_us_mean"].parse().unwrap();
    assert!(reacquire_us >= 450_000.0, "the lock is free again only when its 500 ms lease expires: {reacquire_us}");
}

#[test]
fn ctrl_c_during_a_networked_run_stops_every_server() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("interrupted");
    let mut child = stratbench(
        &["run", "--family", "locks", "--mode", "net", "--strategy", "redlock", "--duration", "30s"],
        tmp.path(),
        None,
    )
    .args(["--out", out.to_str().unwrap()])
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    assert_eq!(interrupt_once_servers_run(&mut child, tmp.path(), 3).code(), Some(130));
    assert_eq!(summary(&out)[0]["status"], "interrupted");
    assert_eq!(processes_under(tmp.path()), Vec::<String>::new(), "no server left running");
}

/// A whole client process paused past its ZooKeeper session: the session expires, another
/// client takes the lock, and fencing rejects the paused client's late write.
#[test]
fn a_paused_client_process_loses_its_zookeeper_session() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = tmp.path().join("pause.toml");
    std::fs::write(
        &scenario,
        "[[scenario]]\nname = 'pause-process'\nfamily = 'locks'\nstrategies = ['zookeeper']\nmode = 'net'\n\
         duration = '4s'\nwarmup = '500ms'\nkeys = 1\nconcurrency = 3\n\
         params = { session_timeout = '1s', client_process = true, hold = '1ms' }\n\
         [[scenario.events]]\nat = '500ms'\naction = 'pause-holder'\nduration = '2500ms'\n",
    )
    .unwrap();
    let out = tmp.path().join("out");
    let output = stratbench(&["run", scenario.to_str().unwrap(), "--out", out.to_str().unwrap()], tmp.path(), None)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output));
    let row = &summary(&out)[0];
    assert_eq!(row["status"], "ok", "{}", row["message"]);
    assert!(row["overlaps"].parse::<u64>().unwrap() >= 1, "the expired session's lock went to another client: {row:?}");
    assert_eq!(row["stale_writes_rejected"], "1", "{row:?}");
    assert_eq!(row["violations"], "0");
    assert_eq!(row["locks_left_after_run"], "0");
    assert_eq!(processes_under(tmp.path()), Vec::<String>::new(), "no server left running");
}
