//! PostgreSQL on loopback, for the two-phase-commit family's `engine:postgres-2pc` row: a
//! fresh cluster (`initdb`) in a private scratch directory (`0700`: data, socket and log), then
//! `postgres` on `127.0.0.1` with an ephemeral port, `max_prepared_transactions` set, and fsync
//! on or off to match the row it is compared with.
//!
//! No open doors: every connection, over TCP or the unix socket, authenticates with
//! scram-sha-256. The bootstrap superuser [`ADMIN`] gets a random password that lives only in
//! this process and is used once, to create the role the benchmark connects as ([`USER`]: not a
//! superuser, allowed to create databases) with a second random password ([`Login`]). Another
//! local user can reach neither the socket (its directory is `0700`) nor the TCP port (no
//! password). Ready when it answers a protocol startup message with an authentication request.
//!
//! PostgreSQL refuses to run as root. When the harness runs as root (as CI machines do), the
//! scratch directory is handed to the `postgres` user that Debian's package creates, and both
//! `initdb` and the server run as that user; otherwise they run as the caller. Debian keeps
//! the binaries in `/usr/lib/postgresql/<version>/bin`, off `PATH`: that is searched too.

use super::{READY_TIMEOUT, ServerError, exchange, find_program, server_spec, start_server};
use crate::process::{ChildProcess, ScratchDir, Spec, scratch_dir, start_on_free_ports};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// The role the benchmark connects as: not a superuser, allowed to create databases.
pub const USER: &str = "stratbench";
/// The bootstrap superuser `initdb` creates, used only to create [`USER`].
pub const ADMIN: &str = "stratbench_admin";
/// The system user PostgreSQL runs as when the harness is root.
const SYSTEM_USER: &str = "postgres";
const PACKAGE: &str = "postgresql";
/// Length of the random passwords, in hex digits (128 bits).
const PASSWORD_HEX_DIGITS: usize = 32;

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

/// Where and as whom to connect: the server's address, [`USER`] and this run's password.
#[derive(Clone)]
pub struct Login {
    pub addr: SocketAddr,
    pub user: String,
    password: String,
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Login {{ addr: {}, user: {}, password: <hidden> }}", self.addr, self.user)
    }
}

impl Login {
    /// A connection config for database `db`.
    pub fn config(&self, db: &str) -> tokio_postgres::Config {
        let mut config = tokio_postgres::Config::new();
        config
            .host(self.addr.ip().to_string())
            .port(self.addr.port())
            .user(&self.user)
            .password(&self.password)
            .dbname(db);
        config
    }

    /// The password (for a test that shows it is what lets a client in).
    pub fn password(&self) -> &str {
        &self.password
    }
}

/// A PostgreSQL server started by the harness.
#[derive(Debug)]
pub struct PostgresServer {
    process: ChildProcess,
    /// Declared after the process: removed once it is stopped.
    dir: ScratchDir,
    access: Login,
}

impl PostgresServer {
    /// Creates a cluster and starts the server; waits until it accepts sessions, then creates
    /// the benchmark's role.
    pub fn start(config: PostgresConfig) -> Result<Self, ServerError> {
        let bin = find_bin_dir().ok_or_else(|| {
            ServerError::start(
                "postgres",
                format!(
                    "initdb and postgres not found (on PATH or in /usr/lib/postgresql/*/bin): install the \
                     Debian package `{PACKAGE}` (apt-get install {PACKAGE})"
                ),
            )
        })?;
        let owner = run_as()?;
        let admin_password = random_password();
        let server = start_on_free_ports(1, |ports| {
            let port = ports[0];
            let dir = scratch_dir("postgres")?;
            init_cluster(&bin, dir.path(), owner, &admin_password)?;
            let spec = server_spec("postgres", &bin.join("postgres"), dir.path())
                .args([std::ffi::OsStr::new("-D"), dir.path().join("pgdata").as_os_str()])
                .args(server_settings(config, port, dir.path()))
                .user(owner)
                // Immediate shutdown: the cluster is thrown away, nothing to checkpoint.
                .stop_signal(nix::sys::signal::Signal::SIGQUIT);
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            let process = start_server(&spec, addr, ping)?;
            let access = Login { addr, user: USER.into(), password: random_password() };
            Ok::<_, ServerError>(PostgresServer { process, dir, access })
        })?;
        let admin = Login { addr: server.access.addr, user: ADMIN.into(), password: admin_password };
        create_role(&admin, &server.access)?;
        Ok(server)
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.access.addr
    }

    /// Where and as whom to connect.
    pub fn access(&self) -> &Login {
        &self.access
    }

    /// The server's process.
    pub fn process(&self) -> &ChildProcess {
        &self.process
    }

    /// The scratch directory (data, socket, log).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

/// 128 random bits as hex.
fn random_password() -> String {
    use rand::Rng as _;
    let mut rng = rand::rng();
    (0..PASSWORD_HEX_DIGITS).map(|_| char::from_digit(rng.random_range(0..16), 16).expect("a hex digit")).collect()
}

/// Creates [`USER`] (login, create databases, no superuser) with `user`'s password, as `admin`.
fn create_role(admin: &Login, user: &Login) -> Result<(), ServerError> {
    let fail =
        |detail: String| ServerError::start("postgres", format!("cannot create the role {}: {detail}", user.user));
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| fail(e.to_string()))?;
    runtime.block_on(async {
        let (client, connection) =
            admin.config("postgres").connect(tokio_postgres::NoTls).await.map_err(|e| fail(e.to_string()))?;
        let connection = tokio::spawn(connection);
        // The password is hex: nothing to escape. It is hashed (scram) before it is stored.
        let sql = format!("CREATE ROLE {} LOGIN CREATEDB NOSUPERUSER PASSWORD '{}'", user.user, user.password);
        client.batch_execute(&sql).await.map_err(|e| fail(e.to_string()))?;
        drop(client);
        let _ = connection.await;
        Ok(())
    })
}

/// The `-c` settings of a server on `port` with its socket in `dir`.
fn server_settings(config: PostgresConfig, port: u16, dir: &Path) -> Vec<String> {
    let on_off = |on: bool| if on { "on" } else { "off" };
    let settings = [
        "listen_addresses=127.0.0.1".to_string(),
        format!("port={port}"),
        format!("unix_socket_directories={}", dir.display()),
        "unix_socket_permissions=0700".to_string(),
        "password_encryption=scram-sha-256".to_string(),
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
        _ => Err(ServerError::start(
            "postgres",
            format!(
                "PostgreSQL refuses to run as root and there is no `{SYSTEM_USER}` user to run it as \
                 (the `{PACKAGE}` package creates one)"
            ),
        )),
    }
}

/// Runs `initdb` for a cluster in `dir/pgdata`, owned by `owner` when given, with [`ADMIN`]'s
/// password and scram-sha-256 for every connection. Cancellable: it is a child process like any
/// other.
fn init_cluster(bin: &Path, dir: &Path, owner: Option<(u32, u32)>, password: &str) -> Result<(), ServerError> {
    let start_error = |detail: String| ServerError::start("initdb", detail);
    let password_file = dir.join("admin-password");
    std::fs::write(&password_file, password)
        .map_err(|e| start_error(format!("cannot write {}: {e}", password_file.display())))?;
    if let Some((uid, gid)) = owner {
        for path in [dir, password_file.as_path()] {
            nix::unistd::chown(path, Some(uid.into()), Some(gid.into()))
                .map_err(|e| start_error(format!("cannot give {} to {SYSTEM_USER}: {e}", path.display())))?;
        }
    }
    let spec = Spec::new("initdb", bin.join("initdb"))
        .args([std::ffi::OsStr::new("-D"), dir.join("pgdata").as_os_str()])
        .args(["-U", ADMIN, "--auth=scram-sha-256", "--encoding=UTF8", "--no-sync", "--no-instructions"])
        .args([format!("--pwfile={}", password_file.display())])
        .cwd(dir)
        .log(dir.join("initdb.log"))
        .user(owner);
    let status = ChildProcess::spawn(&spec)?.wait_exit(READY_TIMEOUT);
    let _ = std::fs::remove_file(&password_file);
    match status? {
        status if status.success() => Ok(()),
        status => {
            let log = std::fs::read_to_string(dir.join("initdb.log")).unwrap_or_default();
            Err(start_error(format!("{status}: {}", log.trim())))
        }
    }
}

/// A startup message as user [`USER`] to database `postgres`; a ready server answers `R` (an
/// authentication request), a starting one `E`.
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
