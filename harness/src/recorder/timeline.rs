//! The run's fixed instants and how they cut it into intervals: warm-up intervals, measured
//! intervals that end exactly at the end of the measured phase, and one drain interval for
//! whatever ends after it.

use std::time::{Duration, Instant};

/// Warm-up, measured, or after the measured phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Phase {
    Warmup,
    Measure,
    /// Operations that were due in the measured phase but ended after it (their latencies
    /// belong to the run), and those recorded unfinished when the driver gave up.
    Drain,
}

impl Phase {
    /// The name used in CSV rows.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Warmup => "warmup",
            Phase::Measure => "measure",
            Phase::Drain => "drain",
        }
    }

    /// Whether the phase's operations enter the summary.
    pub fn is_measured(self) -> bool {
        self != Phase::Warmup
    }
}

/// One interval of the run: warm-up intervals count from the start of the run, measured ones
/// from the start of the measured phase; the drain is one slot. Slots order by phase, then
/// index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Slot {
    pub phase: Phase,
    pub index: u64,
}

impl Slot {
    /// The drain slot.
    pub const DRAIN: Slot = Slot { phase: Phase::Drain, index: 0 };
}

/// The run's fixed instants and interval length.
#[derive(Clone, Copy, Debug)]
pub struct Timeline {
    pub run_start: Instant,
    pub measure_start: Instant,
    pub measure_end: Instant,
    pub interval: Duration,
}

impl Timeline {
    /// Builds a timeline that starts at `run_start`.
    pub fn new(run_start: Instant, warmup: Duration, duration: Duration, interval: Duration) -> Self {
        assert!(!interval.is_zero(), "interval must be positive");
        let measure_start = run_start + warmup;
        Timeline { run_start, measure_start, measure_end: measure_start + duration, interval }
    }

    fn warmup_slots(&self) -> u64 {
        slots_in(self.measure_start - self.run_start, self.interval)
    }

    fn measure_slots(&self) -> u64 {
        slots_in(self.measure_end - self.measure_start, self.interval).max(1)
    }

    /// The slot an operation ending at `at` belongs to.
    #[inline]
    pub fn slot(&self, at: Instant) -> Slot {
        if at < self.measure_start {
            let index = (at.saturating_duration_since(self.run_start).as_nanos() / self.interval.as_nanos()) as u64;
            Slot { phase: Phase::Warmup, index }
        } else if at < self.measure_end {
            let index = ((at - self.measure_start).as_nanos() / self.interval.as_nanos()) as u64;
            Slot { phase: Phase::Measure, index: index.min(self.measure_slots() - 1) }
        } else {
            Slot::DRAIN
        }
    }

    /// When `slot` starts and ends; the drain has no end of its own (it lasts until the last
    /// operation ends), so its bounds are both the end of the measured phase.
    pub fn bounds(&self, slot: Slot) -> (Instant, Instant) {
        let interval = self.interval;
        match slot.phase {
            Phase::Warmup => {
                let start = self.run_start + times(interval, slot.index);
                (start, (start + interval).min(self.measure_start))
            }
            Phase::Measure => {
                let start = self.measure_start + times(interval, slot.index);
                (start, (start + interval).min(self.measure_end))
            }
            Phase::Drain => (self.measure_end, self.measure_end),
        }
    }

    /// The slot after `slot`; `None` after the drain.
    pub fn next(&self, slot: Slot) -> Option<Slot> {
        match slot.phase {
            Phase::Warmup if slot.index + 1 < self.warmup_slots() => {
                Some(Slot { phase: Phase::Warmup, index: slot.index + 1 })
            }
            Phase::Warmup => Some(Slot { phase: Phase::Measure, index: 0 }),
            Phase::Measure if slot.index + 1 < self.measure_slots() => {
                Some(Slot { phase: Phase::Measure, index: slot.index + 1 })
            }
            Phase::Measure => Some(Slot::DRAIN),
            Phase::Drain => None,
        }
    }

    /// The first slot of the run.
    pub fn first(&self) -> Slot {
        if self.warmup_slots() > 0 {
            Slot { phase: Phase::Warmup, index: 0 }
        } else {
            Slot { phase: Phase::Measure, index: 0 }
        }
    }

    /// Signed seconds from the start of the measured phase to `at` (negative in warm-up).
    pub fn offset_s(&self, at: Instant) -> f64 {
        if at >= self.measure_start {
            (at - self.measure_start).as_secs_f64()
        } else {
            -(self.measure_start - at).as_secs_f64()
        }
    }
}

/// Intervals of `length` needed to cover `span` (the last may be shorter).
fn slots_in(span: Duration, length: Duration) -> u64 {
    span.as_nanos().div_ceil(length.as_nanos()) as u64
}

/// `interval` × `count`, saturating.
pub fn times(interval: Duration, count: u64) -> Duration {
    Duration::from_nanos(u64::try_from(interval.as_nanos()).unwrap_or(u64::MAX).saturating_mul(count))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timeline() -> Timeline {
        Timeline::new(Instant::now(), Duration::from_millis(1500), Duration::from_millis(2500), Duration::from_secs(1))
    }

    #[test]
    fn times_is_exact_to_the_nanosecond_where_floats_round_and_saturates() {
        // 1.000000001 s × 1e9 in f64 seconds comes out 119 ns long.
        let interval = Duration::from_nanos(1_000_000_001);
        assert_eq!(times(interval, 1_000_000_000), Duration::from_nanos(1_000_000_001_000_000_000));
        assert_eq!(times(Duration::from_secs(1), u64::MAX), Duration::from_nanos(u64::MAX));
    }

    #[test]
    fn slots_split_warmup_measure_and_drain() {
        let t = timeline();
        assert_eq!(t.slot(t.run_start), Slot { phase: Phase::Warmup, index: 0 });
        assert_eq!(t.slot(t.run_start + Duration::from_millis(1200)), Slot { phase: Phase::Warmup, index: 1 });
        assert_eq!(t.slot(t.measure_start), Slot { phase: Phase::Measure, index: 0 });
        assert_eq!(t.slot(t.measure_start + Duration::from_millis(2400)), Slot { phase: Phase::Measure, index: 2 });
        assert_eq!(t.slot(t.measure_end), Slot::DRAIN, "the end of the measured phase starts the drain");
        assert_eq!(t.slot(t.measure_end + Duration::from_secs(60)), Slot::DRAIN);
        // The second warm-up interval is cut short by the start of the measured phase, the
        // last measured one by its end: the time series covers the measured phase exactly.
        let (start, end) = t.bounds(Slot { phase: Phase::Warmup, index: 1 });
        assert_eq!(end - start, Duration::from_millis(500));
        let (start, end) = t.bounds(Slot { phase: Phase::Measure, index: 2 });
        assert_eq!((start, end), (t.measure_start + Duration::from_secs(2), t.measure_end));
        assert_eq!(t.next(Slot { phase: Phase::Warmup, index: 1 }), Some(Slot { phase: Phase::Measure, index: 0 }));
        assert_eq!(t.next(Slot { phase: Phase::Measure, index: 2 }), Some(Slot::DRAIN));
        assert_eq!(t.next(Slot::DRAIN), None);
    }
}
