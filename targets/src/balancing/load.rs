//! What a balancer knows about its backends' load: requests outstanding (sent, not yet
//! answered) and, for latency-aware strategies, a peak-EWMA estimate of each one's round-trip
//! time.
//!
//! Peak-EWMA is the estimator of Finagle's and Linkerd's `p2cPeakEwma` and tower's
//! `load::PeakEwma`: an observation above the estimate replaces it at once (the peak), one
//! below it is blended in with weight `1 − e^(−Δt/τ)`, where Δt is the time since the last
//! update and τ the decay time; and when the estimate is read it first decays toward zero by
//! `e^(−Δt/τ)`, so a backend that has not answered for a while looks cheaper and gets probed
//! again. A backend starts at the default RTT (cold start), and its clock starts with the
//! first time it is read or updated, so building a balancer reads no clock (a simulation's
//! result does not depend on when, in real time, it was set up). The cost a balancer compares
//! is `estimate × (outstanding + 1)`.
//!
//! Time is passed in by the caller (`now`), so the same code runs under the simulation's
//! virtual clock and in the proxy's real time.

use crate::sync::Recover as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A peak-EWMA round-trip-time estimate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PeakEwma {
    estimate_ns: f64,
    /// `None` until first read or updated.
    updated_at: Option<Instant>,
    decay_ns: f64,
}

impl PeakEwma {
    /// An estimate of `initial`, decaying with time constant `decay` from its first use.
    pub fn new(initial: Duration, decay: Duration) -> Self {
        assert!(!decay.is_zero(), "the decay time must be positive");
        PeakEwma { estimate_ns: initial.as_nanos() as f64, updated_at: None, decay_ns: decay.as_nanos() as f64 }
    }

    /// Takes in one observed round trip, ending at `now`.
    pub fn observe(&mut self, rtt: Duration, now: Instant) {
        let rtt_ns = rtt.as_nanos() as f64;
        if rtt_ns > self.estimate_ns {
            self.estimate_ns = rtt_ns;
        } else {
            let decay = self.decay_since(now);
            self.estimate_ns = self.estimate_ns * decay + rtt_ns * (1.0 - decay);
        }
        self.updated_at = Some(self.updated_at.map_or(now, |at| at.max(now)));
    }

    /// The estimate at `now`, decayed toward zero since the last update (as tower does, by
    /// observing a zero round trip).
    pub fn estimate_ns(&mut self, now: Instant) -> f64 {
        self.observe(Duration::ZERO, now);
        self.estimate_ns
    }

    fn decay_since(&self, now: Instant) -> f64 {
        let Some(updated_at) = self.updated_at else { return 1.0 };
        let elapsed_ns = now.saturating_duration_since(updated_at).as_nanos() as f64;
        (-elapsed_ns / self.decay_ns).exp()
    }
}

/// Peak-EWMA settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EwmaSettings {
    /// Time constant τ of the decay.
    pub decay: Duration,
    /// The estimate of a backend never heard from.
    pub default_rtt: Duration,
}

impl Default for EwmaSettings {
    /// Finagle's and Linkerd's defaults: a 10 s decay; a 30 ms default RTT.
    fn default() -> Self {
        EwmaSettings { decay: Duration::from_secs(10), default_rtt: Duration::from_millis(30) }
    }
}

/// One backend's counters, alone on a cache line so that proxies' threads do not slow each
/// other down.
#[repr(align(128))]
struct BackendLoad {
    outstanding: AtomicU32,
    ewma: Mutex<PeakEwma>,
}

/// The load of every backend, as one balancer instance sees it.
pub struct Loads {
    backends: Vec<BackendLoad>,
    total_outstanding: AtomicU64,
}

impl Loads {
    /// `count` idle backends, each estimated at the default RTT.
    pub fn new(count: usize, ewma: EwmaSettings) -> Self {
        let backends = (0..count)
            .map(|_| BackendLoad {
                outstanding: AtomicU32::new(0),
                ewma: Mutex::new(PeakEwma::new(ewma.default_rtt, ewma.decay)),
            })
            .collect();
        Loads { backends, total_outstanding: AtomicU64::new(0) }
    }

    /// Number of backends.
    pub fn len(&self) -> usize {
        self.backends.len()
    }

    /// Whether there are no backends.
    pub fn is_empty(&self) -> bool {
        self.backends.is_empty()
    }

    /// Requests outstanding at backend `index`.
    #[inline]
    pub fn outstanding(&self, index: usize) -> u32 {
        self.backends[index].outstanding.load(Ordering::Relaxed)
    }

    /// Requests outstanding over all backends.
    #[inline]
    pub fn total_outstanding(&self) -> u64 {
        self.total_outstanding.load(Ordering::Relaxed)
    }

    /// Peak-EWMA cost of backend `index` at `now`: estimate × (outstanding + 1).
    #[inline]
    pub fn ewma_cost(&self, index: usize, now: Instant) -> f64 {
        let backend = &self.backends[index];
        let estimate = backend.ewma.locked().estimate_ns(now);
        estimate * f64::from(backend.outstanding.load(Ordering::Relaxed) + 1)
    }

    /// Records a round trip to backend `index` that ended at `now`.
    pub fn observe(&self, index: usize, rtt: Duration, now: Instant) {
        self.backends[index].ewma.locked().observe(rtt, now);
    }

    /// A request to backend `index` starts at `now`; it is outstanding until the returned
    /// guard is dropped.
    #[inline]
    pub fn start(&self, index: usize, now: Instant, track_latency: bool) -> InFlight<'_> {
        self.backends[index].outstanding.fetch_add(1, Ordering::Relaxed);
        self.total_outstanding.fetch_add(1, Ordering::Relaxed);
        InFlight { loads: self, index, started: now, track_latency }
    }
}

/// A request in flight: outstanding until dropped (also when its task is cancelled).
pub struct InFlight<'a> {
    loads: &'a Loads,
    index: usize,
    started: Instant,
    track_latency: bool,
}

impl InFlight<'_> {
    /// The backend it went to.
    pub fn backend(&self) -> usize {
        self.index
    }

    /// The answer came at `now`: feeds the round trip to the latency estimate (for the
    /// strategies that use one) and ends the request.
    pub fn finish(self, now: Instant) {
        if self.track_latency {
            self.loads.observe(self.index, now.saturating_duration_since(self.started), now);
        }
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.loads.backends[self.index].outstanding.fetch_sub(1, Ordering::Relaxed);
        self.loads.total_outstanding.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TAU: Duration = Duration::from_secs(10);

    #[test]
    fn ewma_decays_toward_zero_with_time_constant_tau() {
        let t0 = Instant::now();
        let mut ewma = PeakEwma::new(Duration::from_millis(100), TAU);
        assert_eq!(ewma.estimate_ns(t0), 100e6, "the clock starts at the first read");
        let after_tau = ewma.estimate_ns(t0 + TAU);
        let expected = 100e6 * (-1.0f64).exp();
        assert!((after_tau - expected).abs() < 1.0, "{after_tau} vs {expected}");
        // Reading again a further τ later decays by e⁻¹ once more.
        let after_two = ewma.estimate_ns(t0 + 2 * TAU);
        assert!((after_two - expected * (-1.0f64).exp()).abs() < 1.0);
    }

    #[test]
    fn ewma_takes_peaks_at_once_and_blends_lower_values() {
        let t0 = Instant::now();
        let mut ewma = PeakEwma::new(Duration::from_millis(10), TAU);
        ewma.observe(Duration::from_millis(500), t0);
        assert_eq!(ewma.estimate_ns, 500e6, "a peak replaces the estimate");
        // A 100 ms round trip 5 s later: 500·e^(−½) + 100·(1 − e^(−½)).
        ewma.observe(Duration::from_millis(100), t0 + TAU / 2);
        let w = (-0.5f64).exp();
        let expected = 500e6 * w + 100e6 * (1.0 - w);
        assert!((ewma.estimate_ns - expected).abs() < 1.0, "{} vs {expected}", ewma.estimate_ns);
    }

    #[test]
    fn in_flight_counts_until_dropped() {
        let now = Instant::now();
        let loads = Loads::new(3, EwmaSettings::default());
        let a = loads.start(1, now, true);
        let b = loads.start(1, now, false);
        assert_eq!((loads.outstanding(1), loads.total_outstanding()), (2, 2));
        a.finish(now + Duration::from_millis(200));
        drop(b);
        assert_eq!((loads.outstanding(1), loads.total_outstanding()), (0, 0));
        // The 200 ms answer raised the estimate above the 30 ms default.
        assert!(loads.ewma_cost(1, now + Duration::from_millis(200)) > 190e6);
        assert!(loads.ewma_cost(0, now) < 31e6);
    }
}
