//! A system that does nothing, so that the driver's own cost per operation can be measured:
//! with it, a run's throughput is the driver's ceiling (clock reads, histogram recording,
//! operation generation).

use crate::target::{EventReport, FamilyMetrics, Op, OpResult, System, Worker};
use workloads::Event;

/// The no-op system.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoopSystem;

/// A worker whose operations return at once.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoopWorker;

impl Worker for NoopWorker {
    #[inline]
    async fn call(&mut self, op: Op) -> OpResult {
        std::hint::black_box(op);
        Ok(())
    }
}

impl System for NoopSystem {
    type Worker = NoopWorker;

    fn worker(&self, _index: u32) -> NoopWorker {
        NoopWorker
    }

    async fn apply_event(&self, event: &Event) -> EventReport {
        EventReport::unsupported(format!("the noop target ignores `{}`", event.action.label()))
    }

    fn metrics(&self) -> FamilyMetrics {
        FamilyMetrics::default()
    }
}
