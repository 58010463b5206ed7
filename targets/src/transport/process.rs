//! A node run as its own process (`stratbench serve ROLE ...`), on loopback.
//!
//! The child is told to listen on `127.0.0.1:0` (or on the port it had before a restart) and
//! prints `listening on ADDR` on stdout once its listener is bound; [`NodeProcess::spawn`]
//! waits for that line, bounded by a timeout, so ports are ephemeral and never raced for.
//! Its stderr goes to a file beside its data. A [`NodeProcess`] kills its child when dropped,
//! so every path — success, error, panic, Ctrl-C unwinding the run — stops it; and the child
//! holds its stdin open and exits when it closes, so even a harness killed outright leaves no
//! node behind.

use super::TransportError;
use std::io::BufRead as _;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The exit code of a node process that crashed at an injected crash point.
pub const CRASH_EXIT_CODE: i32 = 75;

/// The line a serving node prints once it listens.
pub const READY_PREFIX: &str = "listening on ";

/// A running node process; killed on drop.
#[derive(Debug)]
pub struct NodeProcess {
    child: Child,
    /// The child's stdin, held open: a node exits when it closes, so it cannot outlive the
    /// harness even if the harness is killed.
    _stdin: Option<ChildStdin>,
    address: SocketAddr,
    name: String,
}

impl NodeProcess {
    /// Starts `exe args...` with stderr to `stderr_path`, and waits up to `ready_timeout` for
    /// it to say where it listens.
    pub fn spawn(
        name: &str,
        exe: &Path,
        args: &[String],
        stderr_path: &Path,
        ready_timeout: Duration,
    ) -> Result<Self, TransportError> {
        let stderr = std::fs::File::create(stderr_path)
            .map_err(|e| TransportError::io(format!("cannot create {}", stderr_path.display()), e))?;
        let mut child = Command::new(exe)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(stderr))
            .spawn()
            .map_err(|e| TransportError::io(format!("cannot start {name} ({})", exe.display()), e))?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = std::io::BufReader::new(stdout).lines();
            let first = lines.next();
            let _ = sender.send(first);
            // Keep reading so that the child never writes into a closed pipe.
            for _ in lines {}
        });
        let stdin = child.stdin.take();
        let mut process =
            NodeProcess { child, _stdin: stdin, address: SocketAddr::from(([127, 0, 0, 1], 0)), name: name.into() };
        let line = match receiver.recv_timeout(ready_timeout) {
            Ok(Some(Ok(line))) => line,
            Ok(_) => return Err(process.failed_to_start(stderr_path, "exited before listening")),
            Err(_) => {
                return Err(process.failed_to_start(stderr_path, &format!("did not listen within {ready_timeout:?}")));
            }
        };
        process.address = line
            .strip_prefix(READY_PREFIX)
            .and_then(|a| a.trim().parse().ok())
            .ok_or_else(|| TransportError::Process(format!("{name} printed `{line}` instead of its address")))?;
        Ok(process)
    }

    fn failed_to_start(&mut self, stderr_path: &Path, why: &str) -> TransportError {
        self.kill();
        let log = std::fs::read_to_string(stderr_path).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(5).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        TransportError::Process(format!("{} {why}: {}", self.name, tail.join(" | ")))
    }

    /// Where it listens.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its exit status, if it has exited.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Kills it (SIGKILL) and reaps it.
    pub fn kill(&mut self) {
        if self.exited().is_none() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }

    /// Waits up to `timeout` for it to exit by itself; kills it if it does not.
    pub fn wait_or_kill(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = std::time::Instant::now() + timeout;
        while std::time::Instant::now() < deadline {
            if let Some(status) = self.exited() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        self.kill();
        None
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
