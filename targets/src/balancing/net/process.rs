//! Child processes that never outlive the run: [`ChildGuard`] stops its process when dropped
//! (normal end, error, panic unwinding, Ctrl-C — the harness turns Ctrl-C into an orderly end
//! of the run, so the guards drop), first with SIGTERM and, if it has not exited within
//! [`STOP_GRACE`], with SIGKILL, and always reaps it. Our own servers are also started with
//! `--exit-on-stdin-close` and a piped stdin, so that if the harness itself is killed outright
//! its children see their stdin close and exit.
//!
//! Readiness: a server prints `listening <address>` on stdout once it is bound;
//! [`spawn_listening`] waits for that line (bounded by a timeout), so ports are ephemeral and
//! race-free.

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long a stopped child may take to exit before it is killed.
pub const STOP_GRACE: Duration = Duration::from_secs(3);
/// How long a server may take to say it listens.
pub const READY_TIMEOUT: Duration = Duration::from_secs(10);
/// How often an exiting child is checked.
const POLL_EVERY: Duration = Duration::from_millis(10);

/// Why a child could not be started.
#[derive(Debug, thiserror::Error)]
pub enum SpawnError {
    #[error("cannot start {name}: {source}")]
    Io { name: String, source: std::io::Error },
    #[error("{name} did not report its address within {timeout:?}{detail}")]
    NotReady { name: String, timeout: Duration, detail: String },
}

/// A running child process, stopped and reaped when dropped.
#[derive(Debug)]
pub struct ChildGuard {
    name: String,
    child: Option<Child>,
}

impl ChildGuard {
    /// Starts `command` as `name`.
    pub fn spawn(name: &str, command: &mut Command) -> Result<Self, SpawnError> {
        let child = command.spawn().map_err(|source| SpawnError::Io { name: name.into(), source })?;
        Ok(ChildGuard { name: name.into(), child: Some(child) })
    }

    /// The child's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Whether the process has exited (and been reaped).
    pub fn has_exited(&mut self) -> bool {
        match self.child.as_mut() {
            Some(child) => !matches!(child.try_wait(), Ok(None)),
            None => true,
        }
    }

    /// Kills the process at once (SIGKILL), as a crash would, and reaps it.
    pub fn kill_now(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Asks the process to stop (SIGTERM), waits up to [`STOP_GRACE`], then kills it; reaps
    /// it in any case.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else { return };
        if let Ok(pid) = i32::try_from(child.id()) {
            let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
        }
        let deadline = Instant::now() + STOP_GRACE;
        while Instant::now() < deadline {
            if !matches!(child.try_wait(), Ok(None)) {
                return;
            }
            std::thread::sleep(POLL_EVERY);
        }
        tracing::warn!("{} did not stop within {STOP_GRACE:?}; killing it", self.name);
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Starts `command` (one of our servers) with piped stdin and stdout, and waits for the
/// `listening <address>` line it prints once bound. Its stderr goes where `command` says.
pub fn spawn_listening(name: &str, command: &mut Command) -> Result<(ChildGuard, SocketAddr), SpawnError> {
    command.stdin(Stdio::piped()).stdout(Stdio::piped());
    let mut guard = ChildGuard::spawn(name, command)?;
    let stdout = guard.child.as_mut().and_then(|c| c.stdout.take()).expect("stdout is piped");
    let (sender, receiver) = mpsc::channel();
    // The reader ends with the first line (or EOF); the child writes nothing more.
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = sender.send(line);
    });
    let not_ready = |detail: String| SpawnError::NotReady { name: name.into(), timeout: READY_TIMEOUT, detail };
    let line = receiver.recv_timeout(READY_TIMEOUT).map_err(|_| not_ready(String::new()))?;
    let address = line.trim().strip_prefix(super::LISTENING).and_then(|a| a.parse().ok());
    match address {
        Some(address) => Ok((guard, address)),
        None => {
            let exited = if guard.has_exited() { " and exited (see its log)" } else { "" };
            Err(not_ready(format!(": it printed {:?}{exited}", line.trim())))
        }
    }
}

/// Waits until something accepts TCP connections at `address`, for at most `timeout`.
pub fn wait_for_port(address: SocketAddr, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if std::net::TcpStream::connect_timeout(&address, Duration::from_millis(100)).is_ok() {
            return true;
        }
        std::thread::sleep(POLL_EVERY);
    }
    false
}

/// A loopback port that was free a moment ago (for servers that cannot report their own,
/// such as nginx).
pub fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropping_the_guard_stops_and_reaps_the_child() {
        let mut guard = ChildGuard::spawn("sleep", Command::new("sleep").arg("60")).unwrap();
        let pid = guard.pid().unwrap();
        assert!(!guard.has_exited());
        drop(guard);
        // Reaped: the pid no longer names a process of ours.
        assert!(kill(Pid::from_raw(pid as i32), None).is_err(), "process {pid} still exists");
    }

    #[test]
    fn a_child_that_never_listens_is_an_error_and_is_stopped() {
        let started = Instant::now();
        let error = spawn_listening("echo", Command::new("echo").arg("hello")).unwrap_err().to_string();
        assert!(error.contains("echo") && error.contains("hello"), "{error}");
        assert!(started.elapsed() < READY_TIMEOUT);
    }
}
