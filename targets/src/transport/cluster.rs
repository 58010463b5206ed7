//! In-process clusters: every node of a protocol is a task on one tokio runtime, talking over
//! an in-process [`Network`], each with its own log — for any protocol whose nodes are
//! [`Role`]s (two-phase commit's coordinators and participants, consensus replicas).
//!
//! Each node lives in a *slot* that outlasts its incarnations: the slot keeps the node's log
//! storage, its counters, and its restart policy. A crash (an injected crash point, or
//! [`Cluster::crash`]) ends the node's task; the slot then waits for the restart delay given
//! with the crash, or for [`Cluster::restart_all`], and starts a new incarnation rebuilt from
//! the log — losing everything that was only in memory, exactly as a process would.
//!
//! The cluster runs on any runtime handle: the driver gives it a dedicated thread
//! ([`ClusterThread`]), the deterministic tests their paused-clock runtime.

use super::inproc::{InprocEndpoint, Network};
use super::log::{Log, LogError, MemoryStore, Storage};
use super::node::Message;
use super::runtime::{Control, NodeCounters, Stopped, Wiring};
use super::{CLIENT_BASE, Endpoint, Incoming, NodeRecords, PeerId, TransportError};
use crate::sync::Recover as _;
use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::runtime::Handle;
use tokio::sync::Notify;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::task::JoinHandle;

/// The harness's own endpoint id on a cluster's network (crash commands, statistics).
pub const CONTROL_CLIENT: PeerId = PeerId::MAX - 1;

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
    /// The storage of node `id`.
    pub fn storage(&self, id: PeerId) -> Storage {
        match self {
            LogKind::Memory => Storage::Memory(MemoryStore::default()),
            LogKind::File { dir, fsync } => Storage::File { path: dir.join(format!("node-{id}.log")), fsync: *fsync },
        }
    }
}

/// What a node is: the one place that turns a role and its log into a running node, for
/// in-process slots and node processes alike.
pub trait Role: Send + Sync + 'static {
    /// The messages its nodes exchange.
    type Msg: Message;
    /// Protocol counters kept across a node's incarnations.
    type Counters: Default + Send + Sync + 'static;
    /// Why a node could not be rebuilt from its log.
    type Error: std::fmt::Display + Send;

    /// The node's id.
    fn id(&self) -> PeerId;

    /// Rebuilds the node from its log's records and runs it until it stops.
    fn run<E: Endpoint<Self::Msg>, L: Log>(
        &self,
        start: Incarnation<'_, E, L, Self::Counters>,
    ) -> impl Future<Output = Result<Stopped, Self::Error>> + Send;
}

/// What one incarnation of a node starts from.
pub struct Incarnation<'a, E, L, C> {
    /// Its log's records, to rebuild its state from.
    pub records: &'a [Vec<u8>],
    /// Its endpoint, log, clock epoch, runtime counters and control channel.
    pub wiring: Wiring<E, L>,
    /// Its protocol counters, kept across incarnations.
    pub counters: Arc<C>,
}

/// One node across its incarnations.
pub struct Slot<R: Role> {
    role: R,
    storage: Storage,
    runtime: Arc<NodeCounters>,
    protocol: Arc<R::Counters>,
    control: Mutex<Option<UnboundedSender<Control>>>,
    restart_after: Mutex<Option<Duration>>,
    restart: Notify,
    /// Set by [`Cluster::shutdown`]: a node that is down stays down.
    stopping: AtomicBool,
}

impl<R: Role> Slot<R> {
    /// The node's id.
    pub fn id(&self) -> PeerId {
        self.role.id()
    }

    /// Its role.
    pub fn role(&self) -> &R {
        &self.role
    }

    /// Its runtime counters, across incarnations.
    pub fn runtime(&self) -> &NodeCounters {
        &self.runtime
    }

    /// Its protocol counters, across incarnations.
    pub fn protocol(&self) -> &R::Counters {
        &self.protocol
    }

    fn control(&self, command: Control) -> bool {
        self.control.locked().as_ref().is_some_and(|c| c.send(command).is_ok())
    }

    /// Whether an incarnation is running.
    pub fn is_up(&self) -> bool {
        self.control.locked().is_some()
    }
}

/// The nodes of one run, in-process.
pub struct Cluster<R: Role> {
    network: Network<R::Msg>,
    slots: Vec<Arc<Slot<R>>>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
    control_endpoint: tokio::sync::Mutex<InprocEndpoint<R::Msg>>,
}

impl<R: Role> Cluster<R> {
    /// Starts a node for each of `roles` on `handle`, with logs as `logs` says; message
    /// faults draw from `seed`.
    pub fn start(roles: Vec<R>, logs: &LogKind, seed: u64, handle: &Handle) -> Result<Self, TransportError> {
        if let LogKind::File { dir, .. } = logs {
            std::fs::create_dir_all(dir)
                .map_err(|e| TransportError::io(format!("cannot create {}", dir.display()), e))?;
        }
        let network = Network::new(seed);
        let slots: Vec<Arc<Slot<R>>> = roles
            .into_iter()
            .map(|role| {
                Arc::new(Slot {
                    storage: logs.storage(role.id()),
                    role,
                    runtime: Arc::default(),
                    protocol: Arc::default(),
                    control: Mutex::new(None),
                    restart_after: Mutex::new(None),
                    restart: Notify::new(),
                    stopping: AtomicBool::new(false),
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
                *slot.control.locked() = Some(control);
                let endpoint = network.endpoint(slot.id());
                handle.spawn(supervise(Arc::clone(slot), network.clone(), endpoint, receiver, epoch))
            })
            .collect();
        let control_endpoint = tokio::sync::Mutex::new(network.endpoint(CONTROL_CLIENT));
        Ok(Cluster { network, slots, tasks: Mutex::new(tasks), control_endpoint })
    }

    /// The network (for its fault injector).
    pub fn network(&self) -> &Network<R::Msg> {
        &self.network
    }

    /// An endpoint for driver worker `worker`.
    pub fn client(&self, worker: u32) -> InprocEndpoint<R::Msg> {
        self.network.endpoint(CLIENT_BASE + worker)
    }

    /// The harness's endpoint, for protocol-specific commands and questions.
    pub async fn control(&self) -> tokio::sync::MutexGuard<'_, InprocEndpoint<R::Msg>> {
        self.control_endpoint.lock().await
    }

    /// Every node's slot, in the order of the roles given to [`Cluster::start`].
    pub fn slots(&self) -> &[Arc<Slot<R>>] {
        &self.slots
    }

    /// Every node's id.
    pub fn ids(&self) -> Vec<PeerId> {
        self.slots.iter().map(|s| s.id()).collect()
    }

    /// The slot of node `id`.
    pub fn slot(&self, id: PeerId) -> Result<&Arc<Slot<R>>, TransportError> {
        self.slots.iter().find(|s| s.id() == id).ok_or_else(|| TransportError::Process(format!("no node {id}")))
    }

    /// Sets what happens when node `id` next crashes: it restarts `restart_after` later, or
    /// (`None`) at [`Cluster::restart_all`]. Fails if the node is down.
    pub fn arm_restart(&self, id: PeerId, restart_after: Option<Duration>) -> Result<(), TransportError> {
        let slot = self.slot(id)?;
        if !slot.is_up() {
            return Err(TransportError::Process(format!("node {id} is already down")));
        }
        *slot.restart_after.locked() = restart_after;
        Ok(())
    }

    /// Crashes node `id` at once; it restarts `restart_after` later (or at
    /// [`Cluster::restart_all`]).
    pub fn crash(&self, id: PeerId, restart_after: Option<Duration>) -> Result<(), TransportError> {
        self.arm_restart(id, restart_after)?;
        self.slot(id)?.control(Control::Crash);
        Ok(())
    }

    /// Restarts node `id` now if it is down.
    pub fn restart(&self, id: PeerId) -> Result<(), TransportError> {
        self.slot(id)?.restart.notify_one();
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

    /// Shuts every node down cleanly (logs synced), waits for their tasks, and returns every
    /// node's durable records.
    pub async fn shutdown(&self) -> Result<NodeRecords, LogError> {
        for slot in &self.slots {
            slot.stopping.store(true, Ordering::SeqCst);
            if !slot.control(Control::Shutdown) {
                slot.restart.notify_one();
            }
        }
        let tasks: Vec<JoinHandle<()>> = self.tasks.locked().drain(..).collect();
        for task in tasks {
            let _ = task.await;
        }
        self.records()
    }

    /// Every node's durable records.
    pub fn records(&self) -> Result<NodeRecords, LogError> {
        self.slots.iter().map(|slot| Ok((slot.id(), slot.storage.records()?))).collect()
    }
}

impl<R: Role> Drop for Cluster<R> {
    fn drop(&mut self) {
        for task in self.tasks.locked().iter() {
            task.abort();
        }
    }
}

/// Runs a slot's incarnations until it is shut down.
async fn supervise<R: Role>(
    slot: Arc<Slot<R>>,
    network: Network<R::Msg>,
    first_endpoint: InprocEndpoint<R::Msg>,
    first_control: UnboundedReceiver<Control>,
    epoch: tokio::time::Instant,
) {
    let mut attached = Some((first_endpoint, first_control));
    loop {
        let (endpoint, control) = attached.take().unwrap_or_else(|| {
            let (sender, receiver) = unbounded_channel();
            *slot.control.locked() = Some(sender);
            (network.endpoint(slot.id()), receiver)
        });
        let stopped = run_incarnation(&slot, endpoint, control, epoch).await;
        *slot.control.locked() = None;
        match stopped {
            Ok(Stopped::Crashed) => {
                tracing::debug!("node {} crashed", slot.id());
                let delay = slot.restart_after.locked().take();
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
                if slot.stopping.load(Ordering::SeqCst) {
                    return;
                }
            }
            Ok(Stopped::Shutdown | Stopped::Closed) => return,
            Ok(Stopped::LogFailed(error)) => {
                tracing::error!("node {}: {error}", slot.id());
                return;
            }
            Err(error) => {
                tracing::error!("node {} cannot start: {error}", slot.id());
                return;
            }
        }
    }
}

/// Rebuilds the slot's node from its log and runs it until it stops.
async fn run_incarnation<R: Role>(
    slot: &Slot<R>,
    endpoint: InprocEndpoint<R::Msg>,
    control: UnboundedReceiver<Control>,
    epoch: tokio::time::Instant,
) -> Result<Stopped, String> {
    let (log, records) = slot.storage.open().map_err(|e| e.to_string())?;
    let wiring = Wiring { endpoint, log, epoch, counters: Arc::clone(&slot.runtime), control };
    let start = Incarnation { records: &records, wiring, counters: Arc::clone(&slot.protocol) };
    slot.role.run(start).await.map_err(|e| e.to_string())
}

/// Asks each of `ids` a question over `endpoint` and collects the answers `answer` picks out
/// of what comes back; nodes that do not answer within `timeout` are missing from the result.
pub async fn ask_all<M, E: Endpoint<M>, T>(
    endpoint: &mut E,
    ids: &[PeerId],
    question: M,
    answer: impl Fn(M) -> Option<T>,
    timeout: Duration,
) -> BTreeMap<PeerId, T>
where
    M: Clone,
{
    while endpoint.try_recv().is_some() {}
    for id in ids {
        endpoint.send(*id, question.clone());
    }
    let mut answers = BTreeMap::new();
    let deadline = tokio::time::Instant::now() + timeout;
    while answers.len() < ids.len() {
        match tokio::time::timeout_at(deadline, endpoint.recv()).await {
            Ok(Some(Incoming::Message { from, msg, .. })) => {
                if let Some(value) = answer(msg).filter(|_| ids.contains(&from)) {
                    answers.insert(from, value);
                }
            }
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => break,
        }
    }
    answers
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
    /// Starts the thread, named `name`.
    pub fn start(name: &str) -> Result<Self, TransportError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| TransportError::io("cannot start the cluster's runtime", e))?;
        let handle = runtime.handle().clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                runtime.block_on(async {
                    let _ = stopped.await;
                });
            })
            .map_err(|e| TransportError::io("cannot start the cluster's thread", e))?;
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
