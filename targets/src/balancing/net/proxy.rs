//! `stratbench serve proxy`: an HTTP/1.1 reverse proxy (hyper + tokio) that picks a backend
//! for each request with the same [`Balancer`] as the in-process version.
//!
//! The request's key is the xxh3 hash of its path (as nginx's `hash $request_uri`); the
//! balancer picks a backend and counts the request outstanding there until the answer is
//! back (or the request is dropped), and latency-aware strategies learn the round trip. The
//! upstream connections are kept alive in a pool (hyper-util's client). A backend that
//! cannot be reached or fails mid-answer becomes a 502 that still names it (`x-backend`) and
//! says why (`x-proxy-error: refused | timeout | io`), so the load generator counts the
//! failure against the backend the strategy chose. The proxy does no retries and no health
//! checks: the strategies' own reaction to a dead backend is what is measured.

use super::{BACKEND_HEADER, PROXY_ERROR_HEADER};
use crate::balancing::{Balancer, BalancingParams, Selector};
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode, Uri};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use workloads::rng::{Stream, stream_rng};
use xxhash_rust::xxh3::xxh3_64;

/// How long the proxy waits for a backend's answer before giving up with a 502.
pub const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(30);
/// Idle upstream connections kept per backend.
const POOL_IDLE_PER_BACKEND: usize = 1024;

/// What the proxy needs to know.
#[derive(Clone, Debug)]
pub struct ProxyConfig {
    pub backends: Vec<SocketAddr>,
    pub params: BalancingParams,
    pub seed: u64,
}

struct State<S: Selector> {
    balancer: Balancer<S>,
    backends: Vec<String>,
    client: Client<HttpConnector, Full<Bytes>>,
    requests: AtomicU64,
    seed: u64,
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
    let state = Arc::new(State {
        balancer,
        backends: config.backends.iter().map(|a| format!("http://{a}")).collect(),
        client,
        requests: AtomicU64::new(0),
        seed: config.seed,
    });
    super::accept_loop(listener, state, forward::<S>).await
}

async fn forward<S: Selector>(
    state: Arc<State<S>>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = request.uri().path_and_query().map_or("/", |p| p.as_str()).to_string();
    let number = state.requests.fetch_add(1, Ordering::Relaxed);
    let mut rng = stream_rng(state.seed, Stream::Target, number);
    let flight = state.balancer.start(xxh3_64(path.as_bytes()), &mut rng, Instant::now());
    let backend = flight.backend();
    let answer = tokio::time::timeout(UPSTREAM_TIMEOUT, relay(&state, backend, &path, request)).await;
    flight.finish(Instant::now());
    let response = match answer {
        Ok(Ok(response)) => response,
        Ok(Err(kind)) => bad_gateway(backend, kind),
        Err(_) => bad_gateway(backend, "timeout"),
    };
    Ok(response)
}

/// Sends the request to `backend` and reads the whole answer.
async fn relay<S: Selector>(
    state: &State<S>,
    backend: usize,
    path: &str,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, &'static str> {
    let (parts, body) = request.into_parts();
    let body = body.collect().await.map_err(|_| "io")?.to_bytes();
    let uri: Uri = format!("{}{path}", state.backends[backend]).parse().map_err(|_| "io")?;
    let mut upstream = Request::builder().method(parts.method).uri(uri);
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
