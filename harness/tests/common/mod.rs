//! Helpers shared by the integration tests that drive the `stratbench` binary (each test
//! crate uses some of them).
#![allow(dead_code)]

use std::process::{Child, Command, ExitStatus, Output};
use std::time::{Duration, Instant};

/// Runs the binary with `args` and waits for it.
pub fn stratbench(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stratbench")).args(args).output().expect("the binary runs")
}

/// Stdout and stderr together, for assertion messages.
pub fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

/// Writes `scenario` to `dir/<name>.toml`, runs it into `dir/<name>`, asserts that the run
/// succeeded, and returns the run directory.
pub fn run_scenario(dir: &std::path::Path, name: &str, scenario: &str) -> std::path::PathBuf {
    let file = dir.join(format!("{name}.toml"));
    std::fs::write(&file, scenario).unwrap();
    let out = dir.join(name);
    let output = stratbench(&["run", file.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert!(output.status.success(), "{}", text(&output));
    out
}

/// Every row of `dir/summary.csv`, as column → value.
pub fn summary(dir: &std::path::Path) -> Vec<std::collections::HashMap<String, String>> {
    let mut reader = csv::Reader::from_path(dir.join("summary.csv")).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    reader.records().map(|r| header.iter().cloned().zip(r.unwrap().iter().map(String::from)).collect()).collect()
}

/// Processes of a run whose `TMPDIR` is `dir`: servers run in their data directories, which
/// the harness creates under `TMPDIR` (their command lines are no guide: redis-server rewrites
/// its own), and client processes inherit `TMPDIR`.
pub fn processes_under(dir: &std::path::Path) -> Vec<String> {
    processes_where(dir, true)
}

/// The servers of a run whose `TMPDIR` is `dir` (processes running in a directory under it),
/// not the `stratbench supervise` processes that hold them.
pub fn servers_under(dir: &std::path::Path) -> Vec<String> {
    processes_where(dir, false).into_iter().filter(|p| !p.contains(" supervise ")).collect()
}

fn processes_where(dir: &std::path::Path, or_inherited: bool) -> Vec<String> {
    let dir = dir.canonicalize().unwrap();
    let tmpdir = format!("TMPDIR={}", dir.display());
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(cwd) = std::fs::read_link(entry.path().join("cwd")) else { continue };
        let environ = std::fs::read(entry.path().join("environ")).unwrap_or_default();
        let inherited = String::from_utf8_lossy(&environ).split('\0').any(|v| v == tmpdir);
        if cwd.starts_with(&dir) || (or_inherited && inherited) {
            let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            found.push(format!("{}: {cmdline}", entry.file_name().to_string_lossy()));
        }
    }
    found
}

/// Waits (at most 20 s) until `servers` servers of the run whose `TMPDIR` is `dir` are up, lets
/// the run go on for 1.5 s, then sends it Ctrl-C (SIGINT) and returns its exit status.
pub fn interrupt_once_servers_run(child: &mut Child, dir: &std::path::Path, servers: usize) -> ExitStatus {
    let start = Instant::now();
    while servers_under(dir).len() < servers && start.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(servers_under(dir).len(), servers, "the run's servers started");
    std::thread::sleep(Duration::from_millis(1500));
    assert!(Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap().success());
    child.wait().unwrap()
}

/// `stratbench serve` processes whose command line mentions `needle` (node processes name
/// their data directory, which lives under the test's own temporary directory).
pub fn processes_mentioning(needle: &str) -> Vec<String> {
    processes_matching(|cmdline| cmdline.contains(needle) && cmdline.contains(" serve "))
}

/// The command lines of the processes for which `matches` holds.
pub fn processes_matching(matches: impl Fn(&str) -> bool) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else { continue };
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if matches(&cmdline) {
            found.push(cmdline);
        }
    }
    found
}

/// Starts `stratbench ARGS --exit-on-stdin-close`, waits for its `listening on` line, closes
/// its stdin as a vanished harness would, and asserts that it exits (0) within 5 s.
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
pub fn assert_bad_input(cases: &[(&[&str], &str)]) {
    for (args, needle) in cases {
        let output = stratbench(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", text(&output));
        assert!(text(&output).contains(needle), "{args:?}: {}", text(&output));
    }
}
