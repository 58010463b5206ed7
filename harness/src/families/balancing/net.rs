//! The networked version of the balancing family: for each run, the harness starts the
//! backends (`stratbench serve backend`, one process each), the front (our proxy, nginx, or
//! nothing for `engine:direct`), all on loopback with ephemeral ports, loads the front,
//! applies the scenario's faults to the real processes, and stops everything when the run
//! ends — on every path, since every process is held by a guard that stops it on drop.
//!
//! The load: by default the driver's own loops ([`measure`]), each worker — a closed-loop
//! worker, or a slot of the open loop's pool — an [`HttpWorker`] with its keep-alive
//! connection to the front, so `rate` runs the same open loop, with the same columns, as every
//! other family; with `load_engine = "goose"`, goose's simulated users (closed loop,
//! [`drive_http`]), whose own HTML report is kept as `goose-own-report.html`.
//!
//! Faults: `kill-node` kills the backend process (SIGKILL, as a crash); `slow-node` and
//! `restore-node` go through the backend's control path (`/__control/slow/<factor>`), and
//! `restore-node` on a killed backend starts it again on the same port; `fail-node` and
//! `flap-node` also go through the control path. Children's stderr and nginx's config and
//! logs are kept under `RUN_DIR/net/<run_id>/`, with goose's report.
//!
//! Failure figures: in a run with events, our proxy and nginx both write `attempts.log` (one
//! line per request, nginx's access-log format: the backends tried, statuses, times); the
//! harness notes each fault's wall-clock time as it applies it, and after the run, once every
//! process has stopped, reads the two together ([`targets::balancing::failure::attempts`]) for
//! retries, drain and return times, whichever engine made the load. The row's
//! `failure_layer` says what failure handling the front had.

use super::{DIRECT, balancing_params, load_engine, target_params};
use crate::driver::LoadEngine;
use crate::driver::goose_load::{HttpLoad, drive_http};
use crate::families::{measure, record};
use crate::output::Session;
use crate::output::rows::{RunRecord, RunStatus};
use crate::plan::RunSpec;
use crate::recorder::Timing;
use anyhow::Context as _;
use indicatif::ProgressBar;
use std::io::{Read as _, Write as _};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use targets::balancing::failure::LayerCounts;
use targets::balancing::failure::attempts::{self, FailureMetrics, FaultMark};
use targets::balancing::net::LAYER_COUNTS_PATH;
use targets::balancing::net::client::HttpWorker;
use targets::balancing::net::nginx::{self, FailureConfig, Method, NginxSetup};
use targets::balancing::{BackendSpec, BalancingParams};
use targets::process::ChildProcess;
use targets::process::READY_TIMEOUT;
use targets::target::{EventReport, EventStatus, FamilyMetrics, System};
use targets::transport::process::spawn_node;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use workloads::events::BalancingAction;
use workloads::{Event, EventAction};

/// How long a control request to a backend may take.
const CONTROL_TIMEOUT: Duration = Duration::from_secs(2);

/// Goose's own report, beside the row's figures.
pub const GOOSE_REPORT: &str = "goose-own-report.html";

/// Runs one networked row.
pub fn run<'a>(spec: &'a RunSpec, session: &mut Session, progress: &ProgressBar) -> RunRecord<'a> {
    let engine = load_engine(&spec.workload).expect("the plan checked the load engine");
    let dir = session.dir().join("net").join(&spec.run_id);
    let servers = match Servers::start(spec, &dir) {
        Ok(servers) => servers,
        Err(error) => return RunRecord::failed(spec, RunStatus::Error, format!("{error:#}")),
    };
    let front = servers.front;
    let weights = servers.backends.iter().map(|b| b.spec.weight).collect();
    let failures = FailureSource {
        addresses: servers.backends.iter().map(|b| b.address).collect(),
        log: servers.attempt_log.clone(),
        layer: servers.layer.clone(),
        counted: servers.layer_counted,
    };
    let system = Arc::new(NetSystem { front, weights, servers: Mutex::new(servers), marks: Mutex::default() });
    let mut record = match engine {
        LoadEngine::Driver => measure(Arc::clone(&system), spec, Timing::PerOp, None, session, progress),
        LoadEngine::Goose => {
            let drive = session.interval_sink(spec, Timing::PerOp).and_then(|mut sink| {
                let target = format!("http://{front}");
                let load = HttpLoad { target, workload: &spec.workload, report_file: dir.join(GOOSE_REPORT) };
                drive_http(Arc::clone(&system), load, &mut sink, progress)
            });
            record(spec, Timing::PerOp, None, drive, system.metrics())
        }
    };
    let marks = system.marks.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let counts = failures.counted.then(|| layer_counts(front));
    // Stops every process (which ends their attempt logs) before the row is written.
    drop(system);
    record.family = std::mem::take(&mut record.family).with_columns(failures.measure(&marks, counts.flatten()));
    record
}

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
    fn spawn(&self, listen: &str) -> anyhow::Result<(ChildProcess, SocketAddr)> {
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
struct Servers {
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

impl Servers {
    fn start(spec: &RunSpec, dir: &Path) -> anyhow::Result<Servers> {
        let workload = &spec.workload;
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let exe = std::env::current_exe().context("cannot find the stratbench executable")?;
        let params = balancing_params(workload)?;
        let mut backends = Vec::new();
        for (id, backend) in params.backends(workload.nodes)?.into_iter().enumerate() {
            let command = BackendCommand {
                exe: exe.clone(),
                log: dir.join(format!("backend-{id}.log")),
                id: id as u32,
                spec: backend,
                seed: workload.seed,
            };
            let (process, address) = command.spawn("127.0.0.1:0")?;
            backends.push(Backend { spec: backend, address, process: Some(process), command });
        }
        let addresses: Vec<SocketAddr> = backends.iter().map(|b| b.address).collect();
        if spec.strategy == DIRECT {
            let front = addresses[0];
            return Ok(Servers {
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
            Some(std::path::absolute(dir.join("attempts.log")).context("cannot resolve the attempt log's path")?)
        };
        let front =
            Front { spec, dir, exe: &exe, backends: &addresses, params: &params, attempt_log: attempt_log.clone() };
        let (address, process, layer) = front.start()?;
        let layer_counted = Method::from_row(&spec.strategy).is_none() && params.failure.enabled();
        Ok(Servers {
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
    spec: &'a RunSpec,
    dir: &'a Path,
    exe: &'a Path,
    backends: &'a [SocketAddr],
    params: &'a BalancingParams,
    attempt_log: Option<PathBuf>,
}

impl Front<'_> {
    /// Starts it: its address, its process and a description of its failure handling.
    fn start(self) -> anyhow::Result<(SocketAddr, ChildProcess, String)> {
        let (spec, dir, backends) = (self.spec, self.dir, self.backends);
        let workload = &spec.workload;
        if let Some(method) = Method::from_row(&spec.strategy) {
            if !nginx::installed() {
                anyhow::bail!("nginx is not installed (apt-get install nginx, or scripts/setup.sh)");
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
            ["serve", "proxy", "--exit-on-stdin-close", "--listen", "127.0.0.1:0", "--strategy", &spec.strategy]
                .into_iter()
                .map(String::from)
                .collect();
        args.extend(["--backends".into(), list.join(","), "--seed".into(), workload.seed.to_string()]);
        for (name, value) in &target_params(workload) {
            args.extend(["--param".into(), format!("{name}={value}")]);
        }
        if let Some(path) = &self.attempt_log {
            let path = path.to_str().context("the attempt log's path is not UTF-8")?;
            args.extend(["--attempt-log".into(), path.to_string()]);
        }
        let (process, address) = spawn_node("proxy", self.exe, &args, &dir.join("proxy.log"), READY_TIMEOUT)?;
        Ok((address, process, self.params.failure.describe()))
    }
}

/// The running servers, as the driver's workers and the events controller see them.
struct NetSystem {
    /// Where the load goes: the proxy, nginx, or backend 0 (`engine:direct`). A backend
    /// started again after a kill listens on the same port.
    front: SocketAddr,
    /// Each backend's weight (index = backend id).
    weights: Vec<f64>,
    servers: Mutex<Servers>,
    /// Faults applied, on the wall clock (since the Unix epoch), as the attempt logs are.
    marks: Mutex<Vec<FaultMark>>,
}

impl NetSystem {
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
            self.marks.lock().unwrap_or_else(|p| p.into_inner()).push(FaultMark { at, node, restore });
        }
        result
    }

    async fn apply_to(&self, action: BalancingAction, node: u32) -> Result<(), String> {
        let (address, killed, command) = {
            let servers = self.servers.lock().unwrap_or_else(|p| p.into_inner());
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
        f(&mut self.servers.lock().unwrap_or_else(|p| p.into_inner()).backends[node as usize])
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
