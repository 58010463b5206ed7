//! Load balancing under failure, end to end through the binary: a backend killed mid-run,
//! with and without the failure layer, in-process on the virtual clock and over HTTP beside
//! nginx with the equivalent directives. The failure columns must be filled from what really
//! happened: retries sent, the drain of the dead backend, the layer's own counts (denied
//! retries, ejections) for our proxy and none for nginx, which has neither.

mod common;

use common::{run_scenario, summary};
use std::collections::HashMap;

type Row = HashMap<String, String>;

fn row<'a>(rows: &'a [Row], scenario: &str, strategy: &str) -> &'a Row {
    rows.iter()
        .find(|r| r["scenario"] == scenario && r["strategy"] == strategy)
        .unwrap_or_else(|| panic!("no row {scenario}/{strategy}"))
}

fn number(row: &Row, column: &str) -> f64 {
    row[column].parse().unwrap_or_else(|_| panic!("{column} = {:?} in {row:?}", row[column]))
}

const IN_PROCESS: &str = r#"
[defaults]
family = "balancing"
mode = "inproc"
strategies = ["least-outstanding", "p2c"]
duration = "4s"
warmup = "500ms"
interval = "250ms"
rate = 2000.0
arrivals = "poisson"
concurrency = 200
nodes = 5
seed = 11
[defaults.params]
latency = "exp:5ms"
capacity = 8

[[scenario]]
name = "killed"
events = [{ at = "1s", action = "kill-node", node = 2 }, { at = "3s", action = "restore-node", node = 2 }]

[[scenario]]
name = "killed-layer"
events = [{ at = "1s", action = "kill-node", node = 2 }, { at = "3s", action = "restore-node", node = 2 }]
[scenario.params]
retries = 2
retry_on = ["refused"]
outlier_consecutive_errors = 3
ejection_time = "2s"
max_ejection_percent = 20
"#;

#[test]
fn in_process_the_layer_hides_a_killed_backend_that_the_selector_alone_keeps_loading() {
    let dir = tempfile::tempdir().unwrap();
    let rows = summary(&run_scenario(dir.path(), "inproc", IN_PROCESS));
    for strategy in ["least-outstanding", "p2c"] {
        let (alone, layered) = (row(&rows, "killed", strategy), row(&rows, "killed-layer", strategy));
        assert_eq!(alone["failure_layer"], "off", "{alone:?}");
        assert_eq!(alone["retries_sent"], "0", "{alone:?}");
        assert!(number(alone, "error_rate") > 0.01, "the selector alone lets clients see the dead backend: {alone:?}");
        assert!(layered["failure_layer"].contains("retries=2"), "{layered:?}");
        assert_eq!(number(layered, "error_rate"), 0.0, "2 retries on refused hide one dead backend: {layered:?}");
        assert!(number(layered, "retries_sent") > 0.0, "{layered:?}");
        assert!(number(layered, "ejections") >= 1.0, "{layered:?}");
        assert!(number(layered, "fault_drain_s") < 0.5, "ejected after 3 refusals: {layered:?}");
    }
}

const NETWORKED: &str = r#"
[defaults]
family = "balancing"
mode = "net"
strategies = ["p2c", "least-outstanding", "engine:nginx:round-robin"]
duration = "4s"
warmup = "300ms"
interval = "500ms"
concurrency = 8
nodes = 3
seed = 918273610
[defaults.params]
latency = "1ms"

[[scenario]]
name = "killed-layer"
events = [{ at = "1s", action = "kill-node", node = 1 }, { at = "3s", action = "restore-node", node = 1 }]
[scenario.params]
retries = 2
retry_on = ["refused", "5xx", "timeout"]
retry_budget = 2.0
attempt_timeout = "1s"
max_fails = 1
fail_timeout = "10s"
"#;

#[test]
fn over_http_our_layer_and_nginx_hide_a_killed_backend_and_report_their_own_counts() {
    let dir = tempfile::tempdir().unwrap();
    let rows = summary(&run_scenario(dir.path(), "net", NETWORKED));
    for strategy in ["p2c", "least-outstanding", "engine:nginx:round-robin"] {
        let row = row(&rows, "killed-layer", strategy);
        assert_eq!(row["status"], "ok", "{row:?}");
        assert_eq!(row["errors"], "0", "retried on another backend: {row:?}");
        assert!(number(row, "retries_sent") > 0.0, "the first requests to the dead backend were retried: {row:?}");
        assert!(number(row, "fault_drain_s") < 1.0, "max_fails=1 marks it down at once: {row:?}");
    }
    for strategy in ["p2c", "least-outstanding"] {
        let row = row(&rows, "killed-layer", strategy);
        assert!(number(row, "ejections") >= 1.0, "the proxy reports its marks down: {row:?}");
        assert_eq!(row["retries_denied"], "0", "a budget of 2 tokens per request denies nothing here: {row:?}");
    }
    let nginx = row(&rows, "killed-layer", "engine:nginx:round-robin");
    assert!(nginx["failure_layer"].starts_with("nginx: proxy_next_upstream error timeout http_500"), "{nginx:?}");
    assert_eq!((nginx["ejections"].as_str(), nginx["retries_denied"].as_str()), ("", ""), "nginx counts neither");
}
