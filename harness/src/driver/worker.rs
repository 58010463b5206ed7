//! The load loops: one per schedule kind, shared by every family.
//!
//! - [`closed_loop`]: each worker issues its next unit of work when the previous one ends.
//!   A unit is one operation (timed alone, latency in µs) or a batch of operations that cost
//!   nanoseconds (generated before the clock starts, then timed together).
//! - [`open_loop`]: operations are due at times fixed by the arrival schedule; the worker
//!   sleeps until each is due, and latency counts from when it was due, not from when the
//!   worker got to it (coordinated-omission correction). A worker that falls behind issues
//!   its overdue operations back to back, and their queueing shows in the latency.
//!
//! Both loops read time through the run's [`Clock`] (real or virtual), end at the end of the
//! measured phase, at the worker's operation quota, or when the stop flag is raised (Ctrl-C,
//! a failed run); so every loop is bounded in time and count.
//!
//! An operation timed alone goes through [`Worker::call_marked`] with a [`Marked`] that the
//! worker may signal once, mid-operation (a lock acquired): the driver reads the clock then,
//! and the recorder keeps the time to the mark in a second histogram. After each timed unit a
//! loop asks the worker which node served it ([`Worker::served_by`]) and counts it against
//! the moment it started, for families that spread operations over nodes; for the others
//! that call is a constant `None` and compiles away.

use super::clock::Clock;
use super::ops::OpSource;
use crate::recorder::WorkerRecorder;
use std::marker::PhantomData;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;
use targets::target::{Op, OpError, PhaseMark, Worker};
use workloads::ArrivalSchedule;

/// Closed loop: `batch` operations per timed unit.
pub async fn closed_loop<C: Clock, W: Worker>(
    mut worker: W,
    mut source: OpSource,
    mut recorder: WorkerRecorder,
    batch: u32,
    stop: Arc<AtomicBool>,
) {
    let mut ops: Vec<Op> = Vec::with_capacity(batch as usize);
    loop {
        source.fill(&mut ops, batch as usize);
        worker.prepare_batch();
        let mut marked = Marked::<C>::new();
        let start = C::now();
        let mut failure: Option<OpError> = None;
        if batch == 1 {
            failure = worker.call_marked(ops[0], &mut marked).await.err();
        } else {
            for op in &ops {
                if let Err(error) = worker.call(*op).await {
                    failure.get_or_insert(error);
                }
            }
        }
        let end = C::now();
        let go_on = recorder.record_phased(start, marked.at, end, batch, failure);
        if let Some(node) = worker.served_by() {
            recorder.count_node(node, start);
        }
        if !go_on || stop.load(Ordering::Relaxed) {
            break;
        }
        // Lets other tasks on this thread run now and then: the budget only yields after a
        // run of operations that never waited.
        tokio::task::coop::consume_budget().await;
    }
    recorder.finish();
}

/// Open loop: one operation at each intended start of `schedule`, counted from `run_start`.
pub async fn open_loop<C: Clock, W: Worker>(
    mut worker: W,
    mut source: OpSource,
    mut recorder: WorkerRecorder,
    mut schedule: ArrivalSchedule,
    run_start: Instant,
    stop: Arc<AtomicBool>,
) {
    loop {
        let intended = run_start + schedule.next_offset();
        if !recorder.should_continue(intended) || recorder.quota_met() || stop.load(Ordering::Relaxed) {
            break;
        }
        if !sleep_until::<C>(intended, &stop).await {
            break;
        }
        let op = source.next_op();
        worker.prepare_batch();
        let mut marked = Marked::<C>::new();
        let started = C::now();
        let failure = worker.call_marked(op, &mut marked).await.err();
        let end = C::now();
        recorder.record_phased(intended, marked.at, end, 1, failure);
        if let Some(node) = worker.served_by() {
            recorder.count_node(node, started);
        }
        tokio::task::coop::consume_budget().await;
    }
    recorder.finish();
}

/// The driver's side of a phase mark: when the worker marked, by the run's clock.
pub struct Marked<C: Clock> {
    pub at: Option<Instant>,
    clock: PhantomData<C>,
}

impl<C: Clock> Marked<C> {
    /// No mark yet.
    pub fn new() -> Self {
        Marked { at: None, clock: PhantomData }
    }
}

impl<C: Clock> Default for Marked<C> {
    fn default() -> Self {
        Self::new()
    }
}

impl<C: Clock> PhaseMark for Marked<C> {
    #[inline]
    fn mark(&mut self) {
        self.at.get_or_insert_with(C::now);
    }
}

/// The longest a sleeping worker goes without checking the stop flag.
const STOP_CHECK: std::time::Duration = std::time::Duration::from_millis(50);

/// Sleeps until `deadline` on clock `C`, waking now and then to check `stop`; `false` if
/// stopped.
pub async fn sleep_until<C: Clock>(deadline: Instant, stop: &AtomicBool) -> bool {
    loop {
        let now = C::now();
        if now >= deadline {
            return true;
        }
        if stop.load(Ordering::Relaxed) {
            return false;
        }
        tokio::time::sleep_until(deadline.min(now + STOP_CHECK).into()).await;
    }
}
