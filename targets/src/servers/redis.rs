//! redis-server on loopback: `--bind 127.0.0.1`, persistence off (`--save '' --appendonly
//! no`) unless [`Persistence::AppendFsyncAlways`] asks for an append-only file fsynced on
//! every write. Run in the foreground as a child process, ready when it answers `PING`.

use super::{ManagedProcess, ServerError, data_dir, exchange, find_program, start_on_free_port, wait_ready};
use std::net::SocketAddr;
use std::process::Command;

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
    process: ManagedProcess,
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
        start_on_free_port(|port| {
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            let dir = data_dir("redis")?;
            let command = command(&program, port, dir.path(), persistence);
            let mut process = ManagedProcess::spawn("redis-server", command, dir)?;
            wait_ready(&mut process, addr, ping)?;
            Ok(RedisServer { process, addr, persistence })
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
        let command = command(&program, self.addr.port(), self.process.dir(), self.persistence);
        self.process.respawn(command)?;
        wait_ready(&mut self.process, self.addr, ping)
    }

    /// The managed process (to pause it, or to check it is gone).
    pub fn process(&self) -> &ManagedProcess {
        &self.process
    }
}

/// Starts `count` independent servers (the masters of Redlock).
pub fn start_many(count: usize, persistence: Persistence) -> Result<Vec<RedisServer>, ServerError> {
    (0..count).map(|_| RedisServer::start(persistence)).collect()
}

fn command(program: &std::path::Path, port: u16, dir: &std::path::Path, persistence: Persistence) -> Command {
    let mut command = Command::new(program);
    command
        .arg("--port")
        .arg(port.to_string())
        .args(["--bind", "127.0.0.1", "--save", "", "--daemonize", "no", "--protected-mode", "yes"])
        .arg("--dir")
        .arg(dir)
        .args(["--logfile", ""]);
    match persistence {
        Persistence::Off => command.args(["--appendonly", "no"]),
        Persistence::AppendFsyncAlways => command.args(["--appendonly", "yes", "--appendfsync", "always"]),
    };
    command
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
