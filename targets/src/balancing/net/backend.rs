//! `stratbench serve backend`: an HTTP/1.1 backend (hyper) that answers every request after a
//! latency drawn from its model, the networked twin of a simulated backend.
//!
//! A request waits for one of `capacity` slots (unlimited by default), sleeps for its latency
//! times the current slowdown factor, then answers 200 — or 500 with probability
//! `error_rate`. Every answer carries `x-backend: <id>`. Control requests apply the
//! harness's fault events: `GET /__control/slow/<factor>` sets the slowdown factor
//! (`slow-node`), `/__control/fail/<fraction>` makes it answer that fraction of requests with
//! a 500 (`fail-node`), `/__control/flap/<period in ms>` makes it answer every request with
//! an immediate 503 for a period, then normally for a period, and so on (`flap-node`), and
//! `/__control/restore` ends all of them (`restore-node`). Latencies are slept on the precise timer ([`crate::timer`]), not on
//! tokio's, which rounds every sleep up to the next millisecond; zero does not sleep at all.

use super::{BACKEND_HEADER, CONTROL_PREFIX};
use crate::balancing::latency::LatencyModel;
use crate::sync::Recover as _;
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use rand::Rng as _;
use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use workloads::rng::{Stream, stream_rng};

/// What one backend does.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BackendConfig {
    /// The index it reports in `x-backend`.
    pub id: u32,
    pub latency: LatencyModel,
    /// Requests served at once; `None` is unlimited.
    pub capacity: Option<u32>,
    pub error_rate: f64,
    pub seed: u64,
}

struct State {
    config: BackendConfig,
    slots: Option<Semaphore>,
    slowdown_milli: AtomicU64,
    requests: AtomicU64,
    /// `fail-node`: the fraction of requests failed, in millionths.
    fail_ppm: AtomicU64,
    /// `flap-node`: when flapping started and how long each phase lasts.
    flap: std::sync::Mutex<Option<(Instant, Duration)>>,
}

/// Serves on `listener` until the future returned is dropped (the caller races it against
/// its shutdown signal).
pub async fn serve(listener: TcpListener, config: BackendConfig) -> std::io::Result<()> {
    let state = Arc::new(State {
        config,
        slots: config.capacity.map(|c| Semaphore::new(c as usize)),
        slowdown_milli: AtomicU64::new(1000),
        requests: AtomicU64::new(0),
        fail_ppm: AtomicU64::new(0),
        flap: std::sync::Mutex::new(None),
    });
    super::accept_loop(listener, state, answer).await
}

async fn answer(state: Arc<State>, request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    if let Some(command) = request.uri().path().strip_prefix(CONTROL_PREFIX) {
        return Ok(control(&state, command));
    }
    if state.flapping_down() {
        return Ok(respond(StatusCode::SERVICE_UNAVAILABLE, "flapping\n", state.config.id));
    }
    let number = state.requests.fetch_add(1, Ordering::Relaxed);
    // One random stream per request, derived from the seed: no lock shared by connections.
    let mut rng = stream_rng(state.config.seed ^ u64::from(state.config.id) << 48, Stream::Target, number);
    let _slot = match &state.slots {
        Some(slots) => Some(slots.acquire().await.expect("the semaphore is never closed")),
        None => None,
    };
    let factor = state.slowdown_milli.load(Ordering::Relaxed) as f64 / 1000.0;
    let latency = state.config.latency.sample(&mut rng).mul_f64(factor);
    if !latency.is_zero() {
        crate::timer::sleep_until(std::time::Instant::now() + latency).await;
    }
    let fail_ppm = state.fail_ppm.load(Ordering::Relaxed);
    let failed = (state.config.error_rate > 0.0 && rng.random::<f64>() < state.config.error_rate)
        || (fail_ppm > 0 && rng.random_range(0..1_000_000) < fail_ppm);
    let (status, body) = if failed { (StatusCode::INTERNAL_SERVER_ERROR, "error\n") } else { (StatusCode::OK, "ok\n") };
    Ok(respond(status, body, state.config.id))
}

impl State {
    /// Whether a flapping backend is in a failing phase now.
    fn flapping_down(&self) -> bool {
        let flap = *self.flap.locked();
        flap.is_some_and(|(start, period)| (start.elapsed().as_nanos() / period.as_nanos().max(1)).is_multiple_of(2))
    }

    /// Applies one control command; `None` if it is not one.
    fn apply(&self, command: &str) -> Option<()> {
        let number =
            |prefix: &str| command.strip_prefix(prefix).and_then(|f| f.parse::<f64>().ok()).filter(|f| f.is_finite());
        let set_flap = |flap: Option<(Instant, Duration)>| {
            *self.flap.locked() = flap;
        };
        if command == "restore" {
            self.slowdown_milli.store(1000, Ordering::Relaxed);
            self.fail_ppm.store(0, Ordering::Relaxed);
            set_flap(None);
        } else if let Some(factor) = number("slow/").filter(|f| *f >= 1.0) {
            self.slowdown_milli.store((factor * 1000.0).round() as u64, Ordering::Relaxed);
        } else if let Some(fraction) = number("fail/").filter(|f| (0.0..=1.0).contains(f)) {
            self.fail_ppm.store((fraction * 1e6).round() as u64, Ordering::Relaxed);
        } else if let Some(period_ms) = number("flap/").filter(|p| *p >= 1.0) {
            set_flap(Some((Instant::now(), Duration::from_secs_f64(period_ms / 1000.0))));
        } else {
            return None;
        }
        Some(())
    }
}

fn control(state: &State, command: &str) -> Response<Full<Bytes>> {
    match state.apply(command) {
        Some(()) => respond(StatusCode::OK, "ok\n", state.config.id),
        None => respond(
            StatusCode::BAD_REQUEST,
            "use /__control/slow/<factor ≥ 1>, fail/<fraction>, flap/<period ms ≥ 1> or restore\n",
            state.config.id,
        ),
    }
}

fn respond(status: StatusCode, body: &'static str, id: u32) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *response.status_mut() = status;
    response.headers_mut().insert(BACKEND_HEADER, id.into());
    response
}
