//! The `locks` family: C clients contend for L lock names, each cycle acquire → write to the
//! protected resource → hold → release → think, while a checker watches for overlapping
//! critical sections and stale writes, and faults (a paused holder, a killed holder, a
//! restarted Redis master) fire from the schedule.
//!
//! `lease` runs in-process. The networked strategies run against real servers: started here
//! on loopback for the run (and stopped on every path by their guards), or given with
//! `--redis`, `--zookeeper`, `--etcd`. A server that cannot be started or an address that
//! does not answer makes the run a `status=error` row whose message says what to install or
//! which address failed. After the run, every key or node the run created is removed and the
//! number still present is reported.
//!
//! With `client_process = true`, each client runs in its own process (`stratbench lock-client`,
//! hidden, in [`crate::serve::lock_client`]), so a `pause-holder` fault stops a whole client with SIGSTOP — its ZooKeeper
//! heartbeats and etcd keep-alives included — and `kill-holder` kills a real process.

use super::{FieldError, RuntimeError, StrategyInfo, measure};
use crate::output::Session;
use crate::recorder::Timing;
use crate::run::{GivenServers, RunRecord, RunSpec, RunStatus};
use indicatif::ProgressBar;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use targets::locks::columns::LocksLeft;
use targets::locks::params::{MAX_LOCKS, ParamError};
use targets::locks::process::{ChildCommand, ProcessService};
use targets::locks::system::{LockSystem, RestartHook};
use targets::locks::{BuildService, LockError, LockParams, LockService, ServiceVisitor, Strategy, run_namespace};
use targets::servers::etcd::EtcdCluster;
use targets::servers::redis::{Persistence, RedisServer};
use targets::servers::zookeeper::ZooKeeperServer;
use targets::servers::{self, ServerError};
use targets::sync::Recover as _;
use workloads::Workload;
use workloads::scenario::Mode;

/// How long the removal of a run's keys and nodes may take.
const CLEANUP_TIMEOUT: Duration = Duration::from_secs(60);
/// The same after Ctrl-C: the session must end within a second, and a second Ctrl-C may have
/// stopped the servers already.
const INTERRUPTED_CLEANUP_TIMEOUT: Duration = Duration::from_millis(300);

/// The strategies and their versions: `lease` in-process, the others networked.
pub fn strategies() -> Vec<StrategyInfo> {
    Strategy::ALL.iter().map(|s| StrategyInfo { name: s.name(), about: s.about(), modes: s.modes() }).collect()
}

/// Checks `[params]`, the number of lock names and the timing.
pub fn check(workload: &Workload) -> Result<(), FieldError> {
    LockParams::from_table(&workload.params).map_err(|e: ParamError| FieldError::param(&e.param, e.message))?;
    if workload.keys > MAX_LOCKS {
        let message = format!("the locks family uses at most {MAX_LOCKS} lock names, got {}", workload.keys);
        return Err(FieldError::new("keys", message));
    }
    if workload.batch.is_some_and(|b| b > 1) {
        return Err(FieldError::new("batch", "lock cycles are timed one by one; remove `batch`"));
    }
    Ok(())
}

/// Runs one lock strategy.
pub fn run<'a>(spec: &'a RunSpec, session: &mut Session, progress: &ProgressBar) -> RunRecord<'a> {
    let params = match LockParams::from_table(&spec.workload.params) {
        Ok(params) => params,
        Err(error) => return RunRecord::failed(spec, RunStatus::Error, error.to_string()),
    };
    if params.client_process && spec.mode == Mode::Inproc {
        let message = "`client_process` applies to the networked strategies; `lease` is in-process".to_string();
        return RunRecord::failed(spec, RunStatus::Unsupported, message);
    }
    let strategy = Strategy::from_name(&spec.strategy).expect("the plan only holds known strategies");
    let mut servers = match LockServers::prepare(strategy, &spec.servers, &params) {
        Ok(servers) => servers,
        Err(error) => return RunRecord::failed(spec, RunStatus::Error, error.to_string()),
    };
    let namespace = run_namespace();
    let child = params.client_process.then(|| child_command(spec, &servers.urls, &namespace));
    let restart = servers.restart.take();
    let visitor =
        Measure { spec, session, progress, restart, child, params, urls: &servers.urls, namespace: &namespace };
    let record = strategy.visit(visitor);
    drop(servers);
    record
}

/// Why the servers of a run are not there to use.
#[derive(Debug, thiserror::Error)]
enum ServersError {
    #[error(transparent)]
    Server(#[from] ServerError),
    #[error("redlock needs at least 3 masters; --redis gave {0}")]
    TooFewMasters(usize),
}

/// Why removing a run's keys or nodes failed.
#[derive(Debug, thiserror::Error)]
enum CleanupError {
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    #[error("took longer than {0:?}")]
    Timeout(Duration),
    #[error(transparent)]
    Lock(#[from] LockError),
}

/// The servers of one run: started here (their guards stop them when this is dropped) or given.
struct LockServers {
    urls: Vec<String>,
    /// Restarts a managed Redis server; owns the Redis guards.
    restart: Option<RestartHook>,
    _zookeeper: Option<ZooKeeperServer>,
    _etcd: Option<EtcdCluster>,
}

impl LockServers {
    fn given(urls: Vec<String>) -> Self {
        LockServers { urls, restart: None, _zookeeper: None, _etcd: None }
    }

    /// Checks the given servers of `strategy`, or starts its own.
    fn prepare(strategy: Strategy, given: &GivenServers, params: &LockParams) -> Result<Self, ServersError> {
        match strategy {
            Strategy::Redis | Strategy::Redlock => Self::redis(strategy, &given.redis, params),
            Strategy::ZooKeeper if !given.zookeeper.is_empty() => {
                check_all("zookeeper", &given.zookeeper, servers::zookeeper::ping)?;
                Ok(Self::given(given.zookeeper.clone()))
            }
            Strategy::ZooKeeper => {
                let server = ZooKeeperServer::start()?;
                let urls = vec![server.addr().to_string()];
                Ok(LockServers { _zookeeper: Some(server), ..Self::given(urls) })
            }
            Strategy::Etcd => Self::etcd(&given.etcd, params),
            Strategy::Lease => Ok(Self::given(Vec::new())),
        }
    }

    fn redis(strategy: Strategy, given: &[String], params: &LockParams) -> Result<Self, ServersError> {
        let redlock = strategy == Strategy::Redlock;
        let masters = if redlock { params.masters } else { 1 };
        if given.is_empty() {
            let persistence = if params.redis_fsync_always { Persistence::AppendFsyncAlways } else { Persistence::Off };
            let managed = servers::redis::start_many(masters, persistence)?;
            let urls = managed.iter().map(RedisServer::url).collect();
            return Ok(LockServers {
                restart: Some(restart_hook(managed, params.redis_fsync_always)),
                ..Self::given(urls)
            });
        }
        let used: Vec<String> = if redlock { given.to_vec() } else { given[..1].to_vec() };
        if redlock && used.len() < 3 {
            return Err(ServersError::TooFewMasters(used.len()));
        }
        check_all("redis", &used, servers::redis::ping)?;
        Ok(Self::given(used))
    }

    fn etcd(given: &[String], params: &LockParams) -> Result<Self, ServersError> {
        if !given.is_empty() {
            check_all("etcd", given, servers::etcd::ping)?;
            return Ok(Self::given(given.to_vec()));
        }
        let cluster = EtcdCluster::start(params.etcd_members)?;
        let urls = cluster.urls();
        Ok(LockServers { _etcd: Some(cluster), ..Self::given(urls) })
    }
}

/// The command that starts one client process of this run.
fn child_command(spec: &RunSpec, urls: &[String], namespace: &str) -> ChildCommand {
    let program = std::env::current_exe().unwrap_or_else(|_| "stratbench".into());
    let mut args = vec!["lock-client".to_string(), "--strategy".into(), spec.strategy.clone()];
    args.extend(["--namespace".to_string(), namespace.to_string(), "--servers".into(), urls.join(",")]);
    for (name, value) in &spec.workload.params {
        args.extend(["--param".to_string(), format!("{name}={value}")]);
    }
    ChildCommand { program, args }
}

/// Drives a service through the run (its clients in processes if `child` is set), then removes
/// what the run left on the servers.
struct Measure<'s, 'a> {
    spec: &'a RunSpec,
    params: LockParams,
    session: &'s mut Session,
    progress: &'s ProgressBar,
    restart: Option<RestartHook>,
    child: Option<ChildCommand>,
    /// The servers the service is built on, and the run's namespace on them.
    urls: &'s [String],
    namespace: &'s str,
}

impl<'a> ServiceVisitor for Measure<'_, 'a> {
    type Output = RunRecord<'a>;

    fn visit<S: BuildService>(mut self, _strategy: Strategy) -> RunRecord<'a> {
        let service = S::build(self.urls, self.namespace, &self.params);
        match self.child.take() {
            Some(child) => self.measure(ProcessService::new(service, child)),
            None => self.measure(service),
        }
    }
}

impl<'a> Measure<'_, 'a> {
    fn measure<S: LockService>(self, service: S) -> RunRecord<'a> {
        let workload = &self.spec.workload;
        let workers = workload.shape.workers();
        let system = Arc::new(LockSystem::new(service, self.params, workers, workload.seed, self.restart));
        let mut record = measure(Arc::clone(&system), self.spec, Timing::PerOp, None, self.session, self.progress);
        match cleanup(system.service()) {
            Ok(left) => record.family.add_columns(LocksLeft(left)),
            Err(error) => {
                let note = format!("cleanup after the run failed: {error}");
                record.message = Some(record.message.map_or(note.clone(), |m| format!("{m}; {note}")));
            }
        }
        record
    }
}

/// Removes the run's keys or nodes, in a runtime of its own (the driver's is gone).
fn cleanup<S: LockService>(service: &S) -> Result<u64, CleanupError> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(RuntimeError)?;
    let limit = if crate::interrupt::interrupted() { INTERRUPTED_CLEANUP_TIMEOUT } else { CLEANUP_TIMEOUT };
    runtime.block_on(async {
        match tokio::time::timeout(limit, service.cleanup()).await {
            Ok(result) => Ok(result?),
            Err(_) => Err(CleanupError::Timeout(limit)),
        }
    })
}

/// Checks that every given address answers its protocol's ping.
fn check_all(
    kind: &'static str,
    addrs: &[String],
    ping: fn(std::net::SocketAddr) -> Result<(), String>,
) -> Result<(), ServerError> {
    for addr in addrs {
        let socket = servers::socket_addr(addr).map_err(|detail| unreachable(kind, addr, detail))?;
        ping(socket).map_err(|detail| unreachable(kind, addr, detail))?;
    }
    Ok(())
}

fn unreachable(kind: &'static str, addr: &str, detail: String) -> ServerError {
    ServerError::Unreachable { kind, addr: addr.to_string(), detail }
}

/// A hook that restarts managed Redis server `node`; it owns the servers, which stop when the
/// system holding the hook is dropped.
fn restart_hook(servers: Vec<RedisServer>, persistent: bool) -> RestartHook {
    let servers = Mutex::new(servers);
    let state = if persistent { "with its append-only file" } else { "empty (persistence off)" };
    Box::new(move |node| {
        let mut servers = servers.locked();
        let count = servers.len();
        let server = servers
            .get_mut(node as usize)
            .ok_or_else(|| format!("there are {count} redis servers; node {node} does not exist"))?;
        let start = Instant::now();
        server.restart().map_err(|e| e.to_string())?;
        Ok(format!("restarted redis server {node} ({}) in {:?}; it came back {state}", server.addr(), start.elapsed()))
    })
}
