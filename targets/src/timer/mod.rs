//! A timer with microsecond precision, for the driver's open-loop schedules and the latency
//! of the networked backends.
//!
//! tokio's timer wheel has a resolution of one millisecond and rounds every deadline up to the
//! next tick, so a worker that sleeps until an operation is due wakes up to a millisecond
//! late. An open loop measures latency from the intended start, so that lateness would be
//! charged to the target: a no-op target showed a median of 1.4 ms at 1,000 operations per
//! second and 0.6 ms at 20,000; with this timer, 40 µs and 17 µs; with the hand-off below,
//! 4–16 µs at 1,000 and 0.24 µs at 10,000 (against 61–71 µs and 11–17 µs without it, measured
//! side by side on a loaded 2-core machine).
//!
//! This timer keeps deadlines in a heap served by one thread, which sleeps on a condition
//! variable (the kernel's high-resolution timers, with the thread's timer slack set to 1 µs)
//! until shortly before the earliest deadline, then yields the CPU in a loop until the
//! deadline (so a spinning timer thread still lets the target run), and wakes the task whose
//! deadline it is: a cross-thread wake-up of a few microseconds, not a millisecond.
//!
//! The networked balancing backends (`stratbench serve backend`) sleep on it too, so that a
//! `1ms` backend answers in a millisecond, not two.
//!
//! The last [`HANDOFF_BEFORE`] of each sleep is spent on the sleeping task's own runtime
//! thread, which polls it until the deadline: a thread woken from its park at the deadline
//! itself would start the operation tens of microseconds late.
//!
//! The price is CPU: at high rates the timer thread is rarely asleep, and the hand-off costs up
//! to 50 µs of a runtime thread per operation; the row's `driver_cpu_percent` shows it. The
//! thread is started on first use and serves the whole process; with no deadline pending it
//! waits on the condition variable, using no CPU.
//!
//! The driver's worker threads do not use that thread: each has a timer of its own
//! ([`with_thread_timer`], in `local`), a `timerfd` that wakes the thread itself, armed early
//! by what it learns of its own lateness. Measured side by side (no-op open loop, 50 slots on
//! 2 cores, 2 rounds): at 10,000/s the p99 went from 1.2–2.9 ms to 0.15–0.26 ms and the
//! driver's CPU from 59% to 31–33%; the p50 from 0.4–0.5 µs to 2.1–2.3 µs, as half the
//! wake-ups now come a few microseconds late instead of spinning 70 µs before each deadline.

use crate::sync::Recover as _;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

mod local;

pub use local::with_thread_timer;

/// How long before a deadline the timer thread stops sleeping and spins. Measured on a loaded
/// 2-core machine (no-op target, open loop, median latency at 1,000 / 20,000 operations per
/// second): no spin 45 / 35 µs; 20 µs of spin 40 / 17 µs; 80 µs of spin 30 / 10 µs but a
/// fifth more driver CPU. tokio's timer: 1,400 / 600 µs.
const SPIN_BEFORE: Duration = Duration::from_micros(20);

/// How long before its deadline a sleeping task is handed back to its runtime, which then polls
/// it (the task wakes itself) until the deadline: the runtime's thread is awake when the
/// deadline comes, instead of being woken from its park across threads at that very moment
/// (tens of microseconds on a virtual machine, charged to the target in an open loop). Costs at
/// most this much of the runtime thread's CPU per sleep.
const HANDOFF_BEFORE: Duration = Duration::from_micros(50);

/// What a sleeping future and the timer thread share: whether the deadline passed, and the
/// waker of the task polling the future now (a task may be polled with a new waker).
struct Shared {
    fired: AtomicBool,
    waker: Mutex<Waker>,
}

/// A pending deadline.
struct Entry {
    deadline: Instant,
    sequence: u64,
    shared: Arc<Shared>,
}

impl Entry {
    fn fire(&self) {
        self.shared.fired.store(true, Ordering::Release);
        self.shared.waker.locked().wake_by_ref();
    }
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        (self.deadline, self.sequence) == (other.deadline, other.sequence)
    }
}

impl Eq for Entry {}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Entry {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.deadline, self.sequence).cmp(&(other.deadline, other.sequence))
    }
}

/// Pending deadlines, earliest first.
#[derive(Default)]
struct Queue {
    heap: BinaryHeap<Reverse<Entry>>,
    sequence: u64,
}

impl Queue {
    /// Adds `shared`'s deadline; whether it is now the earliest.
    fn push(&mut self, deadline: Instant, shared: Arc<Shared>) -> bool {
        self.sequence += 1;
        let sequence = self.sequence;
        let earliest = self.earliest().is_none_or(|first| deadline < first);
        self.heap.push(Reverse(Entry { deadline, sequence, shared }));
        earliest
    }

    fn earliest(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse(first)| first.deadline)
    }

    /// Marks every entry due at `now` as fired and wakes its task.
    fn fire_due(&mut self, now: Instant) {
        while self.earliest().is_some_and(|deadline| deadline <= now) {
            let Reverse(entry) = self.heap.pop().expect("peeked");
            entry.fire();
        }
    }

    /// Fires every entry, due or not: their tasks wait out the rest on their own threads.
    fn fire_all(&mut self) {
        self.heap.drain().for_each(|Reverse(entry)| entry.fire());
    }
}

/// The process's precise timer.
struct Timer {
    queue: Mutex<Queue>,
    changed: Condvar,
}

impl Timer {
    fn global() -> &'static Timer {
        static TIMER: OnceLock<&'static Timer> = OnceLock::new();
        TIMER.get_or_init(|| {
            let timer: &'static Timer = Box::leak(Box::new(Timer { queue: Mutex::default(), changed: Condvar::new() }));
            std::thread::Builder::new()
                .name("stratbench-timer".into())
                .spawn(move || timer.serve())
                .expect("the timer thread starts");
            timer
        })
    }

    fn register(&self, deadline: Instant, shared: Arc<Shared>) {
        let earliest = self.queue.locked().push(deadline, shared);
        if earliest {
            self.changed.notify_one();
        }
    }

    /// The timer thread: wakes each entry at its deadline, forever.
    fn serve(&self) {
        // Best effort: without it the kernel may add its default 50 µs of slack to each nap.
        let _ = nix::sys::prctl::set_timerslack(1_000);
        let mut queue = self.queue.locked();
        loop {
            let Some(deadline) = queue.earliest() else {
                queue = self.changed.wait(queue).unwrap_or_else(|p| p.into_inner());
                continue;
            };
            let now = Instant::now();
            if now + SPIN_BEFORE < deadline {
                let nap = deadline - now - SPIN_BEFORE;
                queue = self.changed.wait_timeout(queue, nap).unwrap_or_else(|p| p.into_inner()).0;
                continue;
            }
            drop(queue);
            while Instant::now() < deadline {
                std::thread::yield_now();
            }
            queue = self.queue.locked();
            queue.fire_due(Instant::now());
        }
    }
}

/// A future that completes at `deadline`, to within tens of microseconds: on this thread's own
/// timer if it has one, else on the process-wide one.
pub struct PreciseSleep {
    deadline: Instant,
    shared: Option<Arc<Shared>>,
}

/// Sleeps until `deadline` on the precise timer.
pub fn sleep_until(deadline: Instant) -> PreciseSleep {
    PreciseSleep { deadline, shared: None }
}

impl Future for PreciseSleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let now = Instant::now();
        if now >= self.deadline {
            return Poll::Ready(());
        }
        let handoff_before = local::handoff_before().unwrap_or(HANDOFF_BEFORE);
        let handoff = self.deadline.checked_sub(handoff_before).unwrap_or(self.deadline);
        let handed_off = self.shared.as_ref().is_some_and(|shared| shared.fired.load(Ordering::Acquire));
        if now >= handoff || handed_off {
            // The last stretch: stay on the runtime's thread, yielding to its other tasks.
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        match &self.shared {
            Some(shared) => {
                let mut waker = shared.waker.locked();
                if !waker.will_wake(cx.waker()) {
                    *waker = cx.waker().clone();
                }
            }
            None => {
                let shared = Arc::new(Shared { fired: AtomicBool::new(false), waker: Mutex::new(cx.waker().clone()) });
                if !local::register(handoff, &shared) {
                    Timer::global().register(handoff, Arc::clone(&shared));
                }
                self.shared = Some(shared);
            }
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deadlines given in any order all fire, and none fires early.
    #[test]
    fn wakes_every_task_at_or_after_its_deadline() {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
        let start = Instant::now();
        let offsets_us = [3000u64, 500, 2000, 500, 10, 4000, 1500];
        let handles: Vec<_> = offsets_us
            .iter()
            .map(|us| {
                let deadline = start + Duration::from_micros(*us);
                runtime.spawn(async move {
                    sleep_until(deadline).await;
                    Instant::now() >= deadline
                })
            })
            .collect();
        for handle in handles {
            assert!(runtime.block_on(handle).unwrap(), "woke before its deadline");
        }
    }

    #[test]
    fn a_deadline_in_the_past_is_ready_at_once() {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        runtime.block_on(sleep_until(Instant::now() - Duration::from_millis(1)));
    }
}
