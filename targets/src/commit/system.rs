//! The commit family as the driver sees it: a [`CommitSystem`] over a [`Backend`] — the
//! in-process [`Cluster`](super::cluster::Cluster) or the processes of
//! [`NetCluster`](super::net::NetCluster) — whose workers are clients.
//!
//! A worker turns each operation into a transaction ([`TxnBuilder`]), sends it to its
//! coordinator and waits for the outcome: committed is a success; an abort is a failure of
//! kind `conflict` or `timeout`; a coordinator that goes down or does not answer within
//! `client_timeout` is a failure of kind `failure` (after [`CLIENT_BACKOFF`], so that a
//! client does not spin against a dead coordinator). The driver times each one, so commit
//! and abort latencies come out of its histograms.
//!
//! Events map to the backend: crashes (with their point and restart delay), message loss,
//! delay and partitions (each for an optional duration). After the run, [`System::metrics`]
//! recovers every node, waits for every transaction to finish, stops the nodes, reads their
//! logs and runs the [`check`](super::check)ers.

use super::check::{self, ClientOutcome, Logs};
use super::params::CommitParams;
use super::workload::TxnBuilder;
use super::{CommitError, CrashPoint, Msg, NodeStats, TxnOutcome};
use crate::commit::columns::CommitMetrics;
use crate::target::{EventReport, EventStatus, FamilyMetrics, Op, OpError, OpResult, System, Worker};
use crate::transport::faults::{FaultChange, FaultConfig, FaultState};
use crate::transport::{Endpoint, Incoming, NodeId};
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use workloads::{Event, EventAction, Workload};

/// How long a client waits before reporting that its coordinator is down.
pub const CLIENT_BACKOFF: Duration = Duration::from_millis(10);

/// What a backend hands back after a run.
#[derive(Debug, Default)]
pub struct Finished {
    pub logs: Logs,
    /// Every node's statistics, by id.
    pub stats: BTreeMap<NodeId, NodeStats>,
    /// Whether every transaction finished before the settling deadline.
    pub settled: bool,
    /// Notes for the row (nodes that could not be restarted...).
    pub notes: Vec<String>,
}

/// Where the nodes run.
pub trait Backend: Send + Sync + 'static {
    type Endpoint: Endpoint<Msg>;

    /// The run's parameters.
    fn params(&self) -> &CommitParams;

    /// An endpoint for driver worker `worker`, to reach `coordinator`.
    fn client(&self, worker: u32, coordinator: NodeId) -> Self::Endpoint;

    /// Crashes node `id` at `point`; it restarts `restart_after` later, or when the run ends.
    fn crash(
        &self,
        id: NodeId,
        point: CrashPoint,
        restart_after: Option<Duration>,
    ) -> impl Future<Output = Result<(), CommitError>> + Send;

    /// Replaces the message faults in force.
    fn set_faults(&self, faults: FaultConfig) -> impl Future<Output = Result<(), CommitError>> + Send;

    /// After the run: restart what is down, clear faults, wait for every transaction to
    /// finish, stop every node cleanly, read the logs.
    fn finish(&self) -> Result<Finished, CommitError>;
}

/// The commit family's system under test.
pub struct CommitSystem<B: Backend> {
    backend: Arc<B>,
    workload: Workload,
    outcomes: Arc<Mutex<Vec<ClientOutcome>>>,
    faults: FaultState,
}

impl<B: Backend> CommitSystem<B> {
    /// A system over `backend` for `workload`.
    pub fn new(backend: B, workload: &Workload) -> Self {
        CommitSystem {
            backend: Arc::new(backend),
            workload: workload.clone(),
            outcomes: Arc::default(),
            faults: FaultState::default(),
        }
    }

    fn params(&self) -> &CommitParams {
        self.backend.params()
    }

    /// Applies a message-fault event (`isolate`: the node a partition cuts off).
    async fn change_faults(&self, action: &EventAction, isolate: Option<NodeId>) -> Result<(), CommitError> {
        let change = FaultChange::of(action, isolate).expect("a message-fault event");
        let backend = Arc::clone(&self.backend);
        self.faults.change(change, move |config| set_faults(Arc::clone(&backend), config)).await
    }

    async fn apply(&self, action: EventAction) -> Result<(), CommitError> {
        let params = *self.params();
        let index = |node: u32, count: u32, role: &str| {
            if node < count {
                Ok(node)
            } else {
                Err(CommitError::Cluster(format!("there is no {role} {node} (the run has {count})")))
            }
        };
        match action {
            EventAction::CrashCoordinator { node, point, restart_after } => {
                let id = params.coordinator_id(index(node, params.coordinators, "coordinator")?);
                self.backend.crash(id, point, restart_after).await
            }
            EventAction::CrashParticipant { node, point, restart_after } => {
                let id = params.participant_id(index(node, params.participants, "participant")?);
                self.backend.crash(id, point, restart_after).await
            }
            EventAction::Partition { node, .. } => {
                let id = params.participant_id(index(node, params.participants, "participant")?);
                self.change_faults(&action, Some(id)).await
            }
            EventAction::MessageLoss { .. } | EventAction::MessageDelay { .. } | EventAction::Heal => {
                self.change_faults(&action, None).await
            }
            other @ (EventAction::AddNode { .. }
            | EventAction::RemoveNode { .. }
            | EventAction::RemoveLast
            | EventAction::PauseHolder { .. }
            | EventAction::KillHolder
            | EventAction::RestartServer { .. }
            | EventAction::KillServer { .. }
            | EventAction::KillLeader { .. }
            | EventAction::KillFollower { .. }
            | EventAction::PartitionLeader { .. }
            | EventAction::Restart { .. }
            | EventAction::SlowNode { .. }
            | EventAction::RestoreNode { .. }
            | EventAction::KillNode { .. }
            | EventAction::FailNode { .. }
            | EventAction::FlapNode { .. }) => Err(CommitError::Unsupported(other.label())),
        }
    }
}

async fn set_faults<B: Backend>(backend: Arc<B>, config: FaultConfig) -> Result<(), CommitError> {
    backend.set_faults(config).await
}

impl<B: Backend> System for CommitSystem<B> {
    type Worker = CommitWorker<B::Endpoint>;

    fn worker(&self, index: u32) -> Self::Worker {
        let params = *self.params();
        let coordinator = params.coordinator_id(index % params.coordinators);
        let builder = TxnBuilder::new(&self.workload, params, index, self.workload.shape.workers());
        let endpoint = self.backend.client(index, coordinator);
        CommitWorker::new(endpoint, coordinator, builder, params.client_timeout, Arc::clone(&self.outcomes))
    }

    async fn apply_event(&self, event: &Event) -> EventReport {
        match self.apply(event.action).await {
            Ok(()) => EventReport { status: EventStatus::Ok, message: None, resize: None },
            Err(error @ CommitError::Unsupported(_)) => EventReport::unsupported(error.to_string()),
            Err(error) => EventReport { status: EventStatus::Error, message: Some(error.to_string()), resize: None },
        }
    }

    fn metrics(&self) -> FamilyMetrics {
        match self.backend.finish() {
            Ok(finished) => {
                let outcomes = self.outcomes.lock().expect("never poisoned");
                metrics_of(self.params(), &finished, &outcomes)
            }
            Err(error) => FamilyMetrics {
                notes: vec![format!("cannot check the run: {error}")],
                violations: None,
                ..FamilyMetrics::default()
            },
        }
    }
}

/// The family's metrics and the checkers' verdict.
fn metrics_of(params: &CommitParams, finished: &Finished, outcomes: &[ClientOutcome]) -> FamilyMetrics {
    let is_coordinator = |id: &NodeId| *id >= params.coordinator_id(0);
    let mut coordinators = NodeStats::default();
    let mut participants = NodeStats::default();
    for (id, stats) in &finished.stats {
        if is_coordinator(id) { coordinators.merge(stats) } else { participants.merge(stats) }
    }
    let balances: BTreeMap<NodeId, i64> =
        finished.stats.iter().filter(|(id, _)| !is_coordinator(id)).map(|(id, s)| (*id, s.balance_sum)).collect();
    let report = check::check(&finished.logs, outcomes, finished.settled.then_some(&balances));
    let txns = coordinators.commits + coordinators.aborts;
    let per_txn = |count: u64| (txns > 0).then(|| count as f64 / txns as f64);
    let mut notes = finished.notes.clone();
    if !finished.settled {
        notes.push("not every transaction finished after the run: in-doubt ones are counted as violations".into());
    }
    notes.extend(report.described.iter().cloned());
    FamilyMetrics {
        violations: Some(report.violations),
        // Two-phase commit promises atomicity under every fault it is tested with: crashes,
        // loss, delay and partitions may block it, never make it commit at only some nodes.
        safety_promised: true,
        notes,
        ..FamilyMetrics::default()
    }
    .with_columns(CommitMetrics {
        transactions: txns,
        // Each transaction's request is sent by a client, which no node counts.
        messages_per_txn: per_txn(coordinators.messages_sent + participants.messages_sent + txns),
        forced_writes_per_txn: per_txn(coordinators.forced_records + participants.forced_records),
        log_syncs_per_txn: per_txn(coordinators.syncs + participants.syncs),
        in_doubt_txns: participants.in_doubt,
        in_doubt_ms_max: participants.in_doubt_us_max as f64 / 1000.0,
        in_doubt_ms_total: participants.in_doubt_us_total as f64 / 1000.0,
        prepared_wait_ms_max: participants.prepared_wait_us_max as f64 / 1000.0,
    })
}

/// A driver worker: one client session.
pub struct CommitWorker<E: Endpoint<Msg>> {
    endpoint: E,
    coordinator: NodeId,
    builder: TxnBuilder,
    timeout: Duration,
    req: u64,
    outcomes: Vec<ClientOutcome>,
    sink: Arc<Mutex<Vec<ClientOutcome>>>,
}

/// A transaction whose outcome the client does not know, reported after [`CLIENT_BACKOFF`].
async fn failure(detail: String) -> OpResult {
    tokio::time::sleep(CLIENT_BACKOFF).await;
    Err(OpError { kind: "failure", detail: Some(detail) })
}

impl<E: Endpoint<Msg>> CommitWorker<E> {
    /// A client of `coordinator` over `endpoint`; what it was told about transactions that
    /// write goes to `sink` when it is dropped.
    pub fn new(
        endpoint: E,
        coordinator: NodeId,
        builder: TxnBuilder,
        timeout: Duration,
        sink: Arc<Mutex<Vec<ClientOutcome>>>,
    ) -> Self {
        CommitWorker { endpoint, coordinator, builder, timeout, req: 0, outcomes: Vec::new(), sink }
    }
}

impl<E: Endpoint<Msg>> Worker for CommitWorker<E> {
    async fn call(&mut self, op: Op) -> OpResult {
        let parts = self.builder.build(op);
        let writes = parts.iter().flat_map(|(_, ops)| ops).any(|op| matches!(op.access, super::Access::Add(_)));
        // Replies to requests this client gave up on, and old news of peers, are stale.
        while self.endpoint.try_recv().is_some() {}
        self.req += 1;
        self.endpoint.send(self.coordinator, Msg::Begin { req: self.req, parts });
        let deadline = tokio::time::Instant::now() + self.timeout;
        loop {
            let incoming = match tokio::time::timeout_at(deadline, self.endpoint.recv()).await {
                Err(_) => return failure("no outcome within client_timeout".into()).await,
                Ok(None) => return failure("the client's endpoint closed".into()).await,
                Ok(Some(incoming)) => incoming,
            };
            match incoming {
                Incoming::PeerDown(id) if id == self.coordinator => {
                    return failure(format!("coordinator {id} is down")).await;
                }
                Incoming::Message { msg: Msg::Outcome { req, txn, outcome }, delay, .. } if req == self.req => {
                    if !delay.is_zero() {
                        tokio::time::sleep(delay).await;
                    }
                    let committed = outcome == TxnOutcome::Committed;
                    if writes {
                        self.outcomes.push(ClientOutcome { txn, committed });
                    }
                    return match outcome {
                        TxnOutcome::Committed => Ok(()),
                        TxnOutcome::Aborted(cause) => Err(OpError::new(cause.label())),
                    };
                }
                _ => {}
            }
        }
    }
}

impl<E: Endpoint<Msg>> Drop for CommitWorker<E> {
    fn drop(&mut self) {
        if let Ok(mut sink) = self.sink.lock() {
            sink.append(&mut self.outcomes);
        }
    }
}
