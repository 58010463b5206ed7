//! The in-process version: balancers in front of simulated backends, run under the driver's
//! virtual clock.
//!
//! A simulated backend serves a request by waiting for one of its `capacity` slots (requests
//! beyond it queue, first come first served), then sleeping for a latency drawn from its
//! model (times its slowdown factor), then failing with probability `error_rate`. Sleeps are
//! tokio timers, so under paused time a minute of load takes as long as the bookkeeping, and
//! the run is deterministic: one thread, seeded random streams, no wall clock.
//!
//! Each driver worker uses balancer instance `worker mod balancers`; with several instances
//! each sees only its own requests in flight, as independent proxies do (herding). Faults
//! are events: `slow-node` multiplies a backend's latency, `restore-node` ends a slowdown or
//! revives a killed backend, `kill-node` makes it refuse every request at once.

use super::{BackendSpec, Balancer, BalancingError, BalancingParams, Selector};
use crate::hashing::workload_key_hash;
use crate::target::{EventReport, EventStatus, FamilyMetrics, Op, OpError, OpResult, System, Worker};
use rand::Rng as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;
use tokio::sync::Semaphore;
use workloads::rng::{Stream, stream_rng};
use workloads::{Event, EventAction, WorkloadRng};

/// The clock of the simulation: tokio's, which the driver pauses for in-process runs.
fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

/// One simulated backend.
pub struct SimBackend {
    spec: BackendSpec,
    slots: Option<Semaphore>,
    /// The slowdown factor, in thousandths (1000 = normal speed).
    slowdown_milli: AtomicU64,
    killed: AtomicBool,
}

impl SimBackend {
    /// A backend as `spec` describes it.
    pub fn new(spec: BackendSpec) -> Self {
        SimBackend {
            spec,
            slots: spec.capacity.map(|c| Semaphore::new(c as usize)),
            slowdown_milli: AtomicU64::new(1000),
            killed: AtomicBool::new(false),
        }
    }

    /// Serves one request.
    pub async fn serve(&self, rng: &mut WorkloadRng) -> OpResult {
        if self.killed.load(Ordering::Relaxed) {
            return Err(OpError { kind: "refused", detail: Some("the backend is down (kill-node)".into()) });
        }
        let _slot = match &self.slots {
            Some(slots) => Some(slots.acquire().await.expect("the semaphore is never closed")),
            None => None,
        };
        let factor = self.slowdown_milli.load(Ordering::Relaxed) as f64 / 1000.0;
        let latency = self.spec.latency.sample(rng).mul_f64(factor);
        tokio::time::sleep(latency).await;
        if self.spec.error_rate > 0.0 && rng.random::<f64>() < self.spec.error_rate {
            return Err(OpError::new("backend-error"));
        }
        Ok(())
    }

    fn apply(&self, action: EventAction) -> Result<(), String> {
        match action {
            EventAction::SlowNode { factor, .. } => {
                self.slowdown_milli.store((factor.get() * 1000.0).round() as u64, Ordering::Relaxed)
            }
            EventAction::RestoreNode { .. } => {
                self.slowdown_milli.store(1000, Ordering::Relaxed);
                self.killed.store(false, Ordering::Relaxed);
            }
            EventAction::KillNode { .. } => self.killed.store(true, Ordering::Relaxed),
            other => return Err(format!("`{}` does not apply to a backend", other.label())),
        }
        Ok(())
    }
}

/// Simulated backends behind balancers of strategy `S`.
pub struct SimSystem<S: Selector> {
    backends: Arc<Vec<SimBackend>>,
    balancers: Vec<Arc<Balancer<S>>>,
    weights: Vec<f64>,
    seed: u64,
}

impl<S: Selector> SimSystem<S> {
    /// `nodes` backends as `params` describe them, behind `params.balancers` balancers.
    pub fn new(nodes: u32, params: &BalancingParams, seed: u64) -> Result<Self, BalancingError> {
        let specs = params.backends(nodes)?;
        let weights: Vec<f64> = specs.iter().map(|s| s.weight).collect();
        let balancers =
            (0..params.balancers).map(|_| Balancer::new(&weights, params).map(Arc::new)).collect::<Result<_, _>>()?;
        let backends = Arc::new(specs.into_iter().map(SimBackend::new).collect());
        Ok(SimSystem { backends, balancers, weights, seed })
    }
}

/// One driver worker's client: its balancer instance, the shared backends, its own random
/// stream (for the strategy's choices and the backends' latencies).
pub struct SimWorker<S: Selector> {
    balancer: Arc<Balancer<S>>,
    backends: Arc<Vec<SimBackend>>,
    rng: WorkloadRng,
    last: Option<u32>,
}

impl<S: Selector> Worker for SimWorker<S> {
    async fn call(&mut self, op: Op) -> OpResult {
        let flight = self.balancer.start(workload_key_hash(op.key), &mut self.rng, now());
        let backend = flight.backend();
        self.last = Some(backend as u32);
        let result = self.backends[backend].serve(&mut self.rng).await;
        flight.finish(now());
        result
    }

    #[inline]
    fn served_by(&self) -> Option<u32> {
        self.last
    }
}

impl<S: Selector> System for SimSystem<S> {
    type Worker = SimWorker<S>;

    fn worker(&self, index: u32) -> SimWorker<S> {
        SimWorker {
            balancer: Arc::clone(&self.balancers[index as usize % self.balancers.len()]),
            backends: Arc::clone(&self.backends),
            rng: stream_rng(self.seed, Stream::Target, u64::from(index)),
            last: None,
        }
    }

    async fn apply_event(&self, event: &Event) -> EventReport {
        let Some(node) = event.action.fault_node() else {
            return EventReport::unsupported(format!(
                "`{}`: the simulated backend set is fixed; use slow-node, restore-node or kill-node",
                event.action.label()
            ));
        };
        let result = match self.backends.get(node as usize) {
            Some(backend) => backend.apply(event.action),
            None => Err(format!("there is no backend {node} (backends 0..{})", self.backends.len())),
        };
        match result {
            Ok(()) => EventReport { status: EventStatus::Ok, message: None, resize: None },
            Err(message) => EventReport { status: EventStatus::Error, message: Some(message), resize: None },
        }
    }

    fn metrics(&self) -> FamilyMetrics {
        FamilyMetrics { node_weights: self.weights.clone(), ..FamilyMetrics::default() }
    }
}
