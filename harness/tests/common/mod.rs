//! Helpers shared by the integration tests that drive the `stratbench` binary.

use std::process::{Command, Output};

/// Runs the binary with `args` and waits for it.
pub fn stratbench(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stratbench")).args(args).output().expect("the binary runs")
}

/// Stdout and stderr together, for assertion messages.
pub fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

/// The rows of `dir/summary.csv`, each a map from column to value.
#[allow(dead_code)] // not every test binary reads a summary
pub fn summary(dir: &std::path::Path) -> Vec<std::collections::HashMap<String, String>> {
    let mut reader = csv::Reader::from_path(dir.join("summary.csv")).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    reader.records().map(|r| header.iter().cloned().zip(r.unwrap().iter().map(String::from)).collect()).collect()
}

/// `stratbench serve` processes whose command line mentions `needle` (node processes name
/// their data directory, which lives under the test's own temporary directory).
#[allow(dead_code)] // only the networked families' tests look for processes
pub fn processes_mentioning(needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else { continue };
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if cmdline.contains(needle) && cmdline.contains(" serve ") {
            found.push(cmdline);
        }
    }
    found
}

/// Starts `stratbench ARGS --exit-on-stdin-close`, waits for its `listening on` line, closes
/// its stdin as a vanished harness would, and asserts that it exits (0) within 5 s.
#[allow(dead_code)] // only the networked families' tests start nodes
pub fn assert_node_exits_with_stdin(args: &[&str]) {
    use std::io::BufRead as _;
    use std::process::Stdio;
    use std::time::{Duration, Instant};
    let mut child = Command::new(env!("CARGO_BIN_EXE_stratbench"))
        .args(args)
        .arg("--exit-on-stdin-close")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    assert!(line.starts_with("listening on 127.0.0.1:"), "{line}");
    drop(child.stdin.take());
    let deadline = Instant::now() + Duration::from_secs(5);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the node outlived its harness: {args:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{args:?}: {status}");
}

/// Runs each case's arguments and asserts exit code 2 with a message containing its needle
/// (the field or flag at fault).
#[allow(dead_code)] // not every test binary checks bad input
pub fn assert_bad_input(cases: &[(&[&str], &str)]) {
    for (args, needle) in cases {
        let output = stratbench(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", text(&output));
        assert!(text(&output).contains(needle), "{args:?}: {}", text(&output));
    }
}
