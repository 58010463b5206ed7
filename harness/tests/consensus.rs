//! The consensus family end to end through the binary: replica processes over TCP whose leader
//! is killed (and restarts) mid-run, which must pass both checkers, measure the failover and
//! leave no process behind; etcd beside them (a real 3-member cluster); bad input naming its field; a replica that
//! exits when the harness goes away.

mod common;

use common::{processes_mentioning, summary};
use std::collections::HashMap;
use std::path::Path;

/// Runs a one-scenario consensus file (`body` after the family line) and returns its rows.
fn run_scenario(dir: &Path, body: &str) -> Vec<HashMap<String, String>> {
    summary(&common::run_scenario(dir, "out", &format!("[[scenario]]\nfamily = \"consensus\"\n{body}")))
}

fn assert_checked_and_safe(row: &HashMap<String, String>) {
    assert_eq!(row["status"], "ok", "{row:?}");
    assert_eq!(row["violations"], "0", "{row:?}");
    assert_eq!(row["linearizability"], "ok", "{row:?}");
    assert!(row["ops"].parse::<u64>().unwrap() > 50, "{row:?}");
    assert!(row["lin_ops"].parse::<u64>().unwrap() > 0, "{row:?}");
}

#[test]
fn replica_processes_survive_a_killed_leader_and_leave_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let rows = run_scenario(
        dir.path(),
        r#"name = "net-kill-leader"
strategies = ["multi-paxos"]
mode = "net"
duration = "3s"
warmup = "300ms"
keys = 200
dist = "zipfian"
mix = { read = 0.5, update = 0.5 }
concurrency = 4
[scenario.params]
log = "fsync"
[[scenario.events]]
at = "800ms"
action = "kill-leader"
restart_after = "700ms"
"#,
    );
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_checked_and_safe(row);
    assert_eq!(row["leader_kills"], "1", "{row:?}");
    assert!(row["leader_changes"].parse::<u64>().unwrap() >= 1, "{row:?}");
    assert!(row["unavailable_ms_max"].parse::<f64>().unwrap() > 0.0, "{row:?}");
    assert!(row["catchups"].parse::<u64>().unwrap() >= 1, "the killed leader restarts and catches up: {row:?}");
    assert!(row["agreement_slots"].parse::<u64>().unwrap() > 0, "{row:?}");
    let events = std::fs::read_to_string(dir.path().join("out/events.csv")).unwrap();
    assert!(events.lines().any(|l| l.contains("kill-leader") && l.contains(",ok,")), "{events}");
    let left = processes_mentioning(dir.path().to_str().unwrap());
    assert!(left.is_empty(), "replica processes left behind: {left:?}");
    assert!(!dir.path().join("out/data").exists(), "the logs of a clean run are removed");
}

#[test]
fn engine_etcd_runs_against_a_real_three_member_cluster() {
    let dir = tempfile::tempdir().unwrap();
    let rows = run_scenario(
        dir.path(),
        r#"name = "etcd3"
strategies = ["engine:etcd"]
mode = "net"
duration = "1500ms"
warmup = "300ms"
keys = 100
mix = { read = 0.5, update = 0.5 }
concurrency = 4
[scenario.params]
replicas = 3
log = "file"
"#,
    );
    assert_eq!(rows.len(), 1);
    assert_checked_and_safe(&rows[0]);
}

#[test]
fn bad_consensus_input_exits_2_naming_the_field() {
    let cases: [(&[&str], &str); 4] = [
        (&["run", "--family", "consensus", "--param", "replicas=0", "--quick"], "params.replicas"),
        (&["run", "--family", "consensus", "--param", "heartbeat=often", "--quick"], "params.heartbeat"),
        (&["serve", "replica", "--id", "3", "--data-dir", "/tmp/x"], "--id"),
        (&["serve", "replica", "--id", "0", "--data-dir", "/tmp/x", "--listen", "10.1.2.3:0"], "loopback"),
    ];
    common::assert_bad_input(&cases);
}

#[test]
fn a_replica_exits_when_the_harness_goes_away() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("replica");
    common::assert_node_exits_with_stdin(&["serve", "replica", "--id", "0", "--data-dir", data.to_str().unwrap()]);
}
