//! The in-process backend of any protocol family: its nodes ([`Nodes`]: the transport's
//! [`Cluster`](generic::Cluster) of the family's roles, with the run's parameters) on a
//! [`ClusterThread`] of their own ([`Inproc`]), so that they outlive the driver's runtime and
//! the checkers can still talk to them. The deterministic tests run [`Nodes`] on their own
//! paused-clock runtime instead.
//!
//! A family says which roles its nodes play and how a run ends ([`InprocFamily`]); the rest —
//! the clients' endpoints, the message faults, polling every node, restarts — is here.

use super::system::Backend;
use super::{Family, FinishedOf, ProtocolError, poll_stats};
use crate::transport::PeerId;
use crate::transport::cluster::{self as generic, ClusterThread, LogKind};
use crate::transport::faults::FaultConfig;
use crate::transport::inproc::{InprocEndpoint, Network};
use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;
use tokio::runtime::Handle;

/// What a family adds to run in-process.
pub trait InprocFamily: Family {
    /// What its nodes are.
    type Role: generic::Role<Msg = Self::Msg>;

    /// The end of a run: bring every node back, clear faults, wait until the nodes settle,
    /// stop them cleanly and read their logs.
    fn settle(nodes: &Nodes<Self>) -> impl Future<Output = Result<FinishedOf<Self>, ProtocolError>> + Send;
}

/// The nodes of one run of family `F`, in-process.
pub struct Nodes<F: InprocFamily> {
    params: F::Params,
    cluster: generic::Cluster<F::Role>,
}

impl<F: InprocFamily> Nodes<F> {
    /// Starts a node for each of `roles` on `handle`; message faults draw from `seed`.
    pub fn with_roles(
        params: F::Params,
        roles: Vec<F::Role>,
        logs: &LogKind,
        seed: u64,
        handle: &Handle,
    ) -> Result<Self, ProtocolError> {
        Ok(Nodes { params, cluster: generic::Cluster::start(roles, logs, seed, handle)? })
    }

    /// The parameters they run with.
    pub fn params(&self) -> &F::Params {
        &self.params
    }

    /// The transport's cluster underneath (slots, crashes, restarts, the control endpoint).
    pub fn cluster(&self) -> &generic::Cluster<F::Role> {
        &self.cluster
    }

    /// The network (for its fault injector).
    pub fn network(&self) -> &Network<F::Msg> {
        self.cluster.network()
    }

    /// An endpoint for driver worker `worker`.
    pub fn client(&self, worker: u32) -> InprocEndpoint<F::Msg> {
        self.cluster.client(worker)
    }

    /// Every node's statistics, from those that answer within `timeout`.
    pub async fn poll(&self, timeout: Duration) -> BTreeMap<PeerId, <F::Msg as super::Polled>::Stats> {
        poll_stats(&mut *self.cluster.control().await, &self.cluster.ids(), timeout).await
    }

    /// Restarts node `id`, or every node that is down.
    pub fn restart(&self, id: Option<PeerId>) -> Result<(), ProtocolError> {
        match id {
            Some(id) => self.cluster.restart(id)?,
            None => self.cluster.restart_all(),
        }
        Ok(())
    }
}

/// The in-process backend: a family's [`Nodes`] on their own thread.
pub struct Inproc<F: InprocFamily> {
    // Field order is drop order: the nodes' tasks go before their runtime.
    nodes: Nodes<F>,
    thread: ClusterThread,
}

impl<F: InprocFamily> Inproc<F> {
    /// Starts a thread named `name` and the nodes on it with `start`.
    pub fn on_thread(
        name: &str,
        start: impl FnOnce(&Handle) -> Result<Nodes<F>, ProtocolError>,
    ) -> Result<Self, ProtocolError> {
        let thread = ClusterThread::start(name)?;
        let nodes = start(thread.handle())?;
        Ok(Inproc { nodes, thread })
    }

    /// The nodes.
    pub fn nodes(&self) -> &Nodes<F> {
        &self.nodes
    }

    /// Runs `work` on the nodes' runtime, from outside it.
    pub fn block_on<T: Future>(&self, work: T) -> T::Output {
        self.thread.handle().block_on(work)
    }
}

impl<F: InprocFamily> Backend for Inproc<F> {
    type Family = F;
    type Endpoint = InprocEndpoint<F::Msg>;

    fn params(&self) -> &F::Params {
        &self.nodes.params
    }

    async fn set_faults(&self, faults: FaultConfig) -> Result<(), ProtocolError> {
        self.nodes.network().faults().set(faults);
        Ok(())
    }

    fn finish(&self) -> Result<FinishedOf<F>, ProtocolError> {
        self.block_on(F::settle(&self.nodes))
    }
}
