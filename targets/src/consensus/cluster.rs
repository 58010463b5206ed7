//! The in-process replicas: each a task on one tokio runtime, with its own log, run by the
//! shared [`transport::cluster`](crate::transport::cluster) (slots that outlast incarnations,
//! kills and restarts from the log). [`InprocReplicas`] puts them on their own thread, as the
//! driver needs; tests run a [`Replicas`] on their paused-clock runtime.

use super::params::{ConsensusParams, LogChoice};
use super::replica::{Replica, ReplicaConfig, ReplicaCounters};
use super::system::{Backend, Finished, settle};
use super::{ConsensusError, Mode, Msg, ReplicaStats};
use crate::transport::cluster::{self as generic, ClusterThread, LogKind, ask_all};
use crate::transport::faults::FaultConfig;
use crate::transport::inproc::{InprocEndpoint, Network};
use crate::transport::log::Log;
use crate::transport::runtime::{self, Stopped, Wiring};
use crate::transport::{Endpoint, NodeId, TransportError};
use std::collections::BTreeMap;
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

    fn id(&self) -> NodeId {
        self.0.id
    }

    async fn run<E: Endpoint<Msg>, L: Log>(
        &self,
        records: &[Vec<u8>],
        wiring: Wiring<E, L>,
        counters: Arc<ReplicaCounters>,
    ) -> Result<Stopped, TransportError> {
        let replica = Replica::recover(self.0, records, Arc::clone(&wiring.counters), counters)?;
        Ok(runtime::run(replica, wiring).await)
    }
}

/// Replica `id`'s settings for a run.
pub fn replica_config(params: &ConsensusParams, mode: Mode, id: NodeId, seed: u64) -> ReplicaConfig {
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
pub struct Replicas {
    params: ConsensusParams,
    nodes: generic::Cluster<ReplicaRole>,
}

impl Replicas {
    /// Starts every replica on `handle`; elections and message faults draw from `seed`.
    pub fn start(
        params: ConsensusParams,
        mode: Mode,
        logs: &LogKind,
        seed: u64,
        handle: &Handle,
    ) -> Result<Self, ConsensusError> {
        let roles = (0..params.replicas).map(|id| ReplicaRole(replica_config(&params, mode, id, seed))).collect();
        Ok(Replicas { params, nodes: generic::Cluster::start(roles, logs, seed, handle)? })
    }

    /// The parameters they run with.
    pub fn params(&self) -> &ConsensusParams {
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

    /// Every replica's state, from those that answer within `timeout`.
    pub async fn poll(&self, timeout: Duration) -> BTreeMap<NodeId, ReplicaStats> {
        let stats = |msg| if let Msg::Stats(s) = msg { Some(s) } else { None };
        ask_all(&mut *self.nodes.control().await, &self.nodes.ids(), Msg::StatsRequest, stats, timeout).await
    }

    /// Kills replica `id`; it restarts `restart_after` later, or when asked.
    pub fn kill(&self, id: NodeId, restart_after: Option<Duration>) -> Result<(), ConsensusError> {
        Ok(self.nodes.crash(id, restart_after)?)
    }

    /// Restarts replica `id`, or every replica that is down.
    pub fn restart(&self, id: Option<NodeId>) -> Result<(), ConsensusError> {
        match id {
            Some(id) => Ok(self.nodes.restart(id)?),
            None => {
                self.nodes.restart_all();
                Ok(())
            }
        }
    }

    /// Clears the faults, brings every replica back, waits until they converge, stops them
    /// cleanly and reads their logs.
    pub async fn finish(&self) -> Result<Finished, ConsensusError> {
        self.network().faults().set(FaultConfig::default());
        let (settled, _) =
            settle(self.params.replicas, || self.poll(Duration::from_millis(200)), || self.nodes.restart_all()).await;
        let counters =
            self.nodes.slots().iter().map(|slot| (slot.id(), slot.protocol().values(slot.runtime()))).collect();
        let records = self.nodes.shutdown().await?;
        Ok(Finished { records, counters, settled, notes: Vec::new() })
    }
}

/// The in-process backend: [`Replicas`] on their own [`ClusterThread`].
pub struct InprocReplicas {
    // Field order is drop order: the replicas' tasks go before their runtime.
    replicas: Replicas,
    thread: ClusterThread,
}

impl InprocReplicas {
    /// Starts the replicas on a new thread.
    pub fn start(params: ConsensusParams, mode: Mode, logs: &LogKind, seed: u64) -> Result<Self, ConsensusError> {
        let thread = ClusterThread::start("replicas")?;
        let replicas = Replicas::start(params, mode, logs, seed, thread.handle())?;
        Ok(InprocReplicas { replicas, thread })
    }
}

impl Backend for InprocReplicas {
    type Endpoint = InprocEndpoint<Msg>;

    fn params(&self) -> &ConsensusParams {
        self.replicas.params()
    }

    fn client(&self, worker: u32) -> InprocEndpoint<Msg> {
        self.replicas.client(worker)
    }

    async fn poll(&self, timeout: Duration) -> BTreeMap<NodeId, ReplicaStats> {
        self.replicas.poll(timeout).await
    }

    fn kill(&self, id: NodeId, restart_after: Option<Duration>) -> Result<(), ConsensusError> {
        self.replicas.kill(id, restart_after)
    }

    fn restart(&self, id: Option<NodeId>) -> Result<(), ConsensusError> {
        self.replicas.restart(id)
    }

    async fn set_faults(&self, faults: FaultConfig) -> Result<(), ConsensusError> {
        self.replicas.network().faults().set(faults);
        Ok(())
    }

    fn finish(&self) -> Result<Finished, ConsensusError> {
        self.thread.handle().block_on(self.replicas.finish())
    }
}
