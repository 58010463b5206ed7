//! The commit family as the driver sees it: a [`CommitSystem`] (the shared
//! [`ProtocolSystem`] running [`TwoPhaseCommit`]) over a [`CommitBackend`] — the
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
//! The family's own events are crashes (with their point and restart delay); the shared
//! message faults (loss, delay, partitions, each for an optional duration) are applied by the
//! shared [`ProtocolSystem`]. After the run, [`System::metrics`](crate::target::System::metrics)
//! recovers every node, waits for every transaction to finish, stops the nodes, reads their
//! logs and runs the [`check`](super::check)ers.

use super::check::{self, ClientOutcome};
use super::params::CommitParams;
use super::workload::TxnBuilder;
use super::{Commit, CrashPoint, Msg, NodeStats, TxnOutcome};
use crate::commit::columns::CommitMetrics;
use crate::protocol::ProtocolError;
use crate::protocol::system::{Backend, Protocol, ProtocolSystem, Run};
use crate::sync::Recover as _;
use crate::target::{FamilyMetrics, Op, OpError, OpResult, Worker};
use crate::transport::{Endpoint, Incoming, PeerId};
use std::collections::BTreeMap;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use workloads::events::CommitAction;
use workloads::{EventAction, Workload};

/// How long a client waits before reporting that its coordinator is down.
pub const CLIENT_BACKOFF: Duration = Duration::from_millis(10);

/// What a commit backend hands back after a run.
pub type Finished = crate::protocol::FinishedOf<Commit>;

/// Where the coordinators and participants run: what a commit backend does beyond the
/// shared [`Backend`].
pub trait CommitBackend: Backend<Family = Commit> {
    /// An endpoint for driver worker `worker`, to reach `coordinator`.
    fn client(&self, worker: u32, coordinator: PeerId) -> Self::Endpoint;

    /// Crashes node `id` at `point`; it restarts `restart_after` later, or when the run ends.
    fn crash(
        &self,
        id: PeerId,
        point: CrashPoint,
        restart_after: Option<Duration>,
    ) -> impl Future<Output = Result<(), ProtocolError>> + Send;
}

/// Two-phase commit as the shared [`ProtocolSystem`] runs it: what its clients were told,
/// for the atomicity checker.
pub struct TwoPhaseCommit<B> {
    outcomes: Arc<Mutex<Vec<ClientOutcome>>>,
    backend: PhantomData<fn() -> B>,
}

/// The commit family's system under test.
pub type CommitSystem<B> = ProtocolSystem<TwoPhaseCommit<B>>;

impl<B: CommitBackend> Protocol for TwoPhaseCommit<B> {
    type Backend = B;
    type Worker = CommitWorker<B::Endpoint>;
    type Action = CommitAction;

    fn new(_backend: &B, _workload: &Workload) -> Self {
        TwoPhaseCommit { outcomes: Arc::default(), backend: PhantomData }
    }

    fn worker(&self, run: &Run<B>, index: u32) -> Self::Worker {
        let params = *run.params();
        let coordinator = params.coordinator_id(index % params.coordinators);
        let builder = TxnBuilder::new(&run.workload, params, index, run.workload.shape.workers());
        let endpoint = run.backend.client(index, coordinator);
        CommitWorker::new(endpoint, coordinator, builder, params.client_timeout, Arc::clone(&self.outcomes))
    }

    fn own(action: EventAction) -> Option<CommitAction> {
        if let EventAction::Commit(action) = action { Some(action) } else { None }
    }

    fn partitioned(&self, run: &Run<B>, node: u32) -> Result<(PeerId, String), ProtocolError> {
        let params = run.params();
        Ok((params.participant_id(index(node, params.participants, "participant")?), String::new()))
    }

    async fn apply(&self, run: &Run<B>, action: CommitAction) -> Result<String, ProtocolError> {
        let params = *run.params();
        let (id, point, restart_after) = match action {
            CommitAction::CrashCoordinator { node, point, restart_after } => {
                (params.coordinator_id(index(node, params.coordinators, "coordinator")?), point, restart_after)
            }
            CommitAction::CrashParticipant { node, point, restart_after } => {
                (params.participant_id(index(node, params.participants, "participant")?), point, restart_after)
            }
        };
        run.backend.crash(id, point, restart_after).await?;
        Ok(String::new())
    }

    fn metrics(&self, run: &Run<B>, finished: Finished) -> FamilyMetrics {
        let outcomes = self.outcomes.locked();
        metrics_of(run.params(), &finished, &outcomes)
    }
}

/// `node`, if the run has more than `node` nodes of `role` (`count` of them).
fn index(node: u32, count: u32, role: &str) -> Result<u32, ProtocolError> {
    if node < count {
        Ok(node)
    } else {
        Err(ProtocolError::Cluster(format!("there is no {role} {node} (the run has {count})")))
    }
}

/// The family's metrics and the checkers' verdict.
fn metrics_of(params: &CommitParams, finished: &Finished, outcomes: &[ClientOutcome]) -> FamilyMetrics {
    let is_coordinator = |id: &PeerId| *id >= params.coordinator_id(0);
    let mut coordinators = NodeStats::default();
    let mut participants = NodeStats::default();
    for (id, stats) in &finished.stats {
        if is_coordinator(id) { coordinators.merge(stats) } else { participants.merge(stats) }
    }
    let balances: BTreeMap<PeerId, i64> =
        finished.stats.iter().filter(|(id, _)| !is_coordinator(id)).map(|(id, s)| (*id, s.balance_sum)).collect();
    let report = check::check(&finished.logs, outcomes, finished.settled.then_some(&balances));
    let txns = coordinators.commits + coordinators.aborts;
    let per_txn = |count: u64| (txns > 0).then(|| count as f64 / txns as f64);
    let mut notes = finished.notes.clone();
    if !finished.settled {
        notes.push("not every transaction finished after the run: in-doubt ones are counted as violations".into());
    }
    notes.extend(report.described.iter().cloned());
    // Two-phase commit promises atomicity under every fault it is tested with: crashes,
    // loss, delay and partitions may block it, never make it commit at only some nodes.
    FamilyMetrics::safety_checked(report.violations, notes).with_columns(CommitMetrics {
        transactions: txns,
        // Each transaction's request is sent by a client, which no node counts.
        messages_per_txn: per_txn(coordinators.runtime.messages_sent + participants.runtime.messages_sent + txns),
        forced_writes_per_txn: per_txn(coordinators.runtime.forced_records + participants.runtime.forced_records),
        log_syncs_per_txn: per_txn(coordinators.runtime.syncs + participants.runtime.syncs),
        in_doubt_txns: participants.in_doubt,
        in_doubt_ms_max: participants.in_doubt_us_max as f64 / 1000.0,
        in_doubt_ms_total: participants.in_doubt_us_total as f64 / 1000.0,
        prepared_wait_ms_max: participants.prepared_wait_us_max as f64 / 1000.0,
    })
}

/// A driver worker: one client session.
pub struct CommitWorker<E: Endpoint<Msg>> {
    endpoint: E,
    coordinator: PeerId,
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
        coordinator: PeerId,
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
        self.sink.locked().append(&mut self.outcomes);
    }
}
