//! Samples the driver process's own CPU use and memory while a run goes on, so a row shows
//! whether the driver, rather than the target, was the bottleneck.
//!
//! The sampler is a thread that looks every [`SAMPLE_EVERY`] of *real* time. It waits on a
//! channel rather than sleeping, so that stopping it is immediate — a virtual-time run may
//! last a few milliseconds of real time, and must not wait for the sampler's next wake-up —
//! and it takes one last sample when stopped, so even such a run gets a figure.
//!
//! CPU use is the process's CPU time over the run (`getrusage`, which the kernel keeps to the
//! nanosecond) divided by the real time the run took, not a mean of sampled percentages: a
//! sampled percentage needs two readings a while apart, and a run shorter than that would
//! read 0 % where nothing was measured. A run too short for the kernel's accounting to mean
//! anything ([`MIN_CPU_WINDOW`]) leaves the figure empty.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};
use sysinfo::{ProcessRefreshKind, ProcessesToUpdate, System};

/// How often the sampler looks.
const SAMPLE_EVERY: Duration = Duration::from_millis(250);
/// The shortest run whose CPU use is reported: a few scheduler ticks.
const MIN_CPU_WINDOW: Duration = Duration::from_millis(20);

/// What the sampler saw.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ResourceUsage {
    /// CPU use of the driver process over the run, in percent of one core (200 = two cores
    /// busy); `None` when the run was too short to say.
    pub cpu_percent_mean: Option<f64>,
    /// Largest resident set size seen.
    pub rss_bytes_peak: Option<u64>,
}

/// Samples until `stop` receives a message or hangs up (at once: the driver does not wait a
/// sampling period for it), then returns the summary; the last sample is taken on the way
/// out. Each sample's resident set size is also stored in `rss_bytes_now`, for the time series.
pub fn sample_until(stop: Receiver<()>, rss_bytes_now: &AtomicU64) -> ResourceUsage {
    let Ok(pid) = sysinfo::get_current_pid() else { return ResourceUsage::default() };
    let Ok(mut system) = System::new() else { return ResourceUsage::default() };
    let refresh = ProcessRefreshKind::nothing().with_memory();
    let update = |system: &mut System| {
        system.refresh_processes_specifics(ProcessesToUpdate::Some(&[pid]), true, refresh);
        system.process(pid).map(|p| (p.cpu_usage(), p.memory()))
    };
    if let Some((_, rss)) = update(&mut system) {
        rss_bytes_now.store(rss, Ordering::Relaxed);
    }
    let (cpu_start, wall_start) = (process_cpu_time(), Instant::now());
    let mut rss_peak = 0u64;
    loop {
        let stopping = !matches!(stop.recv_timeout(SAMPLE_EVERY), Err(RecvTimeoutError::Timeout));
        if let Some((_, rss)) = update(&mut system) {
            rss_peak = rss_peak.max(rss);
            rss_bytes_now.store(rss, Ordering::Relaxed);
        }
        if stopping {
            break;
        }
    }
    let wall = wall_start.elapsed();
    let cpu = process_cpu_time().zip(cpu_start).map(|(end, start)| end.saturating_sub(start));
    ResourceUsage {
        cpu_percent_mean: cpu
            .filter(|_| wall >= MIN_CPU_WINDOW)
            .map(|cpu| 100.0 * cpu.as_secs_f64() / wall.as_secs_f64()),
        rss_bytes_peak: (rss_peak > 0).then_some(rss_peak),
    }
}

/// The CPU time (user and system) the process has used so far.
fn process_cpu_time() -> Option<Duration> {
    let usage = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_SELF).ok()?;
    let micros =
        |t: nix::sys::time::TimeVal| Duration::from_secs(t.tv_sec() as u64) + Duration::from_micros(t.tv_usec() as u64);
    Some(micros(usage.user_time()) + micros(usage.system_time()))
}
