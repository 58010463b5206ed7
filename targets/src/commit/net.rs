//! The networked version: every coordinator and participant is its own `stratbench serve`
//! process on loopback, talking TCP; the driver's workers are TCP clients of the
//! coordinators.
//!
//! [`serve`] is what such a process runs: it opens its log in its data directory, listens,
//! prints where, and runs its node until it crashes (an injected crash point: exit code
//! [`CRASH_EXIT_CODE`]), is told to stop (exit 0), or its parent goes away (its stdin
//! closes), so that no node outlives the harness.
//!
//! [`NetCluster`] is the harness's side, on the shared
//! [`ProcessGroup`](crate::transport::group::ProcessGroup): it starts the participants, then
//! the coordinators, and the group restarts a crashed one on the same port from the same data
//! directory after its restart delay. Faults are sent to every process (each applies them to
//! what it sends). Dropping the cluster kills every process. Counters in the statistics cover
//! each process since its last start.

use super::check::Logs;
use super::cluster::{Role, SETTLE_TIMEOUT, logs_of, poll_stats};
use super::coordinator::CoordinatorConfig;
use super::params::CommitParams;
use super::participant::ParticipantConfig;
use super::system::{Backend, Finished};
use super::{CommitError, CrashPoint, Msg};
use crate::process::ChildProcess;
use crate::transport::cluster::Role as _;
use crate::transport::group::{self, Launch, NodeOptions, ProcessGroup, START_TIMEOUT, log_path};
use crate::transport::log::FileLog;
use crate::transport::runtime::Stopped;
use crate::transport::tcp::{Frame, TcpEndpoint};
use crate::transport::{Endpoint, NodeId};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use workloads::units::HumanDuration;

pub use crate::transport::process::CRASH_EXIT_CODE;

/// The roles a commit node process can serve.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServeRole {
    Participant,
    Coordinator,
}

impl ServeRole {
    /// The role's name on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            ServeRole::Participant => "participant",
            ServeRole::Coordinator => "coordinator",
        }
    }
}

/// Everything a node process needs.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    pub role: ServeRole,
    pub id: NodeId,
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub fsync: bool,
    /// Nodes it may have to dial: (id, address).
    pub peers: Vec<(NodeId, SocketAddr)>,
    /// Coordinator: abort after this long without every vote.
    pub vote_timeout: Duration,
    /// Participant: in doubt after this long without a decision.
    pub decision_timeout: Duration,
    /// Resend and ask-again interval.
    pub retry_every: Duration,
    pub seed: u64,
}

/// Runs one node over TCP until it stops; `ready` is called with the bound address.
pub fn serve(options: &ServeOptions, ready: impl FnOnce(SocketAddr)) -> Result<Stopped, CommitError> {
    let role = match options.role {
        ServeRole::Coordinator => Role::Coordinator(CoordinatorConfig {
            id: options.id,
            vote_timeout: options.vote_timeout,
            resend_every: options.retry_every,
        }),
        ServeRole::Participant => Role::Participant(ParticipantConfig {
            id: options.id,
            decision_timeout: options.decision_timeout,
            inquire_every: options.retry_every,
        }),
    };
    let node = NodeOptions {
        listen: options.listen,
        data_dir: options.data_dir.clone(),
        fsync: options.fsync,
        peers: options.peers.clone(),
        seed: options.seed,
    };
    Ok(group::serve(&role, &node, ready)?)
}

/// How the harness starts node processes.
#[derive(Clone, Debug)]
pub struct NetConfig {
    /// The `stratbench` binary.
    pub exe: PathBuf,
    /// Data directories go under it, one per node.
    pub dir: PathBuf,
    pub fsync: bool,
    pub seed: u64,
}

/// The harness's view of the node processes.
pub struct NetCluster {
    params: CommitParams,
    config: NetConfig,
    group: ProcessGroup<Msg>,
}

impl NetCluster {
    /// Starts every node (participants first) and waits until each answers.
    pub fn start(params: CommitParams, config: NetConfig) -> Result<Self, CommitError> {
        let roles = super::cluster::roles(&params);
        let ids: Vec<NodeId> = roles.iter().map(|r| r.id()).collect();
        let launch_config = config.clone();
        let launch: Arc<Launch> = Arc::new(move |id, listen, peers| {
            let role = roles.iter().find(|r| r.id() == id).expect("a node of the run");
            spawn_node(&Launcher { params: &params, config: &launch_config, peers }, *role, listen)
        });
        let group = ProcessGroup::start(&ids, launch, config.seed)?;
        Ok(NetCluster { params, config, group })
    }

    fn read_logs(&self) -> Result<Logs, CommitError> {
        let mut records = Vec::new();
        for id in self.group.ids() {
            let path = log_path(&data_dir(&self.config, id));
            records.push((id, if path.exists() { FileLog::read(&path)? } else { Vec::new() }));
        }
        logs_of(&self.params, records)
    }

    async fn settle(&self) -> (bool, std::collections::BTreeMap<NodeId, super::NodeStats>) {
        let ids = self.group.ids();
        self.group.send_to_all(Frame::SetFaults(Default::default())).await;
        let deadline = Instant::now() + SETTLE_TIMEOUT;
        let mut last = Default::default();
        while Instant::now() < deadline {
            self.group.restart_all();
            let asked = ids.clone();
            last = self
                .group
                .with_control(|control| async move {
                    poll_stats(&mut *control.lock().await, &asked, Duration::from_millis(500)).await
                })
                .await;
            if last.len() == ids.len() && last.values().all(|s| s.pending == 0) {
                return (true, last);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        (false, last)
    }
}

fn data_dir(config: &NetConfig, id: NodeId) -> PathBuf {
    config.dir.join(format!("node-{id}"))
}

/// Which run a node belongs to, and whom it may dial.
struct Launcher<'a> {
    params: &'a CommitParams,
    config: &'a NetConfig,
    peers: &'a [(NodeId, SocketAddr)],
}

/// The command line of the node of `role`.
fn serve_args(launch: &Launcher<'_>, role: Role, listen: SocketAddr) -> Vec<String> {
    let Launcher { params, config, peers } = *launch;
    let id = role.id();
    let (name, timeout_flag, timeout) = match role {
        Role::Coordinator(c) => ("coordinator", "--vote-timeout", c.vote_timeout),
        Role::Participant(p) => ("participant", "--decision-timeout", p.decision_timeout),
    };
    let mut args = vec![
        "serve".to_string(),
        name.to_string(),
        "--id".into(),
        id.to_string(),
        "--listen".into(),
        listen.to_string(),
        "--data-dir".into(),
        data_dir(config, id).display().to_string(),
        "--retry-every".into(),
        HumanDuration(params.retry_every()).to_string(),
        "--seed".into(),
        config.seed.to_string(),
        "--exit-on-stdin-close".into(),
        timeout_flag.into(),
        HumanDuration(timeout).to_string(),
    ];
    if config.fsync {
        args.push("--fsync".into());
    }
    for (peer, address) in peers.iter().filter(|(peer, _)| *peer != id) {
        args.extend(["--peer".into(), format!("{peer}={address}")]);
    }
    args
}

fn spawn_node(
    launch: &Launcher<'_>,
    role: Role,
    listen: SocketAddr,
) -> Result<(ChildProcess, SocketAddr), crate::transport::TransportError> {
    let id = role.id();
    let dir = data_dir(launch.config, id);
    std::fs::create_dir_all(&dir)
        .map_err(|e| crate::transport::TransportError::io(format!("cannot create {}", dir.display()), e))?;
    let args = serve_args(launch, role, listen);
    let name = match role {
        Role::Coordinator(_) => format!("coordinator {id}"),
        Role::Participant(_) => format!("participant {id}"),
    };
    crate::transport::process::spawn_node(&name, &launch.config.exe, &args, &dir.join("stderr.log"), START_TIMEOUT)
}

impl Backend for NetCluster {
    type Endpoint = TcpEndpoint<Msg>;

    fn params(&self) -> &CommitParams {
        &self.params
    }

    fn client(&self, worker: u32, coordinator: NodeId) -> TcpEndpoint<Msg> {
        let addresses = self.group.address(coordinator).map(|a| (coordinator, a));
        TcpEndpoint::client(crate::transport::CLIENT_BASE + worker, addresses, self.config.seed)
    }

    async fn crash(&self, id: NodeId, point: CrashPoint, restart_after: Option<Duration>) -> Result<(), CommitError> {
        if point == CrashPoint::Now {
            return Ok(self.group.kill(id, restart_after)?);
        }
        self.group.arm_restart(id, restart_after)?;
        self.group
            .with_control(move |control| async move { control.lock().await.send(id, Msg::ArmCrash { point }) })
            .await;
        Ok(())
    }

    async fn set_faults(&self, faults: crate::transport::faults::FaultConfig) -> Result<(), CommitError> {
        self.group.send_to_all(Frame::SetFaults(faults)).await;
        Ok(())
    }

    fn finish(&self) -> Result<Finished, CommitError> {
        let (settled, stats) = self.group.handle().block_on(self.settle());
        self.group.stop_all();
        let logs = self.read_logs()?;
        let notes = vec!["net: message and write counts cover each process since its last start".to_string()];
        Ok(Finished { logs, stats, settled, notes })
    }
}
