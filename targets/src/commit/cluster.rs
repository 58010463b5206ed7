//! The in-process commit cluster: every coordinator and participant is a task on one tokio
//! runtime, each with its own log, run by the shared [`transport::cluster`](crate::transport::cluster)
//! (slots that outlast incarnations, crashes and restarts from the log).
//!
//! This module adds what is particular to two-phase commit: which nodes there are
//! ([`Role`]), crashes at protocol points, the nodes' statistics, and the end of a run —
//! bring everything back and wait until no transaction is unfinished ([`settle`]).

use super::check::Logs;
use super::coordinator::{Coordinator, CoordinatorConfig};
use super::params::CommitParams;
use super::participant::{Participant, ParticipantConfig};
use super::{CommitError, CoordinatorRecord, Msg, NodeStats, ParticipantRecord, ProtocolCounters};
use crate::transport::cluster::{self as generic, ClusterThread, ask_all};
use crate::transport::codec::decode_all;
use crate::transport::inproc::{InprocEndpoint, Network};
use crate::transport::log::Log;
use crate::transport::runtime::{self, Stopped, Wiring};
use crate::transport::{Endpoint, NodeId, NodeRecords};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::runtime::Handle;

pub use crate::transport::cluster::{CONTROL_CLIENT, LogKind};

/// What a node is: the one place that turns a role and its log into a running node, for
/// in-process slots and node processes alike.
#[derive(Clone, Copy, Debug)]
pub enum Role {
    Coordinator(CoordinatorConfig),
    Participant(ParticipantConfig),
}

impl generic::Role for Role {
    type Msg = Msg;
    type Counters = ProtocolCounters;
    type Error = CommitError;

    fn id(&self) -> NodeId {
        match self {
            Role::Coordinator(c) => c.id,
            Role::Participant(p) => p.id,
        }
    }

    async fn run<E: Endpoint<Msg>, L: Log>(
        &self,
        records: &[Vec<u8>],
        wiring: Wiring<E, L>,
        protocol: Arc<ProtocolCounters>,
    ) -> Result<Stopped, CommitError> {
        let counters = Arc::clone(&wiring.counters);
        Ok(match *self {
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

/// Every node of a run: participants first, then coordinators.
pub fn roles(params: &CommitParams) -> Vec<Role> {
    (0..params.participants)
        .map(|i| Role::Participant(participant_config(params, i)))
        .chain((0..params.coordinators).map(|i| Role::Coordinator(coordinator_config(params, i))))
        .collect()
}

/// Decodes every node's records into the checkers' [`Logs`].
pub fn logs_of(params: &CommitParams, records: NodeRecords) -> Result<Logs, CommitError> {
    let mut logs = Logs::default();
    for (id, bytes) in records {
        if id >= params.coordinator_id(0) {
            logs.coordinators.push((id, decode_all::<CoordinatorRecord>(&bytes)?));
        } else {
            logs.participants.push((id, decode_all::<ParticipantRecord>(&bytes)?));
        }
    }
    Ok(logs)
}

/// Asks nodes `ids` for their statistics over `endpoint`; those that do not answer within
/// `timeout` are missing from the answer.
pub async fn poll_stats<E: Endpoint<Msg>>(
    endpoint: &mut E,
    ids: &[NodeId],
    timeout: Duration,
) -> BTreeMap<NodeId, NodeStats> {
    let stats = |msg| if let Msg::Stats(s) = msg { Some(s) } else { None };
    ask_all(endpoint, ids, Msg::StatsRequest, stats, timeout).await
}

/// The coordinators and participants of one run, in-process.
pub struct Cluster {
    params: CommitParams,
    nodes: generic::Cluster<Role>,
}

impl Cluster {
    /// Starts every node on `handle`; message faults draw from `seed`.
    pub fn start(params: CommitParams, logs: &LogKind, seed: u64, handle: &Handle) -> Result<Self, CommitError> {
        Ok(Cluster { params, nodes: generic::Cluster::start(roles(&params), logs, seed, handle)? })
    }

    /// The parameters it was started with.
    pub fn params(&self) -> &CommitParams {
        &self.params
    }

    /// The network (for its fault injector).
    pub fn network(&self) -> &Network<Msg> {
        self.nodes.network()
    }

    /// An endpoint for driver worker `worker`.
    pub fn client(&self, worker: u32) -> InprocEndpoint<Msg> {
        self.nodes.client(worker)
    }

    /// Arms node `id` to crash at `point`, restarting `restart_after` later (or at
    /// [`Cluster::restart_all`]).
    pub async fn crash(
        &self,
        id: NodeId,
        point: super::CrashPoint,
        restart_after: Option<Duration>,
    ) -> Result<(), CommitError> {
        if point == super::CrashPoint::Now {
            return Ok(self.nodes.crash(id, restart_after)?);
        }
        self.nodes.arm_restart(id, restart_after)?;
        self.nodes.control().await.send(id, Msg::ArmCrash { point });
        Ok(())
    }

    /// Restarts every node that is down.
    pub fn restart_all(&self) {
        self.nodes.restart_all();
    }

    /// Whether every node is up.
    pub fn all_up(&self) -> bool {
        self.nodes.all_up()
    }

    /// Asks every node for its statistics; nodes that do not answer within `timeout` are
    /// missing from the answer.
    pub async fn poll_stats(&self, timeout: Duration) -> BTreeMap<NodeId, NodeStats> {
        poll_stats(&mut *self.nodes.control().await, &self.nodes.ids(), timeout).await
    }

    /// Every node's counters as kept by its slot (across incarnations), with `pending` from
    /// `last_poll`.
    pub fn totals(&self, last_poll: &BTreeMap<NodeId, NodeStats>) -> BTreeMap<NodeId, NodeStats> {
        self.nodes
            .slots()
            .iter()
            .map(|slot| {
                let pending = last_poll.get(&slot.id()).map_or(0, |s| s.pending);
                (slot.id(), NodeStats::snapshot(slot.runtime(), slot.protocol(), pending))
            })
            .collect()
    }

    /// Shuts every node down cleanly (logs synced) and reads every log.
    pub async fn shutdown(&self) -> Result<Logs, CommitError> {
        logs_of(&self.params, self.nodes.shutdown().await?)
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
        let thread = ClusterThread::start("commit-cluster")?;
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
