//! The lock strategies against real servers on loopback, started by the same management code
//! the harness uses: mutual exclusion under contention, fencing tokens that grow, a dead
//! holder's lock freed within its TTL (or session timeout) plus a small bound, nothing left on
//! the servers after a run, and no server process left once its guard is dropped.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use targets::locks::checker::{Checker, Findings};
use targets::locks::etcd::EtcdService;
use targets::locks::lease::LeaseService;
use targets::locks::redis::RedisService;
use targets::locks::redlock::RedlockService;
use targets::locks::zookeeper::ZooKeeperService;
use targets::locks::{LockClient, LockService, run_namespace};
use targets::servers::etcd::EtcdCluster;
use targets::servers::redis::{Persistence, RedisServer, start_many};
use targets::servers::zookeeper::ZooKeeperServer;

const CLIENTS: u32 = 4;
const CYCLES_PER_CLIENT: u32 = 40;
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(20);

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

/// `CLIENTS` clients each take lock 0 `CYCLES_PER_CLIENT` times, writing under the token and
/// holding it briefly; the checker watches. The resource checks tokens if they are `monotonic`.
async fn contend<S: LockService>(service: Arc<S>, monotonic: bool) -> Findings {
    let checker = Arc::new(Checker::new(monotonic));
    let mut tasks = Vec::new();
    for worker in 0..CLIENTS {
        let (service, checker) = (Arc::clone(&service), Arc::clone(&checker));
        tasks.push(tokio::spawn(async move {
            let mut client = service.connect(worker).await.expect("connects");
            for _ in 0..CYCLES_PER_CLIENT {
                let waiting = Instant::now();
                let held = client.acquire(0, ACQUIRE_TIMEOUT).await.expect("acquires");
                let seq = checker.acquired(worker, 0, held.token, waiting, Instant::now());
                assert!(checker.write(0, seq, held.token), "the current holder's token is the highest yet");
                tokio::time::sleep(Duration::from_micros(200)).await;
                checker.released(0, seq, Instant::now());
                client.release(held).await.expect("releases");
            }
        }));
    }
    for task in tasks {
        task.await.expect("the client task ends");
    }
    checker.findings()
}

fn assert_exclusive(findings: &Findings, monotonic: bool) {
    let counts = &findings.counts;
    assert_eq!(counts.critical_sections, u64::from(CLIENTS * CYCLES_PER_CLIENT));
    assert_eq!(counts.overlaps, 0, "no two critical sections overlap: {counts:?}");
    assert_eq!(counts.stale_writes_accepted + counts.stale_writes_rejected, 0, "{counts:?}");
    if monotonic {
        assert_eq!(counts.token_regressions, 0, "fencing tokens strictly increase: {counts:?}");
    }
}

/// A holder dies holding lock 1; another client must get it after `expiry`, and within
/// `expiry + bound`.
async fn expiry_frees_the_lock<S: LockService>(service: &S, expiry: Duration, bound: Duration) {
    let mut dead = service.connect(100).await.unwrap();
    let mut next = service.connect(101).await.unwrap();
    let held = dead.acquire(1, ACQUIRE_TIMEOUT).await.unwrap();
    let died = Instant::now();
    dead.crash(held).await.unwrap();
    let again = next.acquire(1, expiry + bound + Duration::from_secs(5)).await.unwrap();
    let waited = died.elapsed();
    // Expiry is measured by the server's clock from its last renewal, a little before `died`.
    assert!(waited + Duration::from_millis(100) >= expiry, "freed after {waited:?}, before the expiry {expiry:?}");
    assert!(waited <= expiry + bound, "freed after {waited:?}, later than {expiry:?} + {bound:?}");
    next.release(again).await.unwrap();
}

/// Everything a run leaves is removed, and no lock key or node was left by released locks.
async fn nothing_left<S: LockService>(service: &S) {
    let left = service.cleanup().await.expect("cleanup works");
    // The crashed holder's lock was taken over and released, so no lock is left.
    assert_eq!(left, 0, "lock keys or nodes left after every lock was released");
    assert_eq!(service.cleanup().await.unwrap(), 0, "cleanup removed everything");
}

fn assert_gone(pids: &[u32]) {
    for pid in pids {
        assert!(!Path::new(&format!("/proc/{pid}")).exists(), "server pid {pid} is still running");
    }
    for pid in pids {
        assert!(!targets::process::live_groups().contains(&(*pid as i32)));
    }
}

#[test]
fn lease_is_exclusive_and_expires() {
    runtime().block_on(async {
        let service = Arc::new(LeaseService::new(Duration::from_millis(300)));
        assert_exclusive(&contend(Arc::clone(&service), true).await, true);
        expiry_frees_the_lock(&*service, Duration::from_millis(300), Duration::from_millis(200)).await;
        nothing_left(&*service).await;
    });
}

#[test]
fn redis_is_exclusive_expires_and_cleans_up() {
    let server = RedisServer::start(Persistence::Off).expect("redis-server starts");
    let pid = server.pid().unwrap();
    runtime().block_on(async {
        let ttl = Duration::from_millis(400);
        let service = Arc::new(RedisService::new(&server.url(), &run_namespace(), ttl, Duration::from_millis(1)));
        assert_exclusive(&contend(Arc::clone(&service), true).await, true);
        expiry_frees_the_lock(&*service, ttl, Duration::from_millis(300)).await;
        // Extend is compare-and-pexpire: it works for the owner only.
        let mut client = service.connect(7).await.unwrap();
        let held = client.acquire(2, ACQUIRE_TIMEOUT).await.unwrap();
        assert!(client.extend(&held).await.unwrap());
        client.release(held).await.unwrap();
        nothing_left(&*service).await;
    });
    assert_eq!(redis_command(&server, "DBSIZE"), ":0", "no key of the run is left");
    drop(server);
    assert_gone(&[pid]);
}

/// Sends a one-word command and returns the reply line.
fn redis_command(server: &RedisServer, command: &str) -> String {
    let request = format!("*1\r\n${}\r\n{command}\r\n", command.len());
    let reply = targets::servers::exchange(server.addr(), request.as_bytes(), |r| r.ends_with(b"\r\n")).unwrap();
    String::from_utf8_lossy(&reply).trim().to_string()
}

#[test]
fn redlock_is_exclusive_and_survives_a_master_restart() {
    let mut masters = start_many(3, Persistence::Off).expect("three redis-servers start");
    let pids: Vec<u32> = masters.iter().filter_map(RedisServer::pid).collect();
    let urls: Vec<String> = masters.iter().map(RedisServer::url).collect();
    let rt = runtime();
    let ttl = Duration::from_millis(400);
    let service = Arc::new(RedlockService::new(urls, &run_namespace(), ttl, Duration::from_millis(2)));
    rt.block_on(async {
        // Redlock's tokens are not monotonic (see the module doc), so only exclusion is checked.
        assert_exclusive(&contend(Arc::clone(&service), false).await, false);
        expiry_frees_the_lock(&*service, ttl, Duration::from_millis(300)).await;
    });
    masters[0].restart().expect("a master restarts");
    rt.block_on(async {
        // One master lost: a quorum of two remains.
        assert_exclusive(&contend(Arc::clone(&service), false).await, false);
        nothing_left(&*service).await;
    });
    drop(masters);
    assert_gone(&pids);
}

#[test]
fn zookeeper_is_exclusive_expires_and_cleans_up() {
    let server = ZooKeeperServer::start().expect("zookeeper starts");
    let pid = server.process().pid().unwrap();
    runtime().block_on(async {
        let session = Duration::from_secs(2);
        let service = Arc::new(ZooKeeperService::new(&server.addr().to_string(), &run_namespace(), session));
        assert_exclusive(&contend(Arc::clone(&service), true).await, true);
        expiry_frees_the_lock(&*service, session, Duration::from_secs(3)).await;
        nothing_left(&*service).await;
    });
    drop(server);
    assert_gone(&[pid]);
}

#[test]
fn etcd_is_exclusive_expires_and_cleans_up() {
    let cluster = EtcdCluster::start(1).expect("etcd starts");
    let pids: Vec<u32> = cluster.processes().filter_map(|p| p.pid()).collect();
    runtime().block_on(async {
        let service = Arc::new(EtcdService::new(cluster.urls(), &run_namespace(), 2));
        assert_exclusive(&contend(Arc::clone(&service), true).await, true);
        // The lease was renewed at most a third of its TTL before the crash.
        expiry_frees_the_lock(&*service, Duration::from_millis(1300), Duration::from_secs(3)).await;
        nothing_left(&*service).await;
    });
    drop(cluster);
    assert_gone(&pids);
}

#[test]
fn a_server_that_cannot_start_leaves_no_process() {
    // `false` exits at once: readiness fails fast, and the guard reaps it.
    let spec = targets::process::Spec::new("false", "false");
    let mut process = targets::process::ChildProcess::spawn(&spec).unwrap();
    let pid = process.pid().unwrap();
    let error = process.wait_ready(Duration::from_secs(5), || Err("no".into())).unwrap_err();
    assert!(error.to_string().contains("exited"), "{error}");
    drop(process);
    assert_gone(&[pid]);
}
