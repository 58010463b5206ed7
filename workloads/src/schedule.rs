//! Load shapes and arrival schedules.
//!
//! A run is either *closed loop* — N workers, each issuing its next operation as soon as the
//! previous one ends, so the target's speed sets the pace — or *open loop* — operations are
//! due at times fixed in advance by a target rate, whatever the target does, as wrk2 does.
//! Only the open loop measures what a user with a fixed request rate sees: when the target
//! stalls, requests keep arriving, and their latency is counted from when they were due
//! (the coordinated-omission correction).
//!
//! This module computes the *intended* start times; the driver sleeps until them and takes the
//! timestamps.

use crate::rng::{Stream, WorkloadRng, stream_rng};
use rand_distr::{Distribution, Exp, Poisson};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// How arrivals are spaced in an open-loop run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Arrivals {
    /// Evenly spaced, as wrk2.
    #[default]
    Constant,
    /// A Poisson process: exponential gaps with the same mean.
    Poisson,
}

impl Arrivals {
    /// The name as written in files.
    pub fn as_str(self) -> &'static str {
        match self {
            Arrivals::Constant => "constant",
            Arrivals::Poisson => "poisson",
        }
    }
}

/// Who sets the pace.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(tag = "loop", rename_all = "kebab-case")]
pub enum LoadShape {
    /// `workers` workers, each with one operation in flight.
    Closed { workers: u32 },
    /// Operations due at `rate_ops_s` on one schedule for the whole run (k6's
    /// constant-arrival-rate), started by whichever of `workers` slots is free: `workers` is
    /// the most operations in flight, not a split of the schedule.
    Open { rate_ops_s: f64, arrivals: Arrivals, workers: u32 },
}

impl LoadShape {
    /// The number of workers (closed loop) or slots (open loop).
    pub fn workers(&self) -> u32 {
        match *self {
            LoadShape::Closed { workers } | LoadShape::Open { workers, .. } => workers,
        }
    }

    /// `closed` or `open`.
    pub fn loop_name(&self) -> &'static str {
        match self {
            LoadShape::Closed { .. } => "closed",
            LoadShape::Open { .. } => "open",
        }
    }
}

/// How long a run lasts: a warm-up, then a measured phase that ends at `duration` or after
/// `ops` operations, whichever comes first. Both bounds always exist, so no run is unbounded.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct RunLength {
    pub warmup: Duration,
    pub duration: Duration,
    pub ops: Option<u64>,
}

/// The intended start times of a run's open-loop arrivals, as offsets from the start of the
/// run: one schedule for the whole run, whatever the number of slots that serve it.
#[derive(Clone, Debug)]
pub struct ArrivalSchedule {
    kind: Arrivals,
    rate_ops_s: f64,
    next_ns: f64,
    gap_ns: f64,
    exp: Option<Exp<f64>>,
    rng: WorkloadRng,
}

impl ArrivalSchedule {
    /// The schedule of `rate_ops_s` arrivals per second: evenly spaced from the start of the
    /// run (constant), or a Poisson process of that rate seeded by `seed`.
    pub fn new(kind: Arrivals, rate_ops_s: f64, seed: u64) -> Self {
        assert!(rate_ops_s > 0.0 && rate_ops_s.is_finite(), "rate must be positive");
        let gap_ns = 1e9 / rate_ops_s;
        let mut rng = stream_rng(seed, Stream::Arrivals, 0);
        let exp = (kind == Arrivals::Poisson).then(|| Exp::new(1.0 / gap_ns).expect("positive rate"));
        let next_ns = match &exp {
            Some(exp) => exp.sample(&mut rng),
            None => 0.0,
        };
        ArrivalSchedule { kind, rate_ops_s, next_ns, gap_ns, exp, rng }
    }

    /// The arrival kind.
    pub fn kind(&self) -> Arrivals {
        self.kind
    }

    /// The next intended start, without taking it.
    pub fn peek_offset(&self) -> Duration {
        Duration::from_nanos(self.next_ns as u64)
    }

    /// Takes the next intended start.
    pub fn next_offset(&mut self) -> Duration {
        let offset = self.peek_offset();
        self.next_ns += self.draw_gap_ns();
        offset
    }

    fn draw_gap_ns(&mut self) -> f64 {
        match &self.exp {
            Some(exp) => exp.sample(&mut self.rng),
            None => self.gap_ns,
        }
    }

    /// Skips every arrival due before `end` (at most `limit` of them) and returns how many
    /// there were, in time proportional to one draw, not to their number: for accounting the
    /// arrivals that a run never got to start. Constant arrivals are counted; a Poisson
    /// process's count over the window is drawn from the Poisson distribution of its mean, and
    /// the process restarts at `end` (it is memoryless), so the counts have the schedule's law.
    pub fn skip_until(&mut self, end: Duration, limit: u64) -> u64 {
        let end_ns = end.as_nanos() as f64;
        if self.next_ns >= end_ns || limit == 0 {
            return 0;
        }
        let count = match self.kind {
            Arrivals::Constant => ((end_ns - self.next_ns) / self.gap_ns).ceil() as u64,
            Arrivals::Poisson => {
                let mean = (end_ns - self.next_ns) * self.rate_ops_s / 1e9;
                1 + Poisson::new(mean).map_or(0, |p| p.sample(&mut self.rng) as u64)
            }
        };
        let count = count.min(limit);
        self.next_ns = match self.kind {
            Arrivals::Constant => self.next_ns + self.gap_ns * count as f64,
            Arrivals::Poisson if count == limit => end_ns,
            Arrivals::Poisson => end_ns + self.draw_gap_ns(),
        };
        count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offsets(kind: Arrivals, rate: f64, n: usize) -> Vec<Duration> {
        let mut schedule = ArrivalSchedule::new(kind, rate, 11);
        (0..n).map(|_| schedule.next_offset()).collect()
    }

    #[test]
    fn constant_arrivals_are_evenly_spaced_from_the_start() {
        let times = offsets(Arrivals::Constant, 1000.0, 3);
        assert_eq!(times, vec![Duration::ZERO, Duration::from_millis(1), Duration::from_millis(2)]);
    }

    #[test]
    fn poisson_rate_is_right_on_average() {
        let times = offsets(Arrivals::Poisson, 5_000.0, 50_000);
        // 50,000 arrivals at 5,000/s take about 10 s.
        let span = times.last().unwrap().as_secs_f64();
        assert!((span - 10.0).abs() < 0.2, "span {span}");
        assert!(times.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn same_seed_same_arrivals() {
        assert_eq!(offsets(Arrivals::Poisson, 500.0, 100), offsets(Arrivals::Poisson, 500.0, 100));
    }

    #[test]
    fn skipping_counts_exactly_the_constant_arrivals_due() {
        let mut schedule = ArrivalSchedule::new(Arrivals::Constant, 1000.0, 1);
        schedule.next_offset();
        // Due at 1, 2, ..., 9 ms: nine before 9.5 ms.
        assert_eq!(schedule.skip_until(Duration::from_micros(9500), u64::MAX), 9);
        assert_eq!(schedule.peek_offset(), Duration::from_millis(10));
        assert_eq!(schedule.skip_until(Duration::from_millis(20), 4), 4, "the limit caps the count");
        assert_eq!(schedule.skip_until(Duration::from_millis(1), u64::MAX), 0, "nothing due before the past");
    }

    #[test]
    fn skipped_poisson_counts_have_the_schedules_mean() {
        let mut schedule = ArrivalSchedule::new(Arrivals::Poisson, 10_000.0, 3);
        let mut total = 0;
        for window in 1..=1000u64 {
            total += schedule.skip_until(Duration::from_millis(window * 10), u64::MAX);
        }
        // 10 s at 10,000/s: 100,000 arrivals, give or take a few hundred.
        assert!((99_000..=101_000).contains(&total), "{total}");
    }
}
