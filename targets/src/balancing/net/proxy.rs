//! `stratbench serve proxy`: an HTTP/1.1 reverse proxy (hyper + tokio) that picks a backend
//! for each request with the same [`Balancer`] as the in-process version.
//!
//! The request's key is the xxh3 hash of its path (as nginx's `hash $request_uri`); the
//! balancer picks a backend and counts the request outstanding there until the answer is
//! back (or the request is dropped), and latency-aware strategies learn the round trip. The
//! upstream connections are kept alive in a pool (hyper-util's client). A backend that
//! cannot be reached or fails mid-answer becomes a 502 that still names it (`x-backend`) and
//! says why (`x-proxy-error: refused | timeout | io`), so the load generator counts the
//! failure against the backend the strategy chose.
//!
//! Failure handling is the same [`FailureLayer`] as the simulation's, on the wall clock: off
//! by default (one attempt, no health checks: the strategies' own reaction to a dead backend
//! is what is measured), or with the scenario's retries, passive health checks and outlier
//! ejection. A 5xx answer that is not retried is passed on as the backend sent it. With
//! `attempt_log`, every request appends one line in nginx's access-log format
//! ([`NGINX_LOG_FORMAT`](crate::balancing::failure::attempts::NGINX_LOG_FORMAT)): each
//! backend tried, its status and time, from which the harness reads drain and return times.
//! `GET` [`LAYER_COUNTS_PATH`] answers with the layer's counts instead of being forwarded.

use super::{BACKEND_HEADER, LAYER_COUNTS_PATH, PROXY_ERROR_HEADER};
use crate::balancing::failure::attempts::log_line;
use crate::balancing::failure::{FailureKind, FailureLayer, Next};
use crate::balancing::{Balancer, BalancingParams, Selector};
use crate::sync::Recover as _;
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode, Uri};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::convert::Infallible;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};
use tokio::net::TcpListener;
use workloads::rng::{Stream, stream_rng};
use xxhash_rust::xxh3::xxh3_64;

/// How long the proxy waits for a backend's answer before giving up with a 502, unless the
/// scenario sets `attempt_timeout`.
pub const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(30);
/// Idle upstream connections kept per backend.
const POOL_IDLE_PER_BACKEND: usize = 1024;

/// What the proxy needs to know.
#[derive(Clone, Debug)]
pub struct ProxyConfig {
    pub backends: Vec<SocketAddr>,
    pub params: BalancingParams,
    pub seed: u64,
    /// Where to append one line per request (nginx's access-log format), if anywhere.
    pub attempt_log: Option<PathBuf>,
}

struct State<S: Selector> {
    balancer: Balancer<S>,
    layer: FailureLayer,
    addresses: Vec<SocketAddr>,
    backends: Vec<String>,
    client: Client<HttpConnector, Full<Bytes>>,
    requests: AtomicU64,
    seed: u64,
    timeout: Duration,
    log: Option<Mutex<std::fs::File>>,
}

/// Serves on `listener` until the future returned is dropped.
pub async fn serve<S: Selector>(listener: TcpListener, config: ProxyConfig) -> std::io::Result<()> {
    let weights = match &config.params.weights {
        Some(weights) => weights.clone(),
        None => vec![1.0; config.backends.len()],
    };
    let balancer = Balancer::<S>::new(&weights, &config.params)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e.to_string()))?;
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    let client = Client::builder(TokioExecutor::new()).pool_max_idle_per_host(POOL_IDLE_PER_BACKEND).build(connector);
    let log = match &config.attempt_log {
        Some(path) => Some(Mutex::new(std::fs::File::create(path)?)),
        None => None,
    };
    let state = Arc::new(State {
        balancer,
        layer: FailureLayer::new(weights.len(), &config.params.failure),
        addresses: config.backends.clone(),
        backends: config.backends.iter().map(|a| format!("http://{a}")).collect(),
        client,
        requests: AtomicU64::new(0),
        seed: config.seed,
        timeout: config.params.failure.attempt_timeout.unwrap_or(UPSTREAM_TIMEOUT),
        log,
    });
    super::accept_loop(listener, state, forward::<S>).await
}

async fn forward<S: Selector>(
    state: Arc<State<S>>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let started = Instant::now();
    let path = request.uri().path_and_query().map_or("/", |p| p.as_str()).to_string();
    if path == LAYER_COUNTS_PATH {
        return Ok(Response::new(Full::new(Bytes::from(state.layer.counts().to_line()))));
    }
    let number = state.requests.fetch_add(1, Ordering::Relaxed);
    let mut rng = stream_rng(state.seed, Stream::Target, number);
    let key_hash = xxh3_64(path.as_bytes());
    let (parts, body) = request.into_parts();
    let Ok(body) = body.collect().await.map(|b| b.to_bytes()) else {
        return Ok(bad_gateway(0, "io"));
    };
    let mut attempts = state.layer.start();
    let mut tries = Vec::new();
    loop {
        let sent = Instant::now();
        let backend = attempts.pick(&state.balancer, key_hash, &mut rng, sent);
        let flight = state.balancer.start_at(backend, sent);
        let answer = tokio::time::timeout(state.timeout, relay(&state, backend, &path, &parts, body.clone())).await;
        flight.finish(Instant::now());
        let (response, failure) = match answer {
            Ok(Ok(response)) if response.status().is_server_error() => (response, Some(FailureKind::ServerError)),
            Ok(Ok(response)) => (response, None),
            Ok(Err(kind)) => (bad_gateway(backend, kind), Some(FailureKind::Refused)),
            Err(_) => (bad_gateway(backend, "timeout"), Some(FailureKind::Timeout)),
        };
        let status = if failure == Some(FailureKind::Timeout) { 504 } else { response.status().as_u16() };
        tries.push((state.addresses[backend], status, sent.elapsed()));
        if attempts.outcome(backend, failure.map_or(Ok(()), Err), Instant::now()) == Next::Done {
            write_log(&state, started.elapsed(), &tries);
            return Ok(response);
        }
    }
}

/// Appends the request's line to the attempt log, if there is one.
fn write_log<S: Selector>(state: &State<S>, request_time: Duration, tries: &[(SocketAddr, u16, Duration)]) {
    let Some(log) = &state.log else { return };
    let end = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    let line = log_line(end, request_time, tries);
    let mut file = log.locked();
    if let Err(error) = file.write_all(line.as_bytes()) {
        tracing::warn!(%error, "cannot write the attempt log");
    }
}

/// Sends the request to `backend` and reads the whole answer.
async fn relay<S: Selector>(
    state: &State<S>,
    backend: usize,
    path: &str,
    parts: &hyper::http::request::Parts,
    body: Bytes,
) -> Result<Response<Full<Bytes>>, &'static str> {
    let uri: Uri = format!("{}{path}", state.backends[backend]).parse().map_err(|_| "io")?;
    let mut upstream = Request::builder().method(parts.method.clone()).uri(uri);
    for (name, value) in parts.headers.iter().filter(|(name, _)| *name != hyper::header::HOST) {
        upstream = upstream.header(name, value);
    }
    let upstream = upstream.body(Full::new(body)).map_err(|_| "io")?;
    let response = state.client.request(upstream).await.map_err(|e| if e.is_connect() { "refused" } else { "io" })?;
    let (parts, body) = response.into_parts();
    let body = body.collect().await.map_err(|_| "io")?.to_bytes();
    Ok(Response::from_parts(parts, Full::new(body)))
}

fn bad_gateway(backend: usize, kind: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(b"bad gateway\n")));
    *response.status_mut() = StatusCode::BAD_GATEWAY;
    response.headers_mut().insert(BACKEND_HEADER, (backend as u64).into());
    response.headers_mut().insert(PROXY_ERROR_HEADER, hyper::header::HeaderValue::from_static(kind));
    response
}
