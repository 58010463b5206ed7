//! Recording: per-worker HdrHistograms cut into intervals, and the aggregator that merges the
//! workers' intervals into one time series and one summary.
//!
//! Each worker records into its own histograms (no sharing on the hot path). When an operation
//! ends past the current interval's boundary, the worker sends the finished interval to the
//! aggregator over a channel and starts a new one. The aggregator adds the workers'
//! histograms interval by interval (HdrHistograms add losslessly) and emits an interval once
//! every worker has moved past it, so memory stays flat however long the run. Warm-up
//! intervals are kept apart from the measured ones and never enter the summary.
//!
//! **What is recorded.** Every value is a duration in nanoseconds with 3 significant digits
//! ([`Timing`]), except the cost per operation of batch-timed units, which is in picoseconds
//! (a lookup of 1.3 ns must not read as 1 or 2): the CSV columns carry both divided by 1000
//! (`latency_us_*` with decimals, `op_cost_ns_*` with decimals). A batch of `n` operations is
//! recorded `n` times at its cost per operation, so a histogram's count is always a count of
//! operations, never of batches. Each timed unit has an intended start (the schedule's, in an
//! open loop), an actual start and an end ([`OpTimes`]); the response time (intended start →
//! end) is the headline histogram, and an open loop also keeps the service time (actual start
//! → end) and the schedule lag (actual − intended start) apart ([`Histograms`]).
//!
//! **Nothing due is dropped.** An operation that ends after the measured phase belongs to a
//! last interval of its own, [`Phase::Drain`], which the summary includes (the operation was
//! due in the measured phase) and the time series labels. An operation still in flight when
//! the driver gives up — the recorder is dropped with it — and an arrival no slot ever started
//! are recorded as *unfinished*, at the time they had waited so far: the tail is then a lower
//! bound, never cut off, and the run is `overloaded`.
//!
//! Families whose operations are served by one of several nodes (a balancer's backends) also
//! count the operations each node served ([`WorkerRecorder::count_node`]), so that the time
//! series shows how the traffic moved. Those counts go to the interval in which the operation
//! *started* — where the balancer sent it — not the one in which it ended: a request queued
//! for seconds at a slow backend still counts against the moment it was routed there. Since
//! such an interval may already be written, node counts are kept apart and complete only at
//! the end of the run ([`Totals::node_series`]).
//!
//! An operation timed alone may also have a *phase mark* (a lock acquired, inside an
//! acquire–hold–release cycle): the time from its (intended) start to the mark goes into a
//! histogram of its own, created only when a worker first marks, so families without phases
//! pay nothing for it. Failed operations are counted by kind and their latencies go to a
//! histogram of their own too: the latency of success and the latency of failure are different
//! questions (a commit against an abort, a lock acquired against one refused), and mixing them
//! would answer neither; the error rate sits beside the percentiles in every table.

mod aggregator;
mod errors;
mod histograms;
mod timeline;
mod worker;

pub use aggregator::{Aggregator, FlushedInterval, NodeInterval, Totals, add_counts};
pub use errors::ErrorCounts;
pub use histograms::{HISTOGRAM_SIGFIG, Histograms, Timing, add_into, new_histogram, record_value};
pub use timeline::{Phase, Slot, Timeline, times};
pub use worker::{OpTimes, PaddedCounter, Report, WorkerRecorder};
