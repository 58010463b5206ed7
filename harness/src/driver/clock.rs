//! The driver's clock, chosen per run: real time, or tokio's paused virtual time.
//!
//! Every timestamp the driver takes goes through [`Clock::now`], an associated function of a
//! type parameter, so the choice costs nothing on the hot path: the real-time loops compile to
//! the same `std::time::Instant::now()` calls as before.
//!
//! - [`RealClock`]: `std::time::Instant`; the workers on threads of their own, one per core,
//!   each with a current-thread runtime ([`super::threads`]), the control tasks on a
//!   multi-threaded runtime. Every networked run and every in-process family whose operations
//!   take real time (hashing, noop).
//! - [`VirtualClock`]: tokio's clock on a current-thread runtime that starts paused. Time only
//!   moves when every task waits on a timer, and then jumps to the next one, so a simulation
//!   whose operations are timers (simulated backends that "take" 40 ms) runs a minute of load
//!   in a fraction of the time, and — one thread, no wall-clock reading — the same seed gives
//!   the same result. Its instants are `std::time::Instant`s too (tokio's paused clock counts
//!   from a real instant), so the timeline, the recorder and the aggregator serve both clocks.
//!
//! Virtual instants run ahead of the wall clock, so code that must wait in *real* time (the
//! sampler thread, the aggregator thread) never compares its instants with the driver's.

use std::time::Instant;
use tokio::runtime::{Builder, Runtime};

/// Where a run's timestamps come from, and the runtime that goes with them.
pub trait Clock: Copy + Send + Sync + 'static {
    /// The label used in messages: `real` or `virtual`.
    const NAME: &'static str;

    /// The current instant. Under [`VirtualClock`] it must be called inside the run's
    /// runtime (a task, or a thread that entered it).
    fn now() -> Instant;

    /// The run's runtime: its control tasks (supervisor, controller, sampling), and its
    /// workers unless [`Clock::worker_threads`] gives them threads of their own.
    fn runtime() -> std::io::Result<Runtime>;

    /// How many threads of their own ([`super::threads`]) the run's `workers` worker tasks are
    /// dealt out to; 0 runs them on the run's runtime.
    fn worker_threads(workers: u32) -> usize;

    /// Completes at `deadline` on this clock. Real time uses the precise timer
    /// ([`targets::timer`]), because tokio's wakes up to a millisecond late; virtual time uses
    /// tokio's, which is exact there.
    fn sleep_until(deadline: Instant) -> impl std::future::Future<Output = ()> + Send;
}

/// Wall-clock time, on a multi-threaded runtime.
#[derive(Clone, Copy, Debug, Default)]
pub struct RealClock;

impl Clock for RealClock {
    const NAME: &'static str = "real";

    #[inline(always)]
    fn now() -> Instant {
        Instant::now()
    }

    fn runtime() -> std::io::Result<Runtime> {
        // Multi-threaded, so that the controller may block in place (a server restart).
        Builder::new_multi_thread().worker_threads(1).enable_all().build()
    }

    fn worker_threads(workers: u32) -> usize {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        (workers as usize).min(cores)
    }

    fn sleep_until(deadline: Instant) -> impl std::future::Future<Output = ()> + Send {
        targets::timer::sleep_until(deadline)
    }
}

/// Tokio's paused clock, on a current-thread runtime: simulated time.
#[derive(Clone, Copy, Debug, Default)]
pub struct VirtualClock;

impl Clock for VirtualClock {
    const NAME: &'static str = "virtual";

    #[inline]
    fn now() -> Instant {
        tokio::time::Instant::now().into_std()
    }

    fn runtime() -> std::io::Result<Runtime> {
        Builder::new_current_thread().enable_time().start_paused(true).build()
    }

    fn worker_threads(_workers: u32) -> usize {
        0
    }

    fn sleep_until(deadline: Instant) -> impl std::future::Future<Output = ()> + Send {
        tokio::time::sleep_until(deadline.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn virtual_time_jumps_over_sleeps() {
        let runtime = VirtualClock::runtime().unwrap();
        let wall = Instant::now();
        let (start, end) = runtime.block_on(async {
            let start = VirtualClock::now();
            tokio::time::sleep(Duration::from_secs(3600)).await;
            (start, VirtualClock::now())
        });
        assert!(end - start >= Duration::from_secs(3600));
        assert!(wall.elapsed() < Duration::from_secs(5), "an hour of virtual time took {:?}", wall.elapsed());
    }
}
