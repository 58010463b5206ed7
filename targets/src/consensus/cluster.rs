//! The in-process replicas: each a task on one tokio runtime, with its own log, run by the
//! shared [`transport::cluster`](crate::transport::cluster) (slots that outlast incarnations,
//! kills and restarts from the log). [`InprocReplicas`] puts them on their own thread, as the
//! driver needs; tests run a [`Replicas`] on their paused-clock runtime.

use super::params::{ConsensusParams, LogChoice};
use super::replica::{Replica, ReplicaConfig, ReplicaCounters};
use super::system::{ConsensusBackend, Finished, settle};
use super::{Consensus, Msg, PaxosMode, ReplicaStats};
use crate::protocol::ProtocolError;
use crate::protocol::inproc::{Inproc, InprocFamily, Nodes};
use crate::transport::cluster::{self as generic, Incarnation, LogKind};
use crate::transport::faults::FaultConfig;
use crate::transport::inproc::InprocEndpoint;
use crate::transport::log::Log;
use crate::transport::runtime::{self, Stopped};
use crate::transport::{Endpoint, PeerId, TransportError};
use std::collections::BTreeMap;
use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::runtime::Handle;

/// A replica as the transport's clusters and node processes run it.
#[derive(Clone, Copy, Debug)]
pub struct ReplicaRole(pub ReplicaConfig);

impl generic::Role for ReplicaRole {
    type Msg = Msg;
    type Counters = ReplicaCounters;
    type Error = TransportError;

    fn id(&self) -> PeerId {
        self.0.id
    }

    async fn run<E: Endpoint<Msg>, L: Log>(
        &self,
        start: Incarnation<'_, E, L, ReplicaCounters>,
    ) -> Result<Stopped, TransportError> {
        let Incarnation { records, wiring, counters } = start;
        let replica = Replica::recover(self.0, records, Arc::clone(&wiring.counters), counters)?;
        Ok(runtime::run(replica, wiring).await)
    }
}

/// Replica `id`'s settings for a run.
pub fn replica_config(params: &ConsensusParams, mode: PaxosMode, id: PeerId, seed: u64) -> ReplicaConfig {
    ReplicaConfig {
        id,
        replicas: params.replicas,
        mode,
        heartbeat_every: params.heartbeat,
        election_timeout: params.election_timeout,
        lease_reads: params.lease_reads,
        max_batch: params.max_batch as usize,
        window: params.window as usize,
        seed,
    }
}

/// Where in-process replicas keep their logs: in memory, or files under `dir`.
pub fn log_kind(params: &ConsensusParams, dir: &Path) -> LogKind {
    match params.log {
        LogChoice::Memory => LogKind::Memory,
        LogChoice::File => LogKind::File { dir: dir.to_path_buf(), fsync: false },
        LogChoice::Fsync => LogKind::File { dir: dir.to_path_buf(), fsync: true },
    }
}

/// The replicas of one run, in-process.
pub type Replicas = Nodes<Consensus>;

impl Nodes<Consensus> {
    /// Starts every replica on `handle`; elections and message faults draw from `seed`.
    pub fn start(
        params: ConsensusParams,
        mode: PaxosMode,
        logs: &LogKind,
        seed: u64,
        handle: &Handle,
    ) -> Result<Self, ProtocolError> {
        let roles = (0..params.replicas).map(|id| ReplicaRole(replica_config(&params, mode, id, seed))).collect();
        Nodes::with_roles(params, roles, logs, seed, handle)
    }

    /// Kills replica `id`; it restarts `restart_after` later, or when asked.
    pub fn kill(&self, id: PeerId, restart_after: Option<Duration>) -> Result<(), ProtocolError> {
        Ok(self.cluster().crash(id, restart_after)?)
    }

    /// Clears the faults, brings every replica back, waits until they converge, stops them
    /// cleanly and reads their logs.
    pub async fn finish(&self) -> Result<Finished, ProtocolError> {
        self.network().faults().set(FaultConfig::default());
        let restart_all = || self.cluster().restart_all();
        let (settled, _) = settle(self.params().replicas, || self.poll(Duration::from_millis(200)), restart_all).await;
        let slots = self.cluster().slots();
        let stats = slots.iter().map(|slot| (slot.id(), slot.protocol().values(slot.runtime()))).collect();
        let logs = self.cluster().shutdown().await?;
        Ok(Finished { logs, stats, settled, notes: Vec::new() })
    }
}

/// The in-process backend: [`Replicas`] on their own thread.
pub type InprocReplicas = Inproc<Consensus>;

impl Inproc<Consensus> {
    /// Starts the replicas on a new thread.
    pub fn start(params: ConsensusParams, mode: PaxosMode, logs: &LogKind, seed: u64) -> Result<Self, ProtocolError> {
        Inproc::on_thread("replicas", |handle| Replicas::start(params, mode, logs, seed, handle))
    }
}

impl InprocFamily for Consensus {
    type Role = ReplicaRole;

    fn settle(nodes: &Replicas) -> impl Future<Output = Result<Finished, ProtocolError>> + Send {
        nodes.finish()
    }
}

impl ConsensusBackend for InprocReplicas {
    fn client(&self, worker: u32) -> InprocEndpoint<Msg> {
        self.nodes().client(worker)
    }

    async fn poll(&self, timeout: Duration) -> BTreeMap<PeerId, ReplicaStats> {
        self.nodes().poll(timeout).await
    }

    fn kill(&self, id: PeerId, restart_after: Option<Duration>) -> Result<(), ProtocolError> {
        self.nodes().kill(id, restart_after)
    }

    fn restart(&self, id: Option<PeerId>) -> Result<(), ProtocolError> {
        self.nodes().restart(id)
    }
}
