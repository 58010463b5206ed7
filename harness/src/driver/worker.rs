//! The load loops: one per schedule kind, shared by every family.
//!
//! - [`closed_loop`]: each worker issues its next unit of work when the previous one ends
//!   (after the workload's think time, slept outside the timed span). A unit is one operation
//!   timed alone, or a batch of operations that cost nanoseconds (generated before the clock
//!   starts, then timed together through [`Worker::call_batch`], which a networked target may
//!   pipeline); every failed operation of a batch is counted, under the kind of the batch's
//!   first failure.
//! - [`open_loop`]: one slot of the run's pool. Operations are due at the times of the run's
//!   one schedule ([`Arrivals`]); a free slot takes the next arrival, sleeps until it is due
//!   and starts it (the slots of one thread taking turns at this, [`Arrivals::turn`]), and
//!   its latency counts from when it was due, not from when a slot got to it
//!   (coordinated-omission correction). The actual start is recorded too, so the service
//!   time and the schedule lag are known apart.
//!
//! Both loops read time through the run's [`Clock`] (real or virtual), end at the end of the
//! measured phase, at the operation quota, or when the stop flag is raised (Ctrl-C, the drain
//! limit); so every loop is bounded in time and count. Before each unit the loop tells the
//! recorder what is in flight, so that a worker the driver aborts still has it recorded, as
//! unfinished.
//!
//! An operation timed alone goes through [`Worker::call_marked`] with a [`Marked`] that the
//! worker may signal once, mid-operation (a lock acquired): the driver reads the clock then,
//! and the recorder keeps the time to the mark in a histogram of its own. After each timed
//! unit a loop asks the worker which node served it ([`Worker::served_by`]) and counts it
//! against the moment it started, for families that spread operations over nodes; for the
//! others that call is a constant `None` and compiles away.

use super::arrivals::Arrivals;
use super::clock::Clock;
use crate::recorder::{OpTimes, WorkerRecorder};
use std::marker::PhantomData;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use targets::target::{Op, PhaseMark, Worker};
use workloads::ops::OpSource;

/// Closed loop: `batch` operations per timed unit, `think` between units.
pub async fn closed_loop<C: Clock, W: Worker>(
    mut worker: W,
    mut source: OpSource,
    mut recorder: WorkerRecorder,
    batch: u32,
    think: Duration,
    stop: Arc<AtomicBool>,
) {
    let mut ops: Vec<Op> = Vec::with_capacity(batch as usize);
    loop {
        source.fill(&mut ops, batch as usize);
        worker.prepare_batch();
        let mut marked = Marked::<C>::new();
        let start = C::now();
        recorder.begin(start, start, batch);
        let (failure, failed) = if batch == 1 {
            let failure = worker.call_marked(ops[0], &mut marked).await.err();
            let failed = u32::from(failure.is_some());
            (failure, failed)
        } else {
            let outcome = worker.call_batch(&ops).await;
            (outcome.first_error, outcome.failed)
        };
        let end = C::now();
        let kind = failure.as_ref().map(|f| f.kind);
        let go_on = recorder.record(OpTimes::unscheduled(start, marked.at, end), batch, failure);
        if let Some(kind) = kind.filter(|_| failed > 1) {
            recorder.add_failures(kind, u64::from(failed - 1));
        }
        if let Some(node) = worker.served_by() {
            recorder.count_node(node, start);
        }
        if !go_on || stop.load(Ordering::Relaxed) {
            break;
        }
        if !think.is_zero() {
            let thought = sleep_until::<C>(end + think, &stop).await;
            if !thought || !recorder.should_continue(C::now()) {
                break;
            }
        }
        // Lets other tasks on this thread run now and then: the budget only yields after a
        // run of operations that never waited.
        tokio::task::coop::consume_budget().await;
    }
    recorder.finish();
}

/// Open loop: one slot of group `group` (the slots on one thread), starting the run's
/// arrivals as they fall due, one at a time.
pub async fn open_loop<C: Clock, W: Worker>(
    mut worker: W,
    mut source: OpSource,
    mut recorder: WorkerRecorder,
    arrivals: Arc<Arrivals>,
    group: usize,
    stop: Arc<AtomicBool>,
) {
    while let Some(intended) = next_arrival::<C>(&arrivals, group, &stop).await {
        let op = source.next_op();
        worker.prepare_batch();
        let mut marked = Marked::<C>::new();
        let started = C::now();
        recorder.begin(intended, started, 1);
        let failure = worker.call_marked(op, &mut marked).await.err();
        let end = C::now();
        recorder.record(OpTimes { intended, started, marked: marked.at, end }, 1, failure);
        if let Some(node) = worker.served_by() {
            recorder.count_node(node, started);
        }
        tokio::task::coop::consume_budget().await;
    }
    recorder.finish();
}

/// The next arrival, once it is due, taken in group `group`'s turn; `None` once the schedule
/// is used up or the run stopped.
async fn next_arrival<C: Clock>(arrivals: &Arrivals, group: usize, stop: &AtomicBool) -> Option<Instant> {
    let _turn = arrivals.turn(group).await;
    if stop.load(Ordering::Relaxed) {
        return None;
    }
    let intended = arrivals.take()?;
    sleep_until::<C>(intended, stop).await.then_some(intended)
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
        C::sleep_until(deadline.min(now + STOP_CHECK)).await;
    }
}
