//! Samples the driver process's own CPU use and memory while a run goes on, so a row shows
//! whether the driver, rather than the target, was the bottleneck.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
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

/// Samples until `stop` is set (and the thread unparked), then returns the summary. Each
/// sample's resident set size is also stored in `rss_bytes_now`, for the time series.
pub fn sample_until(stop: &AtomicBool, rss_bytes_now: &AtomicU64) -> ResourceUsage {
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
    while !stop.load(Ordering::Relaxed) {
        // Parked rather than asleep, so the driver can wake it the moment the run ends.
        std::thread::park_timeout(SAMPLE_EVERY);
        if let Some((cpu, rss)) = update(&mut system) {
            cpu_sum += f64::from(cpu);
            samples += 1;
            rss_peak = rss_peak.max(rss);
            rss_bytes_now.store(rss, Ordering::Relaxed);
        }
    }
    ResourceUsage {
        cpu_percent_mean: (samples > 0).then(|| cpu_sum / f64::from(samples)),
        rss_bytes_peak: (rss_peak > 0).then_some(rss_peak),
    }
}
