//! Exit codes as the README's table states them: 2 for bad input found before anything
//! starts, 1 for a write that failed, 130 for an interrupt (with the run in progress written as
//! `interrupted`), and the results directory rules (`--out` holding a run, `--force`).

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn stratbench(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stratbench")).args(args).output().expect("the binary runs")
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

fn noop_run(out: &Path, extra: &[&str]) -> Output {
    let mut args =
        vec!["run", "--family", "noop", "--duration", "200ms", "--warmup", "0s", "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    stratbench(&args)
}

#[test]
fn malformed_server_addresses_are_bad_input_before_anything_starts() {
    let dir = tempfile::tempdir().unwrap();
    for (flag, value) in [("--redis", "notanaddress"), ("--zookeeper", "127.0.0.1"), ("--etcd", "http://x:y")] {
        let out = dir.path().join(flag.trim_start_matches('-'));
        let output =
            stratbench(&["run", "--family", "locks", "--mode", "net", flag, value, "--out", out.to_str().unwrap()]);
        assert_eq!(output.status.code(), Some(2), "{flag} {value}: {}", text(&output));
        assert!(text(&output).contains(flag) && text(&output).contains(value), "{}", text(&output));
        assert!(!out.exists(), "{flag}: nothing started, nothing written");
    }
}

#[test]
fn an_empty_strategy_list_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("empty.toml");
    std::fs::write(&file, "[[scenario]]\nname = \"e\"\nfamily = \"noop\"\nstrategies = []\n").unwrap();
    let output = stratbench(&["run", file.to_str().unwrap(), "--out", dir.path().join("out").to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains("strategies"), "{}", text(&output));
}

#[test]
fn a_zero_warmup_is_accepted_on_the_command_line_as_in_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let output = noop_run(&dir.path().join("out"), &[]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
}

#[test]
fn a_run_into_a_directory_holding_a_run_is_refused_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    assert_eq!(noop_run(&out, &[]).status.code(), Some(0));
    std::fs::write(out.join("hlog").join("old-run.hlog"), "left by an older run").unwrap();
    let refused = noop_run(&out, &["--seed", "7"]);
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused));
    assert!(text(&refused).contains("--force"), "{}", text(&refused));
    let forced = noop_run(&out, &["--seed", "7", "--force"]);
    assert_eq!(forced.status.code(), Some(0), "{}", text(&forced));
    assert!(!out.join("hlog").join("old-run.hlog").exists(), "--force clears the previous run's files");
    let summary = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    assert_eq!(summary.lines().count(), 2, "one header, this run's one row:\n{summary}");
}

#[test]
fn an_interval_log_that_cannot_be_written_fails_the_session() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("long.toml");
    let name = "x".repeat(300);
    std::fs::write(&file, format!("[[scenario]]\nname = \"{name}\"\nfamily = \"noop\"\nduration = \"200ms\"\n"))
        .unwrap();
    let output = stratbench(&["run", file.to_str().unwrap(), "--out", dir.path().join("out").to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(text(&output).contains("cannot create"), "{}", text(&output));
}

#[test]
fn a_header_only_baseline_is_bad_input_for_compare() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    assert_eq!(noop_run(&out, &[]).status.code(), Some(0));
    let summary = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    let header_only = dir.path().join("header.csv");
    std::fs::write(&header_only, summary.lines().next().unwrap().to_string() + "\n").unwrap();
    let output = stratbench(&["compare", header_only.to_str().unwrap(), out.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains("header.csv") && text(&output).contains("no runs"), "{}", text(&output));
    let duplicated = dir.path().join("dup.csv");
    let row = summary.lines().nth(1).unwrap();
    std::fs::write(&duplicated, format!("{summary}{row}\n")).unwrap();
    let output = stratbench(&["compare", out.to_str().unwrap(), duplicated.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains("row 3") && text(&output).contains("run_id"), "{}", text(&output));
}

#[test]
fn ctrl_c_abandons_a_long_placement_build() {
    // A ring of 100,000 nodes with 160 points each takes minutes in a debug build.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mut child = Command::new(env!("CARGO_BIN_EXE_stratbench"))
        .args(["run", "--family", "hashing", "--strategy", "crate:hashring", "--nodes", "100000", "--keys", "100000"])
        .arg("--out")
        .arg(&out)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(2));
    let status = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let sent = Instant::now();
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        if sent.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            panic!("still building 20 s after Ctrl-C");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(code, Some(130));
    let summary = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    assert!(summary.contains(",interrupted,"), "{summary}");
}
