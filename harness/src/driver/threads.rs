//! Where a real-time run's worker tasks run: one thread per core, each with a current-thread
//! tokio runtime of its own, and the workers dealt out among them (worker `w` on thread
//! `w mod threads`), as wrk runs one event loop per thread.
//!
//! Why not tokio's multi-threaded runtime: its scheduler hands tasks between threads (work
//! stealing, waking a parked thread to look for work), which costs every networked operation
//! futex calls and cache misses on the driver's side of the measurement. Measured side by side
//! on 2 cores, 3 rounds alternating with wrk (`wrk -t2 -c50`: 185–201k requests/s), HTTP closed
//! loop against `engine:direct` with 50 workers: 121–126k requests/s on the multi-threaded
//! runtime (3 threads; 2 gave no more), 140–147k here. The `noop` closed loop, 1 worker:
//! 11.5–11.8M operations/s before, 15.3–15.8M here. A worker's I/O and timers are driven by its
//! own thread's runtime, so nothing crosses threads on the way from a socket to the task that
//! reads it.
//!
//! What it gives up is work stealing: a worker task that blocks its thread holds back the other
//! workers on that thread. Workers never block (the [`targets::target::Worker`] contract: every
//! wait is awaited), and the control tasks (the supervisor, the controller, which may block in
//! place while it restarts a server) stay on the run's own multi-threaded runtime.
//!
//! The threads end when this is dropped: each runtime is told to stop and its thread joined,
//! so no thread outlives the run.

use std::future::Future;
use tokio::runtime::{Builder, Handle};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The worker threads of one run.
pub struct WorkerThreads {
    handles: Vec<Handle>,
    stops: Vec<oneshot::Sender<()>>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl WorkerThreads {
    /// `count` threads (at least one), each running a current-thread runtime with I/O and
    /// timers until this is dropped.
    pub fn start(count: usize) -> std::io::Result<WorkerThreads> {
        let mut pool = WorkerThreads { handles: Vec::new(), stops: Vec::new(), threads: Vec::new() };
        for index in 0..count.max(1) {
            let runtime = Builder::new_current_thread().enable_all().build()?;
            let (stop, stopped) = oneshot::channel::<()>();
            pool.handles.push(runtime.handle().clone());
            pool.stops.push(stop);
            let thread = std::thread::Builder::new().name(format!("stratbench-worker-{index}")).spawn(move || {
                runtime.block_on(targets::timer::with_thread_timer(async move {
                    let _ = stopped.await;
                }));
            })?;
            pool.threads.push(thread);
        }
        Ok(pool)
    }

    /// How many threads there are.
    pub fn count(&self) -> usize {
        self.handles.len()
    }

    /// The thread worker `w` runs on.
    pub fn thread_of(&self, w: u32) -> usize {
        w as usize % self.handles.len()
    }

    /// Spawns worker `w`'s task on its thread.
    pub fn spawn<F>(&self, w: u32, task: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handles[self.thread_of(w)].spawn(task)
    }
}

impl Drop for WorkerThreads {
    fn drop(&mut self) {
        self.stops.clear();
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// Workers are dealt out round the threads, and each runs on the thread it was dealt to.
    #[test]
    fn workers_are_dealt_round_the_threads() {
        let threads = WorkerThreads::start(2).unwrap();
        let runtime = Builder::new_current_thread().build().unwrap();
        let names: Vec<String> = runtime.block_on(async {
            let mut names = Vec::new();
            for w in 0..4 {
                let handle = threads.spawn(w, async { std::thread::current().name().unwrap_or_default().to_string() });
                names.push(handle.await.unwrap());
            }
            names
        });
        assert_eq!(names, ["stratbench-worker-0", "stratbench-worker-1", "stratbench-worker-0", "stratbench-worker-1"]);
        assert_eq!(names.iter().collect::<HashSet<_>>().len(), 2);
    }

    /// Dropping the pool ends its threads, a task still pending included.
    #[test]
    fn dropping_the_pool_ends_its_threads() {
        let threads = WorkerThreads::start(1).unwrap();
        let pending = threads.spawn(0, std::future::pending::<()>());
        drop(threads);
        assert!(pending.is_finished());
    }
}
