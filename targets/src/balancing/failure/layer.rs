//! The layer's state and decisions: which backends are out (down after `max_fails`, or
//! ejected as outliers), the retry budget, and for each request which backend its next attempt
//! goes to and whether a failed attempt is retried.
//!
//! One mutex guards the whole state: the decisions are a few comparisons, taken once per
//! attempt, and the layer is skipped altogether (no lock) when it is off.

use super::SUCCESS_RATE_MIN_HOSTS;
use super::{FailureKind, FailureParams, MAX_EJECTION_TIME, MAX_REPICKS, MAX_RETRIES, RETRY_BUDGET_RESERVE};
use crate::balancing::{Balancer, Selector};
use crate::sync::Recover as _;
use rand::Rng as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;
use workloads::WorkloadRng;

/// The most attempts of one request.
const MAX_ATTEMPTS: usize = MAX_RETRIES as usize + 1;

/// One backend's health, as the layer sees it.
#[derive(Clone, Debug, Default)]
struct Health {
    /// Failures since the last success (outlier detection).
    consecutive: u32,
    /// Failures counted toward `max_fails`, and when the count started.
    fails: u32,
    fails_since: Option<Instant>,
    /// Marked down (passive health check) until then.
    down_until: Option<Instant>,
    /// Ejected (outlier detection) until then.
    ejected_until: Option<Instant>,
    /// Times ejected so far: the next ejection lasts `ejection_time` × (this + 1).
    ejections: u32,
    /// Answers in the current success-rate interval.
    window_ok: u64,
    window_failed: u64,
}

impl Health {
    /// Ends a mark or an ejection whose time is up.
    fn expire(&mut self, now: Instant) {
        if self.down_until.is_some_and(|t| now >= t) {
            self.down_until = None;
        }
        if self.ejected_until.is_some_and(|t| now >= t) {
            self.ejected_until = None;
        }
    }

    fn usable(&mut self, now: Instant) -> bool {
        self.expire(now);
        self.down_until.is_none() && self.ejected_until.is_none()
    }

    fn ejected(&mut self, now: Instant) -> bool {
        self.expire(now);
        self.ejected_until.is_some()
    }
}

#[derive(Debug)]
struct State {
    backends: Vec<Health>,
    /// Retry tokens.
    tokens: f64,
    /// When the success-rate detector runs next.
    next_evaluation: Option<Instant>,
}

/// What the layer counted over a run.
#[derive(Debug, Default)]
struct Counters {
    requests: AtomicU64,
    retries: AtomicU64,
    retries_denied: AtomicU64,
    ejections: AtomicU64,
    marked_down: AtomicU64,
}

/// Failure handling for one balancer instance.
#[derive(Debug)]
pub struct FailureLayer {
    params: FailureParams,
    state: Mutex<State>,
    counters: Counters,
}

/// The layer's counts over a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LayerCounts {
    pub requests: u64,
    pub retries: u64,
    /// Retries the budget refused.
    pub retries_denied: u64,
    /// Outlier ejections plus passive marks down.
    pub ejections: u64,
}

impl LayerCounts {
    /// One line of `name=value` pairs: what our proxy answers on
    /// [`LAYER_COUNTS_PATH`](crate::balancing::net::LAYER_COUNTS_PATH).
    pub fn to_line(&self) -> String {
        format!(
            "requests={} retries={} retries_denied={} ejections={}\n",
            self.requests, self.retries, self.retries_denied, self.ejections
        )
    }

    /// Reads [`LayerCounts::to_line`]'s line back; `None` if a count is missing or malformed.
    pub fn parse(line: &str) -> Option<Self> {
        let mut pairs = std::collections::HashMap::new();
        for pair in line.split_whitespace() {
            let (name, value) = pair.split_once('=')?;
            pairs.insert(name, value.parse::<u64>().ok()?);
        }
        Some(LayerCounts {
            requests: *pairs.get("requests")?,
            retries: *pairs.get("retries")?,
            retries_denied: *pairs.get("retries_denied")?,
            ejections: *pairs.get("ejections")?,
        })
    }
}

impl FailureLayer {
    /// The layer over `count` backends, all healthy.
    pub fn new(count: usize, params: &FailureParams) -> Self {
        FailureLayer {
            params: params.clone(),
            state: Mutex::new(State {
                backends: vec![Health::default(); count],
                tokens: RETRY_BUDGET_RESERVE,
                next_evaluation: None,
            }),
            counters: Counters::default(),
        }
    }

    /// The parameters.
    pub fn params(&self) -> &FailureParams {
        &self.params
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.locked()
    }

    /// A new request: deposits its share of the retry budget.
    pub fn start(&self) -> Request<'_> {
        self.counters.requests.fetch_add(1, Ordering::Relaxed);
        if self.params.retries_on() {
            let mut state = self.lock();
            state.tokens = (state.tokens + self.params.retry_budget).min(RETRY_BUDGET_RESERVE);
        }
        Request { layer: self, tried: [0; MAX_ATTEMPTS], count: 0 }
    }

    /// What the layer counted so far.
    pub fn counts(&self) -> LayerCounts {
        let c = &self.counters;
        LayerCounts {
            requests: c.requests.load(Ordering::Relaxed),
            retries: c.retries.load(Ordering::Relaxed),
            retries_denied: c.retries_denied.load(Ordering::Relaxed),
            ejections: c.ejections.load(Ordering::Relaxed) + c.marked_down.load(Ordering::Relaxed),
        }
    }

    /// Backends out (down or ejected) at `now`.
    pub fn out(&self, now: Instant) -> Vec<usize> {
        let mut state = self.lock();
        (0..state.backends.len()).filter(|&i| !state.backends[i].usable(now)).collect()
    }

    /// Backends ejected as outliers at `now`.
    pub fn ejected(&self, now: Instant) -> Vec<usize> {
        let mut state = self.lock();
        (0..state.backends.len()).filter(|&i| state.backends[i].ejected(now)).collect()
    }

    /// Takes a retry token, if there is one.
    fn take_token(&self) -> bool {
        let mut state = self.lock();
        if state.tokens >= 1.0 {
            state.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Feeds one attempt's outcome to the health checks.
    fn record(&self, backend: usize, result: Result<(), FailureKind>, now: Instant) {
        if !self.params.health_on() {
            return;
        }
        let params = &self.params;
        let mut state = self.lock();
        let health = &mut state.backends[backend];
        health.expire(now);
        if result.is_ok() {
            health.consecutive = 0;
            health.fails = 0;
            health.fails_since = None;
            health.window_ok += 1;
        } else {
            health.consecutive += 1;
            health.window_failed += 1;
            if params.max_fails > 0 && health.down_until.is_none() {
                if health.fails_since.is_none_or(|since| now.saturating_duration_since(since) > params.fail_timeout) {
                    health.fails = 0;
                    health.fails_since = Some(now);
                }
                health.fails += 1;
                if health.fails >= params.max_fails {
                    health.down_until = Some(now + params.fail_timeout);
                    health.fails = 0;
                    health.fails_since = None;
                    self.counters.marked_down.fetch_add(1, Ordering::Relaxed);
                }
            }
            if params.consecutive_errors > 0 && health.consecutive >= params.consecutive_errors {
                self.eject(&mut state, backend, now);
            }
        }
        if params.success_rate_stdev.is_some() {
            self.evaluate_success_rates(&mut state, now);
        }
    }

    /// Ejects `backend` unless it is out already or the cap is reached.
    fn eject(&self, state: &mut State, backend: usize, now: Instant) {
        let cap = self.params.max_ejected(state.backends.len());
        let ejected = state.backends.iter_mut().map(|h| h.ejected(now)).filter(|&out| out).count();
        let health = &mut state.backends[backend];
        if health.ejected_until.is_some() || ejected >= cap {
            return;
        }
        health.ejections += 1;
        let time = self.params.ejection_time.saturating_mul(health.ejections).min(MAX_EJECTION_TIME);
        health.ejected_until = Some(now + time);
        health.consecutive = 0;
        self.counters.ejections.fetch_add(1, Ordering::Relaxed);
    }

    /// Envoy's success-rate detector, once per `outlier_interval`.
    fn evaluate_success_rates(&self, state: &mut State, now: Instant) {
        let due = *state.next_evaluation.get_or_insert(now + self.params.outlier_interval);
        if now < due {
            return;
        }
        state.next_evaluation = Some(now + self.params.outlier_interval);
        let min = u64::from(self.params.outlier_min_requests);
        let rates: Vec<(usize, f64)> = state
            .backends
            .iter_mut()
            .enumerate()
            .filter_map(|(i, h)| {
                let answers = h.window_ok + h.window_failed;
                (!h.ejected(now) && answers >= min).then(|| (i, h.window_ok as f64 / answers as f64))
            })
            .collect();
        for health in &mut state.backends {
            health.window_ok = 0;
            health.window_failed = 0;
        }
        if rates.len() < SUCCESS_RATE_MIN_HOSTS {
            return;
        }
        let mean = rates.iter().map(|(_, r)| r).sum::<f64>() / rates.len() as f64;
        let variance = rates.iter().map(|(_, r)| (r - mean).powi(2)).sum::<f64>() / rates.len() as f64;
        let threshold = mean - self.params.success_rate_stdev.unwrap_or(f64::INFINITY) * variance.sqrt();
        for (backend, rate) in rates {
            if rate < threshold {
                self.eject(state, backend, now);
            }
        }
    }
}

/// What to do after an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// Send the request again, to [`Request::pick`]'s next backend.
    Retry,
    /// The request is over: its result is this attempt's.
    Done,
}

/// One client request going through the layer: the backends it tried.
pub struct Request<'a> {
    layer: &'a FailureLayer,
    tried: [u32; MAX_ATTEMPTS],
    count: usize,
}

impl Request<'_> {
    /// Whether the next attempt is a retry.
    pub fn is_retry(&self) -> bool {
        self.count > 0
    }

    fn tried(&self, backend: usize) -> bool {
        self.tried[..self.count].contains(&(backend as u32))
    }

    /// The backend for the next attempt: the selector's pick, unless that backend is out or
    /// was tried already (then the selector is asked again, then the least loaded usable backend is
    /// taken). With the layer off this is exactly the selector's pick.
    pub fn pick<S: Selector>(
        &self,
        balancer: &Balancer<S>,
        key_hash: u64,
        rng: &mut WorkloadRng,
        now: Instant,
    ) -> usize {
        let first = balancer.pick(key_hash, rng, now);
        if !self.layer.params.health_on() && self.count == 0 {
            return first;
        }
        let mut state = self.layer.lock();
        let usable = |state: &mut State, i: usize| !self.tried(i) && state.backends[i].usable(now);
        if usable(&mut state, first) {
            return first;
        }
        let mut candidate = first;
        for again in 1..=MAX_REPICKS {
            let rehashed =
                key_hash ^ (u64::from(again) + self.count as u64 * 0x100).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            candidate = balancer.pick(rehashed, rng, now);
            if usable(&mut state, candidate) {
                return candidate;
            }
        }
        // The least loaded usable backend (ties from a random start), not the next index:
        // a selector that keeps choosing an ejected backend (least-outstanding sees it idle)
        // would otherwise send all its traffic to that backend's neighbour.
        let n = state.backends.len();
        let start = rng.random_range(0..n);
        let order = (0..n).map(|step| (start + step) % n);
        let loads = balancer.loads();
        let least = |state: &mut State, usable_only: bool| {
            order
                .clone()
                .filter(|&i| !self.tried(i) && (!usable_only || state.backends[i].usable(now)))
                .min_by_key(|&i| loads.outstanding(i))
        };
        // No usable backend: the least loaded untried one (panic mode), or the pick itself.
        least(&mut state, true).or_else(|| least(&mut state, false)).unwrap_or(candidate)
    }

    /// Records the outcome of the attempt sent to `backend` at `now` and says whether to try
    /// again.
    pub fn outcome(&mut self, backend: usize, result: Result<(), FailureKind>, now: Instant) -> Next {
        let layer = self.layer;
        debug_assert!(self.count < MAX_ATTEMPTS, "more attempts than the retry limit allows");
        self.tried[self.count] = backend as u32;
        self.count += 1;
        layer.record(backend, result, now);
        let Err(kind) = result else { return Next::Done };
        let backends = layer.lock().backends.len();
        let allowed =
            layer.params.retry_on.covers(kind) && self.count <= layer.params.retries as usize && self.count < backends;
        if !allowed {
            return Next::Done;
        }
        if layer.take_token() {
            layer.counters.retries.fetch_add(1, Ordering::Relaxed);
            Next::Retry
        } else {
            layer.counters.retries_denied.fetch_add(1, Ordering::Relaxed);
            Next::Done
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::balancing::BalancingParams;
    use crate::balancing::round_robin::RoundRobin;
    use proptest::prelude::*;
    use std::time::Duration;
    use workloads::rng::{Stream, stream_rng};

    fn params(text: &str) -> FailureParams {
        let table: toml::Table = toml::from_str(text).unwrap();
        let mut params = FailureParams::default();
        for (name, value) in &table {
            assert!(params.read(name, value).unwrap(), "{name}");
        }
        params
    }

    /// Sends `requests` requests, one every millisecond from `t0`, through the layer in front
    /// of round robin over `n` backends, where `fails(backend, time)` says which attempts fail;
    /// returns (attempts per backend after `after`, client-visible failures, attempts per
    /// request at most).
    fn drive(
        layer: &FailureLayer,
        n: usize,
        requests: u64,
        t0: Instant,
        fails: impl Fn(usize, Instant) -> Option<FailureKind>,
    ) -> (Vec<Vec<Instant>>, u64, usize) {
        let balancer = Balancer::<RoundRobin>::new(&vec![1.0; n], &BalancingParams::default()).unwrap();
        let mut rng = stream_rng(1, Stream::Target, 0);
        let mut sent: Vec<Vec<Instant>> = vec![Vec::new(); n];
        let (mut failed, mut most) = (0, 0);
        for i in 0..requests {
            let now = t0 + Duration::from_millis(i);
            let mut request = layer.start();
            let mut tries = 0;
            loop {
                let backend = request.pick(&balancer, i, &mut rng, now);
                sent[backend].push(now);
                tries += 1;
                let result = fails(backend, now).map_or(Ok(()), Err);
                if request.outcome(backend, result, now) == Next::Done {
                    failed += u64::from(result.is_err());
                    break;
                }
            }
            most = most.max(tries);
        }
        (sent, failed, most)
    }

    #[test]
    fn a_killed_backend_gets_no_requests_once_ejected_and_clients_see_no_errors() {
        let layer = FailureLayer::new(
            4,
            &params("retries = 2\noutlier_consecutive_errors = 3\nejection_time = \"60s\"\nmax_ejection_percent = 25"),
        );
        let t0 = Instant::now();
        let dead = |backend: usize, _| (backend == 1).then_some(FailureKind::Refused);
        let (sent, failed, most) = drive(&layer, 4, 2000, t0, dead);
        assert_eq!(sent[1].len(), 3, "three refusals eject it, then nothing more reaches it");
        assert_eq!(failed, 0, "each refusal was retried on a live backend");
        assert!(most <= 3, "never more than 1 + retries attempts");
        assert_eq!(layer.ejected(t0 + Duration::from_secs(2)), vec![1]);
    }

    #[test]
    fn clients_see_errors_only_when_every_allowed_attempt_failed() {
        let layer = FailureLayer::new(4, &params("retries = 1"));
        let all_but_one = |backend: usize, _| (backend != 3).then_some(FailureKind::Refused);
        let (_, failed, most) = drive(&layer, 4, 400, Instant::now(), all_but_one);
        assert_eq!(most, 2, "one retry at most");
        // Round robin's first picks go 0,1,2,3 in turn; the retry takes the next untried
        // backend after the repicks: some requests still end on two dead backends.
        assert!(failed > 0 && failed < 400, "{failed}");
    }

    #[test]
    fn a_recovered_backend_returns_after_its_ejection() {
        let layer = FailureLayer::new(
            4,
            &params("retries = 2\noutlier_consecutive_errors = 3\nejection_time = \"1s\"\nmax_ejection_percent = 25"),
        );
        let t0 = Instant::now();
        let recovers_at = t0 + Duration::from_millis(500);
        let until_recovered = |backend: usize, now| (backend == 1 && now < recovers_at).then_some(FailureKind::Refused);
        let (sent, failed, _) = drive(&layer, 4, 3000, t0, until_recovered);
        assert_eq!(failed, 0);
        let after = sent[1].iter().filter(|t| **t >= t0 + Duration::from_millis(1100)).count();
        assert!(after > 300, "back in rotation after its 1 s ejection: {after} requests");
    }

    #[test]
    fn passive_checks_mark_a_backend_down_for_fail_timeout() {
        let layer = FailureLayer::new(3, &params("max_fails = 2\nfail_timeout = \"2s\""));
        let t0 = Instant::now();
        layer.start().outcome(0, Err(FailureKind::ServerError), t0);
        assert!(layer.out(t0).is_empty(), "one failure of two allowed");
        layer.start().outcome(0, Err(FailureKind::ServerError), t0 + Duration::from_millis(10));
        assert_eq!(layer.out(t0 + Duration::from_secs(1)), vec![0]);
        assert!(layer.out(t0 + Duration::from_millis(2011)).is_empty(), "back after fail_timeout");
    }

    proptest! {
        #[test]
        fn ejection_never_removes_more_than_the_configured_share(
            n in 1usize..20,
            percent in 0u32..=100,
            failing in proptest::collection::vec(any::<bool>(), 20),
            steps in 1u64..400,
        ) {
            let layer = FailureLayer::new(n, &params(&format!(
                "outlier_consecutive_errors = 2\nejection_time = \"10s\"\nmax_ejection_percent = {percent}"
            )));
            let cap = layer.params().max_ejected(n);
            prop_assert!(cap <= n && (percent == 0 || cap >= 1));
            prop_assert!(cap as f64 <= (n as f64 * f64::from(percent) / 100.0).max(1.0));
            let t0 = Instant::now();
            for step in 0..steps {
                let backend = (step as usize * 7) % n;
                let now = t0 + Duration::from_millis(step);
                let result = if failing[backend] { Err(FailureKind::Refused) } else { Ok(()) };
                layer.start().outcome(backend, result, now);
                prop_assert!(layer.ejected(now).len() <= cap);
            }
        }

        #[test]
        fn the_retry_budget_caps_the_extra_load(
            budget_tenths in 0u32..=10,
            retries in 1u32..=5,
            requests in 1u64..3000,
            down in 1usize..5,
        ) {
            let budget = f64::from(budget_tenths) / 10.0;
            let layer = FailureLayer::new(5, &params(&format!("retries = {retries}\nretry_budget = {budget}")));
            let outage = |backend: usize, _| (backend < down).then_some(FailureKind::Refused);
            drive(&layer, 5, requests, Instant::now(), outage);
            let counts = layer.counts();
            prop_assert!(
                counts.retries as f64 <= budget * requests as f64 + RETRY_BUDGET_RESERVE,
                "{} retries for {requests} requests at budget {budget}", counts.retries
            );
            prop_assert!(counts.retries <= u64::from(retries) * requests);
        }
    }

    #[test]
    fn layer_counts_survive_the_proxys_line_and_a_truncated_line_is_refused() {
        let counts = LayerCounts { requests: 1200, retries: 31, retries_denied: 4, ejections: 2 };
        assert_eq!(LayerCounts::parse(&counts.to_line()), Some(counts));
        assert_eq!(LayerCounts::parse("requests=1200 retries=31 retries_denied=4"), None);
        assert_eq!(LayerCounts::parse("requests=1200 retries=x retries_denied=4 ejections=2"), None);
    }
}
