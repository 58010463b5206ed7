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
//! are events: `slow-node` multiplies a backend's latency, `fail-node` makes it answer a
//! fraction of its requests with a server error, `flap-node` makes it fail every request at
//! once for a period, then serve for a period, and so on, `kill-node` makes it refuse every
//! request at once, and `restore-node` ends any of these.
//!
//! Each balancer instance has its [`FailureLayer`] (off unless the scenario sets its
//! parameters): a failed attempt may be retried on another backend, backends may be marked
//! down or ejected. Every attempt is recorded with its virtual send time ([`AttemptLog`]),
//! beside the faults, for the failure columns (drain time, traffic on the faulty backend,
//! return time, retries).

use super::failure::attempts::AttemptLog;
use super::failure::{FailureKind, FailureLayer, FailureMetrics, Next};
use super::{BackendSpec, Balancer, BalancingError, BalancingParams, Selector};
use crate::hashing::workload_key_hash;
use crate::sync::Recover as _;
use crate::target::{EventReport, EventStatus, FamilyMetrics, Op, OpError, OpResult, System, Worker};
use rand::Rng as _;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use workloads::events::BalancingAction;
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
    /// `fail-node`: the fraction of requests failed, in millionths.
    fail_ppm: AtomicU64,
    /// `flap-node`: when the flapping started, and the length of each phase.
    flap: Mutex<Option<(Instant, Duration)>>,
}

/// How a simulated backend failed a request.
fn failure(kind: FailureKind) -> OpError {
    match kind {
        FailureKind::Refused => OpError { kind: "refused", detail: Some("the backend is down (kill-node)".into()) },
        FailureKind::ServerError => OpError::new("backend-error"),
        FailureKind::Timeout => OpError { kind: "timeout", detail: Some("no answer within attempt_timeout".into()) },
    }
}

impl SimBackend {
    /// A backend as `spec` describes it.
    pub fn new(spec: BackendSpec) -> Self {
        SimBackend {
            spec,
            slots: spec.capacity.map(|c| Semaphore::new(c as usize)),
            slowdown_milli: AtomicU64::new(1000),
            killed: AtomicBool::new(false),
            fail_ppm: AtomicU64::new(0),
            flap: Mutex::new(None),
        }
    }

    /// Whether a flapping backend is in a failing phase at `now`.
    fn flapping_down(&self, now: Instant) -> bool {
        let flap = *self.flap.locked();
        flap.is_some_and(|(start, period)| {
            (now.saturating_duration_since(start).as_nanos() / period.as_nanos().max(1)).is_multiple_of(2)
        })
    }

    /// Serves one request.
    pub async fn serve(&self, rng: &mut WorkloadRng) -> Result<(), FailureKind> {
        if self.killed.load(Ordering::Relaxed) {
            return Err(FailureKind::Refused);
        }
        if self.flapping_down(now()) {
            return Err(FailureKind::ServerError);
        }
        let _slot = match &self.slots {
            Some(slots) => Some(slots.acquire().await.expect("the semaphore is never closed")),
            None => None,
        };
        let factor = self.slowdown_milli.load(Ordering::Relaxed) as f64 / 1000.0;
        let latency = self.spec.latency.sample(rng).mul_f64(factor);
        tokio::time::sleep(latency).await;
        if self.spec.error_rate > 0.0 && rng.random::<f64>() < self.spec.error_rate {
            return Err(FailureKind::ServerError);
        }
        let fail_ppm = self.fail_ppm.load(Ordering::Relaxed);
        if fail_ppm > 0 && rng.random_range(0..1_000_000) < fail_ppm {
            return Err(FailureKind::ServerError);
        }
        Ok(())
    }

    fn apply(&self, action: BalancingAction) {
        match action {
            BalancingAction::SlowNode { factor, .. } => {
                self.slowdown_milli.store((factor.get() * 1000.0).round() as u64, Ordering::Relaxed)
            }
            BalancingAction::RestoreNode { .. } => {
                self.slowdown_milli.store(1000, Ordering::Relaxed);
                self.killed.store(false, Ordering::Relaxed);
                self.fail_ppm.store(0, Ordering::Relaxed);
                *self.flap.locked() = None;
            }
            BalancingAction::KillNode { .. } => self.killed.store(true, Ordering::Relaxed),
            BalancingAction::FailNode { error_ppm, .. } => self.fail_ppm.store(u64::from(error_ppm), Ordering::Relaxed),
            BalancingAction::FlapNode { period, .. } => *self.flap.locked() = Some((now(), period)),
        }
    }
}

/// Simulated backends behind balancers of strategy `S`.
pub struct SimSystem<S: Selector> {
    backends: Arc<Vec<SimBackend>>,
    balancers: Vec<Arc<Front<S>>>,
    weights: Vec<f64>,
    seed: u64,
    attempt_timeout: Option<Duration>,
    log: Arc<AttemptLog>,
}

/// One balancer instance and its failure layer.
struct Front<S: Selector> {
    balancer: Balancer<S>,
    layer: FailureLayer,
}

impl<S: Selector> SimSystem<S> {
    /// `nodes` backends as `params` describe them, behind `params.balancers` balancers.
    pub fn new(nodes: u32, params: &BalancingParams, seed: u64) -> Result<Self, BalancingError> {
        let specs = params.backends(nodes)?;
        let weights: Vec<f64> = specs.iter().map(|s| s.weight).collect();
        let front = || -> Result<_, BalancingError> {
            let balancer = Balancer::new(&weights, params)?;
            Ok(Arc::new(Front { balancer, layer: FailureLayer::new(weights.len(), &params.failure) }))
        };
        let balancers = (0..params.balancers).map(|_| front()).collect::<Result<_, _>>()?;
        let backends = Arc::new(specs.into_iter().map(SimBackend::new).collect());
        let attempt_timeout = params.failure.attempt_timeout;
        Ok(SimSystem { backends, balancers, weights, seed, attempt_timeout, log: Arc::default() })
    }

    /// The failure figures of the run so far (none if its attempt log overflowed).
    pub fn failure_metrics(&self) -> Option<FailureMetrics> {
        let mut metrics = self.log.measure()?;
        let counts = self.balancers.iter().map(|f| f.layer.counts());
        let (denied, ejections) = counts.fold((0, 0), |(d, e), c| (d + c.retries_denied, e + c.ejections));
        let layer = self.balancers[0].layer.params();
        metrics.layer = layer.describe();
        if layer.enabled() {
            metrics.retries_denied = Some(denied);
            metrics.ejections = Some(ejections);
        }
        Some(metrics)
    }
}

/// One driver worker's client: its balancer instance, the shared backends, its own random
/// stream (for the strategy's choices and the backends' latencies).
pub struct SimWorker<S: Selector> {
    front: Arc<Front<S>>,
    backends: Arc<Vec<SimBackend>>,
    rng: WorkloadRng,
    last: Option<u32>,
    attempt_timeout: Option<Duration>,
    log: Arc<AttemptLog>,
}

impl<S: Selector> SimWorker<S> {
    /// One attempt at `backend`, within the attempt timeout if there is one.
    async fn attempt(&mut self, backend: usize) -> Result<(), FailureKind> {
        let serve = self.backends[backend].serve(&mut self.rng);
        match self.attempt_timeout {
            Some(limit) => tokio::time::timeout(limit, serve).await.unwrap_or(Err(FailureKind::Timeout)),
            None => serve.await,
        }
    }
}

impl<S: Selector> Worker for SimWorker<S> {
    async fn call(&mut self, op: Op) -> OpResult {
        let front = Arc::clone(&self.front);
        let key_hash = workload_key_hash(op.key);
        let mut request = front.layer.start();
        loop {
            let sent = now();
            let backend = request.pick(&front.balancer, key_hash, &mut self.rng, sent);
            let flight = front.balancer.start_at(backend, sent);
            let retry = request.is_retry();
            self.last = Some(backend as u32);
            let result = self.attempt(backend).await;
            flight.finish(now());
            self.log.attempt(sent, backend, result.is_ok(), retry);
            if request.outcome(backend, result, now()) == Next::Done {
                return result.map_err(failure);
            }
        }
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
            front: Arc::clone(&self.balancers[index as usize % self.balancers.len()]),
            backends: Arc::clone(&self.backends),
            rng: stream_rng(self.seed, Stream::Target, u64::from(index)),
            last: None,
            attempt_timeout: self.attempt_timeout,
            log: Arc::clone(&self.log),
        }
    }

    async fn apply_event(&self, event: &Event) -> EventReport {
        let EventAction::Balancing(action) = event.action else {
            return EventReport::unsupported(format!(
                "`{}`: the simulated backend set is fixed; use slow-node, fail-node, flap-node, restore-node or kill-node",
                event.action.label()
            ));
        };
        let node = action.node();
        let Some(backend) = self.backends.get(node as usize) else {
            let message = format!("there is no backend {node} (backends 0..{})", self.backends.len());
            return EventReport { status: EventStatus::Error, message: Some(message), resize: None };
        };
        backend.apply(action);
        self.log.mark(now(), node, matches!(action, BalancingAction::RestoreNode { .. }));
        EventReport { status: EventStatus::Ok, message: None, resize: None }
    }

    fn metrics(&self) -> FamilyMetrics {
        FamilyMetrics { node_weights: self.weights.clone(), ..FamilyMetrics::default() }
            .with_columns(self.failure_metrics())
    }
}
