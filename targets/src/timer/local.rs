//! A precise timer of a thread's own, for a thread that runs a current-thread tokio runtime
//! (the driver's worker threads): its deadlines wake it through a `timerfd` registered with
//! the runtime's I/O driver, so the kernel's high-resolution timer wakes that very thread. No
//! timer thread spins before each deadline, and no wake-up crosses threads.
//!
//! A kernel timer fires late by a roughly constant amount on a virtual machine (measured with
//! `cyclictest -i 100` on a 2-core Firecracker guest: 72 µs in the median, 85 µs at p99, busy
//! core or idle). So the timer is armed that much before the earliest deadline, and the sleeping
//! task spends the rest on its own thread, as with the process-wide timer (the hand-off). How
//! early is learnt from the thread's own wake-ups ([`Margin`]) instead of fixed: the process-wide
//! timer's fixed 50 µs hand-off plus 20 µs of spin is too little here and too much on bare metal,
//! where a timer fires within a few microseconds.
//!
//! [`with_thread_timer`] installs the timer for as long as the future it is given runs;
//! [`super::sleep_until`] uses it on that thread and the process-wide timer elsewhere.

use super::{Queue, Shared};
use nix::sys::time::TimeSpec;
use nix::sys::timerfd::{ClockId, Expiration, TimerFd, TimerFlags, TimerSetTimeFlags};
use std::cell::RefCell;
use std::future::Future;
use std::os::fd::{AsFd as _, AsRawFd, RawFd};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::unix::AsyncFd;

/// The thread's timer, while [`with_thread_timer`] runs.
struct ThreadTimer {
    queue: Queue,
    fd: Rc<AsyncFd<Fd>>,
    /// When the timerfd is set to fire, if it is.
    armed: Option<Instant>,
    margin: Margin,
}

thread_local! {
    static THREAD_TIMER: RefCell<Option<ThreadTimer>> = const { RefCell::new(None) };
}

/// A `timerfd`, as tokio's `AsyncFd` wants it.
struct Fd(TimerFd);

impl AsRawFd for Fd {
    fn as_raw_fd(&self) -> RawFd {
        self.0.as_fd().as_raw_fd()
    }
}

/// How long before a deadline to wake: a running estimate of the median of how late the
/// thread's timer fires, moved a fixed step towards each wake-up's lateness (the
/// stochastic-approximation median). Half the wake-ups come a little early, and their task
/// spends the difference on its thread; half a little late, which the schedule lag shows. A
/// wake-up made late by the thread being busy moves it by one step only.
struct Margin {
    value: Duration,
}

impl Margin {
    const START: Duration = Duration::from_micros(50);
    const STEP: Duration = Duration::from_micros(1);
    const MAX: Duration = Duration::from_micros(200);

    fn learn(&mut self, late: Duration) {
        self.value = if late > self.value {
            (self.value + Self::STEP).min(Self::MAX)
        } else {
            self.value.saturating_sub(Self::STEP)
        };
    }
}

impl ThreadTimer {
    /// Fires the timerfd at `at` unless it fires earlier already.
    fn arm(&mut self, at: Instant) {
        if self.armed.is_some_and(|armed| armed <= at) {
            return;
        }
        let delay = at.saturating_duration_since(Instant::now()).max(Duration::from_nanos(1));
        let expiration = Expiration::OneShot(TimeSpec::from_duration(delay));
        match self.fd.get_ref().0.set(expiration, TimerSetTimeFlags::empty()) {
            Ok(()) => self.armed = Some(at),
            Err(error) => {
                // Never leave a sleeper without a wake-up: hand them all over now.
                tracing::warn!("cannot set the thread's timer: {error}");
                self.queue.fire_all();
            }
        }
    }

    /// The timerfd fired: learns how late, wakes what is due and sets it for the next.
    fn fired(&mut self) {
        let now = Instant::now();
        if let Some(armed) = self.armed.take() {
            self.margin.learn(now.saturating_duration_since(armed));
        }
        self.queue.fire_due(now);
        if let Some(next) = self.queue.earliest() {
            self.arm(next);
        }
    }
}

/// How long before its deadline a sleep on this thread is handed over to its task, if the
/// thread has a timer of its own.
pub(super) fn handoff_before() -> Option<Duration> {
    THREAD_TIMER.with_borrow(|timer| timer.as_ref().map(|timer| timer.margin.value))
}

/// Wakes `shared`'s task at `at` through this thread's timer; `false` if it has none.
pub(super) fn register(at: Instant, shared: &Arc<Shared>) -> bool {
    THREAD_TIMER.with_borrow_mut(|timer| {
        let Some(timer) = timer else { return false };
        if timer.queue.push(at, Arc::clone(shared)) {
            timer.arm(at);
        }
        true
    })
}

/// Runs `until` with a precise timer of this thread's own, served by the current-thread
/// runtime this is polled on. Without a timerfd (it cannot be created), `until` runs as it is
/// and its sleeps use the process-wide timer.
pub async fn with_thread_timer<T>(until: impl Future<Output = T>) -> T {
    let fd = TimerFd::new(ClockId::CLOCK_MONOTONIC, TimerFlags::TFD_NONBLOCK | TimerFlags::TFD_CLOEXEC)
        .map_err(std::io::Error::from)
        .and_then(watch);
    let fd = match fd {
        Ok(fd) => Rc::new(fd),
        Err(error) => {
            tracing::warn!("no timer of the thread's own ({error}); sleeping on the process-wide timer");
            return until.await;
        }
    };
    let timer = ThreadTimer {
        queue: Queue::default(),
        fd: Rc::clone(&fd),
        armed: None,
        margin: Margin { value: Margin::START },
    };
    THREAD_TIMER.set(Some(timer));
    let _uninstall = Uninstall;
    let mut until = std::pin::pin!(until);
    loop {
        tokio::select! {
            biased;
            output = &mut until => return output,
            ready = fd.readable() => match ready {
                Ok(mut ready) => {
                    if ready.try_io(|fd| fd.get_ref().0.wait().map_err(std::io::Error::from)).is_ok() {
                        THREAD_TIMER.with_borrow_mut(|timer| timer.as_mut().map(ThreadTimer::fired));
                    }
                }
                Err(error) => {
                    // The runtime's I/O driver is gone (it is shutting down): polling the
                    // timerfd again would fail at once, forever. Hand every sleeper over and
                    // leave the rest to the process-wide timer.
                    tracing::warn!("the thread's timer stopped ({error}); sleeping on the process-wide timer");
                    THREAD_TIMER.with_borrow_mut(|timer| timer.as_mut().map(|timer| timer.queue.fire_all()));
                    THREAD_TIMER.set(None);
                    return until.await;
                }
            }
        }
    }
}

/// Registers the timerfd with the runtime's I/O driver, for reading.
///
/// tokio deprecated its safe constructor (tokio-rs/tokio#8587) because an `AsRawFd` type may
/// hand out a descriptor it does not own, or a different one later; its replacement is
/// `unsafe`, which this workspace forbids. [`Fd`] owns its descriptor (a `TimerFd` holds an
/// `OwnedFd`) and always returns that one, which is the condition the replacement states.
#[allow(deprecated)]
fn watch(fd: TimerFd) -> std::io::Result<AsyncFd<Fd>> {
    AsyncFd::with_interest(Fd(fd), tokio::io::Interest::READABLE)
}

/// Removes the thread's timer when [`with_thread_timer`] ends, however it ends.
struct Uninstall;

impl Drop for Uninstall {
    fn drop(&mut self) {
        THREAD_TIMER.set(None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sleeps on a thread with a timer of its own wake at or after their deadlines, in any
    /// order, and are served by that timer, not the process-wide one.
    #[test]
    fn sleeps_on_a_thread_timer_wake_at_or_after_their_deadlines() {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let on_time = runtime.block_on(with_thread_timer(async {
            assert!(handoff_before().is_some(), "the thread has a timer");
            let start = Instant::now();
            let offsets_us = [3000u64, 500, 2000, 500, 10, 4000, 1500];
            let sleeps = offsets_us.iter().map(|us| {
                let deadline = start + Duration::from_micros(*us);
                async move {
                    super::super::sleep_until(deadline).await;
                    Instant::now() >= deadline
                }
            });
            futures_util::future::join_all(sleeps).await
        }));
        assert!(on_time.iter().all(|&ok| ok), "woke early: {on_time:?}");
        assert!(handoff_before().is_none(), "the timer is removed when its future ends");
    }

    /// The margin settles at the median lateness, a step at a time, whatever the outliers.
    #[test]
    fn the_margin_settles_at_the_median_lateness() {
        let mut margin = Margin { value: Margin::START };
        let lateness_us = [60u64, 70, 80, 5_000];
        (0..400).for_each(|i| margin.learn(Duration::from_micros(lateness_us[i % 4])));
        let value_us = margin.value.as_micros();
        assert!((70..=80).contains(&value_us), "{value_us} µs");
        (0..1000).for_each(|_| margin.learn(Duration::ZERO));
        assert_eq!(margin.value, Duration::ZERO);
        (0..1000).for_each(|_| margin.learn(Duration::from_secs(1)));
        assert_eq!(margin.value, Margin::MAX);
    }
}
