//! The commit family end to end through the binary: a networked run in which a participant
//! process is killed and restarted and the coordinator crashes after deciding, which must
//! pass every checker and leave no process behind; bad input naming its field; a node that
//! exits when the harness goes away.

mod common;

use common::{processes_matching, processes_mentioning, run_scenario, summary};

#[test]
fn a_networked_run_survives_a_killed_participant_and_a_crashed_coordinator() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_scenario(
        dir.path(),
        "net",
        r#"
[[scenario]]
name = "net-crashes"
family = "commit"
strategies = ["2pc-fsync"]
mode = "net"
duration = "2500ms"
warmup = "300ms"
keys = 1000
dist = "zipfian"
mix = { read = 0.1, update = 0.9 }
concurrency = 3
[scenario.params]
participants = 3
keys_per_txn = 3
[[scenario.events]]
at = "400ms"
action = "crash-participant"
node = 1
restart_after = "400ms"
[[scenario.events]]
at = "1400ms"
action = "crash-coordinator"
point = "after-decision"
restart_after = "300ms"
"#,
    );
    let rows = summary(&out);
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(row["status"], "ok", "{row:?}");
    assert_eq!(row["violations"], "0", "{row:?}");
    assert!(row["ops"].parse::<u64>().unwrap() > 50, "{row:?}");
    assert!(row["throughput_ops_s"].parse::<f64>().unwrap() > 0.0, "{row:?}");
    assert!(row["error_kinds"].contains("failure"), "the coordinator's crash is seen by clients: {row:?}");
    assert!(row["forced_writes_per_txn"].parse::<f64>().unwrap() > 1.0, "{row:?}");
    let events = std::fs::read_to_string(out.join("events.csv")).unwrap();
    assert_eq!(events.lines().filter(|l| l.contains(",ok,")).count(), 2, "both crashes fired: {events}");
    assert!(
        processes_mentioning(dir.path().to_str().unwrap()).is_empty(),
        "node processes left behind: {:?}",
        processes_mentioning(dir.path().to_str().unwrap())
    );
    assert!(!out.join("data").exists(), "the logs of a clean run are removed");
}

#[test]
fn bad_commit_input_exits_2_naming_the_field() {
    let cases: [(&[&str], &str); 4] = [
        (&["run", "--family", "commit", "--param", "participants=0", "--quick"], "params.participants"),
        (&["run", "--family", "commit", "--param", "vote_timeout=soon", "--quick"], "params.vote_timeout"),
        (&["run", "--family", "commit", "--param", "coordinater=1", "--quick"], "coordinater"),
        (&["serve", "participant", "--id", "0", "--data-dir", "/tmp/x", "--listen", "10.1.2.3:0"], "loopback"),
    ];
    common::assert_bad_input(&cases);
}

#[test]
fn a_node_exits_when_the_harness_goes_away() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("node");
    common::assert_node_exits_with_stdin(&["serve", "participant", "--id", "0", "--data-dir", data.to_str().unwrap()]);
}

/// PostgreSQL servers started from a data directory of the harness's.
fn postgres_servers() -> Vec<String> {
    processes_matching(|cmdline| cmdline.contains("postgres -D ") && cmdline.contains("stratbench-postgres-"))
}

#[test]
fn the_postgres_row_runs_beside_ours_with_conflicts_and_leaves_no_server() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_scenario(
        dir.path(),
        "pg",
        r#"
[[scenario]]
name = "pg"
family = "commit"
strategies = ["2pc-fsync", "engine:postgres-2pc"]
mode = "net"
duration = "1500ms"
warmup = "300ms"
keys = 200
dist = "zipfian"
mix = { read = 0.1, update = 0.9 }
concurrency = 4
[scenario.params]
participants = 2
keys_per_txn = 3
"#,
    );
    let rows = summary(&out);
    assert_eq!(rows.len(), 2);
    for row in &rows {
        assert_eq!(row["status"], "ok", "{row:?}");
        assert_eq!(row["violations"], "0", "{row:?}");
        assert!(row["throughput_ops_s"].parse::<f64>().unwrap() > 0.0, "{row:?}");
    }
    let engine = rows.iter().find(|r| r["strategy"] == "engine:postgres-2pc").unwrap();
    assert!(engine["txns"].parse::<u64>().unwrap() > 0, "{engine:?}");
    assert!(postgres_servers().is_empty(), "postgres left behind: {:?}", postgres_servers());
}
