//! The networked replicas: each a `stratbench serve replica` process on loopback, talking TCP;
//! the driver's workers are TCP clients of whichever replica they believe leads.
//!
//! [`serve`] is what such a process runs; [`NetReplicas`] is the harness's side, on the shared
//! process backend ([`Processes`]): it starts the replicas, kills them (SIGKILL) for `kill-leader` and
//! `kill-follower`, starts them again on the same port from the same data directory, sends
//! faults to every process (each applies them to what it sends), and after the run stops them
//! cleanly and reads their log files. Dropping it kills every process. A process's counters
//! start again from zero when it restarts: the harness keeps what each replica last reported
//! before it was killed (the leader is polled just before `kill-leader`) and adds it to the
//! end-of-run figures, so elections, messages and syncs of a killed life still count.

use super::cluster::{ReplicaRole, replica_config};
use super::params::{ConsensusParams, LogChoice};
use super::replica::ReplicaConfig;
use super::system::{ConsensusBackend, Finished, settle};
use super::{Consensus, CounterValues, Msg, PaxosMode, ReplicaStats};
use crate::process::ChildProcess;
use crate::protocol::ProtocolError;
use crate::protocol::net::{self, NetFamily, Processes};
use crate::sync::Recover as _;
use crate::transport::faults::FaultConfig;
use crate::transport::group::{self, Launch, NodeOptions};
use crate::transport::runtime::Stopped;
use crate::transport::tcp::{Frame, TcpEndpoint};
use crate::transport::{PeerId, TransportError};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use workloads::units::HumanDuration;

/// Runs replica `config` over TCP in this process until it stops.
pub fn serve(
    config: ReplicaConfig,
    node: &NodeOptions,
    ready: impl FnOnce(SocketAddr),
) -> Result<Stopped, ProtocolError> {
    Ok(group::serve(&ReplicaRole(config), node, ready)?)
}

/// How the harness starts replica processes.
#[derive(Clone, Debug)]
pub struct NetConfig {
    /// The `stratbench` binary.
    pub exe: PathBuf,
    /// Data directories go under it, one per replica.
    pub dir: PathBuf,
    pub mode: PaxosMode,
    pub seed: u64,
}

/// The harness's view of the replica processes.
pub type NetReplicas = Processes<Consensus>;

/// What the harness keeps of the replica processes beside the group: their counters before
/// each kill.
#[derive(Debug, Default)]
pub struct Lives {
    /// Each replica's counters as last polled in its current life.
    last_polled: Mutex<BTreeMap<PeerId, CounterValues>>,
    /// What killed lives reported last, summed per replica.
    killed: Mutex<BTreeMap<PeerId, CounterValues>>,
}

/// The name of a mode on `serve replica`'s command line.
pub fn mode_name(mode: PaxosMode) -> &'static str {
    match mode {
        PaxosMode::MultiPaxos => "multi-paxos",
        PaxosMode::Paxos => "paxos",
    }
}

impl Processes<Consensus> {
    /// Starts every replica and waits until each answers.
    pub fn start(params: ConsensusParams, config: NetConfig) -> Result<Self, ProtocolError> {
        if params.log == LogChoice::Memory {
            return Err(ProtocolError::invalid(
                "log",
                "replica processes need a log that survives a kill: use \"file\" or \"fsync\"",
            ));
        }
        let ids: Vec<PeerId> = (0..params.replicas).collect();
        let launch_config = config.clone();
        let launch: Arc<Launch> =
            Arc::new(move |id, listen, peers| spawn_replica(&params, &launch_config, id, listen, peers));
        Processes::launch(params, &ids, &config.dir, config.seed, launch)
    }

    async fn poll_now(&self, timeout: Duration) -> BTreeMap<PeerId, ReplicaStats> {
        let stats = self.poll(timeout).await;
        let mut last = self.state().last_polled.locked();
        last.extend(stats.iter().map(|(id, s)| (*id, s.counters)));
        stats
    }

    /// Keeps what replica `id`, about to be killed, last reported. Its applied counts are left
    /// out: a restarted replica applies its log again and counts those itself.
    fn keep_killed_life(&self, id: PeerId) {
        let Some(mut life) = self.state().last_polled.locked().remove(&id) else { return };
        life.slots_applied = 0;
        life.commands_applied = 0;
        self.state().killed.locked().entry(id).or_default().merge(&life);
    }
}

fn data_dir(config: &NetConfig, id: PeerId) -> PathBuf {
    net::data_dir(&config.dir, Consensus::DATA_DIR, id)
}

/// The command line of replica `id`.
fn serve_args(
    params: &ConsensusParams,
    config: &NetConfig,
    id: PeerId,
    listen: SocketAddr,
    peers: &[(PeerId, SocketAddr)],
) -> Vec<String> {
    let replica = replica_config(params, config.mode, id, config.seed);
    let mut args: Vec<String> = [
        "serve",
        "replica",
        "--id",
        &id.to_string(),
        "--listen",
        &listen.to_string(),
        "--data-dir",
        &data_dir(config, id).display().to_string(),
        "--seed",
        &config.seed.to_string(),
        "--exit-on-stdin-close",
        "--replicas",
        &replica.replicas.to_string(),
        "--protocol",
        mode_name(replica.mode),
        "--heartbeat",
        &HumanDuration(replica.heartbeat_every).to_string(),
        "--election-timeout",
        &HumanDuration(replica.election_timeout).to_string(),
        "--max-batch",
        &replica.max_batch.to_string(),
        "--window",
        &replica.window.to_string(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    if replica.lease_reads {
        args.push("--lease-reads".into());
    }
    if params.log == LogChoice::Fsync {
        args.push("--fsync".into());
    }
    for (peer, address) in peers.iter().filter(|(peer, _)| *peer != id) {
        args.extend(["--peer".into(), format!("{peer}={address}")]);
    }
    args
}

fn spawn_replica(
    params: &ConsensusParams,
    config: &NetConfig,
    id: PeerId,
    listen: SocketAddr,
    peers: &[(PeerId, SocketAddr)],
) -> Result<(ChildProcess, SocketAddr), TransportError> {
    let args = serve_args(params, config, id, listen, peers);
    net::spawn_in(&data_dir(config, id), &format!("replica {id}"), &config.exe, &args)
}

impl NetFamily for Consensus {
    const DATA_DIR: &'static str = "replica";
    type State = Lives;

    fn finish(processes: &NetReplicas) -> Result<Finished, ProtocolError> {
        let group = processes.group();
        let (settled, last) = group.handle().block_on(async {
            group.send_to_all(Frame::SetFaults(FaultConfig::default())).await;
            let poll = || processes.poll_now(Duration::from_millis(500));
            settle(processes.params().replicas, poll, || group.restart_all()).await
        });
        group.stop_all();
        let mut stats: BTreeMap<PeerId, CounterValues> = last.into_iter().map(|(id, s)| (id, s.counters)).collect();
        let killed_lives = processes.state().killed.locked();
        for (id, life) in killed_lives.iter() {
            stats.entry(*id).or_default().merge(life);
        }
        let note = "net: a killed replica's counts cover its lives up to the last poll before each kill";
        let notes = if killed_lives.is_empty() { Vec::new() } else { vec![note.to_string()] };
        Ok(Finished { logs: processes.read_logs()?, stats, settled, notes })
    }
}

impl ConsensusBackend for NetReplicas {
    fn client(&self, worker: u32) -> TcpEndpoint<Msg> {
        Processes::client(self, worker, self.group().addresses().iter().copied())
    }

    async fn poll(&self, timeout: Duration) -> BTreeMap<PeerId, ReplicaStats> {
        self.poll_now(timeout).await
    }

    fn kill(&self, id: PeerId, restart_after: Option<Duration>) -> Result<(), ProtocolError> {
        self.keep_killed_life(id);
        Ok(self.group().kill(id, restart_after)?)
    }

    fn restart(&self, id: Option<PeerId>) -> Result<(), ProtocolError> {
        Processes::restart(self, id)
    }
}
