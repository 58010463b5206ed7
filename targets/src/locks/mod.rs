//! The distributed-locks family: clients contend for named locks; each holder writes to a
//! protected resource under a fencing token; a checker counts overlapping critical sections
//! and stale writes.
//!
//! Strategies, one file each, all behind [`LockService`] / [`LockClient`]:
//! - [`lease`] (in-process reference): a lock table with TTL leases and fencing tokens.
//! - [`redis`]: one redis-server; `SET key owner NX PX ttl` and `INCR` of a fencing counter in
//!   one Lua script; release and extend by Lua compare-and-delete / compare-and-pexpire.
//! - [`redlock`]: the same commands on N = 3 or 5 independent masters, a quorum of N/2+1
//!   acquired concurrently, validity = ttl − elapsed − drift, release everywhere on failure,
//!   retry after a random delay.
//! - [`zookeeper`]: zookeeper-client's Curator-compatible lock recipe (ephemeral sequential
//!   znodes); the fencing token is the lock node's sequence number.
//! - `etcd`: etcd's lock service on a lease kept alive by the client; the fencing token is
//!   the lock key's create revision (etcd-client, patched in vendor/etcd-client with
//!   its generated code committed, so that the build needs no `protoc`).
//!
//! [`strategy`] is their registry: each one's name, description and how its service is built.
//! [`process`] runs any networked strategy's clients in separate processes, so that a pause
//! stops a whole client (SIGSTOP), heartbeats included.
//!
//! A strategy only acquires and releases; the workload (which lock, how long to hold it), the
//! protected resource and the checks live in [`system`] and [`checker`], shared by all. The
//! names a run creates (keys, znodes) live under a per-run namespace, removed at the end by
//! [`LockService::cleanup`].
//!
//! ```no_run
//! # async fn example() -> Result<(), targets::locks::LockError> {
//! use std::time::Duration;
//! use targets::locks::{LockClient, LockService, lease::LeaseService};
//! let service = LeaseService::new(Duration::from_secs(1));
//! let mut client = service.connect(0).await?;
//! let guard = client.acquire(7, Duration::from_secs(1)).await?;
//! let token = guard.token; // write to the protected resource with it
//! client.release(guard).await?;
//! # Ok(()) }
//! ```

pub mod checker;
pub mod columns;
pub mod etcd;
pub mod lease;
pub mod params;
pub mod process;
pub mod redis;
pub mod redlock;
pub mod strategy;
pub mod system;
pub mod zookeeper;

use std::future::Future;
use std::time::Duration;

pub use params::LockParams;
pub use strategy::{BuildService, ServiceVisitor, Strategy};

/// Why a lock operation failed. [`LockError::kind`] is the label failures are counted under.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum LockError {
    /// The lock was not acquired within the acquire timeout.
    #[error("not acquired within {0:?}")]
    Timeout(Duration),
    /// At release, the lock was no longer ours (its lease expired and maybe someone else holds
    /// it).
    #[error("the lock was lost before release: {0}")]
    Lost(String),
    /// The client could not connect, or lost its connection.
    #[error("connection: {0}")]
    Connect(String),
    /// The server answered with an error.
    #[error("server: {0}")]
    Server(String),
}

impl LockError {
    /// What went wrong, without the kind's prefix (for a timeout: the timeout in ms).
    pub fn detail(&self) -> String {
        match self {
            LockError::Timeout(timeout) => timeout.as_millis().to_string(),
            LockError::Lost(detail) | LockError::Connect(detail) | LockError::Server(detail) => detail.clone(),
        }
    }

    /// A short fixed label: `timeout`, `lost`, `connect`, `server`.
    pub fn kind(&self) -> &'static str {
        match self {
            LockError::Timeout(_) => "timeout",
            LockError::Lost(_) => "lost",
            LockError::Connect(_) => "connect",
            LockError::Server(_) => "server",
        }
    }
}

/// A held lock: what the holder knows about it.
#[derive(Debug)]
pub struct Held<H> {
    /// The lock's id (the workload's key).
    pub lock: u64,
    /// Fencing token: grows with every acquisition of this lock (for Redlock only in the
    /// absence of faults and contention; see [`redlock`]).
    pub token: u64,
    /// What the strategy needs to release it.
    pub handle: H,
}

/// One lock service: built once per run, it opens one client per driver worker.
pub trait LockService: Send + Sync + 'static {
    type Client: LockClient;

    /// Tokens come from a single total order (a counter, a sequence, a revision), so they grow
    /// with every holder as long as the service keeps its state.
    const MONOTONIC_TOKENS: bool;
    /// The lock is kept alive by the client library (a session or a lease keep-alive), not by
    /// the holder's task: a paused holder task keeps it, so an in-task pause cannot make two
    /// holders overlap.
    const HELD_WHILE_TASK_PAUSED: bool;

    /// Opens the client of worker `worker`: its own connection, session or lease.
    fn connect(&self, worker: u32) -> impl Future<Output = Result<Self::Client, LockError>> + Send;

    /// Removes every key or node the run created; returns how many were left (before removal).
    fn cleanup(&self) -> impl Future<Output = Result<u64, LockError>> + Send;
}

/// One worker's client.
pub trait LockClient: Send + 'static {
    /// What a held lock needs for its release.
    type Handle: Send;

    /// Acquires lock `lock`, waiting at most `timeout`.
    fn acquire(
        &mut self,
        lock: u64,
        timeout: Duration,
    ) -> impl Future<Output = Result<Held<Self::Handle>, LockError>> + Send;

    /// Releases a held lock; [`LockError::Lost`] if it was no longer ours.
    fn release(&mut self, held: Held<Self::Handle>) -> impl Future<Output = Result<(), LockError>> + Send;

    /// The holder dies without releasing: the lock stays until its TTL, session or lease runs
    /// out, and this client carries on with a fresh connection, session or lease, as a restarted
    /// process would.
    fn crash(&mut self, held: Held<Self::Handle>) -> impl Future<Output = Result<(), LockError>> + Send;

    /// The holder stops for `pause` while holding a lock, as in a long GC pause. By default the
    /// holder's task sleeps (the client library's background tasks go on); a client in a
    /// separate process is stopped whole ([`process`]).
    fn pause(&mut self, pause: Duration) -> impl Future<Output = ()> + Send {
        tokio::time::sleep(pause)
    }
}

/// A unique namespace for one run's keys and nodes, so runs against the same servers never
/// see each other's locks.
pub fn run_namespace() -> String {
    format!("sb-{:016x}", rand::random::<u64>())
}
