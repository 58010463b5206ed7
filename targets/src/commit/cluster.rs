//! The in-process commit cluster: every coordinator and participant is a task on one tokio
//! runtime, each with its own log, run by the shared [`transport::cluster`](crate::transport::cluster)
//! (slots that outlast incarnations, crashes and restarts from the log).
//!
//! This module adds what is particular to two-phase commit to the shared in-process backend
//! ([`protocol::inproc`](crate::protocol::inproc)): which nodes there are ([`Role`]), crashes
//! at protocol points, the nodes' statistics, and the end of a run — bring everything back
//! and wait until no transaction is unfinished ([`settle`]).

use super::check::Logs;
use super::coordinator::{Coordinator, CoordinatorConfig};
use super::params::CommitParams;
use super::participant::{Participant, ParticipantConfig};
use super::system::{CommitBackend, Finished};
use super::{Commit, CoordinatorRecord, CrashPoint, Msg, NodeStats, ParticipantRecord, ProtocolCounters};
use crate::protocol::ProtocolError;
use crate::protocol::inproc::{Inproc, InprocFamily, Nodes};
use crate::transport::cluster::{self as generic, Incarnation};
use crate::transport::codec::decode_all;
use crate::transport::faults::FaultConfig;
use crate::transport::inproc::InprocEndpoint;
use crate::transport::log::Log;
use crate::transport::runtime::{self, Stopped};
use crate::transport::{Endpoint, NodeRecords, PeerId};
use std::collections::BTreeMap;
use std::future::Future;
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
    type Error = ProtocolError;

    fn id(&self) -> PeerId {
        match self {
            Role::Coordinator(c) => c.id,
            Role::Participant(p) => p.id,
        }
    }

    async fn run<E: Endpoint<Msg>, L: Log>(
        &self,
        start: Incarnation<'_, E, L, ProtocolCounters>,
    ) -> Result<Stopped, ProtocolError> {
        let Incarnation { records, wiring, counters: protocol } = start;
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
pub fn logs_of(params: &CommitParams, records: NodeRecords) -> Result<Logs, ProtocolError> {
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

/// The coordinators and participants of one run, in-process.
pub type Cluster = Nodes<Commit>;

impl Nodes<Commit> {
    /// Starts every node on `handle`; message faults draw from `seed`.
    pub fn start(params: CommitParams, logs: &LogKind, seed: u64, handle: &Handle) -> Result<Self, ProtocolError> {
        Nodes::with_roles(params, roles(&params), logs, seed, handle)
    }

    /// Arms node `id` to crash at `point`, restarting `restart_after` later (or when every
    /// node is brought back).
    pub async fn crash(
        &self,
        id: PeerId,
        point: CrashPoint,
        restart_after: Option<Duration>,
    ) -> Result<(), ProtocolError> {
        if point == CrashPoint::Now {
            return Ok(self.cluster().crash(id, restart_after)?);
        }
        self.cluster().arm_restart(id, restart_after)?;
        self.cluster().control().await.send(id, Msg::ArmCrash { point });
        Ok(())
    }

    /// Every node's counters as kept by its slot (across incarnations), with `pending` from
    /// `last_poll`.
    pub fn totals(&self, last_poll: &BTreeMap<PeerId, NodeStats>) -> BTreeMap<PeerId, NodeStats> {
        self.cluster()
            .slots()
            .iter()
            .map(|slot| {
                let pending = last_poll.get(&slot.id()).map_or(0, |s| s.pending);
                (slot.id(), NodeStats::snapshot(slot.runtime(), slot.protocol(), pending))
            })
            .collect()
    }

    /// Shuts every node down cleanly (logs synced) and reads every log.
    pub async fn shutdown(&self) -> Result<Logs, ProtocolError> {
        logs_of(self.params(), self.cluster().shutdown().await?)
    }
}

/// How long the end of a run waits for every transaction to finish after every node is
/// back and every fault cleared.
pub const SETTLE_TIMEOUT: Duration = Duration::from_secs(10);
/// How often it looks.
const SETTLE_POLL: Duration = Duration::from_millis(20);

/// The in-process backend: a [`Cluster`] on its own thread.
pub type InprocCluster = Inproc<Commit>;

impl Inproc<Commit> {
    /// Starts the nodes on a new cluster thread.
    pub fn start(params: CommitParams, logs: &LogKind, seed: u64) -> Result<Self, ProtocolError> {
        Inproc::on_thread("commit-cluster", |handle| Cluster::start(params, logs, seed, handle))
    }
}

impl InprocFamily for Commit {
    type Role = Role;

    fn settle(nodes: &Cluster) -> impl Future<Output = Result<Finished, ProtocolError>> + Send {
        settle(nodes)
    }
}

/// Brings every node back, clears faults, and waits (bounded by [`SETTLE_TIMEOUT`]) until no
/// transaction is left unfinished; then stops every node and reads the logs.
pub async fn settle(cluster: &Cluster) -> Result<Finished, ProtocolError> {
    cluster.network().faults().set(FaultConfig::default());
    let deadline = tokio::time::Instant::now() + SETTLE_TIMEOUT;
    let mut last = BTreeMap::new();
    let mut settled = false;
    while tokio::time::Instant::now() < deadline {
        cluster.cluster().restart_all();
        last = cluster.poll(Duration::from_millis(200)).await;
        let expected = (cluster.params().participants + cluster.params().coordinators) as usize;
        if cluster.cluster().all_up() && last.len() == expected && last.values().all(|s| s.pending == 0) {
            settled = true;
            break;
        }
        tokio::time::sleep(SETTLE_POLL).await;
    }
    let stats = cluster.totals(&last);
    let logs = cluster.shutdown().await?;
    Ok(Finished { logs, stats, settled, notes: Vec::new() })
}

impl CommitBackend for InprocCluster {
    fn client(&self, worker: u32, _coordinator: PeerId) -> InprocEndpoint<Msg> {
        self.nodes().client(worker)
    }

    async fn crash(&self, id: PeerId, point: CrashPoint, restart_after: Option<Duration>) -> Result<(), ProtocolError> {
        self.nodes().crash(id, point, restart_after).await
    }
}
