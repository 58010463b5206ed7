//! What a recorded value means ([`Timing`]) and the histograms an interval or a run keeps
//! ([`Histograms`]).

use hdrhistogram::Histogram;
use std::time::Duration;

/// Significant digits of every histogram.
pub const HISTOGRAM_SIGFIG: u8 = 3;

/// An empty histogram with the harness's precision. It starts small and grows to the largest
/// value recorded (no value is clamped), so an idle worker's histogram costs a few kilobytes.
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new(HISTOGRAM_SIGFIG).expect("valid histogram precision")
}

/// Records `value` `count` times. Auto-resizing histograms only refuse a value that needs more
/// than usize buckets; that impossible case is clamped rather than the count lost.
#[inline]
pub fn record_value(histogram: &mut Histogram<u64>, value: u64, count: u64) {
    if histogram.record_n(value, count).is_err() {
        histogram.saturating_record_n(value, count);
    }
}

/// How many values a [`Staged`] holds before it adds them to its histogram.
pub const STAGED_VALUES: usize = 32;

/// Values bound for one histogram, added to it [`STAGED_VALUES`] at a time. A worker records
/// one value per operation, and between two of its operations the other workers of its thread
/// (25 each for 50 HTTP connections on 2 cores) have pushed its histogram's counters out of
/// the cache: added one by one, every value waited for a miss (a third of a microsecond per
/// operation in the HTTP closed loop's profile); added in a block, the misses overlap.
#[derive(Debug)]
pub struct Staged {
    values: [(u64, u64); STAGED_VALUES],
    len: usize,
}

impl Default for Staged {
    fn default() -> Self {
        Staged { values: [(0, 0); STAGED_VALUES], len: 0 }
    }
}

impl Staged {
    /// Stages `value`, `count` times, for `into`, adding everything staged once full.
    #[inline]
    pub fn push(&mut self, into: &mut Histogram<u64>, value: u64, count: u64) {
        self.values[self.len] = (value, count);
        self.len += 1;
        if self.len == STAGED_VALUES {
            self.flush(into);
        }
    }

    /// Whether nothing is staged.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds everything staged to `into`.
    pub fn flush(&mut self, into: &mut Histogram<u64>) {
        for &(value, count) in &self.values[..self.len] {
            record_value(into, value, count);
        }
        self.len = 0;
    }
}

/// Adds `from` into the optional histogram `into`, creating it on first use.
pub fn add_into(into: &mut Option<Histogram<u64>>, from: &Histogram<u64>) {
    into.get_or_insert_with(new_histogram).add(from).expect("auto-resizing histograms accept each other");
}

/// How the operations of a run are timed, and so what one recorded value means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timing {
    /// Each operation timed alone; values are nanoseconds.
    PerOp,
    /// Operations timed in batches of `n`, for operations too short to time one by one;
    /// values are picoseconds per operation (the batch's time divided by its size), each
    /// batch recorded `n` times so that counts are operations.
    Batch(u32),
}

impl Timing {
    /// Operations per timed unit.
    pub fn batch_size(self) -> u32 {
        match self {
            Timing::PerOp => 1,
            Timing::Batch(n) => n,
        }
    }

    /// The recorded value for a timed unit of `ops` operations that took `elapsed`.
    #[inline]
    pub fn value(self, elapsed: Duration, ops: u32) -> u64 {
        let nanos = elapsed.as_nanos();
        let value = match self {
            Timing::PerOp => nanos,
            Timing::Batch(_) => nanos * 1000 / u128::from(ops.max(1)),
        };
        u64::try_from(value).unwrap_or(u64::MAX)
    }

    /// The unit of recorded values, as `.hlog` headers name it.
    pub fn unit(self) -> &'static str {
        match self {
            Timing::PerOp => "nanoseconds",
            Timing::Batch(_) => "picoseconds per operation",
        }
    }

    /// A recorded value in the unit of the CSV columns: µs for the latencies of operations
    /// timed alone, ns for the cost per operation of batches. Both are the recorded unit
    /// divided by 1000.
    #[inline]
    pub fn column_value(raw: u64) -> f64 {
        raw as f64 / 1000.0
    }
}

/// The histograms of one interval, of one worker or of the whole run.
#[derive(Clone, Debug)]
pub struct Histograms {
    /// Response time — intended start to end — of every completed operation, and of every
    /// unfinished one at the time it had waited; or the cost per operation of batches.
    pub response: Histogram<u64>,
    /// Open loop: actual start to end (how long the target took once asked).
    pub service: Option<Histogram<u64>>,
    /// Open loop: actual start minus intended start (how late the driver asked).
    pub lag: Option<Histogram<u64>>,
    /// Time from the (intended) start to the operation's phase mark.
    pub phase: Option<Histogram<u64>>,
    /// Latencies of the operations that failed.
    pub failed: Option<Histogram<u64>>,
}

impl Default for Histograms {
    fn default() -> Self {
        Histograms { response: new_histogram(), service: None, lag: None, phase: None, failed: None }
    }
}

impl Histograms {
    /// Adds every histogram of `other`.
    pub fn add(&mut self, other: &Histograms) {
        self.response.add(&other.response).expect("auto-resizing histograms accept each other");
        for (into, from) in [
            (&mut self.service, &other.service),
            (&mut self.lag, &other.lag),
            (&mut self.phase, &other.phase),
            (&mut self.failed, &other.failed),
        ] {
            if let Some(from) = from {
                add_into(into, from);
            }
        }
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.response.is_empty()
            && [&self.service, &self.lag, &self.phase, &self.failed]
                .iter()
                .all(|h| h.as_ref().is_none_or(|h| h.is_empty()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_keep_a_fraction_of_a_nanosecond() {
        // 1024 lookups in 1331 ns: 1.2998 ns each, recorded as 1299 ps, printed as 1.299 ns.
        let value = Timing::Batch(1024).value(Duration::from_nanos(1331), 1024);
        assert_eq!(value, 1299);
        assert_eq!(Timing::column_value(value), 1.299);
        assert_eq!(Timing::PerOp.value(Duration::from_nanos(137), 1), 137);
        assert_eq!(Timing::column_value(137), 0.137, "137 ns is 0.137 µs, not 0");
    }

    #[test]
    fn staged_values_all_reach_the_histogram() {
        let (mut histogram, mut staged) = (new_histogram(), Staged::default());
        for value in 1..=(STAGED_VALUES as u64 + 5) {
            staged.push(&mut histogram, value, 2);
        }
        assert_eq!(histogram.len(), 2 * STAGED_VALUES as u64, "a full stage is added at once");
        staged.flush(&mut histogram);
        assert_eq!(histogram.len(), 2 * (STAGED_VALUES as u64 + 5));
        assert_eq!(histogram.max(), STAGED_VALUES as u64 + 5);
    }

    #[test]
    fn merging_histograms_adds_counts() {
        let mut a = Histograms::default();
        let mut b = Histograms::default();
        for v in [10, 20, 30] {
            record_value(&mut a.response, v, 1);
        }
        record_value(&mut b.response, 20, 1);
        record_value(b.failed.get_or_insert_with(new_histogram), 1000, 3);
        a.add(&b);
        assert_eq!(a.response.len(), 4);
        assert_eq!(a.response.count_at(20), 2);
        assert_eq!(a.failed.as_ref().map(Histogram::len), Some(3));
        assert!(a.service.is_none(), "nothing recorded, nothing made");
    }

    proptest::proptest! {
        /// Merging per-worker histograms gives the histogram of all the values: the same
        /// count and the same percentiles as recording everything in one.
        #[test]
        fn merged_histograms_equal_one_histogram_of_everything(
            values in proptest::collection::vec(0u64..10_000_000_000, 1..500),
            split in 0usize..500,
        ) {
            let split = split.min(values.len());
            let (mut left, mut right, mut all) = (new_histogram(), new_histogram(), new_histogram());
            for (i, v) in values.iter().enumerate() {
                if i < split { record_value(&mut left, *v, 1) } else { record_value(&mut right, *v, 1) }
                record_value(&mut all, *v, 1);
            }
            left.add(&right).unwrap();
            proptest::prop_assert_eq!(left.len(), values.len() as u64);
            for q in [0.0, 0.5, 0.9, 0.99, 0.999, 1.0] {
                proptest::prop_assert_eq!(left.value_at_quantile(q), all.value_at_quantile(q));
            }
        }
    }
}
