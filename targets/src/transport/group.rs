//! The node processes of one networked run, as the harness sees them: started one by one on
//! loopback (each told the addresses of those started before it), pinged until each answers,
//! given the full address book, then watched — a process that exits (killed by a fault, or
//! crashed at an injected point) is started again on the same port from the same data
//! directory once its restart delay has passed, or when the harness asks for everything to
//! come back.
//!
//! The group owns a [`ClusterThread`] whose runtime carries the harness's control endpoint
//! (a TCP client of every node) and the watcher, so both outlive the driver's runtime: the
//! checkers talk to the nodes after the measured run. Dropping the group kills every process.
//!
//! [`serve`] is the other side: what such a process runs (`stratbench serve ROLE`).

use super::cluster::{CONTROL_CLIENT, ClusterThread, Incarnation, Role};
use super::log::FileLog;
use super::node::Message;
use super::runtime::{Control, NodeCounters, Stopped, Wiring};
use super::tcp::{self, Frame, TcpEndpoint};
use super::{PeerId, TransportError};
use crate::process::ChildProcess;
use crate::sync::Recover as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;

/// How long a node process may take to listen, and then to answer a ping.
pub const START_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a node process may take to stop after being asked.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(3);
/// How often the watcher looks at the processes.
const WATCH_EVERY: Duration = Duration::from_millis(5);
/// How long the watcher waits before trying again to start a process that failed to start.
const RESTART_RETRY: Duration = Duration::from_millis(100);

/// Starts node `id` listening on `listen`, knowing `peers`' addresses.
pub type Launch = dyn Fn(PeerId, SocketAddr, &[(PeerId, SocketAddr)]) -> Result<(ChildProcess, SocketAddr), TransportError>
    + Send
    + Sync;

/// One node process and what the harness knows of it.
struct Member {
    id: PeerId,
    process: Option<ChildProcess>,
    address: SocketAddr,
    /// How long after its next exit to start it again (`None`: only when asked).
    restart_after: Option<Duration>,
    /// When to start it again, once it has exited.
    restart_at: Option<Instant>,
}

/// The processes of one run.
pub struct ProcessGroup<M: Message> {
    members: Arc<Vec<Mutex<Member>>>,
    addresses: Vec<(PeerId, SocketAddr)>,
    control: Arc<tokio::sync::Mutex<TcpEndpoint<M>>>,
    watcher: Mutex<Option<JoinHandle<()>>>,
    thread: ClusterThread,
}

impl<M: Message> ProcessGroup<M> {
    /// Starts a process for each of `ids` with `launch`, waits until each answers, gives
    /// everyone the full address book, and starts watching them. The control endpoint's fault
    /// draws come from `seed`.
    pub fn start(ids: &[PeerId], launch: Arc<Launch>, seed: u64) -> Result<Self, TransportError> {
        let thread = ClusterThread::start("node-processes")?;
        let mut members = Vec::new();
        let mut addresses = Vec::new();
        for id in ids {
            let (process, address) = launch(*id, SocketAddr::from(([127, 0, 0, 1], 0)), &addresses)?;
            addresses.push((*id, address));
            members.push(Mutex::new(Member {
                id: *id,
                address,
                process: Some(process),
                restart_after: None,
                restart_at: None,
            }));
        }
        let control = {
            let _runtime = thread.handle().enter();
            TcpEndpoint::<M>::client(CONTROL_CLIENT, addresses.iter().copied(), seed)
        };
        let control = Arc::new(tokio::sync::Mutex::new(control));
        thread.handle().block_on(async {
            for (_, address) in &addresses {
                tcp::ping::<M>(*address, START_TIMEOUT).await?;
            }
            let mut control = control.lock().await;
            for (id, _) in &addresses {
                control.send_frame(*id, &Frame::AddressBook(addresses.clone()));
            }
            Ok::<(), TransportError>(())
        })?;
        let members = Arc::new(members);
        let watcher = thread.handle().spawn(watch(Arc::clone(&members), launch, addresses.clone()));
        Ok(ProcessGroup { members, addresses, control, watcher: Mutex::new(Some(watcher)), thread })
    }

    /// The runtime the control endpoint lives on.
    pub fn handle(&self) -> &tokio::runtime::Handle {
        self.thread.handle()
    }

    /// Every node's id and address.
    pub fn addresses(&self) -> &[(PeerId, SocketAddr)] {
        &self.addresses
    }

    /// Every node's id.
    pub fn ids(&self) -> Vec<PeerId> {
        self.addresses.iter().map(|(id, _)| *id).collect()
    }

    /// The address of node `id`.
    pub fn address(&self, id: PeerId) -> Option<SocketAddr> {
        self.addresses.iter().find(|(n, _)| *n == id).map(|(_, a)| *a)
    }

    fn member(&self, id: PeerId) -> Result<&Mutex<Member>, TransportError> {
        self.members
            .iter()
            .find(|m| m.locked().id == id)
            .ok_or_else(|| TransportError::Process(format!("no node {id}")))
    }

    /// Sets what happens when node `id` next exits: it restarts `restart_after` later, or
    /// (`None`) only when asked. Fails if the node is down.
    pub fn arm_restart(&self, id: PeerId, restart_after: Option<Duration>) -> Result<(), TransportError> {
        let mut member = self.member(id)?.locked();
        if member.process.is_none() {
            return Err(TransportError::Process(format!("node {id} is already down")));
        }
        member.restart_after = restart_after;
        Ok(())
    }

    /// Kills node `id` (SIGKILL) now; it restarts `restart_after` later, or (`None`) when
    /// asked with [`ProcessGroup::restart`] or [`ProcessGroup::restart_all`].
    pub fn kill(&self, id: PeerId, restart_after: Option<Duration>) -> Result<(), TransportError> {
        self.arm_restart(id, restart_after)?;
        if let Some(process) = self.member(id)?.locked().process.as_mut() {
            process.kill();
        }
        Ok(())
    }

    /// Starts node `id` again as soon as the watcher sees it down.
    pub fn restart(&self, id: PeerId) -> Result<(), TransportError> {
        let mut member = self.member(id)?.locked();
        if member.process.as_mut().is_none_or(|p| p.exited().is_some()) {
            member.restart_at = Some(Instant::now());
            member.restart_after = Some(Duration::ZERO);
        }
        Ok(())
    }

    /// Starts every node that is down again.
    pub fn restart_all(&self) {
        for id in self.ids() {
            let _ = self.restart(id);
        }
    }

    /// Whether node `id`'s process is running.
    pub fn is_up(&self, id: PeerId) -> bool {
        self.member(id).is_ok_and(|m| m.locked().process.as_mut().is_some_and(|p| p.exited().is_none()))
    }

    /// Runs `work` with the control endpoint, on the group's runtime (where the endpoint's
    /// connections live).
    pub async fn with_control<T, F>(&self, work: impl FnOnce(Arc<tokio::sync::Mutex<TcpEndpoint<M>>>) -> F) -> T
    where
        F: std::future::Future<Output = T> + Send + 'static,
        T: Send + 'static,
    {
        match self.thread.handle().spawn(work(Arc::clone(&self.control))).await {
            Ok(value) => value,
            Err(join) => std::panic::resume_unwind(join.into_panic()),
        }
    }

    /// [`ProcessGroup::with_control`] from outside any runtime.
    pub fn block_on_control<T, F>(&self, work: impl FnOnce(Arc<tokio::sync::Mutex<TcpEndpoint<M>>>) -> F) -> T
    where
        F: std::future::Future<Output = T> + Send + 'static,
        T: Send + 'static,
    {
        self.thread.handle().block_on(work(Arc::clone(&self.control)))
    }

    /// Sends `frame` to every node.
    pub async fn send_to_all(&self, frame: Frame<M>) {
        let ids = self.ids();
        self.with_control(|control| async move {
            let mut control = control.lock().await;
            for id in ids {
                control.send_frame(id, &frame);
            }
        })
        .await;
    }

    /// Asks every process to stop cleanly (its log synced), waits for each, and kills those
    /// that do not stop within [`STOP_TIMEOUT`]. Nothing restarts afterwards.
    pub fn stop_all(&self) {
        if let Some(watcher) = self.watcher.locked().take() {
            watcher.abort();
        }
        let ids = self.ids();
        self.block_on_control(|control| async move {
            let mut control = control.lock().await;
            for id in ids {
                control.send_frame(id, &Frame::Shutdown);
            }
        });
        for member in self.members.iter() {
            let mut member = member.locked();
            member.restart_at = None;
            if let Some(mut process) = member.process.take() {
                process.wait_or_kill(STOP_TIMEOUT);
            }
        }
    }
}

impl<M: Message> Drop for ProcessGroup<M> {
    fn drop(&mut self) {
        if let Some(watcher) = self.watcher.get_mut().unwrap_or_else(std::sync::PoisonError::into_inner).take() {
            watcher.abort();
        }
        for member in self.members.iter() {
            let process = member.locked().process.take();
            if let Some(mut process) = process {
                process.kill();
            }
        }
    }
}

/// Watches the processes: notes which have exited, and starts them again when due.
async fn watch(members: Arc<Vec<Mutex<Member>>>, launch: Arc<Launch>, peers: Vec<(PeerId, SocketAddr)>) {
    let mut ticker = tokio::time::interval(WATCH_EVERY);
    loop {
        ticker.tick().await;
        for index in 0..members.len() {
            let due = {
                let mut member = members[index].locked();
                if member.process.as_mut().is_some_and(|p| p.exited().is_some()) {
                    member.process = None;
                    member.restart_at = member.restart_after.take().map(|delay| Instant::now() + delay);
                    tracing::debug!("node {} exited", member.id);
                }
                member.process.is_none() && member.restart_at.is_some_and(|at| Instant::now() >= at)
            };
            if due {
                let (members, launch, peers) = (Arc::clone(&members), Arc::clone(&launch), peers.clone());
                let _ = tokio::task::spawn_blocking(move || restart(&members[index], &*launch, &peers)).await;
            }
        }
    }
}

fn restart(member: &Mutex<Member>, launch: &Launch, peers: &[(PeerId, SocketAddr)]) {
    let mut member = member.locked();
    match launch(member.id, member.address, peers) {
        Ok((process, _)) => {
            member.process = Some(process);
            member.restart_at = None;
        }
        Err(error) => {
            tracing::warn!("cannot restart node {}: {error}", member.id);
            member.restart_at = Some(Instant::now() + RESTART_RETRY);
        }
    }
}

/// Where and how a node process runs (`stratbench serve ROLE ...`).
#[derive(Clone, Debug)]
pub struct NodeOptions {
    pub listen: SocketAddr,
    /// Its log goes here ([`log_path`]).
    pub data_dir: std::path::PathBuf,
    pub fsync: bool,
    /// Nodes it may have to dial: (id, address).
    pub peers: Vec<(PeerId, SocketAddr)>,
    /// Seed of its fault injector.
    pub seed: u64,
}

/// The log of the node whose data directory is `dir`.
pub fn log_path(dir: &std::path::Path) -> std::path::PathBuf {
    dir.join("node.log")
}

/// Runs the node of `role` over TCP in this process until it stops: opens its log, listens,
/// calls `ready` with the bound address, and runs the node rebuilt from the log.
pub fn serve<R: Role>(
    role: &R,
    options: &NodeOptions,
    ready: impl FnOnce(SocketAddr),
) -> Result<Stopped, TransportError> {
    let dir = &options.data_dir;
    std::fs::create_dir_all(dir).map_err(|e| TransportError::io(format!("cannot create {}", dir.display()), e))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| TransportError::io("cannot start the runtime", e))?;
    runtime.block_on(async {
        let (log, records) =
            FileLog::open(&log_path(dir), options.fsync).map_err(|e| TransportError::Process(e.to_string()))?;
        let endpoint =
            TcpEndpoint::<R::Msg>::listen(role.id(), options.listen, options.peers.iter().copied(), options.seed)
                .await?;
        ready(endpoint.local_addr().expect("a listening endpoint has an address"));
        let (_keep_open, control) = tokio::sync::mpsc::unbounded_channel::<Control>();
        let counters = Arc::new(NodeCounters::default());
        let wiring = Wiring { endpoint, log, epoch: tokio::time::Instant::now(), counters, control };
        let start = Incarnation { records: &records, wiring, counters: Arc::default() };
        role.run(start).await.map_err(|e| TransportError::Process(e.to_string()))
    })
}
