//! The locks family's system under test: any [`LockService`] driven by the workload, with the
//! protected resource, the checker and the faults around it.
//!
//! One operation is one cycle: acquire the lock named by the operation's key (waiting
//! included, up to the acquire timeout) — the driver's phase mark falls here, so acquire latency
//! is recorded apart from the whole cycle — then write to the protected resource with the
//! fencing token, hold the lock for a drawn hold time, end the critical section, and release.
//! A client's think time between cycles belongs to the workload (`think`): the driver sleeps
//! it outside the timed cycle. Failures are counted by kind: `timeout`, `lost` (the lock expired before its
//! release), `connect`, `server`, `killed` (a holder killed by a fault).
//!
//! Faults, applied through [`System::apply_event`]:
//! - `pause-holder`: the next client to acquire a lock sleeps for the pause while holding it,
//!   before it writes (an in-task pause: the client library's own background tasks — ZooKeeper
//!   heartbeats, etcd keep-alives — go on);
//! - `kill-holder`: the next client to acquire a lock dies without releasing it and comes back
//!   as a new client;
//! - `restart-server`: one of the servers the harness started is killed and restarted (the
//!   harness provides the hook).
//!
//! Each worker's client connects on its first operation, inside the driver's runtime (during
//! warm-up), because network clients spawn background tasks on the runtime that creates them.

use super::checker::{Checker, Findings};
use super::params::HoldDist;
use super::{LockClient, LockError, LockParams, LockService};
use crate::sync::Recover as _;
use crate::target::{EventReport, EventStatus, FamilyMetrics, Op, OpError, OpResult, PhaseMark, System, Worker};
use rand::Rng as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;
use workloads::events::LocksAction;
use workloads::rng::{Stream, stream_rng};
use workloads::{Event, EventAction, WorkloadRng};

/// How long a fault waits for a client to acquire a lock before it gives up.
pub const FAULT_WAIT: Duration = Duration::from_secs(10);

/// Restarts server `node`; returns a description, or why it could not.
pub type RestartHook = Box<dyn Fn(u32) -> Result<String, String> + Send + Sync>;

/// What the locks family measured beyond the driver's figures.
#[derive(Clone, Debug, PartialEq)]
pub struct LockMetrics {
    pub findings: Findings,
    pub fencing: bool,
    /// Fewest and most acquisitions by one client over the run.
    pub acquisitions_min: u64,
    pub acquisitions_max: u64,
}

impl LockMetrics {
    /// Most over fewest acquisitions per client (1.0 is perfectly fair; infinite if some
    /// client never acquired).
    pub fn fairness_max_to_min(&self) -> f64 {
        self.acquisitions_max as f64 / self.acquisitions_min as f64
    }
}

enum Fault {
    Pause(Duration),
    Kill,
}

/// The fault waiting for the next holder, and where to say what became of it.
#[derive(Default)]
struct FaultSlot {
    armed: AtomicBool,
    pending: Mutex<Option<(Fault, oneshot::Sender<String>)>>,
}

impl FaultSlot {
    fn arm(&self, fault: Fault) -> oneshot::Receiver<String> {
        let (sender, receiver) = oneshot::channel();
        *self.pending.locked() = Some((fault, sender));
        self.armed.store(true, Ordering::Release);
        receiver
    }

    /// The armed fault, if any; cheap when none is.
    #[inline]
    fn take(&self) -> Option<(Fault, oneshot::Sender<String>)> {
        if !self.armed.load(Ordering::Acquire) {
            return None;
        }
        let taken = self.pending.locked().take();
        self.armed.store(false, Ordering::Release);
        taken
    }

    fn disarm(&self) {
        self.armed.store(false, Ordering::Release);
        self.pending.locked().take();
    }
}

struct Shared<S> {
    service: S,
    params: LockParams,
    checker: Checker,
    faults: FaultSlot,
    acquisitions: Vec<AtomicU64>,
    seed: u64,
    restarted: AtomicBool,
}

/// A lock service under the workload.
pub struct LockSystem<S: LockService> {
    shared: Arc<Shared<S>>,
    restart: Option<RestartHook>,
}

impl<S: LockService> LockSystem<S> {
    /// The system for `workers` workers over `service`.
    pub fn new(service: S, params: LockParams, workers: u32, seed: u64, restart: Option<RestartHook>) -> Self {
        let checker = Checker::new(params.fencing);
        let shared = Shared {
            service,
            params,
            checker,
            faults: FaultSlot::default(),
            acquisitions: (0..workers).map(|_| AtomicU64::new(0)).collect(),
            seed,
            restarted: AtomicBool::new(false),
        };
        LockSystem { shared: Arc::new(shared), restart }
    }

    /// The lock service.
    pub fn service(&self) -> &S {
        &self.shared.service
    }

    /// Whether the strategy promises that no stale write is accepted under the faults applied
    /// so far: with fencing and tokens from one total order (unless a server lost its state),
    /// or with locks that outlive a paused holder task.
    pub fn safety_promised(&self) -> bool {
        let params = &self.shared.params;
        if self.shared.restarted.load(Ordering::Relaxed) {
            return params.fencing && S::MONOTONIC_TOKENS && params.redis_fsync_always;
        }
        (params.fencing && S::MONOTONIC_TOKENS) || S::HELD_WHILE_TASK_PAUSED
    }

    async fn holder_fault(&self, fault: Fault, what: &str) -> EventReport {
        let receiver = self.shared.faults.arm(fault);
        match tokio::time::timeout(FAULT_WAIT, receiver).await {
            Ok(Ok(message)) => EventReport { status: EventStatus::Ok, message: Some(message), resize: None },
            _ => {
                self.shared.faults.disarm();
                EventReport {
                    status: EventStatus::Error,
                    message: Some(format!("{what}: no client acquired a lock within {FAULT_WAIT:?}")),
                    resize: None,
                }
            }
        }
    }

    async fn restart_server(&self, node: u32) -> EventReport {
        let Some(restart) = &self.restart else {
            return EventReport::unsupported(
                "restart-server needs servers started by the harness (not given addresses)",
            );
        };
        self.shared.restarted.store(true, Ordering::Relaxed);
        let result = tokio::task::block_in_place(|| restart(node));
        match result {
            Ok(message) => EventReport { status: EventStatus::Ok, message: Some(message), resize: None },
            Err(message) => EventReport { status: EventStatus::Error, message: Some(message), resize: None },
        }
    }
}

impl<S: LockService> System for LockSystem<S> {
    type Worker = LockWorker<S>;

    fn worker(&self, index: u32) -> LockWorker<S> {
        LockWorker {
            index,
            shared: Arc::clone(&self.shared),
            client: None,
            rng: stream_rng(self.shared.seed, Stream::Target, u64::from(index)),
        }
    }

    async fn apply_event(&self, event: &Event) -> EventReport {
        match event.action {
            EventAction::Locks(LocksAction::PauseHolder { duration }) => {
                self.holder_fault(Fault::Pause(duration), "pause-holder").await
            }
            EventAction::Locks(LocksAction::KillHolder) => self.holder_fault(Fault::Kill, "kill-holder").await,
            EventAction::Fault(workloads::Fault::RestartServer { node }) => self.restart_server(node).await,
            other => EventReport::unsupported(format!("the locks family does not do `{}`", other.label())),
        }
    }

    fn metrics(&self) -> FamilyMetrics {
        let findings = self.shared.checker.findings();
        let counts: Vec<u64> = self.shared.acquisitions.iter().map(|a| a.load(Ordering::Relaxed)).collect();
        let locks = LockMetrics {
            fencing: self.shared.params.fencing,
            acquisitions_min: counts.iter().copied().min().unwrap_or(0),
            acquisitions_max: counts.iter().copied().max().unwrap_or(0),
            findings,
        };
        FamilyMetrics {
            violations: Some(locks.findings.violations()),
            safety_promised: self.safety_promised(),
            ..FamilyMetrics::default()
        }
        .with_columns(locks)
    }
}

/// One driver worker: one client of the lock service.
pub struct LockWorker<S: LockService> {
    index: u32,
    shared: Arc<Shared<S>>,
    client: Option<S::Client>,
    rng: WorkloadRng,
}

fn op_error(error: LockError) -> OpError {
    OpError { kind: error.kind(), detail: Some(error.to_string()) }
}

/// A duration drawn from `dist` with mean `mean`.
fn draw(rng: &mut WorkloadRng, mean: Duration, dist: HoldDist) -> Duration {
    match dist {
        _ if mean.is_zero() => Duration::ZERO,
        HoldDist::Fixed => mean,
        HoldDist::Exponential => {
            let u: f64 = rng.random_range(f64::EPSILON..1.0);
            mean.mul_f64(-u.ln()).min(super::params::MAX_DURATION)
        }
    }
}

/// Hold times, on the precise timer: tokio's would round each up to the next
/// millisecond.
async fn sleep(duration: Duration) {
    if !duration.is_zero() {
        crate::timer::sleep_until(std::time::Instant::now() + duration).await;
    }
}

impl<S: LockService> LockWorker<S> {
    async fn cycle(&mut self, op: Op, mark: Option<&mut dyn PhaseMark>) -> OpResult {
        let LockWorker { index, shared, client, rng } = self;
        let client = match client {
            Some(client) => client,
            None => client.insert(shared.service.connect(*index).await.map_err(op_error)?),
        };
        let params = &shared.params;
        let lock = op.key;
        let waiting_since = Instant::now();
        let held = client.acquire(lock, params.acquire_timeout).await.map_err(op_error)?;
        if let Some(mark) = mark {
            mark.mark();
        }
        shared.acquisitions[*index as usize].fetch_add(1, Ordering::Relaxed);
        let seq = shared.checker.acquired(*index, lock, held.token, waiting_since, Instant::now());
        if let Some((fault, reply)) = shared.faults.take() {
            let about = format!("client {index} holding lock {lock} (token {})", held.token);
            match fault {
                Fault::Pause(pause) => {
                    let _ = reply.send(format!("paused {about} for {pause:?}"));
                    client.pause(pause).await;
                }
                Fault::Kill => {
                    shared.checker.died(lock, seq, Instant::now());
                    let restarted = client.crash(held).await;
                    let _ = reply.send(format!("killed {about}"));
                    if let Err(error) = restarted {
                        *client_slot(self) = None;
                        return Err(op_error(error));
                    }
                    return Err(OpError { kind: "killed", detail: Some(about) });
                }
            }
        }
        shared.checker.write(lock, seq, held.token);
        sleep(draw(rng, params.hold, params.hold_dist)).await;
        shared.checker.released(lock, seq, Instant::now());
        client.release(held).await.map_err(op_error)
    }
}

fn client_slot<S: LockService>(worker: &mut LockWorker<S>) -> &mut Option<S::Client> {
    &mut worker.client
}

impl<S: LockService> Worker for LockWorker<S> {
    async fn call(&mut self, op: Op) -> OpResult {
        self.cycle(op, None).await
    }

    fn call_marked<'a>(
        &'a mut self,
        op: Op,
        mark: &'a mut dyn PhaseMark,
    ) -> impl Future<Output = OpResult> + Send + 'a {
        self.cycle(op, Some(mark))
    }
}
