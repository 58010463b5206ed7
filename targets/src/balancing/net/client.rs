//! The HTTP client of the networked version: one driver worker — a closed-loop worker, or a
//! slot of the open loop's pool — holding one HTTP/1.1 keep-alive connection (hyper) to the
//! front of the row (our proxy, nginx, or the backend itself for `engine:direct`).
//!
//! Each operation is `GET /k/<key>`, its response read to the end; the driver times it like
//! any other operation, so an HTTP row has the open loop's columns (response time from the
//! intended start, service time, schedule lag, unfinished operations) as every other family.
//! The answer names the backend that served it (`x-backend`), which the driver counts per
//! backend; a failure is classified by [`classify`] (shared with the goose load engine):
//! a 502 from our proxy says why the backend failed (`x-proxy-error`).
//!
//! The connection is driven by a task of its own on the worker's thread, spawned when it
//! opens and aborted when it is dropped. Polling it inside the worker's own task instead,
//! beside the request, costs more: every wake-up of the worker then polls both, about four
//! polls per request; 50 connections against `engine:direct` gave 8% fewer requests a second
//! that way. It is opened on first use (a run's warm-up absorbs it), and opened again after
//! a failure or when the server closes it (nginx closes a keep-alive connection after 1,000
//! requests): a request never sent on a closed connection is sent on a fresh one, inside its
//! timing, as wrk does. Every request is bounded by [`REQUEST_TIMEOUT`], to within a second:
//! a worker keeps one timer, moved forward at most once a [`DEADLINE_STEP`] rather than set
//! and cancelled for every request.

use super::{BACKEND_HEADER, PROXY_ERROR_HEADER};
use crate::target::{Op, OpError, OpResult, Worker};
use bytes::Bytes;
use http_body_util::{BodyExt as _, Empty};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{HOST, HeaderName, HeaderValue};
use hyper::{HeaderMap, Request, StatusCode, Uri};
use hyper_util::rt::TokioIo;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::pin::Pin;
use std::time::Duration;
use tokio::net::TcpStream;

/// A request (connecting included) that takes longer fails as a `timeout`.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// How far a worker's request deadline may lag behind [`REQUEST_TIMEOUT`] after the start of
/// its current request before it is moved: a request fails as a `timeout` between
/// `REQUEST_TIMEOUT - DEADLINE_STEP` and `REQUEST_TIMEOUT` after it started.
pub const DEADLINE_STEP: Duration = Duration::from_secs(1);

/// What an answer means to a load generator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    /// Why the request failed, if it did.
    pub failure: Option<OpError>,
    /// The backend that served it (`x-backend`), if the answer names one.
    pub backend: Option<u32>,
}

/// Classifies an answer by its status and headers: 2xx succeeded; a 502 with `x-proxy-error`
/// failed as the proxy says (`refused`, `timeout`, `io`); a 500 is a `backend-error` (the
/// backend's error rate); anything else is an `http-status` failure.
pub fn classify(status: StatusCode, headers: &HeaderMap) -> Answer {
    // Names given as `HeaderName`s are looked up without being parsed again for every answer.
    const BACKEND: HeaderName = HeaderName::from_static(BACKEND_HEADER);
    const PROXY_ERROR: HeaderName = HeaderName::from_static(PROXY_ERROR_HEADER);
    let header = |name: &HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    let backend = header(&BACKEND).and_then(|v| v.parse().ok());
    let failure = match status.as_u16() {
        200..=299 => None,
        500 => Some(OpError::new("backend-error")),
        code => Some(match header(&PROXY_ERROR).filter(|_| code == 502) {
            Some(kind) => OpError { kind: proxy_kind(kind), detail: Some(format!("proxy: backend {kind}")) },
            None => OpError { kind: "http-status", detail: Some(format!("status {code}")) },
        }),
    };
    Answer { failure, backend }
}

fn proxy_kind(kind: &str) -> &'static str {
    match kind {
        "refused" => "refused",
        "timeout" => "timeout",
        _ => "io",
    }
}

/// An open connection: the handle that sends requests, and the task that drives the socket,
/// which ends with the connection (dropping the handle closes it; the task is aborted too).
struct Connection {
    sender: SendRequest<Empty<Bytes>>,
    driver: tokio::task::AbortHandle,
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.driver.abort();
    }
}

/// Why an exchange on a connection did not produce an answer.
enum ExchangeError {
    /// The connection was closed before the request went out: send it on a new one.
    ClosedBeforeSending,
    /// The request went out and failed.
    Failed(OpError),
}

impl Connection {
    async fn open(address: SocketAddr) -> Result<Connection, OpError> {
        let stream = TcpStream::connect(address).await.map_err(|error| {
            let kind = if error.kind() == std::io::ErrorKind::ConnectionRefused { "refused" } else { "io" };
            OpError { kind, detail: Some(format!("cannot connect to {address}: {error}")) }
        })?;
        let _ = stream.set_nodelay(true);
        let (sender, driver) = http1::handshake(TokioIo::new(stream)).await.map_err(|e| io_error(&e))?;
        let driver = tokio::spawn(async move {
            // An error ends the connection; the request under way fails with it.
            let _ = driver.await;
        });
        Ok(Connection { sender, driver: driver.abort_handle() })
    }

    /// Sends the request `request` builds and reads the whole answer; returns the answer and
    /// whether the connection stays open for the next request. The request is built only once
    /// the connection is ready, and the answer is classified from its head before the body is
    /// read: neither is held across a wait, which keeps the operation's future small (see
    /// [`HttpWorker::call`]).
    async fn exchange(
        &mut self,
        request: impl FnOnce() -> Result<Request<Empty<Bytes>>, OpError>,
    ) -> Result<(Answer, bool), ExchangeError> {
        if self.sender.ready().await.is_err() {
            return Err(ExchangeError::ClosedBeforeSending);
        }
        let request = request().map_err(ExchangeError::Failed)?;
        let response = async {
            let response = self.sender.send_request(request).await?;
            let keep_alive = response.headers().get(hyper::header::CONNECTION).is_none_or(|v| v != "close");
            let answer = classify(response.status(), response.headers());
            let mut body = response.into_body();
            while let Some(frame) = body.frame().await {
                frame?;
            }
            Ok::<_, hyper::Error>((answer, keep_alive))
        };
        response.await.map_err(|error| ExchangeError::Failed(io_error(&error)))
    }
}

fn io_error(error: &hyper::Error) -> OpError {
    OpError { kind: "io", detail: Some(error.to_string()) }
}

/// One driver worker's HTTP client: a keep-alive connection to `address`.
pub struct HttpWorker {
    address: SocketAddr,
    host: HeaderValue,
    connection: Option<Connection>,
    path: String,
    served_by: Option<u32>,
    /// The deadline of the request under way (see [`DEADLINE_STEP`]), set on first use.
    deadline: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl HttpWorker {
    /// A client of the HTTP server at `address` (loopback), connecting on first use.
    pub fn new(address: SocketAddr) -> Self {
        let host = HeaderValue::try_from(address.to_string()).expect("a socket address is a valid header value");
        HttpWorker { address, host, connection: None, path: String::with_capacity(32), served_by: None, deadline: None }
    }

    fn request(path: &str, host: &HeaderValue) -> Result<Request<Empty<Bytes>>, OpError> {
        let uri = Uri::try_from(path).map_err(|e| OpError { kind: "request", detail: Some(format!("{path}: {e}")) })?;
        Request::get(uri)
            .header(HOST, host.clone())
            .body(Empty::new())
            .map_err(|e| OpError { kind: "request", detail: Some(e.to_string()) })
    }

    /// `GET` of the current path, on the open connection or a new one; at most one new
    /// connection per request, for a server that closed the one it had.
    async fn get(&mut self) -> OpResult {
        for _ in 0..2 {
            let connection = match &mut self.connection {
                Some(connection) => connection,
                None => self.connection.insert(Connection::open(self.address).await?),
            };
            match connection.exchange(|| Self::request(&self.path, &self.host)).await {
                Ok((answer, keep_alive)) => {
                    if !keep_alive {
                        self.connection = None;
                    }
                    self.served_by = answer.backend;
                    return answer.failure.map_or(Ok(()), Err);
                }
                Err(ExchangeError::ClosedBeforeSending) => self.connection = None,
                Err(ExchangeError::Failed(error)) => {
                    self.connection = None;
                    return Err(error);
                }
            }
        }
        Err(OpError { kind: "io", detail: Some(format!("{} closed every new connection", self.address)) })
    }
}

impl Worker for HttpWorker {
    async fn call(&mut self, op: Op) -> OpResult {
        self.served_by = None;
        self.path.clear();
        let _ = write!(self.path, "/k/{}", op.key);
        let mut deadline = self.deadline.take().unwrap_or_else(|| Box::pin(tokio::time::sleep(REQUEST_TIMEOUT)));
        let now = tokio::time::Instant::now();
        if deadline.deadline() < now + REQUEST_TIMEOUT - DEADLINE_STEP {
            deadline.as_mut().reset(now + REQUEST_TIMEOUT);
        }
        let result = tokio::select! {
            biased;
            result = self.get() => Some(result),
            () = deadline.as_mut() => None,
        };
        self.deadline = Some(deadline);
        match result {
            Some(result) => result,
            None => {
                // The connection may still carry the late answer: start afresh.
                self.connection = None;
                Err(OpError {
                    kind: "timeout",
                    detail: Some(format!("no answer within {:?}", REQUEST_TIMEOUT - DEADLINE_STEP)),
                })
            }
        }
    }

    #[inline]
    fn served_by(&self) -> Option<u32> {
        self.served_by
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(name, value)| (hyper::header::HeaderName::from_static(name), HeaderValue::from_static(value)))
            .collect()
    }

    #[test]
    fn answers_are_classified_by_status_and_proxy_error() {
        let ok = classify(StatusCode::OK, &headers(&[(BACKEND_HEADER, "2")]));
        assert_eq!(ok, Answer { failure: None, backend: Some(2) });
        let refused =
            classify(StatusCode::BAD_GATEWAY, &headers(&[(BACKEND_HEADER, "1"), (PROXY_ERROR_HEADER, "refused")]));
        assert_eq!((refused.failure.map(|f| f.kind), refused.backend), (Some("refused"), Some(1)));
        let nginx_502 = classify(StatusCode::BAD_GATEWAY, &HeaderMap::new());
        assert_eq!(nginx_502.failure.map(|f| f.kind), Some("http-status"));
        let error = classify(StatusCode::INTERNAL_SERVER_ERROR, &headers(&[(BACKEND_HEADER, "0")]));
        assert_eq!((error.failure.map(|f| f.kind), error.backend), (Some("backend-error"), Some(0)));
    }

    /// The driver boxes each operation's future. Up to 1,024 bytes, glibc serves that box
    /// from its per-thread cache; beyond, every operation went through the shared heap and
    /// merged its free chunks (`malloc_consolidate`, 0.5% of the HTTP closed loop's CPU
    /// samples). It was 1,400 bytes while the request and the answer's head were held across
    /// waits and the exchange was copied into the frame of the future that polled it beside
    /// the connection; it is 656 bytes now.
    #[test]
    fn an_operations_future_fits_the_allocators_thread_cache() {
        let mut worker = HttpWorker::new(SocketAddr::from(([127, 0, 0, 1], 9)));
        let call = worker.call(Op { kind: workloads::OpKind::Read, key: 1 });
        assert!(std::mem::size_of_val(&call) <= 1024, "{} bytes", std::mem::size_of_val(&call));
    }

    /// A server that answers every request with `Connection: close` and closes at once, as
    /// nginx does on a keep-alive connection's last request: the answer arrives with the
    /// end of the connection, and must count as an answer.
    #[tokio::test]
    async fn an_answer_that_closes_the_connection_is_an_answer() {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let requests = 200u32;
        let server = tokio::spawn(async move {
            for _ in 0..requests {
                let (mut stream, _) = listener.accept().await.unwrap();
                let mut request = [0u8; 1024];
                let _ = stream.read(&mut request).await.unwrap();
                let answer = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nx-backend: 0\r\nconnection: close\r\n\r\nok";
                stream.write_all(answer.as_bytes()).await.unwrap();
            }
        });
        let mut worker = HttpWorker::new(address);
        let mut failures = Vec::new();
        for key in 0..requests {
            if let Err(error) = worker.call(Op { kind: workloads::OpKind::Read, key: u64::from(key) }).await {
                failures.push(error);
            }
        }
        assert!(failures.is_empty(), "{} of {requests} answers lost: {:?}", failures.len(), failures.first());
        server.await.unwrap();
    }
}
