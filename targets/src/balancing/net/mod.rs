//! The networked version: real HTTP servers on loopback.
//!
//! - [`backend`]: an HTTP backend (hyper) that answers after a latency drawn from a
//!   [`LatencyModel`](super::latency::LatencyModel), with a concurrency capacity and an error
//!   rate, and names itself in an `x-backend` header so the load generator can count where
//!   each request went;
//! - [`proxy`]: an HTTP reverse proxy (hyper + tokio) that picks a backend with the same
//!   [`Balancer`](super::Balancer) as the in-process version;
//! - [`nginx`]: nginx as a reference proxy, with the equivalent upstream methods;
//! - [`client`]: the driver's HTTP worker, a keep-alive connection per worker that sends
//!   `GET /k/<key>` and reads which backend answered;
//! - [`system`]: the [`System`](crate::target::System) of a networked row, which starts the
//!   backends and the front, applies faults to them and reads the failure figures;
//!
//! Their processes are [`crate::process::ChildProcess`]es, started by the harness; a backend or
//! proxy prints [`LISTENING`] and its address once bound.
//!
//! Every server listens on 127.0.0.1 only.

pub mod backend;
pub mod client;
pub mod nginx;
pub mod proxy;
pub mod system;

/// The response header that names the backend that served a request (its index).
pub const BACKEND_HEADER: &str = "x-backend";
/// The response header our proxy adds to a 502 to say why the backend failed.
pub const PROXY_ERROR_HEADER: &str = "x-proxy-error";
/// The path prefix of a backend's control requests (`/__control/slow/<factor>`).
pub const CONTROL_PREFIX: &str = "/__control/";
/// Where our proxy answers with its failure layer's counts
/// ([`LayerCounts::to_line`](crate::balancing::failure::LayerCounts::to_line)), read by the
/// harness at the end of a run: retries the budget denied and ejections are not in the
/// attempt log.
pub const LAYER_COUNTS_PATH: &str = "/__control/layer";

/// The line a server prints on stdout once it listens, followed by its address: the same line
/// every `stratbench serve` role prints.
pub use crate::transport::process::READY_PREFIX as LISTENING;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response};
use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;

/// Accepts HTTP/1.1 connections on `listener` for ever, answering each request with
/// `handle(state, request)`; a connection's errors (a client that goes away) end only that
/// connection.
pub async fn accept_loop<S, F, Fut>(listener: tokio::net::TcpListener, state: Arc<S>, handle: F) -> std::io::Result<()>
where
    S: Send + Sync + 'static,
    F: Fn(Arc<S>, Request<Incoming>) -> Fut + Copy + Send + Sync + 'static,
    Fut: Future<Output = Result<Response<Full<Bytes>>, Infallible>> + Send + 'static,
{
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let state = Arc::clone(&state);
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| handle(Arc::clone(&state), request));
            let io = hyper_util::rt::TokioIo::new(stream);
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await;
        });
    }
}
