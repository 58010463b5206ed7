//! The in-process cluster: every coordinator and participant is a task on one tokio runtime,
//! talking over an in-process [`Network`], each with its own log.
//!
//! Each node lives in a *slot* that outlasts its incarnations: the slot keeps the node's log
//! storage, its counters, and its restart policy. A crash (an injected crash point, or
//! [`Cluster::crash_now`]) ends the node's task; the slot then waits for the restart delay
//! given with the crash, or for [`Cluster::restart_all`], and starts a new incarnation
//! rebuilt from the log — losing everything that was only in memory, exactly as a process
//! would.
//!
//! The cluster runs on any runtime handle: the driver gives it a dedicated thread
//! ([`ClusterThread`]), the deterministic tests their paused-clock runtime.

use super::check::Logs;
use super::coordinator::{Coordinator, CoordinatorConfig};
use super::params::CommitParams;
use super::participant::{Participant, ParticipantConfig};
use super::{CommitError, CoordinatorRecord, Msg, NodeStats, ParticipantRecord, ProtocolCounters};
use crate::transport::Endpoint;
use crate::transport::inproc::{InprocEndpoint, Network};
use crate::transport::log::{Log, MemoryStore, Storage};
use crate::transport::runtime::{self, Control, NodeCounters, Stopped, Wiring};
use crate::transport::{CLIENT_BASE, NodeId, codec};
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::runtime::Handle;
use tokio::sync::Notify;
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};
use tokio::task::JoinHandle;

/// Where the nodes keep their logs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogKind {
    Memory,
    /// `<dir>/node-<id>.log`, with or without fsync.
    File {
        dir: PathBuf,
        fsync: bool,
    },
}

impl LogKind {
    fn storage(&self, id: NodeId) -> Storage {
        match self {
            LogKind::Memory => Storage::Memory(MemoryStore::default()),
            LogKind::File { dir, fsync } => Storage::File { path: dir.join(format!("node-{id}.log")), fsync: *fsync },
        }
    }
}

/// What a node is: the one place that turns a role and its log into a running node, for
/// in-process slots and node processes alike.
#[derive(Clone, Copy, Debug)]
pub enum Role {
    Coordinator(CoordinatorConfig),
    Participant(ParticipantConfig),
}

impl Role {
    /// The node's id.
    pub fn id(&self) -> NodeId {
        match self {
            Role::Coordinator(c) => c.id,
            Role::Participant(p) => p.id,
        }
    }

    /// Rebuilds the node from its log's `records` and runs it over `wiring` until it stops;
    /// its protocol counters go to `protocol`.
    pub async fn run<E: Endpoint<Msg>, L: Log>(
        self,
        records: &[Vec<u8>],
        wiring: Wiring<E, L>,
        protocol: Arc<ProtocolCounters>,
    ) -> Result<Stopped, CommitError> {
        let counters = Arc::clone(&wiring.counters);
        Ok(match self {
            Role::Coordinator(config) => {
                let node = Coordinator::recover(config, &decode_all(records)?, counters, protocol);
                runtime::run(node, wiring).await
            }
            Role::Participant(config) => {
                let node = Participant::recover(config, &decode_all(records)?, counters, protocol);
                runtime::run(node, wiring).await
            }
        })
    }
}

/// One node across its incarnations.
struct Slot {
    id: NodeId,
    role: Role,
    storage: Storage,
    runtime: Arc<NodeCounters>,
    protocol: Arc<ProtocolCounters>,
    control: Mutex<Option<UnboundedSender<Control>>>,
    restart_after: Mutex<Option<Duration>>,
    restart: Notify,
    /// Set by [`Cluster::shutdown`]: a node that is down stays down.
    stopping: std::sync::atomic::AtomicBool,
}

impl Slot {
    fn control(&self, command: Control) -> bool {
        self.control.lock().expect("never poisoned").as_ref().is_some_and(|c| c.send(command).is_ok())
    }

    fn is_up(&self) -> bool {
        self.control.lock().expect("never poisoned").is_some()
    }
}

/// The coordinators and participants of one run, in-process.
pub struct Cluster {
    params: CommitParams,
    network: Network<Msg>,
    slots: Vec<Arc<Slot>>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
    control_endpoint: tokio::sync::Mutex<InprocEndpoint<Msg>>,
}

/// Every coordinator's and participant's settings, from the run's parameters.
pub fn coordinator_config(params: &CommitParams, index: u32) -> CoordinatorConfig {
    CoordinatorConfig {
        id: params.coordinator_id(index),
        vote_timeout: params.vote_timeout,
        resend_every: params.retry_every(),
    }
}

/// A participant's settings.
pub fn participant_config(params: &CommitParams, index: u32) -> ParticipantConfig {
    ParticipantConfig {
        id: params.participant_id(index),
        decision_timeout: params.decision_timeout,
        inquire_every: params.retry_every(),
    }
}

/// The harness's own endpoint id (for crash commands and statistics).
pub const CONTROL_CLIENT: NodeId = NodeId::MAX - 1;

impl Cluster {
    /// Starts every node on `handle`; message faults draw from `seed`.
    pub fn start(params: CommitParams, logs: &LogKind, seed: u64, handle: &Handle) -> Result<Self, CommitError> {
        if let LogKind::File { dir, .. } = logs {
            std::fs::create_dir_all(dir)
                .map_err(|e| CommitError::Cluster(format!("cannot create {}: {e}", dir.display())))?;
        }
        let network = Network::new(seed);
        let roles = (0..params.participants)
            .map(|i| Role::Participant(participant_config(&params, i)))
            .chain((0..params.coordinators).map(|i| Role::Coordinator(coordinator_config(&params, i))));
        let slots: Vec<Arc<Slot>> = roles
            .map(|role| {
                let id = role.id();
                Arc::new(Slot {
                    id,
                    role,
                    storage: logs.storage(id),
                    runtime: Arc::default(),
                    protocol: Arc::default(),
                    control: Mutex::new(None),
                    restart_after: Mutex::new(None),
                    restart: Notify::new(),
                    stopping: std::sync::atomic::AtomicBool::new(false),
                })
            })
            .collect();
        let epoch = {
            let _guard = handle.enter();
            tokio::time::Instant::now()
        };
        let tasks = slots
            .iter()
            .map(|slot| {
                let (control, receiver) = unbounded_channel();
                *slot.control.lock().expect("never poisoned") = Some(control);
                let endpoint = network.endpoint(slot.id);
                handle.spawn(supervise(Arc::clone(slot), network.clone(), endpoint, receiver, epoch))
            })
            .collect();
        let control_endpoint = tokio::sync::Mutex::new(network.endpoint(CONTROL_CLIENT));
        Ok(Cluster { params, network, slots, tasks: Mutex::new(tasks), control_endpoint })
    }

    /// The parameters it was started with.
    pub fn params(&self) -> &CommitParams {
        &self.params
    }

    /// The network (for its fault injector).
    pub fn network(&self) -> &Network<Msg> {
        &self.network
    }

    /// An endpoint for driver worker `worker`.
    pub fn client(&self, worker: u32) -> InprocEndpoint<Msg> {
        self.network.endpoint(CLIENT_BASE + worker)
    }

    fn slot(&self, id: NodeId) -> Result<&Arc<Slot>, CommitError> {
        self.slots.iter().find(|s| s.id == id).ok_or_else(|| CommitError::Cluster(format!("no node {id}")))
    }

    /// Arms node `id` to crash at `point`, restarting `restart_after` later (or at
    /// [`Cluster::restart_all`]).
    pub async fn crash(
        &self,
        id: NodeId,
        point: super::CrashPoint,
        restart_after: Option<Duration>,
    ) -> Result<(), CommitError> {
        let slot = self.slot(id)?;
        if !slot.is_up() {
            return Err(CommitError::Cluster(format!("node {id} is already down")));
        }
        *slot.restart_after.lock().expect("never poisoned") = restart_after;
        if point == super::CrashPoint::Now {
            slot.control(Control::Crash);
        } else {
            use crate::transport::Endpoint as _;
            self.control_endpoint.lock().await.send(id, Msg::ArmCrash { point });
        }
        Ok(())
    }

    /// Crashes node `id` at once, without a restart delay.
    pub fn crash_now(&self, id: NodeId) -> Result<(), CommitError> {
        self.slot(id)?.control(Control::Crash);
        Ok(())
    }

    /// Restarts every node that is down.
    pub fn restart_all(&self) {
        for slot in &self.slots {
            slot.restart.notify_one();
        }
    }

    /// Whether every node is up.
    pub fn all_up(&self) -> bool {
        self.slots.iter().all(|s| s.is_up())
    }

    /// Asks every node for its statistics; nodes that do not answer within `timeout` are
    /// missing from the answer.
    pub async fn poll_stats(&self, timeout: Duration) -> BTreeMap<NodeId, NodeStats> {
        let ids: Vec<NodeId> = self.slots.iter().map(|s| s.id).collect();
        super::system::poll_stats(&mut *self.control_endpoint.lock().await, &ids, timeout).await
    }

    /// Every node's counters as kept by its slot (across incarnations), with `pending` from
    /// `last_poll`.
    pub fn totals(&self, last_poll: &BTreeMap<NodeId, NodeStats>) -> BTreeMap<NodeId, NodeStats> {
        self.slots
            .iter()
            .map(|slot| {
                let pending = last_poll.get(&slot.id).map_or(0, |s| s.pending);
                (slot.id, NodeStats::snapshot(&slot.runtime, &slot.protocol, pending))
            })
            .collect()
    }

    /// Shuts every node down cleanly (logs synced) and reads every log.
    pub async fn shutdown(&self) -> Result<Logs, CommitError> {
        for slot in &self.slots {
            slot.stopping.store(true, std::sync::atomic::Ordering::SeqCst);
            if !slot.control(Control::Shutdown) {
                slot.restart.notify_one();
            }
        }
        let tasks: Vec<JoinHandle<()>> = self.tasks.lock().expect("never poisoned").drain(..).collect();
        for task in tasks {
            let _ = task.await;
        }
        self.read_logs()
    }

    /// Decodes every node's log.
    pub fn read_logs(&self) -> Result<Logs, CommitError> {
        let mut logs = Logs::default();
        for slot in &self.slots {
            let bytes = slot.storage.records()?;
            match slot.role {
                Role::Coordinator(_) => logs.coordinators.push((slot.id, decode_all::<CoordinatorRecord>(&bytes)?)),
                Role::Participant(_) => logs.participants.push((slot.id, decode_all::<ParticipantRecord>(&bytes)?)),
            }
        }
        Ok(logs)
    }

    /// Aborts every node task (for a cluster dropped without a shutdown).
    fn abort_all(&self) {
        for task in self.tasks.lock().expect("never poisoned").iter() {
            task.abort();
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.abort_all();
    }
}

/// Decodes a log's records.
pub fn decode_all<R: DeserializeOwned>(records: &[Vec<u8>]) -> Result<Vec<R>, CommitError> {
    records.iter().map(|bytes| codec::decode(bytes).map_err(CommitError::from)).collect()
}

/// Runs a slot's incarnations until it is shut down.
async fn supervise(
    slot: Arc<Slot>,
    network: Network<Msg>,
    first_endpoint: InprocEndpoint<Msg>,
    first_control: tokio::sync::mpsc::UnboundedReceiver<Control>,
    epoch: tokio::time::Instant,
) {
    let mut attached = Some((first_endpoint, first_control));
    loop {
        let (endpoint, control) = attached.take().unwrap_or_else(|| {
            let (sender, receiver) = unbounded_channel();
            *slot.control.lock().expect("never poisoned") = Some(sender);
            (network.endpoint(slot.id), receiver)
        });
        let stopped = run_incarnation(&slot, endpoint, control, epoch).await;
        *slot.control.lock().expect("never poisoned") = None;
        match stopped {
            Ok(Stopped::Crashed) => {
                tracing::debug!("node {} crashed", slot.id);
                let delay = slot.restart_after.lock().expect("never poisoned").take();
                match delay {
                    Some(delay) => {
                        tokio::select! {
                            biased;
                            () = tokio::time::sleep(delay) => {}
                            () = slot.restart.notified() => {}
                        }
                    }
                    None => slot.restart.notified().await,
                }
                if slot.stopping.load(std::sync::atomic::Ordering::SeqCst) {
                    return;
                }
            }
            Ok(Stopped::Shutdown | Stopped::Closed) => return,
            Ok(Stopped::LogFailed(error)) => {
                tracing::error!("node {}: {error}", slot.id);
                return;
            }
            Err(error) => {
                tracing::error!("node {} cannot start: {error}", slot.id);
                return;
            }
        }
    }
}

/// Rebuilds the slot's node from its log and runs it until it stops.
async fn run_incarnation(
    slot: &Slot,
    endpoint: InprocEndpoint<Msg>,
    control: tokio::sync::mpsc::UnboundedReceiver<Control>,
    epoch: tokio::time::Instant,
) -> Result<Stopped, CommitError> {
    let (log, records) = slot.storage.open()?;
    let wiring = Wiring { endpoint, log, epoch, counters: Arc::clone(&slot.runtime), control };
    slot.role.run(&records, wiring, Arc::clone(&slot.protocol)).await
}

/// A thread running a current-thread tokio runtime for a cluster, so that the cluster
/// outlives the driver's runtime (the checkers run after the driver is done). Dropping it
/// stops the runtime and joins the thread.
pub struct ClusterThread {
    handle: Handle,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ClusterThread {
    /// Starts the thread.
    pub fn start() -> Result<Self, CommitError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| CommitError::Cluster(format!("cannot start the cluster's runtime: {e}")))?;
        let handle = runtime.handle().clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("commit-cluster".into())
            .spawn(move || {
                runtime.block_on(async {
                    let _ = stopped.await;
                });
            })
            .map_err(|e| CommitError::Cluster(format!("cannot start the cluster's thread: {e}")))?;
        Ok(ClusterThread { handle, stop: Some(stop), thread: Some(thread) })
    }

    /// The runtime's handle.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }
}

impl Drop for ClusterThread {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// How long the end of a run waits for every transaction to finish after every node is
/// back and every fault cleared.
pub const SETTLE_TIMEOUT: Duration = Duration::from_secs(10);
/// How often it looks.
const SETTLE_POLL: Duration = Duration::from_millis(20);

/// The in-process backend: a [`Cluster`] on its own [`ClusterThread`].
pub struct InprocCluster {
    // Field order is drop order: the cluster's tasks go before their runtime.
    cluster: Cluster,
    thread: ClusterThread,
}

impl InprocCluster {
    /// Starts the nodes on a new cluster thread.
    pub fn start(params: CommitParams, logs: &LogKind, seed: u64) -> Result<Self, CommitError> {
        let thread = ClusterThread::start()?;
        let cluster = Cluster::start(params, logs, seed, thread.handle())?;
        Ok(InprocCluster { cluster, thread })
    }
}

/// Brings every node back, clears faults, and waits (bounded by [`SETTLE_TIMEOUT`]) until no
/// transaction is left unfinished; then stops every node and reads the logs.
pub async fn settle(cluster: &Cluster) -> Result<super::system::Finished, CommitError> {
    cluster.network().faults().set(crate::transport::faults::FaultConfig::default());
    let deadline = tokio::time::Instant::now() + SETTLE_TIMEOUT;
    let mut last = BTreeMap::new();
    let mut settled = false;
    while tokio::time::Instant::now() < deadline {
        cluster.restart_all();
        last = cluster.poll_stats(Duration::from_millis(200)).await;
        let expected = (cluster.params.participants + cluster.params.coordinators) as usize;
        if cluster.all_up() && last.len() == expected && last.values().all(|s| s.pending == 0) {
            settled = true;
            break;
        }
        tokio::time::sleep(SETTLE_POLL).await;
    }
    let stats = cluster.totals(&last);
    let logs = cluster.shutdown().await?;
    Ok(super::system::Finished { logs, stats, settled, notes: Vec::new() })
}

impl super::system::Backend for InprocCluster {
    type Endpoint = InprocEndpoint<Msg>;

    fn params(&self) -> &CommitParams {
        &self.cluster.params
    }

    fn client(&self, worker: u32, _coordinator: NodeId) -> InprocEndpoint<Msg> {
        self.cluster.client(worker)
    }

    async fn crash(
        &self,
        id: NodeId,
        point: super::CrashPoint,
        restart_after: Option<Duration>,
    ) -> Result<(), CommitError> {
        self.cluster.crash(id, point, restart_after).await
    }

    async fn set_faults(&self, faults: crate::transport::faults::FaultConfig) -> Result<(), CommitError> {
        self.cluster.network().faults().set(faults);
        Ok(())
    }

    fn finish(&self) -> Result<super::system::Finished, CommitError> {
        self.thread.handle().block_on(settle(&self.cluster))
    }
}
