//! Samples the driver process's own CPU use and memory while a run goes on, so a row shows
//! whether the driver, rather than the target, was the bottleneck.
//!
//! The sampler is a thread that looks every [`SAMPLE_EVERY`] of *real* time. It waits on a
//! channel rather than sleeping, so that stopping it is immediate — a virtual-time run may
//! last a few milliseconds of real time, and must not wait for the sampler's next wake-up —
//! and it takes one last sample when stopped, so even such a run gets a figure.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;
use sysinfo::{ProcessRefreshKind, ProcessesToUpdate, System};

/// How often the sampler looks.
const SAMPLE_EVERY: Duration = Duration::from_millis(250);

/// What the sampler saw.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ResourceUsage {
    /// Mean CPU use of the driver process, in percent of one core (200 = two cores busy).
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
    let refresh = ProcessRefreshKind::nothing().with_cpu().with_memory();
    let update = |system: &mut System| {
        system.refresh_processes_specifics(ProcessesToUpdate::Some(&[pid]), true, refresh);
        system.process(pid).map(|p| (p.cpu_usage(), p.memory()))
    };
    if let Some((_, rss)) = update(&mut system) {
        rss_bytes_now.store(rss, Ordering::Relaxed);
    }
    let (mut cpu_sum, mut samples, mut rss_peak) = (0.0f64, 0u32, 0u64);
    loop {
        let stopping = !matches!(stop.recv_timeout(SAMPLE_EVERY), Err(RecvTimeoutError::Timeout));
        if let Some((cpu, rss)) = update(&mut system) {
            cpu_sum += f64::from(cpu);
            samples += 1;
            rss_peak = rss_peak.max(rss);
            rss_bytes_now.store(rss, Ordering::Relaxed);
        }
        if stopping {
            break;
        }
    }
    ResourceUsage {
        cpu_percent_mean: (samples > 0).then(|| cpu_sum / f64::from(samples)),
        rss_bytes_peak: (rss_peak > 0).then_some(rss_peak),
    }
}
