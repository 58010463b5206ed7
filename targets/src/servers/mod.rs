//! Real servers on loopback, started and stopped by the harness: redis-server, ZooKeeper and
//! etcd, shared by every family that needs one (locks now; sharding over N Redis servers and
//! an etcd cluster later).
//!
//! Every server runs as a [`crate::process::ChildProcess`] (its own process group, stopped on
//! drop, registered for Ctrl-C, under a supervisor that stops it if the harness dies) with a
//! private scratch directory ([`crate::process::scratch_dir`], `0700`) for its data and its log
//! (`0600`). Ports come from [`crate::process::start_on_free_ports`], which retries on the rare
//! collision. Readiness is checked from Rust with the server's own protocol (Redis `PING`,
//! ZooKeeper `srvr`, etcd `GET /health`, a PostgreSQL startup message), bounded in time. A
//! missing binary is an error that names the Debian package to install.
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

use crate::process::{ChildProcess, ProcessError, Spec};
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use crate::process::READY_TIMEOUT;
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
    /// The process could not be started, or did not become ready.
    #[error(transparent)]
    Process(#[from] ProcessError),
    /// A given address does not answer.
    #[error("{kind} at {addr} does not answer: {detail}")]
    Unreachable { kind: &'static str, addr: String, detail: String },
}

impl ServerError {
    /// A start failure of `name`.
    pub fn start(name: &str, detail: impl std::fmt::Display) -> Self {
        ServerError::Process(ProcessError::Start { name: name.into(), detail: detail.to_string() })
    }
}

/// Starts `spec` and waits until `ping(addr)` answers.
pub fn start_server(
    spec: &Spec,
    addr: SocketAddr,
    ping: fn(SocketAddr) -> Result<(), String>,
) -> Result<ChildProcess, ServerError> {
    let mut process = ChildProcess::spawn(spec)?;
    process.wait_ready(READY_TIMEOUT, || ping(addr)).map_err(|e| annotate(e, addr))?;
    Ok(process)
}

/// The spec of server `name` running `program` in `dir`, logging to `dir/<name>.log`.
pub fn server_spec(name: &str, program: &Path, dir: &Path) -> Spec {
    Spec::new(name, program).cwd(dir).log(dir.join(format!("{name}.log"))).owns_dir(dir)
}

fn annotate(error: ProcessError, addr: SocketAddr) -> ServerError {
    match error {
        ProcessError::NotReady { name, waited, detail, log } => {
            ServerError::Process(ProcessError::NotReady { name: format!("{name} on {addr}"), waited, detail, log })
        }
        other => other.into(),
    }
}

/// The full path of `program` found on `PATH`, if any.
pub fn find_program(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(program)).find(|candidate| candidate.is_file())
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
}
