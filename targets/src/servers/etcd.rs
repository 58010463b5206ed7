//! etcd on loopback: one member, or a cluster of three, with client and peer URLs on
//! 127.0.0.1. Ready when every member answers `GET /health` with `"health":"true"`.

use super::{READY_TIMEOUT, ServerError, exchange, find_program, server_spec};
use crate::process::{ChildProcess, ScratchDir, scratch_dir, start_on_free_ports};
use std::net::SocketAddr;

const PROGRAM: &str = "etcd";
/// Cluster sizes this module starts.
pub const MEMBER_COUNTS: [usize; 2] = [1, 3];

/// The members of one etcd cluster started by the harness.
#[derive(Debug)]
pub struct EtcdCluster {
    members: Vec<(ChildProcess, SocketAddr)>,
    /// Declared after the processes: removed once they are stopped.
    _dirs: Vec<ScratchDir>,
}

impl EtcdCluster {
    /// Starts `members` (1 or 3) members and waits until each is healthy.
    pub fn start(members: usize) -> Result<Self, ServerError> {
        Self::start_with(members, &[])
    }

    /// [`EtcdCluster::start`], with `extra` arguments for every member (`--unsafe-no-fsync`).
    pub fn start_with(members: usize, extra: &[&str]) -> Result<Self, ServerError> {
        assert!(MEMBER_COUNTS.contains(&members), "etcd clusters of 1 or 3 members");
        let program = find_program(PROGRAM).ok_or(ServerError::NotInstalled {
            program: PROGRAM.into(),
            package: "etcd-server",
            flag: "--etcd",
        })?;
        start_on_free_ports(2 * members, |ports| start_members(&program, ports, extra))
    }

    /// The client URLs, `http://127.0.0.1:PORT`.
    pub fn urls(&self) -> Vec<String> {
        self.members.iter().map(|(_, addr)| format!("http://{addr}")).collect()
    }

    /// The members' processes.
    pub fn processes(&self) -> impl Iterator<Item = &ChildProcess> {
        self.members.iter().map(|(process, _)| process)
    }
}

/// Starts one member per pair of `ports` (client, peer).
fn start_members(program: &std::path::Path, ports: &[u16], extra: &[&str]) -> Result<EtcdCluster, ServerError> {
    let ports: Vec<(u16, u16)> = ports.chunks(2).map(|pair| (pair[0], pair[1])).collect();
    let count = ports.len();
    let initial_cluster: Vec<String> =
        ports.iter().enumerate().map(|(i, (_, peer))| format!("m{i}=http://127.0.0.1:{peer}")).collect();
    let initial_cluster = initial_cluster.join(",");
    let mut members = Vec::with_capacity(count);
    let mut dirs = Vec::with_capacity(count);
    for (i, (client, peer)) in ports.iter().enumerate() {
        let dir = scratch_dir("etcd")?;
        let client_url = format!("http://127.0.0.1:{client}");
        let peer_url = format!("http://127.0.0.1:{peer}");
        let spec = server_spec(&format!("etcd-m{i}"), program, dir.path())
            .args(["--name".to_string(), format!("m{i}")])
            .args([std::ffi::OsStr::new("--data-dir"), dir.path().join("data").as_os_str()])
            .args(["--listen-client-urls", &client_url, "--advertise-client-urls", &client_url])
            .args(["--listen-peer-urls", &peer_url, "--initial-advertise-peer-urls", &peer_url])
            .args(["--initial-cluster", &initial_cluster, "--initial-cluster-state", "new"])
            .args(["--initial-cluster-token", "stratbench", "--logger=zap", "--log-level", "warn"])
            .args(extra);
        let process = ChildProcess::spawn(&spec)?;
        members.push((process, SocketAddr::from(([127, 0, 0, 1], *client))));
        dirs.push(dir);
    }
    // Members of a new cluster only report healthy once they have a leader, which needs a
    // quorum: start them all before waiting on any.
    for (process, addr) in &mut members {
        let addr = *addr;
        process.wait_ready(READY_TIMEOUT, || ping(addr))?;
    }
    Ok(EtcdCluster { members, _dirs: dirs })
}

/// `GET /health` → `{"health":"true"}`.
pub fn ping(addr: SocketAddr) -> Result<(), String> {
    let request = format!("GET /health HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    let reply = exchange(addr, request.as_bytes(), |_| false)?;
    let text = String::from_utf8_lossy(&reply);
    if text.contains("\"health\":\"true\"") {
        Ok(())
    } else {
        Err(format!("answered {:?} to GET /health", text.lines().last().unwrap_or("")))
    }
}
