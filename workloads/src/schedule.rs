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
use rand_distr::{Distribution, Exp};
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
    /// Operations due at `rate_ops_s` in total, spread over `workers` workers (each worker
    /// has at most one operation in flight, so `workers` bounds the concurrency).
    Open { rate_ops_s: f64, arrivals: Arrivals, workers: u32 },
}

impl LoadShape {
    /// The number of workers.
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

/// Intended start times for one open-loop worker, as offsets from the start of the run.
#[derive(Clone, Debug)]
pub struct ArrivalSchedule {
    kind: Arrivals,
    next_ns: f64,
    gap_ns: f64,
    exp: Option<Exp<f64>>,
    rng: WorkloadRng,
}

impl ArrivalSchedule {
    /// The schedule of worker `worker` of `workers` sharing `rate_ops_s` in total. Constant
    /// arrivals interleave the workers so that the merged stream is evenly spaced; Poisson
    /// arrivals give each worker an independent Poisson process of rate/workers, whose union
    /// is a Poisson process of the full rate.
    pub fn new(kind: Arrivals, rate_ops_s: f64, worker: u32, workers: u32, seed: u64) -> Self {
        assert!(rate_ops_s > 0.0 && rate_ops_s.is_finite(), "rate must be positive");
        assert!(workers > 0 && worker < workers, "worker index out of range");
        let gap_ns = 1e9 * f64::from(workers) / rate_ops_s;
        let mut rng = stream_rng(seed, Stream::Arrivals, u64::from(worker));
        let exp = (kind == Arrivals::Poisson).then(|| Exp::new(1.0 / gap_ns).expect("positive rate"));
        let next_ns = match &exp {
            Some(exp) => exp.sample(&mut rng),
            None => gap_ns * f64::from(worker) / f64::from(workers),
        };
        ArrivalSchedule { kind, next_ns, gap_ns, exp, rng }
    }

    /// The arrival kind.
    pub fn kind(&self) -> Arrivals {
        self.kind
    }

    /// The next intended start, as an offset from the start of the run.
    pub fn next_offset(&mut self) -> Duration {
        let offset = Duration::from_nanos(self.next_ns as u64);
        self.next_ns += match &self.exp {
            Some(exp) => exp.sample(&mut self.rng),
            None => self.gap_ns,
        };
        offset
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offsets(kind: Arrivals, rate: f64, worker: u32, workers: u32, n: usize) -> Vec<Duration> {
        let mut schedule = ArrivalSchedule::new(kind, rate, worker, workers, 11);
        (0..n).map(|_| schedule.next_offset()).collect()
    }

    #[test]
    fn constant_workers_interleave_evenly() {
        // 1000 ops/s over 4 workers: worker 1 is due at 1 ms, 5 ms, 9 ms, ...
        let times = offsets(Arrivals::Constant, 1000.0, 1, 4, 3);
        assert_eq!(times, vec![Duration::from_millis(1), Duration::from_millis(5), Duration::from_millis(9)]);
    }

    #[test]
    fn poisson_rate_is_right_on_average() {
        let times = offsets(Arrivals::Poisson, 10_000.0, 0, 2, 50_000);
        // 50,000 arrivals at 5,000/s per worker take about 10 s.
        let span = times.last().unwrap().as_secs_f64();
        assert!((span - 10.0).abs() < 0.2, "span {span}");
        assert!(times.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn same_seed_same_arrivals() {
        assert_eq!(offsets(Arrivals::Poisson, 500.0, 0, 1, 100), offsets(Arrivals::Poisson, 500.0, 0, 1, 100));
    }
}
