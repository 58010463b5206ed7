//! One [`System`] type for every system whose operations cost microseconds or more: the
//! networked and multi-process versions, and the simulations on virtual time.
//!
//! The driver is generic over the system (its loops call the worker with static dispatch), so
//! each system type handed to it compiles the whole driver again: its runtime set-up, its
//! tasks' state machines, tokio's task machinery for each. With some sixty system types (a
//! strategy times a version), that was most of the release build's time. [`ErasedSystem`]
//! wraps any [`System`] behind one type: the wrapped system and its worker still run their
//! own code with static dispatch, and the only cost is at the boundary, once per operation:
//! one virtual call and one heap allocation for the operation's future (tens of
//! nanoseconds), which an operation that crosses a socket, a thread or a process (tens of
//! microseconds), or whose latency is virtual time, does not show.
//!
//! Systems whose operations cost nanoseconds do not come through here: the no-op target (the
//! driver's own ceiling) and the in-process hashing lookups
//! ([`AnyHashingSystem`](crate::hashing::system::AnyHashingSystem), which erases the strategy
//! per batch of lookups instead) keep a driver compiled for them.

use crate::target::{BatchOutcome, EventReport, FamilyMetrics, Op, OpResult, PhaseMark, Sample, System, Worker};
use futures_util::future::BoxFuture;
use std::future::Future;
use std::sync::Arc;
use workloads::Event;

/// Any system, behind one type. Built from an `Arc` of the system, which the caller may
/// keep: the driver's handle is dropped when the run ends, so the caller's is then unique
/// again.
#[derive(Clone)]
pub struct ErasedSystem(Arc<dyn DynSystem>);

impl ErasedSystem {
    /// Wraps `system`.
    pub fn new<S: System>(system: Arc<S>) -> Self {
        ErasedSystem(system)
    }
}

/// Any system's worker, behind one type.
pub struct ErasedWorker(Box<dyn DynWorker>);

/// [`System`] with its futures boxed, so that it can be a trait object.
trait DynSystem: Send + Sync + 'static {
    fn erased_worker(&self, index: u32) -> ErasedWorker;
    fn boxed_apply_event<'a>(&'a self, event: &'a Event) -> BoxFuture<'a, EventReport>;
    fn dyn_metrics(&self) -> FamilyMetrics;
    fn dyn_sample(&self) -> Sample;
}

impl<S: System> DynSystem for S {
    fn erased_worker(&self, index: u32) -> ErasedWorker {
        ErasedWorker(Box::new(System::worker(self, index)))
    }

    fn boxed_apply_event<'a>(&'a self, event: &'a Event) -> BoxFuture<'a, EventReport> {
        Box::pin(System::apply_event(self, event))
    }

    fn dyn_metrics(&self) -> FamilyMetrics {
        System::metrics(self)
    }

    fn dyn_sample(&self) -> Sample {
        System::sample(self)
    }
}

/// [`Worker`] with its futures boxed, so that it can be a trait object.
trait DynWorker: Send + 'static {
    fn dyn_prepare_batch(&mut self);
    fn boxed_call(&mut self, op: Op) -> BoxFuture<'_, OpResult>;
    fn boxed_call_marked<'a>(&'a mut self, op: Op, mark: &'a mut dyn PhaseMark) -> BoxFuture<'a, OpResult>;
    fn boxed_call_batch<'a>(&'a mut self, ops: &'a [Op]) -> BoxFuture<'a, BatchOutcome>;
    fn dyn_served_by(&self) -> Option<u32>;
}

impl<W: Worker> DynWorker for W {
    fn dyn_prepare_batch(&mut self) {
        Worker::prepare_batch(self);
    }

    fn boxed_call(&mut self, op: Op) -> BoxFuture<'_, OpResult> {
        Box::pin(Worker::call(self, op))
    }

    fn boxed_call_marked<'a>(&'a mut self, op: Op, mark: &'a mut dyn PhaseMark) -> BoxFuture<'a, OpResult> {
        Box::pin(Worker::call_marked(self, op, mark))
    }

    fn boxed_call_batch<'a>(&'a mut self, ops: &'a [Op]) -> BoxFuture<'a, BatchOutcome> {
        Box::pin(Worker::call_batch(self, ops))
    }

    fn dyn_served_by(&self) -> Option<u32> {
        Worker::served_by(self)
    }
}

impl Worker for ErasedWorker {
    fn prepare_batch(&mut self) {
        self.0.dyn_prepare_batch();
    }

    fn call(&mut self, op: Op) -> impl Future<Output = OpResult> + Send {
        self.0.boxed_call(op)
    }

    fn call_marked<'a>(
        &'a mut self,
        op: Op,
        mark: &'a mut dyn PhaseMark,
    ) -> impl Future<Output = OpResult> + Send + 'a {
        self.0.boxed_call_marked(op, mark)
    }

    fn call_batch<'a>(&'a mut self, ops: &'a [Op]) -> impl Future<Output = BatchOutcome> + Send + 'a {
        self.0.boxed_call_batch(ops)
    }

    fn served_by(&self) -> Option<u32> {
        self.0.dyn_served_by()
    }
}

impl System for ErasedSystem {
    type Worker = ErasedWorker;

    fn worker(&self, index: u32) -> ErasedWorker {
        self.0.erased_worker(index)
    }

    async fn apply_event(&self, event: &Event) -> EventReport {
        self.0.boxed_apply_event(event).await
    }

    fn metrics(&self) -> FamilyMetrics {
        self.0.dyn_metrics()
    }

    fn sample(&self) -> Sample {
        self.0.dyn_sample()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::EventStatus;
    use std::sync::atomic::{AtomicU32, Ordering};

    /// A system that counts its calls by kind and marks every marked call.
    #[derive(Default)]
    struct Counting {
        events: AtomicU32,
    }

    struct CountingWorker {
        index: u32,
        prepared: u32,
    }

    impl Worker for CountingWorker {
        fn prepare_batch(&mut self) {
            self.prepared += 1;
        }

        async fn call(&mut self, op: Op) -> OpResult {
            if op.key % 2 == 1 { Err(crate::target::OpError::new("odd")) } else { Ok(()) }
        }

        async fn call_marked(&mut self, op: Op, mark: &mut dyn PhaseMark) -> OpResult {
            mark.mark();
            self.call(op).await
        }

        fn served_by(&self) -> Option<u32> {
            Some(self.index * 10 + self.prepared)
        }
    }

    impl System for Counting {
        type Worker = CountingWorker;

        fn worker(&self, index: u32) -> CountingWorker {
            CountingWorker { index, prepared: 0 }
        }

        async fn apply_event(&self, _event: &Event) -> EventReport {
            self.events.fetch_add(1, Ordering::Relaxed);
            EventReport { status: EventStatus::Ok, message: None, resize: None }
        }

        fn metrics(&self) -> FamilyMetrics {
            FamilyMetrics { violations: Some(u64::from(self.events.load(Ordering::Relaxed))), ..Default::default() }
        }
    }

    struct Marks(u32);

    impl PhaseMark for Marks {
        fn mark(&mut self) {
            self.0 += 1;
        }
    }

    fn op(key: u64) -> Op {
        Op { kind: workloads::OpKind::Read, key }
    }

    fn block_on<T>(future: impl Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(future)
    }

    #[test]
    fn an_erased_worker_forwards_every_call_to_the_wrapped_one() {
        let inner = Arc::new(Counting::default());
        let system = ErasedSystem::new(Arc::clone(&inner));
        let mut worker = System::worker(&system, 3);
        worker.prepare_batch();
        assert_eq!(worker.served_by(), Some(31), "worker 3, prepared once");
        assert_eq!(block_on(worker.call(op(2))), Ok(()));
        assert_eq!(block_on(worker.call(op(1))).unwrap_err().kind, "odd");
        let mut marks = Marks(0);
        assert!(block_on(worker.call_marked(op(5), &mut marks)).is_err());
        assert_eq!(marks.0, 1, "the wrapped worker's own call_marked ran, not the default");
        let outcome = block_on(worker.call_batch(&[op(1), op(2), op(3)]));
        assert_eq!(outcome.failed, 2);
    }

    #[test]
    fn an_erased_system_forwards_events_and_metrics_to_the_wrapped_one() {
        let inner = Arc::new(Counting::default());
        let system = ErasedSystem::new(Arc::clone(&inner));
        let action = workloads::EventAction::Hashing(workloads::events::HashingAction::RemoveLast);
        let event = Event { trigger: workloads::events::Trigger::At(std::time::Duration::from_secs(1)), action };
        assert_eq!(block_on(System::apply_event(&system, &event)).status, EventStatus::Ok);
        assert_eq!(System::metrics(&system).violations, Some(1));
        drop(system);
        assert_eq!(Arc::strong_count(&inner), 1, "the caller's handle is unique again");
    }
}
