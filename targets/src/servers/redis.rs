//! redis-server on loopback: `--bind 127.0.0.1`, persistence off (`--save '' --appendonly
//! no`) unless [`Persistence::AppendFsyncAlways`] asks for an append-only file fsynced on
//! every write. Run in the foreground as a child process, ready when it answers `PING`.

use super::{ServerError, exchange, find_program, server_spec, start_server};
use crate::process::{ChildProcess, ScratchDir, Spec, scratch_dir, start_on_free_ports};
use std::net::SocketAddr;

const PROGRAM: &str = "redis-server";

/// Whether the server keeps its data on disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Persistence {
    /// Nothing on disk: a restart loses every key.
    #[default]
    Off,
    /// Append-only file with `appendfsync always`.
    AppendFsyncAlways,
}

/// One redis-server started by the harness.
#[derive(Debug)]
pub struct RedisServer {
    process: ChildProcess,
    /// Declared after the process: removed once it is stopped.
    dir: ScratchDir,
    addr: SocketAddr,
    persistence: Persistence,
}

impl RedisServer {
    /// Starts a server on a free port and waits until it answers `PING`.
    pub fn start(persistence: Persistence) -> Result<Self, ServerError> {
        let program = find_program(PROGRAM).ok_or(ServerError::NotInstalled {
            program: PROGRAM.into(),
            package: "redis-server",
            flag: "--redis",
        })?;
        start_on_free_ports(1, |ports| {
            let addr = SocketAddr::from(([127, 0, 0, 1], ports[0]));
            let dir = scratch_dir("redis")?;
            let process = start_server(&spec(&program, ports[0], dir.path(), persistence), addr, ping)?;
            Ok(RedisServer { process, dir, addr, persistence })
        })
    }

    /// The address clients connect to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `redis://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        format!("redis://{}/", self.addr)
    }

    /// The process id.
    pub fn pid(&self) -> Option<u32> {
        self.process.pid()
    }

    /// Kills the server (SIGKILL, as a crash) and leaves it down; [`RedisServer::restart`]
    /// brings it back.
    pub fn kill(&mut self) {
        self.process.kill();
    }

    /// Kills the server (SIGKILL, as a crash; nothing if it is already down) and starts it
    /// again on the same port and data directory; with persistence off it comes back empty.
    pub fn restart(&mut self) -> Result<(), ServerError> {
        self.process.kill();
        let program = find_program(PROGRAM).ok_or(ServerError::NotInstalled {
            program: PROGRAM.into(),
            package: "redis-server",
            flag: "--redis",
        })?;
        let spec = spec(&program, self.addr.port(), self.dir.path(), self.persistence);
        self.process = start_server(&spec, self.addr, ping)?;
        Ok(())
    }

    /// The managed process (to pause it, or to check it is gone).
    pub fn process(&self) -> &ChildProcess {
        &self.process
    }
}

/// Starts `count` independent servers (the masters of Redlock).
pub fn start_many(count: usize, persistence: Persistence) -> Result<Vec<RedisServer>, ServerError> {
    (0..count).map(|_| RedisServer::start(persistence)).collect()
}

fn spec(program: &std::path::Path, port: u16, dir: &std::path::Path, persistence: Persistence) -> Spec {
    let spec = server_spec("redis-server", program, dir)
        .args(["--port", &port.to_string()])
        .args(["--bind", "127.0.0.1", "--save", "", "--daemonize", "no", "--protected-mode", "yes"])
        .args([std::ffi::OsStr::new("--dir"), dir.as_os_str()])
        .args(["--logfile", ""]);
    match persistence {
        Persistence::Off => spec.args(["--appendonly", "no"]),
        Persistence::AppendFsyncAlways => spec.args(["--appendonly", "yes", "--appendfsync", "always"]),
    }
}

/// Redis `PING` → `+PONG`.
pub fn ping(addr: SocketAddr) -> Result<(), String> {
    let reply = exchange(addr, b"*1\r\n$4\r\nPING\r\n", |r| r.ends_with(b"\r\n"))?;
    if reply.starts_with(b"+PONG") {
        Ok(())
    } else {
        Err(format!("answered {:?} to PING", String::from_utf8_lossy(&reply).trim()))
    }
}
