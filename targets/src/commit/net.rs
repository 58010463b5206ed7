//! The networked version: every coordinator and participant is its own `stratbench serve`
//! process on loopback, talking TCP; the driver's workers are TCP clients of the
//! coordinators.
//!
//! [`serve`] is what such a process runs: it opens its log in its data directory, listens,
//! prints where, and runs its node until it crashes (an injected crash point: exit code
//! [`CRASH_EXIT_CODE`]), is told to stop (exit 0), or its parent goes away (its stdin
//! closes), so that no node outlives the harness.
//!
//! [`NetCluster`] is the harness's side: it starts the participants, then the coordinators
//! with the participants' addresses, gives everyone the full address book, pings each node
//! until it answers, and watches the processes — a crashed one is started again on the same
//! port from the same data directory after its restart delay. Faults are sent to every
//! process (each applies them to what it sends). Dropping the cluster kills every process.
//! Counters in the statistics cover each process since its last start.

use super::check::Logs;
use super::cluster::{
    CONTROL_CLIENT, ClusterThread, Role, SETTLE_TIMEOUT, coordinator_config, decode_all, participant_config,
};
use super::coordinator::CoordinatorConfig;
use super::params::CommitParams;
use super::participant::ParticipantConfig;
use super::system::{Backend, Finished, poll_stats};
use super::{CommitError, CrashPoint, Msg, ProtocolCounters};
use crate::transport::log::FileLog;
use crate::transport::process::NodeProcess;
use crate::transport::runtime::{Control, NodeCounters, Stopped, Wiring};
use crate::transport::tcp::{self, Frame, TcpEndpoint};
use crate::transport::{Endpoint, NodeId};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use workloads::units::HumanDuration;

/// The exit code of a node process that crashed at an injected crash point.
pub const CRASH_EXIT_CODE: i32 = 75;
/// How long a node process may take to listen, and then to answer a ping.
pub const START_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a node process may take to stop after being asked.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(3);
/// How often the harness looks at its processes.
const WATCH_EVERY: Duration = Duration::from_millis(5);

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
    std::fs::create_dir_all(&options.data_dir)
        .map_err(|e| CommitError::Cluster(format!("cannot create {}: {e}", options.data_dir.display())))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CommitError::Cluster(format!("cannot start the runtime: {e}")))?;
    runtime.block_on(async {
        let (log, records) = FileLog::open(&log_path(&options.data_dir), options.fsync)?;
        let endpoint =
            TcpEndpoint::<Msg>::listen(options.id, options.listen, options.peers.iter().copied(), options.seed).await?;
        ready(endpoint.local_addr().expect("a listening endpoint has an address"));
        let (_keep_open, control) = tokio::sync::mpsc::unbounded_channel::<Control>();
        let counters = Arc::new(NodeCounters::default());
        let wiring = Wiring { endpoint, log, epoch: tokio::time::Instant::now(), counters, control };
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
        role.run(&records, wiring, Arc::new(ProtocolCounters::default())).await
    })
}

/// The log of the node whose data directory is `dir`.
pub fn log_path(dir: &Path) -> PathBuf {
    dir.join("node.log")
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

/// One node process and what the harness knows of it.
struct NetNode {
    id: NodeId,
    role: ServeRole,
    process: Option<NodeProcess>,
    address: SocketAddr,
    restart_after: Option<Duration>,
    /// When to start it again, once it has exited.
    restart_at: Option<Instant>,
}

/// The harness's view of the node processes.
pub struct NetCluster {
    params: CommitParams,
    config: NetConfig,
    nodes: Arc<Vec<Mutex<NetNode>>>,
    control: Arc<tokio::sync::Mutex<TcpEndpoint<Msg>>>,
    watcher: Option<tokio::task::JoinHandle<()>>,
    thread: ClusterThread,
}

impl NetCluster {
    /// Starts every node and waits until each answers.
    pub fn start(params: CommitParams, config: NetConfig) -> Result<Self, CommitError> {
        let thread = ClusterThread::start()?;
        let mut nodes = Vec::new();
        let mut addresses = Vec::new();
        let roles = (0..params.participants)
            .map(|i| (params.participant_id(i), ServeRole::Participant))
            .chain((0..params.coordinators).map(|i| (params.coordinator_id(i), ServeRole::Coordinator)));
        for (id, role) in roles {
            let any_port = SocketAddr::from(([127, 0, 0, 1], 0));
            let launch = Launch { params: &params, config: &config, peers: &addresses };
            let process = spawn_node(&launch, id, role, any_port)?;
            addresses.push((id, process.address()));
            nodes.push(Mutex::new(NetNode {
                id,
                role,
                address: process.address(),
                process: Some(process),
                restart_after: None,
                restart_at: None,
            }));
        }
        let control = {
            let _runtime = thread.handle().enter();
            TcpEndpoint::<Msg>::client(CONTROL_CLIENT, addresses.iter().copied(), config.seed)
        };
        let mut cluster = NetCluster {
            params,
            config,
            nodes: Arc::new(nodes),
            control: Arc::new(tokio::sync::Mutex::new(control)),
            watcher: None,
            thread,
        };
        let ids: Vec<NodeId> = addresses.iter().map(|(id, _)| *id).collect();
        cluster.thread.handle().block_on(async {
            for (_, address) in &addresses {
                tcp::ping::<Msg>(*address, START_TIMEOUT).await?;
            }
            let mut control = cluster.control.lock().await;
            for id in &ids {
                control.send_frame(*id, &Frame::AddressBook(addresses.clone()));
            }
            Ok::<(), CommitError>(())
        })?;
        let watcher = cluster.thread.handle().spawn(watch(
            Arc::clone(&cluster.nodes),
            cluster.params,
            cluster.config.clone(),
            addresses,
        ));
        cluster.watcher = Some(watcher);
        Ok(cluster)
    }

    fn node(&self, id: NodeId) -> Result<&Mutex<NetNode>, CommitError> {
        self.nodes
            .iter()
            .find(|n| n.lock().expect("never poisoned").id == id)
            .ok_or_else(|| CommitError::Cluster(format!("no node {id}")))
    }

    fn ids(&self) -> Vec<NodeId> {
        self.nodes.iter().map(|n| n.lock().expect("never poisoned").id).collect()
    }

    /// Asks every process to stop cleanly, waits for each, kills those that do not stop.
    fn stop_all(&self) {
        let ids = self.ids();
        let control = Arc::clone(&self.control);
        let _ = self.thread.handle().block_on(self.thread.handle().spawn(async move {
            let mut control = control.lock().await;
            for id in ids {
                control.send_frame(id, &Frame::Shutdown);
            }
        }));
        for node in self.nodes.iter() {
            let mut node = node.lock().expect("never poisoned");
            node.restart_at = None;
            if let Some(mut process) = node.process.take() {
                process.wait_or_kill(STOP_TIMEOUT);
            }
        }
    }

    fn read_logs(&self) -> Result<Logs, CommitError> {
        let mut logs = Logs::default();
        for node in self.nodes.iter() {
            let node = node.lock().expect("never poisoned");
            let path = log_path(&data_dir(&self.config, node.id));
            let records = if path.exists() { FileLog::read(&path)? } else { Vec::new() };
            match node.role {
                ServeRole::Coordinator => logs.coordinators.push((node.id, decode_all(&records)?)),
                ServeRole::Participant => logs.participants.push((node.id, decode_all(&records)?)),
            }
        }
        Ok(logs)
    }

    async fn settle(&self) -> (bool, std::collections::BTreeMap<NodeId, super::NodeStats>) {
        let ids = self.ids();
        self.send_to_all(Frame::SetFaults(Default::default())).await;
        let deadline = Instant::now() + SETTLE_TIMEOUT;
        let mut last = Default::default();
        while Instant::now() < deadline {
            for node in self.nodes.iter() {
                let mut node = node.lock().expect("never poisoned");
                if node.process.is_none() || node.restart_at.is_some() {
                    node.restart_at = Some(Instant::now());
                }
            }
            last = poll_stats(&mut *self.control.lock().await, &ids, Duration::from_millis(500)).await;
            if last.len() == ids.len() && last.values().all(|s| s.pending == 0) {
                return (true, last);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        (false, last)
    }

    async fn send_to_all(&self, frame: Frame<Msg>) {
        let ids = self.ids();
        let control = Arc::clone(&self.control);
        let _ = self
            .thread
            .handle()
            .spawn(async move {
                let mut control = control.lock().await;
                for id in ids {
                    control.send_frame(id, &frame);
                }
            })
            .await;
    }
}

impl Drop for NetCluster {
    fn drop(&mut self) {
        if let Some(watcher) = self.watcher.take() {
            watcher.abort();
        }
        for node in self.nodes.iter() {
            if let Ok(mut node) = node.lock()
                && let Some(mut process) = node.process.take()
            {
                process.kill();
            }
        }
    }
}

fn data_dir(config: &NetConfig, id: NodeId) -> PathBuf {
    config.dir.join(format!("node-{id}"))
}

/// Which node to start, where, and whom it may dial.
struct Launch<'a> {
    params: &'a CommitParams,
    config: &'a NetConfig,
    peers: &'a [(NodeId, SocketAddr)],
}

/// The command line of node `id`.
fn serve_args(launch: &Launch<'_>, id: NodeId, role: ServeRole, listen: SocketAddr) -> Vec<String> {
    let Launch { params, config, peers } = *launch;
    let mut args = vec![
        "serve".to_string(),
        role.as_str().to_string(),
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
    ];
    match role {
        ServeRole::Coordinator => {
            let config = coordinator_config(params, id - params.coordinator_id(0));
            args.extend(["--vote-timeout".into(), HumanDuration(config.vote_timeout).to_string()]);
        }
        ServeRole::Participant => {
            let config = participant_config(params, id);
            args.extend(["--decision-timeout".into(), HumanDuration(config.decision_timeout).to_string()]);
        }
    }
    if config.fsync {
        args.push("--fsync".into());
    }
    for (peer, address) in peers.iter().filter(|(peer, _)| *peer != id) {
        args.extend(["--peer".into(), format!("{peer}={address}")]);
    }
    args
}

fn spawn_node(
    launch: &Launch<'_>,
    id: NodeId,
    role: ServeRole,
    listen: SocketAddr,
) -> Result<NodeProcess, CommitError> {
    let dir = data_dir(launch.config, id);
    std::fs::create_dir_all(&dir).map_err(|e| CommitError::Cluster(format!("cannot create {}: {e}", dir.display())))?;
    let args = serve_args(launch, id, role, listen);
    let name = format!("{} {id}", role.as_str());
    Ok(NodeProcess::spawn(&name, &launch.config.exe, &args, &dir.join("stderr.log"), START_TIMEOUT)?)
}

/// Watches the processes: notes which have exited, and starts them again when due.
async fn watch(
    nodes: Arc<Vec<Mutex<NetNode>>>,
    params: CommitParams,
    config: NetConfig,
    peers: Vec<(NodeId, SocketAddr)>,
) {
    let mut ticker = tokio::time::interval(WATCH_EVERY);
    loop {
        ticker.tick().await;
        for index in 0..nodes.len() {
            let due = {
                let mut node = nodes[index].lock().expect("never poisoned");
                if node.process.as_mut().is_some_and(|p| p.exited().is_some()) {
                    node.process = None;
                    node.restart_at = node.restart_after.take().map(|delay| Instant::now() + delay);
                    tracing::debug!("node {} exited", node.id);
                }
                node.process.is_none() && node.restart_at.is_some_and(|at| Instant::now() >= at)
            };
            if due {
                let (nodes, params, config, peers) = (Arc::clone(&nodes), params, config.clone(), peers.clone());
                let _ = tokio::task::spawn_blocking(move || restart(&nodes[index], &params, &config, &peers)).await;
            }
        }
    }
}

fn restart(node: &Mutex<NetNode>, params: &CommitParams, config: &NetConfig, peers: &[(NodeId, SocketAddr)]) {
    let mut node = node.lock().expect("never poisoned");
    let launch = Launch { params, config, peers };
    match spawn_node(&launch, node.id, node.role, node.address) {
        Ok(process) => {
            node.process = Some(process);
            node.restart_at = None;
        }
        Err(error) => {
            tracing::warn!("cannot restart node {}: {error}", node.id);
            node.restart_at = Some(Instant::now() + Duration::from_millis(100));
        }
    }
}

impl Backend for NetCluster {
    type Endpoint = TcpEndpoint<Msg>;

    fn params(&self) -> &CommitParams {
        &self.params
    }

    fn client(&self, worker: u32, coordinator: NodeId) -> TcpEndpoint<Msg> {
        let address = self.node(coordinator).map(|n| n.lock().expect("never poisoned").address);
        let addresses: Vec<_> = address.into_iter().map(|a| (coordinator, a)).collect();
        TcpEndpoint::client(crate::transport::CLIENT_BASE + worker, addresses, self.config.seed)
    }

    async fn crash(&self, id: NodeId, point: CrashPoint, restart_after: Option<Duration>) -> Result<(), CommitError> {
        {
            let mut node = self.node(id)?.lock().expect("never poisoned");
            if node.process.is_none() {
                return Err(CommitError::Cluster(format!("node {id} is already down")));
            }
            node.restart_after = restart_after;
            if point == CrashPoint::Now {
                if let Some(process) = node.process.as_mut() {
                    process.kill();
                }
                return Ok(());
            }
        }
        let control = Arc::clone(&self.control);
        let _ = self.thread.handle().spawn(async move { control.lock().await.send(id, Msg::ArmCrash { point }) }).await;
        Ok(())
    }

    async fn set_faults(&self, faults: crate::transport::faults::FaultConfig) -> Result<(), CommitError> {
        self.send_to_all(Frame::SetFaults(faults)).await;
        Ok(())
    }

    fn finish(&self) -> Result<Finished, CommitError> {
        let (settled, stats) = self.thread.handle().block_on(self.settle());
        self.stop_all();
        let logs = self.read_logs()?;
        let notes = vec!["net: message and write counts cover each process since its last start".to_string()];
        Ok(Finished { logs, stats, settled, notes })
    }
}
