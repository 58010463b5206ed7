//! Nothing left behind: for each kind of process the harness starts (redis-server, ZooKeeper,
//! etcd, nginx, PostgreSQL, `stratbench serve` nodes, lock-client processes), the harness is
//! stopped mid-run by SIGKILL, by two SIGINTs 30 ms apart, and by SIGTERM; within 5 s no process
//! it started may be alive, no port they listened on may still listen, and no scratch
//! directory of that harness may be left. After the signals it can catch, the run in progress
//! must be in summary.csv as `interrupted`.
//!
//! What the harness started is read from /proc while it runs (its descendants, and the TCP
//! ports they listen on), before it is stopped.

use std::collections::HashSet;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long everything may take to go after the harness is stopped.
const GONE_WITHIN: Duration = Duration::from_secs(5);
/// How long a server may take to come up under the harness (a JVM, initdb on a busy machine).
const UP_WITHIN: Duration = Duration::from_secs(90);

#[derive(Clone, Copy, Debug)]
enum Stop {
    Kill,
    TwoInterrupts,
    Terminate,
}

/// A 60-second run of one strategy in `family` against `program` (its process name).
struct Case {
    scenario: String,
    program: &'static str,
}

fn scenario(family: &str, strategy: &str, extra: &str) -> String {
    format!(
        "[[scenario]]\nname = \"survival\"\nfamily = \"{family}\"\nstrategies = [\"{strategy}\"]\nmode = \"net\"\n\
         duration = \"60s\"\nwarmup = \"0s\"\nconcurrency = 2\n{extra}"
    )
}

fn descendants(pid: u32) -> Vec<u32> {
    let mut found = Vec::new();
    let mut queue = vec![pid];
    while let Some(parent) = queue.pop() {
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{parent}/task")) else { continue };
        for task in tasks.filter_map(Result::ok) {
            let children = std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
            for child in children.split_whitespace().filter_map(|c| c.parse().ok()) {
                found.push(child);
                queue.push(child);
            }
        }
    }
    found
}

fn comm(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default().trim().to_string()
}

/// Alive: exists and is not a zombie waiting for its (new) parent to reap it.
fn alive(pid: u32) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let state = stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().next());
    matches!(state, Some(s) if s != "Z" && s != "X")
}

/// Socket inodes open in `pid`.
fn socket_inodes(pid: u32) -> HashSet<u64> {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else { return HashSet::new() };
    fds.filter_map(Result::ok)
        .filter_map(|fd| std::fs::read_link(fd.path()).ok())
        .filter_map(|target| {
            let target = target.to_string_lossy().into_owned();
            target.strip_prefix("socket:[")?.strip_suffix(']')?.parse().ok()
        })
        .collect()
}

/// Listening TCP sockets: (port, inode).
fn listening() -> Vec<(u16, u64)> {
    let mut found = Vec::new();
    for file in ["/proc/net/tcp", "/proc/net/tcp6"] {
        for line in std::fs::read_to_string(file).unwrap_or_default().lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() > 9 && fields[3] == "0A" {
                let port = fields[1].rsplit(':').next().and_then(|p| u16::from_str_radix(p, 16).ok());
                if let (Some(port), Ok(inode)) = (port, fields[9].parse()) {
                    found.push((port, inode));
                }
            }
        }
    }
    found
}

fn ports_of(pids: &[u32]) -> HashSet<u16> {
    let inodes: HashSet<u64> = pids.iter().flat_map(|pid| socket_inodes(*pid)).collect();
    listening().into_iter().filter(|(_, inode)| inodes.contains(inode)).map(|(port, _)| port).collect()
}

fn scratch_dirs_of(harness: u32) -> Vec<String> {
    let prefix = format!("stratbench-{harness}-");
    std::fs::read_dir(std::env::temp_dir())
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|name| name.starts_with(&prefix))
                .collect()
        })
        .unwrap_or_default()
}

fn signal(pid: u32, signal: &str) {
    let status = Command::new("kill").args([&format!("-{signal}"), &pid.to_string()]).status().unwrap();
    assert!(status.success(), "kill -{signal} {pid}");
}

/// Starts the harness on `case` and waits until `case.program` runs under it and listens.
// The child is returned to the caller, which waits for it (`stop`); the lint cannot see that.
#[allow(clippy::zombie_processes)]
fn start(case: &Case, dir: &Path) -> (Child, Vec<u32>, HashSet<u16>) {
    let file = dir.join("scenario.toml");
    std::fs::write(&file, &case.scenario).unwrap();
    let mut harness = Command::new(env!("CARGO_BIN_EXE_stratbench"))
        .arg("run")
        .arg(&file)
        .arg("--out")
        .arg(dir.join("out"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    loop {
        let pids = descendants(harness.id());
        let ports = ports_of(&pids);
        let program_listens = pids.iter().any(|pid| comm(*pid) == case.program && !ports_of(&[*pid]).is_empty());
        if program_listens {
            // Mid-run, not mid-start.
            std::thread::sleep(Duration::from_millis(500));
            let pids = descendants(harness.id());
            let ports = ports_of(&pids).union(&ports).copied().collect();
            return (harness, pids, ports);
        }
        if started.elapsed() >= UP_WITHIN {
            let _ = harness.kill();
            let _ = harness.wait();
            panic!("{} did not come up under the harness within {UP_WITHIN:?}", case.program);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn stop(harness: &mut Child, how: Stop) -> Option<i32> {
    match how {
        Stop::Kill => harness.kill().unwrap(),
        Stop::TwoInterrupts => {
            signal(harness.id(), "INT");
            std::thread::sleep(Duration::from_millis(30));
            signal(harness.id(), "INT");
        }
        Stop::Terminate => signal(harness.id(), "TERM"),
    }
    harness.wait().unwrap().code()
}

fn survives(case: &Case, how: Stop) {
    let dir = tempfile::tempdir().unwrap();
    let (mut harness, pids, ports) = start(case, dir.path());
    let id = harness.id();
    assert!(!ports.is_empty(), "{}: the run listens somewhere", case.program);
    let code = stop(&mut harness, how);
    let deadline = Instant::now() + GONE_WITHIN;
    loop {
        let living: Vec<String> = pids.iter().filter(|p| alive(**p)).map(|p| format!("{p} ({})", comm(*p))).collect();
        let open: Vec<u16> = listening().into_iter().map(|(port, _)| port).filter(|p| ports.contains(p)).collect();
        let dirs = scratch_dirs_of(id);
        if living.is_empty() && open.is_empty() && dirs.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{} after {how:?}: still alive {living:?}, still listening {open:?}, left {dirs:?}",
            case.program
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    if !matches!(how, Stop::Kill) {
        assert_eq!(code, Some(130), "{} after {how:?}: exit code", case.program);
        let summary = std::fs::read_to_string(dir.path().join("out/summary.csv")).unwrap();
        assert!(summary.contains(",interrupted,"), "{} after {how:?}: no interrupted row in\n{summary}", case.program);
    }
}

fn survives_every_stop(case: &Case) {
    for how in [Stop::Kill, Stop::TwoInterrupts, Stop::Terminate] {
        survives(case, how);
    }
}

#[test]
fn redis_servers_die_with_the_harness() {
    survives_every_stop(&Case {
        scenario: scenario("hashing", "ring", "nodes = 3\nkeys = 1000\n"),
        program: "redis-server",
    });
}

#[test]
fn zookeeper_dies_with_the_harness() {
    survives_every_stop(&Case { scenario: scenario("locks", "zookeeper", ""), program: "java" });
}

#[test]
fn etcd_dies_with_the_harness() {
    survives_every_stop(&Case { scenario: scenario("consensus", "engine:etcd", "keys = 1000\n"), program: "etcd" });
}

#[test]
fn nginx_and_backends_die_with_the_harness() {
    survives_every_stop(&Case {
        scenario: scenario("balancing", "engine:nginx:round-robin", "nodes = 2\n"),
        program: "nginx",
    });
}

#[test]
fn postgres_dies_with_the_harness() {
    survives_every_stop(&Case {
        scenario: scenario("commit", "engine:postgres-2pc", "keys = 1000\n"),
        program: "postgres",
    });
}

#[test]
fn serve_nodes_die_with_the_harness() {
    survives_every_stop(&Case { scenario: scenario("commit", "2pc-file", "keys = 1000\n"), program: "stratbench" });
}

#[test]
fn lock_client_processes_die_with_the_harness() {
    // The lock clients listen nowhere; redis-server does, and the clients are descendants.
    survives_every_stop(&Case {
        scenario: scenario("locks", "redis", "[scenario.params]\nclient_process = true\n"),
        program: "redis-server",
    });
}
