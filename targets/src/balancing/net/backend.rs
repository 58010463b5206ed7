//! `stratbench serve backend`: an HTTP/1.1 backend (hyper) that answers every request after a
//! latency drawn from its model, the networked twin of a simulated backend.
//!
//! A request waits for one of `capacity` slots (unlimited by default), sleeps for its latency
//! times the current slowdown factor, then answers 200 — or 500 with probability
//! `error_rate`. Every answer carries `x-backend: <id>`. `GET /__control/slow/<factor>` sets
//! the slowdown factor (1 restores normal speed): how the harness applies `slow-node` and
//! `restore-node` events. Latencies are slept on the precise timer ([`crate::timer`]), not on
//! tokio's, which rounds every sleep up to the next millisecond; zero does not sleep at all.

use super::{BACKEND_HEADER, CONTROL_PREFIX};
use crate::balancing::latency::LatencyModel;
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use rand::Rng as _;
use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
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
}

/// Serves on `listener` until the future returned is dropped (the caller races it against
/// its shutdown signal).
pub async fn serve(listener: TcpListener, config: BackendConfig) -> std::io::Result<()> {
    let state = Arc::new(State {
        config,
        slots: config.capacity.map(|c| Semaphore::new(c as usize)),
        slowdown_milli: AtomicU64::new(1000),
        requests: AtomicU64::new(0),
    });
    super::accept_loop(listener, state, answer).await
}

async fn answer(state: Arc<State>, request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    if let Some(command) = request.uri().path().strip_prefix(CONTROL_PREFIX) {
        return Ok(control(&state, command));
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
    let failed = state.config.error_rate > 0.0 && rng.random::<f64>() < state.config.error_rate;
    let (status, body) = if failed { (StatusCode::INTERNAL_SERVER_ERROR, "error\n") } else { (StatusCode::OK, "ok\n") };
    Ok(respond(status, body, state.config.id))
}

fn control(state: &State, command: &str) -> Response<Full<Bytes>> {
    let factor =
        command.strip_prefix("slow/").and_then(|f| f.parse::<f64>().ok()).filter(|f| f.is_finite() && *f >= 1.0);
    match factor {
        Some(factor) => {
            state.slowdown_milli.store((factor * 1000.0).round() as u64, Ordering::Relaxed);
            respond(StatusCode::OK, "ok\n", state.config.id)
        }
        None => respond(StatusCode::BAD_REQUEST, "use /__control/slow/<factor of at least 1>\n", state.config.id),
    }
}

fn respond(status: StatusCode, body: &'static str, id: u32) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *response.status_mut() = status;
    response.headers_mut().insert(BACKEND_HEADER, id.into());
    response
}
