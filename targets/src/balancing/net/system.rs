//! The networked version of the balancing family as a [`System`]: for each run, it starts the
//! backends (`stratbench serve backend`, one process each), the front (our proxy, nginx, or
//! nothing for `engine:direct`), all on loopback with ephemeral ports, applies the scenario's
//! faults to the real processes, and stops everything when the run ends — on every path,
//! since every process is held by a guard that stops it on drop. The harness loads the front
//! (its driver's loops through an [`HttpWorker`] per slot, or goose's users) and writes the row.
//!
//! Faults: `kill-node` kills the backend process (SIGKILL, as a crash); `slow-node` and
//! `restore-node` go through the backend's control path (`/__control/slow/<factor>`), and
//! `restore-node` on a killed backend starts it again on the same port; `fail-node` and
//! `flap-node` also go through the control path. Children's stderr and nginx's config and
//! logs are kept in the run's directory.
//!
//! Failure figures: in a run with events, our proxy and nginx both write `attempts.log` (one
//! line per request, nginx's access-log format: the backends tried, statuses, times); the
//! system notes each fault's wall-clock time as it applies it, and after the run, once every
//! process has stopped ([`NetSystem::finish`]), reads the two together
//! ([`crate::balancing::failure::attempts`]) for retries, drain and return times, whichever
//! engine made the load. The row's `failure_layer` says what failure handling the front had.
//!
//! It lives here, beside the servers it starts, rather than in the harness: it is a target
//! like the other families' systems, and the harness only picks the load engine and the files.

use super::LAYER_COUNTS_PATH;
use super::client::HttpWorker;
use super::nginx::{self, FailureConfig, Method, NginxSetup};
use crate::balancing::failure::LayerCounts;
use crate::balancing::failure::attempts::{self, FailureMetrics, FaultMark};
use crate::balancing::{BackendSpec, BalancingError, BalancingParams};
use crate::process::{ChildProcess, ProcessError, READY_TIMEOUT};
use crate::sync::Recover as _;
use crate::target::{EventReport, EventStatus, FamilyMetrics, System};
use crate::transport::TransportError;
use crate::transport::process::spawn_node;
use std::collections::BTreeMap;
use std::io::{Read as _, Write as _};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use workloads::events::BalancingAction;
use workloads::{Event, EventAction};

/// The row that loads backend 0 with no proxy in between.
pub const DIRECT: &str = "engine:direct";

/// Why the servers of a row could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot create {path}: {source}")]
    Dir { path: String, source: std::io::Error },
    #[error("cannot resolve the attempt log's path: {0}")]
    AttemptLog(std::io::Error),
    #[error("the attempt log's path is not UTF-8")]
    AttemptLogNotUtf8,
    #[error("nginx is not installed (apt-get install nginx, or scripts/setup.sh)")]
    NginxMissing,
    #[error(transparent)]
    Params(#[from] BalancingError),
    #[error(transparent)]
    Process(#[from] ProcessError),
    #[error(transparent)]
    Node(#[from] TransportError),
}

/// What one networked row runs.
#[derive(Clone, Copy, Debug)]
pub struct NetRow<'a> {
    /// The row's strategy: ours, an `engine:nginx:*` method or [`DIRECT`].
    pub strategy: &'a str,
    pub workload: &'a workloads::Workload,
    /// The balancers' and backends' parameters: the scenario's, less the harness's own.
    pub params: &'a BTreeMap<String, toml::Value>,
    /// The `stratbench` executable, started as each backend and proxy.
    pub exe: &'a Path,
    /// Where the children's logs, nginx's files and the attempt log go.
    pub dir: &'a Path,
}

/// How long a control request to a backend may take.
const CONTROL_TIMEOUT: Duration = Duration::from_secs(2);

/// Our proxy's failure-layer counts, asked on [`LAYER_COUNTS_PATH`] once the load is over;
/// `None` (empty cells, with a warning) if it does not answer them.
fn layer_counts(front: SocketAddr) -> Option<LayerCounts> {
    let exchange = || -> std::io::Result<String> {
        let mut stream = std::net::TcpStream::connect_timeout(&front, CONTROL_TIMEOUT)?;
        stream.set_read_timeout(Some(CONTROL_TIMEOUT))?;
        let request = format!("GET {LAYER_COUNTS_PATH} HTTP/1.1\r\nHost: {front}\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes())?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer)?;
        Ok(answer)
    };
    let answer = exchange().map_err(|error| tracing::warn!(%error, "cannot read the proxy's layer counts")).ok()?;
    let body = answer.split_once("\r\n\r\n").map(|(_, body)| body).unwrap_or_default();
    let counts = answer.starts_with("HTTP/1.1 200").then(|| LayerCounts::parse(body)).flatten();
    if counts.is_none() {
        tracing::warn!(answer = %answer.lines().next().unwrap_or(""), "the proxy's layer counts are unreadable");
    }
    counts
}

/// Where a row's failure figures come from.
#[derive(Clone)]
struct FailureSource {
    addresses: Vec<SocketAddr>,
    /// The front's attempt log (runs with events, through a proxy or nginx).
    log: Option<PathBuf>,
    /// What failure handling the front had.
    layer: Option<String>,
    /// Whether the front is our proxy with the layer on, which counts denied retries and
    /// ejections (nginx has neither).
    counted: bool,
}

impl FailureSource {
    /// The figures of the attempt log under the faults `marks`, with the proxy's `counts`;
    /// just the layer's description (and counts) without a log, nothing without a front.
    fn measure(&self, marks: &[FaultMark], counts: Option<LayerCounts>) -> Option<FailureMetrics> {
        let mut metrics = self.logged(marks)?;
        if let Some(counts) = counts {
            metrics.retries_denied = Some(counts.retries_denied);
            metrics.ejections = Some(counts.ejections);
        }
        Some(metrics)
    }

    fn logged(&self, marks: &[FaultMark]) -> Option<FailureMetrics> {
        let layer = self.layer.clone()?;
        let Some(path) = &self.log else { return Some(FailureMetrics { layer, ..FailureMetrics::default() }) };
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(error) => {
                tracing::warn!(%error, path = %path.display(), "cannot read the attempt log");
                return Some(FailureMetrics { layer, ..FailureMetrics::default() });
            }
        };
        let mut attempts = attempts::parse_log(&text, &self.addresses);
        let metrics = attempts::measure(&mut attempts, marks);
        Some(FailureMetrics { layer, ..metrics })
    }
}

/// One backend process.
struct Backend {
    spec: BackendSpec,
    address: SocketAddr,
    /// `None` once killed.
    process: Option<ChildProcess>,
    command: BackendCommand,
}

/// How to start a backend (again, after a kill).
#[derive(Clone)]
struct BackendCommand {
    exe: PathBuf,
    log: PathBuf,
    id: u32,
    spec: BackendSpec,
    seed: u64,
}

impl BackendCommand {
    fn spawn(&self, listen: &str) -> Result<(ChildProcess, SocketAddr), StartError> {
        let mut args: Vec<String> =
            ["serve", "backend", "--exit-on-stdin-close", "--listen", listen].into_iter().map(String::from).collect();
        args.extend(["--id".into(), self.id.to_string(), "--latency".into(), self.spec.latency.to_string()]);
        args.extend(["--error-rate".into(), self.spec.error_rate.to_string(), "--seed".into(), self.seed.to_string()]);
        if let Some(capacity) = self.spec.capacity {
            args.extend(["--capacity".into(), capacity.to_string()]);
        }
        Ok(spawn_node(&format!("backend {}", self.id), &self.exe, &args, &self.log, READY_TIMEOUT)?)
    }
}

/// The processes of one row.
struct RowProcesses {
    backends: Vec<Backend>,
    front: SocketAddr,
    /// The proxy or nginx process (none for `engine:direct`), held to be stopped on drop.
    _front_process: Option<ChildProcess>,
    /// The front's attempt log, if it writes one.
    attempt_log: Option<PathBuf>,
    /// The front's failure handling (none for `engine:direct`).
    layer: Option<String>,
    /// Whether the front is our proxy with the layer on (see [`FailureSource::counted`]).
    layer_counted: bool,
}

impl RowProcesses {
    fn start(row: NetRow<'_>) -> Result<RowProcesses, StartError> {
        let (workload, dir, exe) = (row.workload, row.dir, row.exe);
        std::fs::create_dir_all(dir).map_err(|source| StartError::Dir { path: dir.display().to_string(), source })?;
        let params = BalancingParams::from_table(row.params)?;
        let mut backends = Vec::new();
        for (id, backend) in params.backends(workload.nodes)?.into_iter().enumerate() {
            let command = BackendCommand {
                exe: exe.to_path_buf(),
                log: dir.join(format!("backend-{id}.log")),
                id: id as u32,
                spec: backend,
                seed: workload.seed,
            };
            let (process, address) = command.spawn("127.0.0.1:0")?;
            backends.push(Backend { spec: backend, address, process: Some(process), command });
        }
        let addresses: Vec<SocketAddr> = backends.iter().map(|b| b.address).collect();
        if row.strategy == DIRECT {
            let front = addresses[0];
            return Ok(RowProcesses {
                front,
                backends,
                _front_process: None,
                attempt_log: None,
                layer: None,
                layer_counted: false,
            });
        }
        let attempt_log = if workload.events.is_empty() {
            None
        } else {
            Some(std::path::absolute(dir.join("attempts.log")).map_err(StartError::AttemptLog)?)
        };
        let front = Front { row, backends: &addresses, params: &params, attempt_log: attempt_log.clone() };
        let (address, process, layer) = front.start()?;
        let layer_counted = Method::from_row(row.strategy).is_none() && params.failure.enabled();
        Ok(RowProcesses {
            backends,
            front: address,
            _front_process: Some(process),
            attempt_log,
            layer: Some(layer),
            layer_counted,
        })
    }
}

/// How to start the front of a row: our proxy or nginx.
struct Front<'a> {
    row: NetRow<'a>,
    backends: &'a [SocketAddr],
    params: &'a BalancingParams,
    attempt_log: Option<PathBuf>,
}

impl Front<'_> {
    /// Starts it: its address, its process and a description of its failure handling.
    fn start(self) -> Result<(SocketAddr, ChildProcess, String), StartError> {
        let (row, dir, backends) = (self.row, self.row.dir, self.backends);
        let workload = row.workload;
        if let Some(method) = Method::from_row(row.strategy) {
            if !nginx::installed() {
                return Err(StartError::NginxMissing);
            }
            let weights: Vec<f64> = self.params.backends(workload.nodes)?.iter().map(|b| b.weight).collect();
            let failure = FailureConfig::of(&self.params.failure);
            let layer = failure.describe();
            let setup = NginxSetup {
                method,
                backends,
                weights: &weights,
                keepalive: workload.shape.workers().max(32),
                failure,
                access_log: self.attempt_log,
            };
            let started = nginx::start(&dir.join("nginx"), &setup)?;
            return Ok((started.address, started.process, layer));
        }
        let list: Vec<String> = backends.iter().map(SocketAddr::to_string).collect();
        let mut args: Vec<String> =
            ["serve", "proxy", "--exit-on-stdin-close", "--listen", "127.0.0.1:0", "--strategy", row.strategy]
                .into_iter()
                .map(String::from)
                .collect();
        args.extend(["--backends".into(), list.join(","), "--seed".into(), workload.seed.to_string()]);
        for (name, value) in row.params {
            args.extend(["--param".into(), format!("{name}={value}")]);
        }
        if let Some(path) = &self.attempt_log {
            let path = path.to_str().ok_or(StartError::AttemptLogNotUtf8)?;
            args.extend(["--attempt-log".into(), path.to_string()]);
        }
        let (process, address) = spawn_node("proxy", row.exe, &args, &dir.join("proxy.log"), READY_TIMEOUT)?;
        Ok((address, process, self.params.failure.describe()))
    }
}

/// The running servers, as the driver's workers and the events controller see them.
pub struct NetSystem {
    /// Where the load goes: the proxy, nginx, or backend 0 (`engine:direct`). A backend
    /// started again after a kill listens on the same port.
    front: SocketAddr,
    /// Each backend's weight (index = backend id).
    weights: Vec<f64>,
    servers: Mutex<RowProcesses>,
    /// Faults applied, on the wall clock (since the Unix epoch), as the attempt logs are.
    marks: Mutex<Vec<FaultMark>>,
    failures: FailureSource,
}

impl NetSystem {
    /// Starts the backends and the front of `row`.
    pub fn start(row: NetRow<'_>) -> Result<NetSystem, StartError> {
        let servers = RowProcesses::start(row)?;
        let front = servers.front;
        let weights = servers.backends.iter().map(|b| b.spec.weight).collect();
        let failures = FailureSource {
            addresses: servers.backends.iter().map(|b| b.address).collect(),
            log: servers.attempt_log.clone(),
            layer: servers.layer.clone(),
            counted: servers.layer_counted,
        };
        Ok(NetSystem { front, weights, servers: Mutex::new(servers), marks: Mutex::default(), failures })
    }

    /// Where the load goes.
    pub fn front(&self) -> SocketAddr {
        self.front
    }

    /// Stops every process (which ends their attempt logs) once the load is over, and reads
    /// the row's failure figures: `None` without a front.
    pub fn finish(system: Arc<NetSystem>) -> Option<FailureMetrics> {
        let marks = system.marks.locked().clone();
        let counts = system.failures.counted.then(|| layer_counts(system.front));
        let failures = system.failures.clone();
        drop(system);
        failures.measure(&marks, counts.flatten())
    }

    async fn apply(&self, action: EventAction) -> Result<(), String> {
        let EventAction::Balancing(action) = action else {
            return Err(format!(
                "`{}`: the backend set is fixed; use slow-node, fail-node, flap-node, restore-node or kill-node",
                action.label()
            ));
        };
        let node = action.node();
        self.applied(action, node, self.apply_to(action, node).await)
    }

    /// Notes a fault that was applied, at the wall-clock time it took effect.
    fn applied(&self, action: BalancingAction, node: u32, result: Result<(), String>) -> Result<(), String> {
        if result.is_ok() {
            let at = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
            let restore = matches!(action, BalancingAction::RestoreNode { .. });
            self.marks.locked().push(FaultMark { at, node, restore });
        }
        result
    }

    async fn apply_to(&self, action: BalancingAction, node: u32) -> Result<(), String> {
        let (address, killed, command) = {
            let servers = self.servers.locked();
            let backend = servers.backends.get(node as usize).ok_or_else(|| format!("there is no backend {node}"))?;
            (backend.address, backend.process.is_none(), backend.command.clone())
        };
        match action {
            BalancingAction::KillNode { .. } => {
                let process = self.backend(node, |b| b.process.take());
                process.map(|mut p| p.kill()).ok_or_else(|| format!("backend {node} is already down"))
            }
            BalancingAction::RestoreNode { .. } if killed => {
                let listen = address.to_string();
                let (process, _) = tokio::task::spawn_blocking(move || command.spawn(&listen))
                    .await
                    .map_err(|e| e.to_string())?
                    .map_err(|e| format!("{e:#}"))?;
                self.backend(node, |b| b.process = Some(process));
                Ok(())
            }
            BalancingAction::RestoreNode { .. } => control(address, "restore").await,
            BalancingAction::SlowNode { factor, .. } => control(address, &format!("slow/{}", factor.get())).await,
            BalancingAction::FailNode { error_ppm, .. } => {
                control(address, &format!("fail/{}", f64::from(error_ppm) / 1e6)).await
            }
            BalancingAction::FlapNode { period, .. } => {
                control(address, &format!("flap/{}", period.as_secs_f64() * 1000.0)).await
            }
        }
    }

    fn backend<T>(&self, node: u32, f: impl FnOnce(&mut Backend) -> T) -> T {
        f(&mut self.servers.locked().backends[node as usize])
    }
}

/// Sends `GET /__control/<command>` to a backend and checks for a 200.
async fn control(address: SocketAddr, command: &str) -> Result<(), String> {
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(address).await?;
        let request = format!("GET /__control/{command} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await?;
        std::io::Result::Ok(answer)
    };
    match tokio::time::timeout(CONTROL_TIMEOUT, exchange).await {
        Ok(Ok(answer)) if answer.starts_with("HTTP/1.1 200") => Ok(()),
        Ok(Ok(answer)) => {
            Err(format!("backend {address} refused the control request: {}", answer.lines().next().unwrap_or("")))
        }
        Ok(Err(error)) => Err(format!("cannot reach backend {address}: {error}")),
        Err(_) => Err(format!("backend {address} did not answer within {CONTROL_TIMEOUT:?}")),
    }
}

impl System for NetSystem {
    type Worker = HttpWorker;

    /// A keep-alive HTTP client of the front (goose's users do without).
    fn worker(&self, _index: u32) -> HttpWorker {
        HttpWorker::new(self.front)
    }

    async fn apply_event(&self, event: &Event) -> EventReport {
        match self.apply(event.action).await {
            Ok(()) => EventReport { status: EventStatus::Ok, message: None, resize: None },
            Err(message) => EventReport { status: EventStatus::Error, message: Some(message), resize: None },
        }
    }

    fn metrics(&self) -> FamilyMetrics {
        FamilyMetrics { node_weights: self.weights.clone(), ..FamilyMetrics::default() }
    }
}
