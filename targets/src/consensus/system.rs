//! The consensus family as the driver sees it: a [`ConsensusSystem`] (the shared
//! [`ProtocolSystem`] running [`Paxos`]) over a [`ConsensusBackend`] — the
//! in-process [`InprocReplicas`](super::cluster::InprocReplicas) or the processes of
//! [`NetReplicas`](super::net::NetReplicas) — whose workers are clients
//! ([`ConsensusWorker`]).
//!
//! Events: `kill-leader` asks every replica who leads and kills that one; `kill-follower`
//! kills a given replica or the first that does not lead; `partition-leader` cuts the leader
//! off from the other replicas; `restart` brings killed replicas back. The shared
//! `message-loss`, `message-delay`, `partition` and `heal` are the transport's message faults,
//! applied by the shared [`ProtocolSystem`] as for every protocol family. After the run,
//! [`System::metrics`](crate::target::System::metrics) brings every replica back, clears the
//! faults, waits until they all hold the same log ([`settle`]), stops them, and runs the
//! agreement checker over their logs and the linearizability checker over the clients'
//! history.

use super::check::linearizability::{self, LinReport};
use super::check::{self, AgreementReport};
use super::client::{ClientConfig, ConsensusWorker, Failover};
use super::history::{History, Recorded};
use super::params::ConsensusParams;
use super::{Ballot, Consensus, CounterValues, ReplicaStats, RoleKind};
use crate::protocol::ProtocolError;
use crate::protocol::system::{Backend, Protocol, ProtocolSystem, Run};
use crate::target::FamilyMetrics;
use crate::transport::PeerId;
use crate::transport::faults::FaultChange;
use std::collections::BTreeMap;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;
use workloads::events::ConsensusAction;
use workloads::{EventAction, Workload};

/// How long the end of a run waits for every replica to hold the same log, once every
/// replica is back and every fault cleared.
pub const SETTLE_TIMEOUT: Duration = Duration::from_secs(10);
/// How often it looks.
const SETTLE_POLL: Duration = Duration::from_millis(20);
/// How long a `kill-leader` or `partition-leader` event looks for a leader (one may be in the
/// middle of an election).
const FIND_LEADER_TIMEOUT: Duration = Duration::from_secs(2);

/// What a consensus backend hands back after a run: every replica's log records and
/// counters.
pub type Finished = crate::protocol::FinishedOf<Consensus>;

/// Where the replicas run: what a consensus backend does beyond the shared [`Backend`].
pub trait ConsensusBackend: Backend<Family = Consensus> {
    /// An endpoint for driver worker `worker`.
    fn client(&self, worker: u32) -> Self::Endpoint;

    /// Every replica's state, from those that answer within `timeout`.
    fn poll(&self, timeout: Duration) -> impl Future<Output = BTreeMap<PeerId, ReplicaStats>> + Send;

    /// Kills replica `id` now; it restarts `restart_after` later, or when asked.
    fn kill(&self, id: PeerId, restart_after: Option<Duration>) -> Result<(), ProtocolError>;

    /// Restarts replica `id` (every replica that is down, for `None`).
    fn restart(&self, id: Option<PeerId>) -> Result<(), ProtocolError>;
}

/// Whether the replicas hold one log: one leader with nothing in flight, and every replica
/// applied as far as it.
pub fn converged(replicas: u32, stats: &BTreeMap<PeerId, ReplicaStats>) -> bool {
    let mut leaders = stats.values().filter(|s| s.role == RoleKind::Leader);
    let (Some(leader), None) = (leaders.next(), leaders.next()) else { return false };
    stats.len() == replicas as usize && leader.in_flight == 0 && stats.values().all(|s| s.applied == leader.applied)
}

/// Polls the replicas (bringing back those that are down) until they converge or
/// [`SETTLE_TIMEOUT`] passes; whether they did, and what they said last.
pub async fn settle<F, Fut>(
    replicas: u32,
    mut poll: F,
    restart_all: impl Fn(),
) -> (bool, BTreeMap<PeerId, ReplicaStats>)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = BTreeMap<PeerId, ReplicaStats>>,
{
    let deadline = tokio::time::Instant::now() + SETTLE_TIMEOUT;
    let mut last = BTreeMap::new();
    while tokio::time::Instant::now() < deadline {
        restart_all();
        last = poll().await;
        if converged(replicas, &last) {
            return (true, last);
        }
        tokio::time::sleep(SETTLE_POLL).await;
    }
    tracing::warn!("the replicas did not converge: {last:?}");
    (false, last)
}

/// The leader with the highest ballot among `stats`.
pub fn leader_of(stats: &BTreeMap<PeerId, ReplicaStats>) -> Option<(PeerId, Ballot)> {
    stats.iter().filter(|(_, s)| s.role == RoleKind::Leader).map(|(id, s)| (*id, s.ballot)).max_by_key(|(_, b)| *b)
}

/// The family's figures for a row.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ConsensusMetrics {
    /// Client commands in the decided log (as counted by the replica that applied most).
    pub commands: Option<u64>,
    /// Slots decided (agreement checker).
    pub slots: Option<u64>,
    pub batch_size_mean: Option<f64>,
    pub batch_size_max: Option<u64>,
    pub messages_per_command: Option<f64>,
    pub log_syncs_per_command: Option<f64>,
    pub leader_changes: Option<u64>,
    /// Per leader kill: the window until a new leader's first answer (`None`: none came).
    pub unavailable: Vec<Option<Duration>>,
    pub catchups: Option<u64>,
    pub catchup_max: Option<Duration>,
    /// Slots whose value was compared across logs.
    pub agreement_slots: Option<u64>,
    pub linearizability: Option<Linearizability>,
}

/// The linearizability checker's verdict, as a row shows it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Linearizability {
    /// `ok`, `violation`, `partial` (no violation, but some keys were not checked: the
    /// history kept a sample of the keys, or the search ran out of time), `none` (nothing
    /// recorded).
    pub verdict: &'static str,
    pub ops: u64,
    pub keys_checked: u64,
    pub keys_unchecked: u64,
    pub keys_fraction: f64,
}

/// Runs the linearizability checker over `recorded` for at most `budget`.
pub fn check_history(recorded: &Recorded, budget: Duration) -> (Linearizability, LinReport) {
    let report = linearizability::check(&recorded.ops, std::time::Instant::now() + budget);
    let verdict = if report.violations > 0 {
        "violation"
    } else if report.keys_checked == 0 {
        "none"
    } else if report.keys_unchecked > 0 || recorded.keys_fraction < 1.0 {
        "partial"
    } else {
        "ok"
    };
    let lin = Linearizability {
        verdict,
        ops: report.ops,
        keys_checked: report.keys_checked,
        keys_unchecked: report.keys_unchecked,
        keys_fraction: recorded.keys_fraction,
    };
    (lin, report)
}

/// Paxos as the shared [`ProtocolSystem`] runs it: the clients' history (for the
/// linearizability checker) and what the failover events saw.
pub struct Paxos<B> {
    history: Arc<History>,
    failover: Arc<Failover>,
    backend: PhantomData<fn() -> B>,
}

/// The consensus family's system under test.
pub type ConsensusSystem<B> = ProtocolSystem<Paxos<B>>;

/// The replica leading now, looking for up to [`FIND_LEADER_TIMEOUT`].
async fn leader(backend: &impl ConsensusBackend) -> Result<(PeerId, Ballot), ProtocolError> {
    let deadline = tokio::time::Instant::now() + FIND_LEADER_TIMEOUT;
    loop {
        if let Some(found) = leader_of(&backend.poll(Duration::from_millis(200)).await) {
            return Ok(found);
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(ProtocolError::Cluster(format!("no replica led within {FIND_LEADER_TIMEOUT:?}")));
        }
        tokio::time::sleep(SETTLE_POLL).await;
    }
}

/// The first replica that answers and does not lead.
async fn follower(backend: &impl ConsensusBackend) -> Result<PeerId, ProtocolError> {
    let stats = backend.poll(Duration::from_millis(200)).await;
    let leader = leader_of(&stats).map(|(id, _)| id);
    stats
        .keys()
        .copied()
        .find(|id| Some(*id) != leader)
        .ok_or_else(|| ProtocolError::Cluster("no follower answered".into()))
}

fn replica(params: &ConsensusParams, node: u32) -> Result<PeerId, ProtocolError> {
    let replicas = params.replicas;
    if node < replicas {
        Ok(node)
    } else {
        Err(ProtocolError::Cluster(format!("there is no replica {node} (the run has {replicas})")))
    }
}

impl<B: ConsensusBackend> Protocol for Paxos<B> {
    type Backend = B;
    type Worker = ConsensusWorker<B::Endpoint>;
    type Action = ConsensusAction;

    fn new(backend: &B, workload: &Workload) -> Self {
        Paxos {
            history: History::new(backend.params().history_ops as usize, workload.shape.workers()),
            failover: Arc::default(),
            backend: PhantomData,
        }
    }

    fn worker(&self, run: &Run<B>, index: u32) -> Self::Worker {
        let params = run.params();
        let config = ClientConfig {
            replicas: params.replicas,
            value_size: run.workload.value_size_bytes as usize,
            attempt_timeout: params.attempt_timeout(),
            client_timeout: params.client_timeout,
        };
        let endpoint = run.backend.client(index);
        ConsensusWorker::new(endpoint, config, index, self.history.recorder(), Arc::clone(&self.failover))
    }

    fn own(action: EventAction) -> Option<ConsensusAction> {
        if let EventAction::Consensus(action) = action { Some(action) } else { None }
    }

    fn partitioned(&self, run: &Run<B>, node: u32) -> Result<(PeerId, String), ProtocolError> {
        let id = replica(run.params(), node)?;
        Ok((id, format!("cut off replica {id}")))
    }

    async fn apply(&self, run: &Run<B>, action: ConsensusAction) -> Result<String, ProtocolError> {
        let backend = &*run.backend;
        match action {
            ConsensusAction::KillLeader { restart_after } => {
                let (id, ballot) = leader(backend).await?;
                self.failover.killed(ballot);
                backend.kill(id, restart_after)?;
                Ok(format!("killed replica {id}, the leader (ballot {ballot})"))
            }
            ConsensusAction::KillFollower { node, restart_after } => {
                let id = match node {
                    Some(node) => replica(run.params(), node)?,
                    None => follower(backend).await?,
                };
                backend.kill(id, restart_after)?;
                Ok(format!("killed replica {id}"))
            }
            ConsensusAction::PartitionLeader { duration } => {
                let (id, ballot) = leader(backend).await?;
                run.change_faults(FaultChange::isolate(id, duration)).await?;
                Ok(format!("cut off replica {id}, the leader (ballot {ballot})"))
            }
            ConsensusAction::Restart { node } => {
                let id = node.map(|n| replica(run.params(), n)).transpose()?;
                backend.restart(id)?;
                Ok(id.map_or("restarting every replica that is down".into(), |id| format!("restarting replica {id}")))
            }
        }
    }

    fn metrics(&self, run: &Run<B>, finished: Finished) -> FamilyMetrics {
        let agreement = check::agreement(&finished.logs).unwrap_or_else(|error| AgreementReport {
            violations: 1,
            described: vec![format!("cannot read a replica's log: {error}")],
            ..AgreementReport::default()
        });
        let (lin, lin_report) = check_history(&self.history.finish(), run.params().check_timeout);
        let mut metrics = replica_metrics(&finished, &agreement);
        metrics.unavailable = self.failover.windows();
        metrics.linearizability = Some(lin);
        let mut notes = finished.notes.clone();
        if !finished.settled {
            notes.push(format!("the replicas did not converge within {SETTLE_TIMEOUT:?} after the run"));
        }
        notes.extend(agreement.described.iter().chain(&lin_report.described).cloned());
        // Paxos promises agreement and linearizable answers under every fault it is
        // tested with: crashes, loss, delay and partitions may stall it, never split it.
        FamilyMetrics::safety_checked(agreement.violations + lin_report.violations, notes).with_columns(metrics)
    }
}

/// The protocol's figures from the replicas' counters and the agreement checker.
fn replica_metrics(finished: &Finished, agreement: &AgreementReport) -> ConsensusMetrics {
    let mut total = CounterValues::default();
    for counters in finished.stats.values() {
        total.merge(counters);
    }
    let commands = finished.stats.values().map(|c| c.commands_applied).max().unwrap_or(0);
    let per_command = |count: u64| (commands > 0).then(|| count as f64 / commands as f64);
    ConsensusMetrics {
        commands: Some(commands),
        slots: Some(agreement.slots),
        batch_size_mean: (total.slots_proposed > 0)
            .then(|| total.commands_proposed as f64 / total.slots_proposed as f64),
        batch_size_max: Some(total.batch_max),
        // Each command's request comes from a client, which no replica counts.
        messages_per_command: per_command(total.runtime.messages_sent + commands),
        log_syncs_per_command: per_command(total.runtime.syncs),
        leader_changes: Some(total.elections_won.saturating_sub(1)),
        unavailable: Vec::new(),
        catchups: Some(total.catchups),
        catchup_max: (total.catchups > 0).then(|| Duration::from_micros(total.catchup_us_max)),
        agreement_slots: Some(agreement.compared),
        linearizability: None,
    }
}
