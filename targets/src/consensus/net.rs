//! The networked replicas: each a `stratbench serve replica` process on loopback, talking TCP;
//! the driver's workers are TCP clients of whichever replica they believe leads.
//!
//! [`serve`] is what such a process runs; [`NetReplicas`] is the harness's side, on the shared
//! [`ProcessGroup`]: it starts the replicas, kills them (SIGKILL) for `kill-leader` and
//! `kill-follower`, starts them again on the same port from the same data directory, sends
//! faults to every process (each applies them to what it sends), and after the run stops them
//! cleanly and reads their log files. Dropping it kills every process. A process's counters
//! start again from zero when it restarts: the harness keeps what each replica last reported
//! before it was killed (the leader is polled just before `kill-leader`) and adds it to the
//! end-of-run figures, so elections, messages and syncs of a killed life still count.

use super::cluster::{ReplicaRole, replica_config};
use super::params::{ConsensusParams, LogChoice};
use super::replica::ReplicaConfig;
use super::system::{Backend, Finished, settle};
use super::{ConsensusError, CounterValues, Mode, Msg, ReplicaStats};
use crate::transport::cluster::ask_all;
use crate::transport::faults::FaultConfig;
use crate::transport::group::{self, Launch, NodeOptions, ProcessGroup, START_TIMEOUT, log_path};

use crate::process::ChildProcess;
use crate::transport::log::FileLog;
use crate::transport::process::spawn_node;
use crate::transport::runtime::Stopped;
use crate::transport::tcp::{Frame, TcpEndpoint};
use crate::transport::{CLIENT_BASE, NodeId, NodeRecords, TransportError};
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
) -> Result<Stopped, ConsensusError> {
    Ok(group::serve(&ReplicaRole(config), node, ready)?)
}

/// How the harness starts replica processes.
#[derive(Clone, Debug)]
pub struct NetConfig {
    /// The `stratbench` binary.
    pub exe: PathBuf,
    /// Data directories go under it, one per replica.
    pub dir: PathBuf,
    pub mode: Mode,
    pub seed: u64,
}

/// The harness's view of the replica processes.
pub struct NetReplicas {
    params: ConsensusParams,
    config: NetConfig,
    group: ProcessGroup<Msg>,
    /// Each replica's counters as last polled in its current life.
    last_polled: Mutex<BTreeMap<NodeId, CounterValues>>,
    /// What killed lives reported last, summed per replica.
    killed_lives: Mutex<BTreeMap<NodeId, CounterValues>>,
}

/// The name of a mode on `serve replica`'s command line.
pub fn mode_name(mode: Mode) -> &'static str {
    match mode {
        Mode::MultiPaxos => "multi-paxos",
        Mode::Paxos => "paxos",
    }
}

impl NetReplicas {
    /// Starts every replica and waits until each answers.
    pub fn start(params: ConsensusParams, config: NetConfig) -> Result<Self, ConsensusError> {
        if params.log == LogChoice::Memory {
            return Err(ConsensusError::InvalidParam {
                param: "log".into(),
                message: "replica processes need a log that survives a kill: use \"file\" or \"fsync\"".into(),
            });
        }
        let ids: Vec<NodeId> = (0..params.replicas).collect();
        let launch_config = config.clone();
        let launch: Arc<Launch> =
            Arc::new(move |id, listen, peers| spawn_replica(&params, &launch_config, id, listen, peers));
        let group = ProcessGroup::start(&ids, launch, config.seed)?;
        Ok(NetReplicas { params, config, group, last_polled: Mutex::default(), killed_lives: Mutex::default() })
    }

    fn data_dir(&self, id: NodeId) -> PathBuf {
        data_dir(&self.config, id)
    }

    fn read_logs(&self) -> Result<NodeRecords, ConsensusError> {
        let mut records = Vec::new();
        for id in self.group.ids() {
            let path = log_path(&self.data_dir(id));
            records.push((id, if path.exists() { FileLog::read(&path)? } else { Vec::new() }));
        }
        Ok(records)
    }

    async fn poll_now(&self, timeout: Duration) -> BTreeMap<NodeId, ReplicaStats> {
        let ids = self.group.ids();
        let stats = self
            .group
            .with_control(move |control| async move { poll(&mut *control.lock().await, &ids, timeout).await })
            .await;
        let mut last = self.last_polled.lock().expect("not poisoned");
        last.extend(stats.iter().map(|(id, s)| (*id, s.counters)));
        stats
    }

    /// Keeps what replica `id`, about to be killed, last reported. Its applied counts are left
    /// out: a restarted replica applies its log again and counts those itself.
    fn keep_killed_life(&self, id: NodeId) {
        let Some(mut life) = self.last_polled.lock().expect("not poisoned").remove(&id) else { return };
        life.slots_applied = 0;
        life.commands_applied = 0;
        self.killed_lives.lock().expect("not poisoned").entry(id).or_default().merge(&life);
    }
}

async fn poll(control: &mut TcpEndpoint<Msg>, ids: &[NodeId], timeout: Duration) -> BTreeMap<NodeId, ReplicaStats> {
    let stats = |msg| if let Msg::Stats(s) = msg { Some(s) } else { None };
    ask_all(control, ids, Msg::StatsRequest, stats, timeout).await
}

fn data_dir(config: &NetConfig, id: NodeId) -> PathBuf {
    config.dir.join(format!("replica-{id}"))
}

/// The command line of replica `id`.
fn serve_args(
    params: &ConsensusParams,
    config: &NetConfig,
    id: NodeId,
    listen: SocketAddr,
    peers: &[(NodeId, SocketAddr)],
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
    id: NodeId,
    listen: SocketAddr,
    peers: &[(NodeId, SocketAddr)],
) -> Result<(ChildProcess, SocketAddr), TransportError> {
    let dir = data_dir(config, id);
    std::fs::create_dir_all(&dir).map_err(|e| TransportError::io(format!("cannot create {}", dir.display()), e))?;
    let args = serve_args(params, config, id, listen, peers);
    spawn_node(&format!("replica {id}"), &config.exe, &args, &dir.join("stderr.log"), START_TIMEOUT)
}

impl Backend for NetReplicas {
    type Endpoint = TcpEndpoint<Msg>;

    fn params(&self) -> &ConsensusParams {
        &self.params
    }

    fn client(&self, worker: u32) -> TcpEndpoint<Msg> {
        TcpEndpoint::client(CLIENT_BASE + worker, self.group.addresses().iter().copied(), self.config.seed)
    }

    async fn poll(&self, timeout: Duration) -> BTreeMap<NodeId, ReplicaStats> {
        self.poll_now(timeout).await
    }

    fn kill(&self, id: NodeId, restart_after: Option<Duration>) -> Result<(), ConsensusError> {
        self.keep_killed_life(id);
        Ok(self.group.kill(id, restart_after)?)
    }

    fn restart(&self, id: Option<NodeId>) -> Result<(), ConsensusError> {
        match id {
            Some(id) => Ok(self.group.restart(id)?),
            None => {
                self.group.restart_all();
                Ok(())
            }
        }
    }

    async fn set_faults(&self, faults: FaultConfig) -> Result<(), ConsensusError> {
        self.group.send_to_all(Frame::SetFaults(faults)).await;
        Ok(())
    }

    fn finish(&self) -> Result<Finished, ConsensusError> {
        let settled = self.group.handle().block_on(async {
            self.group.send_to_all(Frame::SetFaults(FaultConfig::default())).await;
            settle(self.params.replicas, || self.poll_now(Duration::from_millis(500)), || self.group.restart_all())
                .await
        });
        let (settled, stats) = settled;
        self.group.stop_all();
        let mut counters: BTreeMap<NodeId, CounterValues> = stats.into_iter().map(|(id, s)| (id, s.counters)).collect();
        let killed_lives = self.killed_lives.lock().expect("not poisoned");
        for (id, life) in killed_lives.iter() {
            counters.entry(*id).or_default().merge(life);
        }
        let note = "net: a killed replica's counts cover its lives up to the last poll before each kill";
        let notes = if killed_lives.is_empty() { Vec::new() } else { vec![note.to_string()] };
        Ok(Finished { records: self.read_logs()?, counters, settled, notes })
    }
}
