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

use super::{StrategyInfo, measure_shared};
use crate::output::Session;
use crate::output::rows::{RunRecord, RunStatus};
use crate::plan::RunSpec;
use crate::recorder::Timing;
use indicatif::ProgressBar;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
#[cfg(feature = "etcd")]
use targets::locks::etcd::EtcdService;
use targets::locks::lease::LeaseService;
use targets::locks::params::{MAX_LOCKS, ParamError};
use targets::locks::redis::RedisService;
use targets::locks::redlock::RedlockService;
use targets::locks::system::{LockSystem, RestartHook};
use targets::locks::zookeeper::ZooKeeperService;
use targets::locks::{LockParams, LockService, run_namespace};
#[cfg(feature = "etcd")]
use targets::servers::etcd::EtcdCluster;
use targets::servers::redis::{Persistence, RedisServer};
use targets::servers::zookeeper::ZooKeeperServer;
use targets::servers::{self, ServerError};
use workloads::Workload;
use workloads::scenario::Mode;

/// How long the removal of a run's keys and nodes may take.
const CLEANUP_TIMEOUT: Duration = Duration::from_secs(60);

/// The strategies and their versions.
pub fn strategies() -> Vec<StrategyInfo> {
    vec![
        StrategyInfo {
            name: "lease",
            about: "in-process lock table with TTL leases and fencing tokens (reference)",
            modes: &[Mode::Inproc],
        },
        StrategyInfo {
            name: "redis",
            about: "one redis-server: SET NX PX + INCR token in Lua; Lua compare-and-delete release",
            modes: &[Mode::Net],
        },
        StrategyInfo {
            name: "redlock",
            about: "Redlock over 3 or 5 redis-server masters (quorum, validity time, random retry)",
            modes: &[Mode::Net],
        },
        StrategyInfo {
            name: "zookeeper",
            about: "ZooKeeper lock recipe (Curator-compatible ephemeral sequential znodes)",
            modes: &[Mode::Net],
        },
        StrategyInfo { name: "etcd", about: "etcd lock service on a kept-alive lease", modes: &[Mode::Net] },
    ]
}

/// Checks `[params]`, the number of lock names and the timing.
pub fn check(workload: &Workload) -> Result<(), (String, String)> {
    LockParams::from_table(&workload.params).map_err(param_error)?;
    if workload.keys > MAX_LOCKS {
        return Err((
            "keys".into(),
            format!("the locks family uses at most {MAX_LOCKS} lock names, got {}", workload.keys),
        ));
    }
    if workload.batch.is_some_and(|b| b > 1) {
        return Err(("batch".into(), "lock cycles are timed one by one; remove `batch`".into()));
    }
    Ok(())
}

fn param_error(error: ParamError) -> (String, String) {
    let field = if error.param == "params" { "params".to_string() } else { format!("params.{}", error.param) };
    (field, error.message)
}

/// Runs one lock strategy.
pub fn run<'a>(spec: &'a RunSpec, session: &mut Session, progress: &ProgressBar) -> RunRecord<'a> {
    let params = match LockParams::from_table(&spec.workload.params) {
        Ok(params) => params,
        Err(error) => return RunRecord::failed(spec, RunStatus::Error, error.to_string()),
    };
    let run = LocksRun { spec, params, session, progress };
    let result = match spec.strategy.as_str() {
        "lease" => Ok(run.lease()),
        "redis" => run.redis(),
        "redlock" => run.redlock(),
        "zookeeper" => run.zookeeper(),
        "etcd" => run.etcd(),
        other => unreachable!("the plan only holds known strategies, got {other}"),
    };
    result.unwrap_or_else(|message| RunRecord::failed(spec, RunStatus::Error, message))
}

struct LocksRun<'s, 'a> {
    spec: &'a RunSpec,
    params: LockParams,
    session: &'s mut Session,
    progress: &'s ProgressBar,
}

impl<'a> LocksRun<'_, 'a> {
    fn lease(self) -> RunRecord<'a> {
        let service = LeaseService::new(self.params.ttl);
        self.measure(service, None)
    }

    fn redis(self) -> Result<RunRecord<'a>, String> {
        let namespace = run_namespace();
        let (ttl, retry) = (self.params.ttl, self.params.retry_delay);
        match self.spec.servers.redis.first() {
            Some(url) => {
                check_given("redis", url, servers::redis::ping)?;
                Ok(self.measure(RedisService::new(url, &namespace, ttl, retry), None))
            }
            None => {
                let managed = start_redis(1, &self.params)?;
                let url = managed[0].url();
                let hook = restart_hook(managed, self.params.redis_fsync_always);
                Ok(self.measure(RedisService::new(&url, &namespace, ttl, retry), Some(hook)))
            }
        }
    }

    fn redlock(self) -> Result<RunRecord<'a>, String> {
        let namespace = run_namespace();
        let (ttl, retry) = (self.params.ttl, self.params.retry_delay);
        let given = &self.spec.servers.redis;
        if !given.is_empty() {
            if given.len() < 3 {
                return Err(format!("redlock needs at least 3 masters; --redis gave {}", given.len()));
            }
            for url in given {
                check_given("redis", url, servers::redis::ping)?;
            }
            return Ok(self.measure(RedlockService::new(given.clone(), &namespace, ttl, retry), None));
        }
        let managed = start_redis(self.params.masters, &self.params)?;
        let urls = managed.iter().map(RedisServer::url).collect();
        let hook = restart_hook(managed, self.params.redis_fsync_always);
        Ok(self.measure(RedlockService::new(urls, &namespace, ttl, retry), Some(hook)))
    }

    fn zookeeper(self) -> Result<RunRecord<'a>, String> {
        let namespace = run_namespace();
        let timeout = self.params.session_timeout;
        if !self.spec.servers.zookeeper.is_empty() {
            for addr in &self.spec.servers.zookeeper {
                check_given("zookeeper", addr, servers::zookeeper::ping)?;
            }
            let connect = self.spec.servers.zookeeper.join(",");
            return Ok(self.measure(ZooKeeperService::new(&connect, &namespace, timeout), None));
        }
        let server = ZooKeeperServer::start().map_err(|e| e.to_string())?;
        let record = self.measure(ZooKeeperService::new(&server.addr().to_string(), &namespace, timeout), None);
        drop(server);
        Ok(record)
    }

    #[cfg(not(feature = "etcd"))]
    fn etcd(self) -> Result<RunRecord<'a>, String> {
        Err("this stratbench was built without the `etcd` feature (its build needs protoc: \
             apt-get install protobuf-compiler, then rebuild with default features)"
            .into())
    }

    #[cfg(feature = "etcd")]
    fn etcd(self) -> Result<RunRecord<'a>, String> {
        let namespace = run_namespace();
        let ttl_s = self.params.etcd_ttl_s();
        if !self.spec.servers.etcd.is_empty() {
            for url in &self.spec.servers.etcd {
                check_given("etcd", url, servers::etcd::ping)?;
            }
            let urls = self.spec.servers.etcd.clone();
            return Ok(self.measure(EtcdService::new(urls, &namespace, ttl_s), None));
        }
        let cluster = EtcdCluster::start(self.params.etcd_members).map_err(|e| e.to_string())?;
        let record = self.measure(EtcdService::new(cluster.urls(), &namespace, ttl_s), None);
        drop(cluster);
        Ok(record)
    }

    /// Drives `service`, then removes what the run left on the servers.
    fn measure<S: LockService>(self, service: S, restart: Option<RestartHook>) -> RunRecord<'a> {
        let workload = &self.spec.workload;
        let workers = workload.shape.workers();
        let system = Arc::new(LockSystem::new(service, self.params, workers, workload.seed, restart));
        let mut record =
            measure_shared(Arc::clone(&system), self.spec, Timing::PerOp, None, self.session, self.progress);
        match cleanup(system.service()) {
            Ok(left) => {
                if let Some(locks) = record.family.locks.as_mut() {
                    locks.locks_left = Some(left);
                }
            }
            Err(error) => {
                let note = format!("cleanup after the run failed: {error}");
                record.message = Some(record.message.map_or(note.clone(), |m| format!("{m}; {note}")));
            }
        }
        record
    }
}

/// Removes the run's keys or nodes, in a runtime of its own (the driver's is gone).
fn cleanup<S: LockService>(service: &S) -> Result<u64, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start a runtime: {e}"))?;
    runtime.block_on(async {
        match tokio::time::timeout(CLEANUP_TIMEOUT, service.cleanup()).await {
            Ok(result) => result.map_err(|e| e.to_string()),
            Err(_) => Err(format!("took longer than {CLEANUP_TIMEOUT:?}")),
        }
    })
}

/// Checks that a given address answers its protocol's ping.
fn check_given(
    kind: &'static str,
    addr: &str,
    ping: fn(std::net::SocketAddr) -> Result<(), String>,
) -> Result<(), String> {
    let socket = servers::socket_addr(addr).map_err(|detail| unreachable(kind, addr, detail))?;
    ping(socket).map_err(|detail| unreachable(kind, addr, detail))
}

fn unreachable(kind: &'static str, addr: &str, detail: String) -> String {
    ServerError::Unreachable { kind, addr: addr.to_string(), detail }.to_string()
}

fn start_redis(count: usize, params: &LockParams) -> Result<Vec<RedisServer>, String> {
    let persistence = if params.redis_fsync_always { Persistence::AppendFsyncAlways } else { Persistence::Off };
    servers::redis::start_many(count, persistence).map_err(|e| e.to_string())
}

/// A hook that restarts managed Redis server `node`; it owns the servers, which stop when the
/// system holding the hook is dropped.
fn restart_hook(servers: Vec<RedisServer>, persistent: bool) -> RestartHook {
    let servers = Mutex::new(servers);
    let state = if persistent { "with its append-only file" } else { "empty (persistence off)" };
    Box::new(move |node| {
        let mut servers = servers.lock().unwrap_or_else(|e| e.into_inner());
        let count = servers.len();
        let server = servers
            .get_mut(node as usize)
            .ok_or_else(|| format!("there are {count} redis servers; node {node} does not exist"))?;
        let start = Instant::now();
        server.restart().map_err(|e| e.to_string())?;
        Ok(format!("restarted redis server {node} ({}) in {:?}; it came back {state}", server.addr(), start.elapsed()))
    })
}
