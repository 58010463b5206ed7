//! The interface between the driver and a system under test.
//!
//! The driver owns the clock: it draws operations from the workload, takes the timestamps,
//! and records latencies. A [`System`] is built once per run; each driver worker gets its own
//! [`Worker`] from it (so the hot path needs no shared state unless the strategy has some);
//! a controller task applies scheduled events through [`System::apply_event`]. Failures are
//! values ([`OpError`]), counted by kind, never panics.

use crate::columns::{ColumnWriter, FamilyColumns, Measured, RunFacts};
use serde::Serialize;
use std::future::Future;
use std::sync::Arc;
use workloads::Event;

pub use workloads::ops::Op;

/// Why an operation failed. `kind` is a short fixed label (`timeout`, `refused`, `conflict`)
/// under which failures are counted; `detail` is kept for the first failure of each kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpError {
    pub kind: &'static str,
    pub detail: Option<String>,
}

impl OpError {
    /// A failure of `kind` with no further detail.
    pub fn new(kind: &'static str) -> Self {
        OpError { kind, detail: None }
    }
}

/// The result of one operation.
pub type OpResult = Result<(), OpError>;

/// The result of a batch of operations timed together: how many failed, and the first
/// failure (its kind names them all in the counts; a batch's failures are rarely of two kinds).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BatchOutcome {
    pub failed: u32,
    pub first_error: Option<OpError>,
}

impl BatchOutcome {
    /// Counts one operation's result.
    pub fn add(&mut self, result: OpResult) {
        if let Err(error) = result {
            self.failed += 1;
            self.first_error.get_or_insert(error);
        }
    }
}

/// A boundary between two phases of one operation (a lock acquired, before it is held and
/// released), signalled by the worker and timestamped by the driver, which records the time
/// from the operation's start to the mark in a second histogram.
pub trait PhaseMark: Send {
    /// The first phase of the operation ends now.
    fn mark(&mut self);
}

/// One driver worker's handle on the system under test.
pub trait Worker: Send + 'static {
    /// Called before each timed batch, outside the timing: the place to pick up a new
    /// configuration published by an event.
    fn prepare_batch(&mut self) {}

    /// Performs one operation.
    fn call(&mut self, op: Op) -> impl Future<Output = OpResult> + Send;

    /// Performs one operation timed alone, calling `mark.mark()` where its first phase ends
    /// (at most once). Workers whose operations have no phases keep this default.
    fn call_marked<'a>(
        &'a mut self,
        op: Op,
        mark: &'a mut dyn PhaseMark,
    ) -> impl Future<Output = OpResult> + Send + 'a {
        let _ = mark;
        self.call(op)
    }

    /// Performs a batch of operations timed together (a closed loop with `batch` above 1).
    /// The default calls [`Worker::call`] for each in turn; a networked worker may pipeline
    /// them instead.
    fn call_batch<'a>(&'a mut self, ops: &'a [Op]) -> impl Future<Output = BatchOutcome> + Send + 'a {
        async move {
            let mut outcome = BatchOutcome::default();
            for op in ops {
                outcome.add(self.call(*op).await);
            }
            outcome
        }
    }

    /// The node that served the last call (successful or not), for families whose operations
    /// go to one of several nodes (a balancer's backends); the driver counts operations per
    /// node and interval. `None`, the default, for the others.
    #[inline(always)]
    fn served_by(&self) -> Option<u32> {
        None
    }
}

/// The system under test for one run.
pub trait System: Send + Sync + 'static {
    type Worker: Worker;

    /// The handle for driver worker `index`.
    fn worker(&self, index: u32) -> Self::Worker;

    /// Applies a scheduled event and reports what it did.
    fn apply_event(&self, event: &Event) -> impl Future<Output = EventReport> + Send;

    /// Family-specific results, read once after the run.
    fn metrics(&self) -> FamilyMetrics;

    /// Family-specific running counters, read by the driver each time it writes an interval
    /// of the time series. Families without any keep the default.
    fn sample(&self) -> Sample {
        Sample::default()
    }
}

/// Running counters of a system, sampled as each interval is written; the time series shows
/// their change over the interval, in the columns the family's counters write.
#[derive(Clone, Debug, Default)]
pub struct Sample(pub Option<Arc<dyn SampleColumns>>);

/// A family's running counters, sampled at the end of each interval.
pub trait SampleColumns: std::fmt::Debug + Send + Sync + std::any::Any {
    /// Writes the interval's columns: the change from `before`, the counters sampled at the end
    /// of the previous interval (`None` for the first; the same family's type otherwise).
    fn write_change(&self, before: Option<&dyn SampleColumns>, out: &mut crate::columns::ColumnWriter);
}

/// Whether an event could be applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EventStatus {
    Ok,
    /// The strategy cannot do this (for example jump hashing removing a middle node). The
    /// measurement says so instead of reporting a wrong number.
    Unsupported,
    /// The event was not applied because of an error.
    Error,
    /// The run ended before the event's trigger.
    NotReached,
}

impl EventStatus {
    /// The name used in CSV rows.
    pub fn as_str(self) -> &'static str {
        match self {
            EventStatus::Ok => "ok",
            EventStatus::Unsupported => "unsupported",
            EventStatus::Error => "error",
            EventStatus::NotReached => "not-reached",
        }
    }
}

/// What an event did.
#[derive(Clone, Debug, PartialEq)]
pub struct EventReport {
    pub status: EventStatus,
    pub message: Option<String>,
    pub resize: Option<ResizeReport>,
}

impl EventReport {
    /// An event this system does not know how to apply.
    pub fn unsupported(message: impl Into<String>) -> Self {
        EventReport { status: EventStatus::Unsupported, message: Some(message.into()), resize: None }
    }
}

/// Key movement caused by one resize, measured over the run's whole key set.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct ResizeReport {
    pub nodes_before: u32,
    pub nodes_after: u32,
    /// Fraction of keys whose owner changed.
    pub keys_moved_fraction: f64,
    /// The least any strategy must move: the new node's share on add, the removed node's share
    /// on remove (1/(N+1) and 1/N with equal weights).
    pub keys_moved_ideal_fraction: f64,
    /// Keys that moved anywhere but to the added node, or from anywhere but the removed node.
    pub monotonicity_violations: u64,
    /// On re-adding a node removed earlier: the fraction of keys whose owner is the one they
    /// had just before that removal.
    pub mapping_restored_fraction: Option<f64>,
    /// Balance after the event.
    pub load: LoadStats,
}

impl ResizeReport {
    /// Measured movement over the ideal (1.0 is optimal).
    pub fn keys_moved_ratio(&self) -> f64 {
        if self.keys_moved_ideal_fraction > 0.0 {
            self.keys_moved_fraction / self.keys_moved_ideal_fraction
        } else {
            f64::NAN
        }
    }
}

/// How evenly keys spread over nodes.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct LoadStats {
    /// Most-loaded node over the mean (1.0 is perfect).
    pub peak_to_mean: f64,
    /// Least-loaded node over the mean (1.0 is perfect).
    pub min_to_mean: f64,
    /// Coefficient of variation of per-node load (standard deviation over mean).
    pub cv: f64,
}

/// Family-specific results of a run; fields a family does not fill stay `None`.
#[derive(Clone, Debug, Default)]
pub struct FamilyMetrics {
    /// Bytes of memory held by the placement structure.
    pub memory_bytes: Option<u64>,
    /// Balance of the key set over the nodes at the start of the run.
    pub load: Option<LoadStats>,
    /// Per-node share of the key set at the start of the run (node id, fraction).
    pub node_shares: Vec<(u32, f64)>,
    /// Each node's weight (index = node id), for families whose fair share of operations is
    /// weight-proportional; empty means equal shares.
    pub node_weights: Vec<f64>,
    /// Safety families: violations the checkers found after the run (accepted unsafe lock
    /// writes, atomicity or balance violations).
    pub violations: Option<u64>,
    /// Safety families: whether the strategy promises safety under this run's faults, so
    /// that a violation fails the check (exit code 1).
    pub safety_promised: bool,
    /// Notes for the row's message (the first violations, described).
    pub notes: Vec<String>,
    /// The family's own summary columns (its protocol figures, checkers' findings...), each
    /// set writing its cells by name.
    pub columns: Vec<Arc<dyn FamilyColumns>>,
}

impl FamilyMetrics {
    /// The metrics of a run of a strategy that promises safety under every fault it is tested
    /// with, whose checkers found `violations` (the first ones described in `notes`).
    pub fn safety_checked(violations: u64, notes: Vec<String>) -> Self {
        FamilyMetrics { violations: Some(violations), safety_promised: true, notes, ..FamilyMetrics::default() }
    }

    /// Adds a set of the family's own columns.
    pub fn with_columns(mut self, columns: impl FamilyColumns + 'static) -> Self {
        self.add_columns(columns);
        self
    }

    /// Adds a set of the family's own columns to metrics already in a record (figures the
    /// family measures after the run: a cleanup, a verification pass).
    pub fn add_columns(&mut self, columns: impl FamilyColumns + 'static) {
        self.columns.push(Arc::new(columns));
    }

    /// Writes the family's own columns, given the driver's counts over the measured phase
    /// (`None` if it did not run) and whether operations were timed alone.
    pub fn write_columns(&self, measured: Option<Measured<'_>>, per_op: bool) -> ColumnWriter {
        let facts = RunFacts { measured, per_op, safety_promised: self.safety_promised };
        let mut out = ColumnWriter::default();
        for columns in &self.columns {
            columns.write(&facts, &mut out);
        }
        out
    }
}
