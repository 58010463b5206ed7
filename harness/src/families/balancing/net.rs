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
//! `restore-node` on a killed backend starts it again on the same port. Children's stderr and
//! nginx's config and logs are kept under `RUN_DIR/net/<run_id>/`, with goose's report.

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
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use targets::balancing::BackendSpec;
use targets::balancing::net::client::HttpWorker;
use targets::balancing::net::nginx::{self, Method};
use targets::balancing::net::process::{ChildGuard, spawn_listening};
use targets::target::{EventReport, EventStatus, FamilyMetrics, System};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
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
    let system = Arc::new(NetSystem { front, weights, servers: Mutex::new(servers) });
    let record = match engine {
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
    // Stops every process before the row is written.
    drop(system);
    record
}

/// One backend process.
struct Backend {
    spec: BackendSpec,
    address: SocketAddr,
    /// `None` once killed.
    guard: Option<ChildGuard>,
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
    fn spawn(&self, listen: &str) -> anyhow::Result<(ChildGuard, SocketAddr)> {
        let log = std::fs::File::create(&self.log).with_context(|| format!("cannot create {}", self.log.display()))?;
        let mut command = Command::new(&self.exe);
        command
            .args(["serve", "backend", "--exit-on-stdin-close", "--listen", listen])
            .args(["--id", &self.id.to_string(), "--latency", &self.spec.latency.to_string()])
            .args(["--error-rate", &self.spec.error_rate.to_string(), "--seed", &self.seed.to_string()])
            .stderr(log);
        if let Some(capacity) = self.spec.capacity {
            command.args(["--capacity", &capacity.to_string()]);
        }
        Ok(spawn_listening(&format!("backend {}", self.id), &mut command)?)
    }
}

/// The processes of one row.
struct Servers {
    backends: Vec<Backend>,
    front: SocketAddr,
    /// The proxy or nginx process (none for `engine:direct`), held to be stopped on drop.
    _front_process: Option<ChildGuard>,
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
            let (guard, address) = command.spawn("127.0.0.1:0")?;
            backends.push(Backend { spec: backend, address, guard: Some(guard), command });
        }
        let addresses: Vec<SocketAddr> = backends.iter().map(|b| b.address).collect();
        let (front, front_process) = Self::front(spec, dir, &exe, &addresses)?;
        Ok(Servers { backends, front, _front_process: front_process })
    }

    fn front(
        spec: &RunSpec,
        dir: &Path,
        exe: &Path,
        backends: &[SocketAddr],
    ) -> anyhow::Result<(SocketAddr, Option<ChildGuard>)> {
        let workload = &spec.workload;
        if spec.strategy == DIRECT {
            return Ok((backends[0], None));
        }
        if let Some(method) = Method::from_row(&spec.strategy) {
            if !nginx::installed() {
                anyhow::bail!("nginx is not installed (apt-get install nginx, or scripts/setup.sh)");
            }
            let weights: Vec<f64> =
                balancing_params(workload)?.backends(workload.nodes)?.iter().map(|b| b.weight).collect();
            let keepalive = workload.shape.workers().max(32);
            let started = nginx::start(&dir.join("nginx"), method, backends, &weights, keepalive)?;
            return Ok((started.address, Some(started.guard)));
        }
        let log = std::fs::File::create(dir.join("proxy.log")).context("cannot create the proxy's log")?;
        let list: Vec<String> = backends.iter().map(SocketAddr::to_string).collect();
        let mut command = Command::new(exe);
        command
            .args(["serve", "proxy", "--exit-on-stdin-close", "--listen", "127.0.0.1:0", "--strategy", &spec.strategy])
            .args(["--backends", &list.join(","), "--seed", &workload.seed.to_string()])
            .stderr(log);
        for (name, value) in &target_params(workload) {
            command.args(["--param", &format!("{name}={value}")]);
        }
        let (guard, address) = spawn_listening("proxy", &mut command)?;
        Ok((address, Some(guard)))
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
}

impl NetSystem {
    async fn apply(&self, action: EventAction) -> Result<(), String> {
        let node = action.fault_node().ok_or_else(|| {
            format!("`{}`: the backend set is fixed; use slow-node, restore-node or kill-node", action.label())
        })?;
        let (address, killed, command) = {
            let servers = self.servers.lock().unwrap_or_else(|p| p.into_inner());
            let backend = servers.backends.get(node as usize).ok_or_else(|| format!("there is no backend {node}"))?;
            (backend.address, backend.guard.is_none(), backend.command.clone())
        };
        match action {
            EventAction::KillNode { .. } => {
                let guard = self.backend(node, |b| b.guard.take());
                guard.map(|mut g| g.kill_now()).ok_or_else(|| format!("backend {node} is already down"))
            }
            EventAction::RestoreNode { .. } if killed => {
                let listen = address.to_string();
                let (guard, _) = tokio::task::spawn_blocking(move || command.spawn(&listen))
                    .await
                    .map_err(|e| e.to_string())?
                    .map_err(|e| format!("{e:#}"))?;
                self.backend(node, |b| b.guard = Some(guard));
                Ok(())
            }
            EventAction::RestoreNode { .. } => control(address, "slow/1").await,
            EventAction::SlowNode { factor, .. } => control(address, &format!("slow/{}", factor.get())).await,
            other => Err(format!("`{}` does not apply to a backend", other.label())),
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
