//! Real servers on loopback, started and stopped by the harness: redis-server, ZooKeeper and
//! etcd, shared by every family that needs one (locks now; sharding over N Redis servers and
//! an etcd cluster later).
//!
//! Every server runs as a child process owned by a [`ManagedProcess`], which also owns the
//! server's temporary data directory. Dropping the guard stops the process (SIGTERM, a bounded
//! wait, then SIGKILL) and removes the directory, so no path — the end of a run, an error, a
//! panic — leaves a process behind. Ctrl-C pressed twice exits at once without running
//! destructors; [`stop_all`] is called first for that case, through a registry of live
//! children.
//!
//! Ports are ephemeral: bind `127.0.0.1:0` to learn a free port, release it, start the server
//! on it, and retry on the rare collision. Readiness is checked from Rust with the server's own
//! protocol (Redis `PING`, ZooKeeper `ruok`, etcd `GET /health`), bounded in time. A missing
//! binary is an error that names the Debian package to install.
//!
//! Servers:
//! - [`redis::RedisServer`]: one redis-server, persistence off (or AOF with `fsync always`);
//!   [`redis::start_many`] for the N masters of Redlock.
//! - [`zookeeper::ZooKeeperServer`]: a standalone ZooKeeper from the Debian package.
//! - [`etcd::EtcdCluster`]: one etcd member or a cluster of three.
//! - [`postgres::PostgresServer`]: a fresh PostgreSQL cluster, for prepared transactions.

pub mod etcd;
pub mod postgres;
pub mod redis;
pub mod zookeeper;

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a server may take to answer its readiness check. ZooKeeper (a JVM) takes about a
/// second on an idle machine; a loaded 2-core machine can take several times that.
pub const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a stopping server gets between SIGTERM and SIGKILL.
pub const STOP_GRACE: Duration = Duration::from_secs(5);
/// How often readiness and exit are polled.
const POLL_EVERY: Duration = Duration::from_millis(10);
/// Attempts to start on a fresh port when the one picked was taken in between.
const PORT_ATTEMPTS: u32 = 5;
/// Timeout of one protocol ping.
const PING_TIMEOUT: Duration = Duration::from_millis(500);

/// Why a server could not be started or reached.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The program is not installed.
    #[error(
        "{program} not found: install the Debian package `{package}` (apt-get install {package}), or give {flag} ADDRESS to use a running server"
    )]
    NotInstalled { program: String, package: &'static str, flag: &'static str },
    /// The process could not be spawned, or a file it needs not written.
    #[error("cannot start {name}: {detail}")]
    Start { name: String, detail: String },
    /// The process started but did not answer in time (or exited).
    #[error("{name} on {addr} did not become ready within {waited:?}: {detail}{log}")]
    NotReady { name: String, addr: String, waited: Duration, detail: String, log: String },
    /// A given address does not answer.
    #[error("{kind} at {addr} does not answer: {detail}")]
    Unreachable { kind: &'static str, addr: String, detail: String },
}

/// Pids of live managed children, so a hard exit can stop them.
static LIVE: Mutex<Vec<u32>> = Mutex::new(Vec::new());

/// Stops every managed child still running (SIGKILL). For the one path that skips destructors:
/// a second Ctrl-C, which exits the process at once.
pub fn stop_all() {
    let pids = std::mem::take(&mut *LIVE.lock().unwrap_or_else(|e| e.into_inner()));
    for pid in pids {
        let _ = signal(pid, nix::sys::signal::Signal::SIGKILL);
    }
}

/// Registers a child process started elsewhere (a lock client process), so that
/// [`stop_all`] stops it too.
pub fn register_pid(pid: u32) {
    LIVE.lock().unwrap_or_else(|e| e.into_inner()).push(pid);
}

/// Forgets a child registered with [`register_pid`] once it is stopped.
pub fn forget_pid(pid: u32) {
    LIVE.lock().unwrap_or_else(|e| e.into_inner()).retain(|p| *p != pid);
}

/// Pids of the managed children alive now (for tests that check nothing is left).
pub fn live_pids() -> Vec<u32> {
    LIVE.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

fn signal(pid: u32, signal: nix::sys::signal::Signal) -> nix::Result<()> {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), signal)
}

/// A child process and its data directory, stopped and removed on drop.
#[derive(Debug)]
pub struct ManagedProcess {
    name: String,
    child: Option<Child>,
    dir: tempfile::TempDir,
}

impl ManagedProcess {
    /// Spawns `command` in `dir`, with stdout and stderr sent to `<dir>/<name>.log`.
    pub fn spawn(name: &str, mut command: Command, dir: tempfile::TempDir) -> Result<Self, ServerError> {
        let start_error = |detail: String| ServerError::Start { name: name.to_string(), detail };
        let log = std::fs::File::create(dir.path().join(format!("{name}.log")))
            .map_err(|e| start_error(format!("cannot create its log file: {e}")))?;
        let log_err = log.try_clone().map_err(|e| start_error(e.to_string()))?;
        command.current_dir(dir.path()).stdin(Stdio::null()).stdout(log).stderr(log_err);
        let child = command.spawn().map_err(|e| start_error(e.to_string()))?;
        register_pid(child.id());
        tracing::debug!("started {name} (pid {})", child.id());
        Ok(ManagedProcess { name: name.to_string(), child: Some(child), dir })
    }

    /// The process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The server's name, for messages.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether the process has exited (and how), without waiting.
    pub fn exited(&mut self) -> Option<String> {
        let child = self.child.as_mut()?;
        match child.try_wait() {
            Ok(Some(status)) => Some(status.to_string()),
            Ok(None) => None,
            Err(e) => Some(e.to_string()),
        }
    }

    /// The last lines of the process's log, for error messages.
    pub fn log_tail(&self) -> String {
        let path = self.dir.path().join(format!("{}.log", self.name));
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let lines: Vec<&str> = text.lines().rev().take(5).collect();
        if lines.is_empty() {
            String::new()
        } else {
            format!("; last lines of its log: {}", lines.into_iter().rev().collect::<Vec<_>>().join(" | "))
        }
    }

    /// Pauses (SIGSTOP) or resumes (SIGCONT) the process.
    pub fn set_paused(&self, paused: bool) -> Result<(), ServerError> {
        use nix::sys::signal::Signal;
        let pid =
            self.pid().ok_or_else(|| ServerError::Start { name: self.name.clone(), detail: "not running".into() })?;
        signal(pid, if paused { Signal::SIGSTOP } else { Signal::SIGCONT })
            .map_err(|e| ServerError::Start { name: self.name.clone(), detail: e.to_string() })
    }

    /// Stops the process: SIGTERM, up to [`STOP_GRACE`], then SIGKILL. Keeps the data
    /// directory (for a restart).
    pub fn stop(&mut self) {
        self.stop_with(nix::sys::signal::Signal::SIGTERM);
    }

    /// Kills the process at once (SIGKILL), as a crash would.
    pub fn kill(&mut self) {
        self.stop_with(nix::sys::signal::Signal::SIGKILL);
    }

    fn stop_with(&mut self, first: nix::sys::signal::Signal) {
        let Some(mut child) = self.child.take() else { return };
        let pid = child.id();
        // A stopped (SIGSTOP) process ignores SIGTERM until continued.
        let _ = signal(pid, nix::sys::signal::Signal::SIGCONT);
        let _ = signal(pid, first);
        let deadline = Instant::now() + STOP_GRACE;
        while Instant::now() < deadline {
            if !matches!(child.try_wait(), Ok(None)) {
                break;
            }
            std::thread::sleep(POLL_EVERY);
        }
        if matches!(child.try_wait(), Ok(None)) {
            tracing::warn!("{} (pid {pid}) did not stop within {STOP_GRACE:?}; killing it", self.name);
            let _ = child.kill();
        }
        let _ = child.wait();
        forget_pid(pid);
        tracing::debug!("stopped {} (pid {pid})", self.name);
    }

    /// Starts `command` in place of the stopped process, keeping the data directory.
    pub fn respawn(&mut self, command: Command) -> Result<(), ServerError> {
        self.stop();
        let placeholder = tempfile::TempDir::new().map_err(|e| ServerError::Start {
            name: self.name.clone(),
            detail: format!("cannot create a temporary directory: {e}"),
        })?;
        let dir = std::mem::replace(&mut self.dir, placeholder);
        *self = ManagedProcess::spawn(&self.name.clone(), command, dir)?;
        Ok(())
    }
}

impl Drop for ManagedProcess {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A temporary directory for a server's data, under the system's temporary directory.
pub fn data_dir(name: &str) -> Result<tempfile::TempDir, ServerError> {
    tempfile::Builder::new().prefix(&format!("stratbench-{name}-")).tempdir().map_err(|e| ServerError::Start {
        name: name.to_string(),
        detail: format!("cannot create a temporary directory: {e}"),
    })
}

/// A port that was free on 127.0.0.1 a moment ago.
pub fn free_port() -> Result<u16, ServerError> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .map_err(|e| ServerError::Start { name: "a server".into(), detail: format!("cannot pick a free port: {e}") })?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| ServerError::Start { name: "a server".into(), detail: e.to_string() })
}

/// The full path of `program` found on `PATH`, if any.
pub fn find_program(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(program)).find(|candidate| candidate.is_file())
}

/// Starts a server with `start(port)` until one comes up ready, picking a fresh port after a
/// failure that looks like a port collision.
pub fn start_on_free_port<T>(mut start: impl FnMut(u16) -> Result<T, ServerError>) -> Result<T, ServerError> {
    let mut last = None;
    for _ in 0..PORT_ATTEMPTS {
        let port = free_port()?;
        match start(port) {
            Ok(server) => return Ok(server),
            Err(error @ ServerError::NotReady { .. }) if looks_like_collision(&error) => last = Some(error),
            Err(error) => return Err(error),
        }
    }
    Err(last.expect("at least one attempt"))
}

fn looks_like_collision(error: &ServerError) -> bool {
    let text = error.to_string().to_lowercase();
    text.contains("address already in use") || text.contains("bind")
}

/// Polls `ping` until it succeeds, the process exits, or [`READY_TIMEOUT`] passes.
pub fn wait_ready(
    process: &mut ManagedProcess,
    addr: SocketAddr,
    ping: impl Fn(SocketAddr) -> Result<(), String>,
) -> Result<(), ServerError> {
    let start = Instant::now();
    let mut last = String::from("no answer yet");
    while start.elapsed() < READY_TIMEOUT {
        match ping(addr) {
            Ok(()) => {
                tracing::debug!("{} ready on {addr} after {:?}", process.name(), start.elapsed());
                return Ok(());
            }
            Err(error) => last = error,
        }
        if let Some(status) = process.exited() {
            last = format!("it exited ({status})");
            break;
        }
        std::thread::sleep(POLL_EVERY);
    }
    Err(ServerError::NotReady {
        name: process.name().to_string(),
        addr: addr.to_string(),
        waited: start.elapsed(),
        detail: last,
        log: process.log_tail(),
    })
}

/// Sends `request` on a fresh connection to `addr` and reads the reply until `done` says it is
/// complete, the peer closes, or [`PING_TIMEOUT`] passes.
pub fn exchange(addr: SocketAddr, request: &[u8], done: impl Fn(&[u8]) -> bool) -> Result<Vec<u8>, String> {
    let mut stream = TcpStream::connect_timeout(&addr, PING_TIMEOUT).map_err(|e| e.to_string())?;
    stream.set_read_timeout(Some(PING_TIMEOUT)).map_err(|e| e.to_string())?;
    stream.set_write_timeout(Some(PING_TIMEOUT)).map_err(|e| e.to_string())?;
    stream.write_all(request).map_err(|e| e.to_string())?;
    let mut reply = Vec::new();
    let mut buffer = [0u8; 1024];
    while !done(&reply) && reply.len() < 64 * 1024 {
        match stream.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => reply.extend_from_slice(&buffer[..n]),
            Err(e) => return Err(e.to_string()),
        }
    }
    Ok(reply)
}

/// `host:port` of a URL such as `redis://127.0.0.1:6379/0` or `http://127.0.0.1:2379`, or of a
/// plain `host:port`, resolved to a socket address.
pub fn socket_addr(url: &str) -> Result<SocketAddr, String> {
    use std::net::ToSocketAddrs as _;
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split('/').next().unwrap_or(rest);
    let authority = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    authority
        .to_socket_addrs()
        .map_err(|e| format!("`{url}` is not a host:port address: {e}"))?
        .next()
        .ok_or_else(|| format!("`{url}` resolves to no address"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_come_out_of_urls() {
        assert_eq!(socket_addr("redis://127.0.0.1:6379/0").unwrap(), "127.0.0.1:6379".parse().unwrap());
        assert_eq!(socket_addr("http://127.0.0.1:2379").unwrap(), "127.0.0.1:2379".parse().unwrap());
        assert_eq!(socket_addr("127.0.0.1:2181").unwrap(), "127.0.0.1:2181".parse().unwrap());
        assert_eq!(socket_addr("redis://user:pw@127.0.0.1:1").unwrap(), "127.0.0.1:1".parse().unwrap());
        assert!(socket_addr("no-port").is_err());
    }

    #[test]
    fn a_missing_program_names_its_package() {
        assert!(find_program("surely-not-a-program-xyz").is_none());
        let error =
            ServerError::NotInstalled { program: "redis-server".into(), package: "redis-server", flag: "--redis" };
        assert!(error.to_string().contains("apt-get install redis-server"));
    }

    #[test]
    fn a_dropped_process_is_stopped() {
        let mut command = Command::new("sleep");
        command.arg("30");
        let process = ManagedProcess::spawn("sleeper", command, data_dir("test").unwrap()).unwrap();
        let pid = process.pid().unwrap();
        assert!(live_pids().contains(&pid));
        drop(process);
        assert!(!live_pids().contains(&pid));
        assert!(!Path::new(&format!("/proc/{pid}")).exists(), "pid {pid} is gone");
    }
}
