//! etcd on loopback: one member, or a cluster of three, with client and peer URLs on
//! 127.0.0.1. Ready when every member answers `GET /health` with `"health":"true"`.

use super::{ManagedProcess, ServerError, data_dir, exchange, find_program, free_port, wait_ready};
use std::net::SocketAddr;
use std::process::Command;

const PROGRAM: &str = "etcd";
/// Cluster sizes this module starts.
pub const MEMBER_COUNTS: [usize; 2] = [1, 3];
/// Attempts with fresh ports when a member did not come up (a port taken in between).
const ATTEMPTS: u32 = 3;

/// The members of one etcd cluster started by the harness.
#[derive(Debug)]
pub struct EtcdCluster {
    members: Vec<(ManagedProcess, SocketAddr)>,
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
        let mut last = None;
        for _ in 0..ATTEMPTS {
            match start_members(&program, members, extra) {
                Ok(cluster) => return Ok(cluster),
                Err(error @ ServerError::NotReady { .. }) => last = Some(error),
                Err(error) => return Err(error),
            }
        }
        Err(last.expect("at least one attempt"))
    }

    /// The client URLs, `http://127.0.0.1:PORT`.
    pub fn urls(&self) -> Vec<String> {
        self.members.iter().map(|(_, addr)| format!("http://{addr}")).collect()
    }

    /// The members' processes.
    pub fn processes(&self) -> impl Iterator<Item = &ManagedProcess> {
        self.members.iter().map(|(process, _)| process)
    }
}

fn start_members(program: &std::path::Path, count: usize, extra: &[&str]) -> Result<EtcdCluster, ServerError> {
    let ports: Vec<(u16, u16)> = (0..count).map(|_| Ok((free_port()?, free_port()?))).collect::<Result<_, _>>()?;
    let initial_cluster: Vec<String> =
        ports.iter().enumerate().map(|(i, (_, peer))| format!("m{i}=http://127.0.0.1:{peer}")).collect();
    let initial_cluster = initial_cluster.join(",");
    let mut members = Vec::with_capacity(count);
    for (i, (client, peer)) in ports.iter().enumerate() {
        let dir = data_dir("etcd")?;
        let mut command = Command::new(program);
        let client_url = format!("http://127.0.0.1:{client}");
        let peer_url = format!("http://127.0.0.1:{peer}");
        command
            .arg("--name")
            .arg(format!("m{i}"))
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .args(["--listen-client-urls", &client_url, "--advertise-client-urls", &client_url])
            .args(["--listen-peer-urls", &peer_url, "--initial-advertise-peer-urls", &peer_url])
            .args(["--initial-cluster", &initial_cluster, "--initial-cluster-state", "new"])
            .args(["--initial-cluster-token", "stratbench", "--logger=zap", "--log-level", "warn"])
            .args(extra);
        let process = ManagedProcess::spawn(&format!("etcd-m{i}"), command, dir)?;
        members.push((process, SocketAddr::from(([127, 0, 0, 1], *client))));
    }
    // Members of a new cluster only report healthy once they have a leader, which needs a
    // quorum: start them all before waiting on any.
    for (process, addr) in &mut members {
        wait_ready(process, *addr, ping)?;
    }
    Ok(EtcdCluster { members })
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
