//! PostgreSQL on loopback, for the two-phase-commit family's `engine:postgres-2pc` row: a
//! fresh cluster (`initdb`) in a temporary directory, then `postgres` on `127.0.0.1` with an
//! ephemeral port, `max_prepared_transactions` set, and fsync on or off to match the row it is
//! compared with. Ready when it answers a protocol startup message with `AuthenticationOk`
//! (trust authentication on loopback, user [`USER`]).
//!
//! PostgreSQL refuses to run as root. When the harness runs as root (as CI machines do), the
//! data directory is handed to the `postgres` user that Debian's package creates, and both
//! `initdb` and the server run as that user; otherwise they run as the caller. Debian keeps
//! the binaries in `/usr/lib/postgresql/<version>/bin`, off `PATH`: that is searched too.

use super::{ManagedProcess, ServerError, data_dir, exchange, find_program, start_on_free_port, wait_ready};
use std::net::SocketAddr;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The superuser `initdb` creates, which the harness connects as.
pub const USER: &str = "stratbench";
/// The system user PostgreSQL runs as when the harness is root.
const SYSTEM_USER: &str = "postgres";
const PACKAGE: &str = "postgresql";

/// Durability and capacity of a managed server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PostgresConfig {
    /// fsync and synchronous commit on (durable) or both off.
    pub fsync: bool,
    /// `max_prepared_transactions`: at least the transactions prepared at once.
    pub max_prepared_transactions: u32,
    /// `max_connections`.
    pub max_connections: u32,
}

/// A PostgreSQL server started by the harness.
#[derive(Debug)]
pub struct PostgresServer {
    process: ManagedProcess,
    addr: SocketAddr,
}

impl PostgresServer {
    /// Creates a cluster and starts the server; waits until it accepts sessions.
    pub fn start(config: PostgresConfig) -> Result<Self, ServerError> {
        let bin = find_bin_dir().ok_or_else(|| ServerError::Start {
            name: "postgres".into(),
            detail: format!(
                "initdb and postgres not found (on PATH or in /usr/lib/postgresql/*/bin): install the \
                 Debian package `{PACKAGE}` (apt-get install {PACKAGE})"
            ),
        })?;
        let owner = run_as()?;
        start_on_free_port(|port| {
            let dir = data_dir("postgres")?;
            init_cluster(&bin, dir.path(), owner)?;
            let mut command = Command::new(bin.join("postgres"));
            command.arg("-D").arg(dir.path().join("pgdata")).args(server_settings(config, port, dir.path()));
            if let Some((uid, gid)) = owner {
                command.uid(uid).gid(gid);
            }
            let mut process = ManagedProcess::spawn("postgres", command, dir)?;
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            wait_ready(&mut process, addr, ping)?;
            Ok(PostgresServer { process, addr })
        })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The server's process.
    pub fn process(&self) -> &ManagedProcess {
        &self.process
    }
}

/// The `-c` settings of a server on `port` with its socket in `dir`.
fn server_settings(config: PostgresConfig, port: u16, dir: &Path) -> Vec<String> {
    let on_off = |on: bool| if on { "on" } else { "off" };
    let settings = [
        "listen_addresses=127.0.0.1".to_string(),
        format!("port={port}"),
        format!("unix_socket_directories={}", dir.display()),
        format!("max_prepared_transactions={}", config.max_prepared_transactions),
        format!("max_connections={}", config.max_connections),
        format!("fsync={}", on_off(config.fsync)),
        format!("synchronous_commit={}", on_off(config.fsync)),
        format!("full_page_writes={}", on_off(config.fsync)),
        "shared_buffers=64MB".to_string(),
        "track_wal_io_timing=off".to_string(),
    ];
    settings.into_iter().flat_map(|s| ["-c".to_string(), s]).collect()
}

/// The directory holding `initdb` and `postgres`: on `PATH`, or the newest Debian version.
fn find_bin_dir() -> Option<PathBuf> {
    if let Some(initdb) = find_program("initdb") {
        let dir = initdb.parent()?.to_path_buf();
        if dir.join("postgres").is_file() {
            return Some(dir);
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| Some((entry.file_name().to_str()?.parse().ok()?, entry.path().join("bin"))))
        .filter(|(_, bin): &(u32, PathBuf)| bin.join("initdb").is_file() && bin.join("postgres").is_file())
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

/// The uid and gid to run PostgreSQL as: `None` (the caller) unless the caller is root.
fn run_as() -> Result<Option<(u32, u32)>, ServerError> {
    if !nix::unistd::geteuid().is_root() {
        return Ok(None);
    }
    match nix::unistd::User::from_name(SYSTEM_USER) {
        Ok(Some(user)) => Ok(Some((user.uid.as_raw(), user.gid.as_raw()))),
        _ => Err(ServerError::Start {
            name: "postgres".into(),
            detail: format!(
                "PostgreSQL refuses to run as root and there is no `{SYSTEM_USER}` user to run it as \
                 (the `{PACKAGE}` package creates one)"
            ),
        }),
    }
}

/// Runs `initdb` for a cluster in `dir/pgdata`, owned by `owner` when given.
fn init_cluster(bin: &Path, dir: &Path, owner: Option<(u32, u32)>) -> Result<(), ServerError> {
    let start_error = |detail: String| ServerError::Start { name: "initdb".into(), detail };
    let mut command = Command::new(bin.join("initdb"));
    command
        .arg("-D")
        .arg(dir.join("pgdata"))
        .args(["-U", USER, "--auth=trust", "--encoding=UTF8", "--no-sync", "--no-instructions"])
        .current_dir(dir);
    if let Some((uid, gid)) = owner {
        let chown = |path: &Path| {
            nix::unistd::chown(path, Some(uid.into()), Some(gid.into()))
                .map_err(|e| start_error(format!("cannot give {} to {SYSTEM_USER}: {e}", path.display())))
        };
        chown(dir)?;
        command.uid(uid).gid(gid);
    }
    let output = command.output().map_err(|e| start_error(e.to_string()))?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    Err(start_error(format!("{}: {}", output.status, stderr.trim())))
}

/// A startup message as user [`USER`] to database `postgres`; a ready server answers `R`
/// (authentication; trust means `AuthenticationOk`), a starting one `E`.
pub fn ping(addr: SocketAddr) -> Result<(), String> {
    let mut body = Vec::new();
    body.extend_from_slice(&196_608u32.to_be_bytes()); // protocol 3.0
    for (key, value) in [("user", USER), ("database", "postgres")] {
        body.extend_from_slice(key.as_bytes());
        body.push(0);
        body.extend_from_slice(value.as_bytes());
        body.push(0);
    }
    body.push(0);
    let mut message = ((body.len() + 4) as u32).to_be_bytes().to_vec();
    message.extend_from_slice(&body);
    let reply = exchange(addr, &message, |reply| !reply.is_empty())?;
    match reply.first() {
        Some(b'R') => Ok(()),
        Some(b'E') => Err(format!("answered: {}", String::from_utf8_lossy(&reply[1..]).replace('\0', " ").trim())),
        _ => Err("no answer to a startup message".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_follow_the_durability_asked_for() {
        let config = PostgresConfig { fsync: false, max_prepared_transactions: 100, max_connections: 50 };
        let settings = server_settings(config, 5433, Path::new("/tmp/x")).join(" ");
        assert!(settings.contains("-c fsync=off") && settings.contains("synchronous_commit=off"), "{settings}");
        assert!(settings.contains("max_prepared_transactions=100") && settings.contains("port=5433"));
        assert!(settings.contains("listen_addresses=127.0.0.1"));
    }
}
