//! The networked version: every coordinator and participant is its own `stratbench serve`
//! process on loopback, talking TCP; the driver's workers are TCP clients of the
//! coordinators.
//!
//! [`serve`] is what such a process runs: it opens its log in its data directory, listens,
//! prints where, and runs its node until it crashes (an injected crash point: exit code
//! [`CRASH_EXIT_CODE`]), is told to stop (exit 0), or its parent goes away (its stdin
//! closes), so that no node outlives the harness.
//!
//! [`NetCluster`] is the harness's side, on the shared process backend
//! ([`Processes`]): it starts the participants, then
//! the coordinators, and the group restarts a crashed one on the same port from the same data
//! directory after its restart delay. Faults are sent to every process (each applies them to
//! what it sends). Dropping the cluster kills every process. Counters in the statistics cover
//! each process since its last start.

use super::cluster::{Role, SETTLE_TIMEOUT, logs_of};
use super::coordinator::CoordinatorConfig;
use super::params::CommitParams;
use super::participant::ParticipantConfig;
use super::system::{CommitBackend, Finished};
use super::{Commit, CrashPoint, Msg, NodeStats};
use crate::process::ChildProcess;
use crate::protocol::ProtocolError;
use crate::protocol::net::{self, NetFamily, Processes};
use crate::transport::cluster::Role as _;
use crate::transport::faults::FaultConfig;
use crate::transport::group::{self, Launch, NodeOptions};
use crate::transport::runtime::Stopped;
use crate::transport::tcp::{Frame, TcpEndpoint};
use crate::transport::{Endpoint, PeerId};
use std::collections::BTreeMap;
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
    pub id: PeerId,
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub fsync: bool,
    /// Nodes it may have to dial: (id, address).
    pub peers: Vec<(PeerId, SocketAddr)>,
    /// Coordinator: abort after this long without every vote.
    pub vote_timeout: Duration,
    /// Participant: in doubt after this long without a decision.
    pub decision_timeout: Duration,
    /// Resend and ask-again interval.
    pub retry_every: Duration,
    pub seed: u64,
}

/// Runs one node over TCP until it stops; `ready` is called with the bound address.
pub fn serve(options: &ServeOptions, ready: impl FnOnce(SocketAddr)) -> Result<Stopped, ProtocolError> {
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
pub type NetCluster = Processes<Commit>;

impl Processes<Commit> {
    /// Starts every node (participants first) and waits until each answers.
    pub fn start(params: CommitParams, config: NetConfig) -> Result<Self, ProtocolError> {
        let roles = super::cluster::roles(&params);
        let ids: Vec<PeerId> = roles.iter().map(|r| r.id()).collect();
        let launch_config = config.clone();
        let launch: Arc<Launch> = Arc::new(move |id, listen, peers| {
            let role = roles.iter().find(|r| r.id() == id).expect("a node of the run");
            spawn_node(&Launcher { params: &params, config: &launch_config, peers }, *role, listen)
        });
        Processes::launch(params, &ids, &config.dir, config.seed, launch)
    }
}

/// Clears the faults, brings every node back, and waits (bounded by [`SETTLE_TIMEOUT`])
/// until no transaction is left unfinished; whether none was, and every node's last report.
async fn settle(processes: &NetCluster) -> (bool, BTreeMap<PeerId, NodeStats>) {
    let group = processes.group();
    group.send_to_all(Frame::SetFaults(FaultConfig::default())).await;
    let deadline = Instant::now() + SETTLE_TIMEOUT;
    let mut last = BTreeMap::new();
    while Instant::now() < deadline {
        group.restart_all();
        last = processes.poll(Duration::from_millis(500)).await;
        if last.len() == group.ids().len() && last.values().all(|s| s.pending == 0) {
            return (true, last);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    (false, last)
}

impl NetFamily for Commit {
    const DATA_DIR: &'static str = "node";
    type State = ();

    fn finish(processes: &NetCluster) -> Result<Finished, ProtocolError> {
        let (settled, stats) = processes.group().handle().block_on(settle(processes));
        processes.group().stop_all();
        let logs = logs_of(processes.params(), processes.read_logs()?)?;
        let notes = vec!["net: message and write counts cover each process since its last start".to_string()];
        Ok(Finished { logs, stats, settled, notes })
    }
}

fn data_dir(config: &NetConfig, id: PeerId) -> PathBuf {
    net::data_dir(&config.dir, Commit::DATA_DIR, id)
}

/// Which run a node belongs to, and whom it may dial.
struct Launcher<'a> {
    params: &'a CommitParams,
    config: &'a NetConfig,
    peers: &'a [(PeerId, SocketAddr)],
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
    let name = match role {
        Role::Coordinator(_) => format!("coordinator {id}"),
        Role::Participant(_) => format!("participant {id}"),
    };
    net::spawn_in(&data_dir(launch.config, id), &name, &launch.config.exe, &serve_args(launch, role, listen))
}

impl CommitBackend for NetCluster {
    fn client(&self, worker: u32, coordinator: PeerId) -> TcpEndpoint<Msg> {
        Processes::client(self, worker, self.group().address(coordinator).map(|a| (coordinator, a)))
    }

    async fn crash(&self, id: PeerId, point: CrashPoint, restart_after: Option<Duration>) -> Result<(), ProtocolError> {
        if point == CrashPoint::Now {
            return Ok(self.group().kill(id, restart_after)?);
        }
        self.group().arm_restart(id, restart_after)?;
        self.group()
            .with_control(move |control| async move { control.lock().await.send(id, Msg::ArmCrash { point }) })
            .await;
        Ok(())
    }
}
