//! A standalone ZooKeeper from the Debian package, run as `java -cp ...
//! org.apache.zookeeper.server.ZooKeeperServerMain CONFIG`. The config binds the client port
//! to 127.0.0.1 (`clientPortAddress`) and turns the admin server off (otherwise it listens on
//! 0.0.0.0:8080). Readiness is the four-letter `srvr` answering with the server's `Mode:`:
//! `ruok` answers `imok` as soon as the port is open, a little before the server takes
//! sessions.

use super::{ServerError, exchange, find_program, server_spec, start_server};
use crate::process::{ChildProcess, ScratchDir, scratch_dir, start_on_free_ports};
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

/// The jar of the Debian package `zookeeper`.
const JAR: &str = "/usr/share/java/zookeeper.jar";
const CONF_DIR: &str = "/etc/zookeeper/conf";
/// Sends the server's log to its log file (without it, logging goes nowhere).
const SLF4J_SIMPLE: &str = "/usr/share/java/slf4j-simple.jar";
/// ZooKeeper's clock: sessions time out between 2 and 20 ticks.
pub const TICK: Duration = Duration::from_millis(500);

/// One standalone ZooKeeper started by the harness.
#[derive(Debug)]
pub struct ZooKeeperServer {
    process: ChildProcess,
    /// Declared after the process: removed once it is stopped.
    _dir: ScratchDir,
    addr: SocketAddr,
}

impl ZooKeeperServer {
    /// Starts a server on a free port and waits until it answers `ruok`.
    pub fn start() -> Result<Self, ServerError> {
        let missing = |program: &str| ServerError::NotInstalled {
            program: program.into(),
            package: "zookeeper",
            flag: "--zookeeper",
        };
        let java = find_program("java").ok_or_else(|| missing("java (needed by zookeeper)"))?;
        if !Path::new(JAR).is_file() {
            return Err(missing(JAR));
        }
        start_on_free_ports(1, |ports| {
            let port = ports[0];
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            let dir = scratch_dir("zookeeper")?;
            let config = dir.path().join("zoo.cfg");
            std::fs::write(&config, config_text(dir.path(), port))
                .map_err(|e| ServerError::start("zookeeper", format!("cannot write {}: {e}", config.display())))?;
            let mut class_path = format!("{CONF_DIR}:{JAR}");
            if Path::new(SLF4J_SIMPLE).is_file() {
                class_path.push(':');
                class_path.push_str(SLF4J_SIMPLE);
            }
            let spec = server_spec("zookeeper", &java, dir.path())
                .args(["-Xmx512m", "-XX:+UseSerialGC", "-cp", &class_path])
                .args(["org.apache.zookeeper.server.ZooKeeperServerMain"])
                .args([&config]);
            let process = start_server(&spec, addr, ping)?;
            Ok(ZooKeeperServer { process, _dir: dir, addr })
        })
    }

    /// The address clients connect to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The managed process.
    pub fn process(&self) -> &ChildProcess {
        &self.process
    }
}

fn config_text(dir: &Path, port: u16) -> String {
    format!(
        "tickTime={}\ndataDir={}\nclientPort={port}\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n\
         4lw.commands.whitelist=ruok,srvr,stat,mntr\nmaxClientCnxns=0\nminSessionTimeout={}\n",
        TICK.as_millis(),
        dir.display(),
        (TICK * 2).as_millis(),
    )
}

/// ZooKeeper's four-letter `srvr`, answered with `Mode: standalone` (or `leader`,
/// `follower`) once the server serves requests.
pub fn ping(addr: SocketAddr) -> Result<(), String> {
    let reply = exchange(addr, b"srvr", |_| false)?;
    let text = String::from_utf8_lossy(&reply);
    if text.contains("Mode: ") { Ok(()) } else { Err(format!("answered {:?} to srvr", text.trim())) }
}
