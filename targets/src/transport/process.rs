//! A node run as its own process (`stratbench serve ROLE ...`), on loopback, through the one
//! child-process type ([`crate::process::ChildProcess`]: own process group, registered for
//! Ctrl-C, supervised so that it dies with the harness, stopped on drop).
//!
//! The child is told to listen on `127.0.0.1:0` (or on the port it had before a restart) and
//! prints `listening on ADDR` on stdout once its listener is bound; [`spawn_node`] waits for
//! that line, bounded by a timeout, so ports are ephemeral and never raced for. Its stderr goes
//! to a file beside its data. Its stdin stays open while the harness holds the process; the
//! node exits when it closes.

use super::TransportError;
use crate::process::{ChildProcess, Spec};
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

/// The exit code of a node process that crashed at an injected crash point.
pub const CRASH_EXIT_CODE: i32 = 75;

/// The line a serving node prints once it listens.
pub const READY_PREFIX: &str = "listening on ";

/// Starts `exe args...` with stderr to `stderr_path`, and waits up to `ready_timeout` for it
/// to say where it listens.
pub fn spawn_node(
    name: &str,
    exe: &Path,
    args: &[String],
    stderr_path: &Path,
    ready_timeout: Duration,
) -> Result<(ChildProcess, SocketAddr), TransportError> {
    let spec = Spec::new(name, exe).args(args).log(stderr_path).pipes();
    let process_error = |e: crate::process::ProcessError| TransportError::Process(e.to_string());
    let mut process = ChildProcess::spawn(&spec).map_err(process_error)?;
    let line = process.wait_line(ready_timeout).map_err(process_error)?;
    let address = line
        .strip_prefix(READY_PREFIX)
        .and_then(|a| a.trim().parse().ok())
        .ok_or_else(|| TransportError::Process(format!("{name} printed `{line}` instead of its address")))?;
    Ok((process, address))
}
