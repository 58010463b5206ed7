//! The driver's [`System`] for any message-driven protocol: a [`ProtocolSystem`] over a
//! [`Backend`] (the family's in-process nodes or its node processes), generic over the
//! [`Protocol`] — what the family adds: its workers, its events, its checkers and metrics.
//!
//! What is the same for every protocol lives here once: the backend's shared operations
//! (parameters, message faults, the end of a run), the shared message faults
//! (`message-loss`, `message-delay`, `partition`, `heal`, and any family action that cuts a
//! node off) with the timers that end them ([`Run::change_faults`]), the event's report, and
//! the row of a run whose nodes could not be checked. A family's [`Protocol::apply`] sees
//! only its own actions.

use super::{Family, FinishedOf, ProtocolError};
use crate::target::{EventReport, EventStatus, FamilyMetrics, System, Worker};
use crate::transport::faults::{FaultChange, FaultConfig, FaultState};
use crate::transport::{Endpoint, PeerId};
use std::future::Future;
use std::sync::Arc;
use workloads::{Event, EventAction, Fault, Workload};

/// Where a protocol's nodes run: in-process ([`Inproc`](super::inproc::Inproc)) or as
/// processes ([`Processes`](super::net::Processes)). The family's own operations (crashes at
/// protocol points, kills, polls) are in the family's extension of this trait.
pub trait Backend: Send + Sync + 'static {
    /// The family whose nodes these are.
    type Family: Family;
    /// A driver worker's attachment to the nodes.
    type Endpoint: Endpoint<<Self::Family as Family>::Msg>;

    /// The run's parameters.
    fn params(&self) -> &<Self::Family as Family>::Params;

    /// Replaces the message faults in force.
    fn set_faults(&self, faults: FaultConfig) -> impl Future<Output = Result<(), ProtocolError>> + Send;

    /// After the run: restart what is down, clear faults, wait until the nodes settle, stop
    /// every node cleanly, read the logs.
    fn finish(&self) -> Result<FinishedOf<Self::Family>, ProtocolError>;
}

/// What one protocol family adds to the shared [`ProtocolSystem`].
pub trait Protocol: Sized + Send + Sync + 'static {
    /// Where its nodes run.
    type Backend: Backend;
    /// A driver worker: one client session.
    type Worker: Worker;
    /// The family's own event actions.
    type Action: Send;

    /// The family's state for a run over `backend` for `workload` (what its workers record
    /// for the checkers).
    fn new(backend: &Self::Backend, workload: &Workload) -> Self;

    /// The handle for driver worker `index`.
    fn worker(&self, run: &Run<Self::Backend>, index: u32) -> Self::Worker;

    /// Node `node` of a `partition` event (an index among the nodes it may cut off): its id,
    /// and what to say in the event's row.
    fn partitioned(&self, run: &Run<Self::Backend>, node: u32) -> Result<(PeerId, String), ProtocolError>;

    /// The family's own action in `action`, if it is one.
    fn own(action: EventAction) -> Option<Self::Action>;

    /// Applies one of the family's own actions (shared faults are applied by
    /// [`ProtocolSystem`]); what was done, for the event's row (empty: nothing to say).
    fn apply(
        &self,
        run: &Run<Self::Backend>,
        action: Self::Action,
    ) -> impl Future<Output = Result<String, ProtocolError>> + Send;

    /// The family's metrics and the checkers' verdict over what the nodes left.
    fn metrics(
        &self,
        run: &Run<Self::Backend>,
        finished: FinishedOf<<Self::Backend as Backend>::Family>,
    ) -> FamilyMetrics;

    /// The error for an event the family has no meaning for.
    fn unsupported(action: EventAction) -> ProtocolError {
        ProtocolError::Unsupported {
            family: <<Self::Backend as Backend>::Family as Family>::NAME,
            event: action.label(),
        }
    }
}

/// What every protocol's events and workers share during a run: the backend, the workload,
/// and the message faults in force.
pub struct Run<B: Backend> {
    pub backend: Arc<B>,
    pub workload: Workload,
    faults: FaultState,
}

impl<B: Backend> Run<B> {
    /// The run's parameters.
    pub fn params(&self) -> &<B::Family as Family>::Params {
        self.backend.params()
    }

    /// Makes a change to the message faults in force, and undoes it when its duration is up.
    pub async fn change_faults(&self, change: FaultChange) -> Result<(), ProtocolError> {
        let backend = Arc::clone(&self.backend);
        self.faults.change(change, move |config| set_faults(Arc::clone(&backend), config)).await
    }
}

async fn set_faults<B: Backend>(backend: Arc<B>, config: FaultConfig) -> Result<(), ProtocolError> {
    backend.set_faults(config).await
}

/// A protocol family's system under test.
pub struct ProtocolSystem<P: Protocol> {
    run: Run<P::Backend>,
    protocol: P,
}

impl<P: Protocol> ProtocolSystem<P> {
    /// A system over `backend` for `workload`.
    pub fn new(backend: P::Backend, workload: &Workload) -> Self {
        let protocol = P::new(&backend, workload);
        let run = Run { backend: Arc::new(backend), workload: workload.clone(), faults: FaultState::default() };
        ProtocolSystem { run, protocol }
    }

    /// Applies a shared fault: a message fault through the transport, for as long as it lasts;
    /// a server fault is not for a protocol family.
    async fn apply_fault(&self, fault: Fault) -> Result<String, ProtocolError> {
        let (isolate, said) = match fault {
            Fault::Partition { node, .. } => {
                let (id, said) = self.protocol.partitioned(&self.run, node)?;
                (Some(id), said)
            }
            _ => (None, String::new()),
        };
        let change = FaultChange::of(&fault, isolate).ok_or_else(|| P::unsupported(EventAction::Fault(fault)))?;
        self.run.change_faults(change).await?;
        Ok(said)
    }
}

impl<P: Protocol> System for ProtocolSystem<P> {
    type Worker = P::Worker;

    fn worker(&self, index: u32) -> Self::Worker {
        self.protocol.worker(&self.run, index)
    }

    async fn apply_event(&self, event: &Event) -> EventReport {
        let applied = match event.action {
            EventAction::Fault(fault) => self.apply_fault(fault).await,
            action => match P::own(action) {
                Some(own) => self.protocol.apply(&self.run, own).await,
                None => Err(P::unsupported(action)),
            },
        };
        match applied {
            Ok(message) => {
                EventReport { status: EventStatus::Ok, message: (!message.is_empty()).then_some(message), resize: None }
            }
            Err(error @ ProtocolError::Unsupported { .. }) => EventReport::unsupported(error.to_string()),
            Err(error) => EventReport { status: EventStatus::Error, message: Some(error.to_string()), resize: None },
        }
    }

    fn metrics(&self) -> FamilyMetrics {
        match self.run.backend.finish() {
            Ok(finished) => self.protocol.metrics(&self.run, finished),
            Err(error) => {
                FamilyMetrics { notes: vec![format!("cannot check the run: {error}")], ..FamilyMetrics::default() }
            }
        }
    }
}
