//! `redis`: one redis-server. Acquire is one Lua script: `SET lock owner NX PX ttl` and, if it
//! succeeded, `INCR` of the lock's fencing counter, whose new value is the token (so a token
//! is handed out only to a holder, atomically). Release and extend are Lua compare-and-delete
//! and compare-and-pexpire on the owner value, so a holder whose key expired cannot delete
//! or extend someone else's lock. A refused acquire is retried after a random delay of at most
//! `retry_delay`, until the acquire timeout.
//!
//! The scripts are in `acquire.lua`, `release.lua` and `extend.lua` beside this file (the
//! redis-benchmark comparison in `scripts/bench-redis-lock.sh` sends the same ones). Each
//! worker has its own connection manager (reconnects after a server restart).

use super::{Held, LockClient, LockError, LockService};
use rand::Rng as _;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::sync::LazyLock;
use std::time::Duration;
use tokio::time::Instant;

/// The acquire script's text.
pub const ACQUIRE_LUA: &str = include_str!("acquire.lua");
/// The release script's text.
pub const RELEASE_LUA: &str = include_str!("release.lua");
/// The extend script's text.
pub const EXTEND_LUA: &str = include_str!("extend.lua");

static ACQUIRE: LazyLock<redis::Script> = LazyLock::new(|| redis::Script::new(ACQUIRE_LUA));
static RELEASE: LazyLock<redis::Script> = LazyLock::new(|| redis::Script::new(RELEASE_LUA));
static EXTEND: LazyLock<redis::Script> = LazyLock::new(|| redis::Script::new(EXTEND_LUA));

/// How long a command may take before it counts as failed.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);
/// Keys removed per `UNLINK` during cleanup.
const CLEANUP_BATCH: usize = 500;
/// Upper bound on cleanup `SCAN` rounds (each returns a batch of keys).
const CLEANUP_ROUNDS: usize = 100_000;

/// Names of one run's keys on a Redis server.
#[derive(Clone, Debug)]
pub struct KeySpace {
    namespace: String,
}

impl KeySpace {
    /// Keys under `namespace`.
    pub fn new(namespace: &str) -> Self {
        KeySpace { namespace: namespace.to_string() }
    }

    /// The lock's key.
    pub fn lock(&self, lock: u64) -> String {
        format!("{}:lock:{lock}", self.namespace)
    }

    /// The lock's fencing counter.
    pub fn fence(&self, lock: u64) -> String {
        format!("{}:fence:{lock}", self.namespace)
    }

    fn pattern(&self) -> String {
        format!("{}:*", self.namespace)
    }
}

/// Opens a connection manager on `url`.
pub async fn connect(url: &str) -> Result<ConnectionManager, LockError> {
    let client = redis::Client::open(url).map_err(|e| LockError::Connect(format!("{url}: {e}")))?;
    let config = ConnectionManagerConfig::new()
        .set_response_timeout(Some(RESPONSE_TIMEOUT))
        .set_connection_timeout(Some(RESPONSE_TIMEOUT))
        .set_number_of_retries(2)
        .set_max_delay(Duration::from_millis(100));
    client.get_connection_manager_with_config(config).await.map_err(|e| LockError::Connect(format!("{url}: {e}")))
}

fn server_error(error: redis::RedisError) -> LockError {
    if error.is_io_error() || error.is_timeout() || error.is_connection_dropped() || error.is_connection_refusal() {
        LockError::Connect(error.to_string())
    } else {
        LockError::Server(error.to_string())
    }
}

/// One attempt: the token if acquired, 0 if held by someone else.
pub async fn try_acquire(
    conn: &mut ConnectionManager,
    keys: &KeySpace,
    lock: u64,
    owner: &str,
    ttl: Duration,
) -> Result<u64, LockError> {
    ACQUIRE
        .key(keys.lock(lock))
        .key(keys.fence(lock))
        .arg(owner)
        .arg(ttl.as_millis() as u64)
        .invoke_async(conn)
        .await
        .map_err(server_error)
}

/// Compare-and-delete: whether the key was still ours.
pub async fn release_key(
    conn: &mut ConnectionManager,
    keys: &KeySpace,
    lock: u64,
    owner: &str,
) -> Result<bool, LockError> {
    let deleted: i64 = RELEASE.key(keys.lock(lock)).arg(owner).invoke_async(conn).await.map_err(server_error)?;
    Ok(deleted == 1)
}

/// Compare-and-pexpire: whether the key was still ours (and now lives `ttl` more).
pub async fn extend_key(
    conn: &mut ConnectionManager,
    keys: &KeySpace,
    lock: u64,
    owner: &str,
    ttl: Duration,
) -> Result<bool, LockError> {
    let extended: i64 = EXTEND
        .key(keys.lock(lock))
        .arg(owner)
        .arg(ttl.as_millis() as u64)
        .invoke_async(conn)
        .await
        .map_err(server_error)?;
    Ok(extended == 1)
}

/// Removes every key of `keys`; returns how many lock keys were still there.
pub async fn remove_keys(url: &str, keys: &KeySpace) -> Result<u64, LockError> {
    let mut conn = connect(url).await?;
    let mut cursor: u64 = 0;
    let mut locks_left = 0;
    for _ in 0..CLEANUP_ROUNDS {
        let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(keys.pattern())
            .arg("COUNT")
            .arg(CLEANUP_BATCH)
            .query_async(&mut conn)
            .await
            .map_err(server_error)?;
        locks_left += batch.iter().filter(|k| k.contains(":lock:")).count() as u64;
        if !batch.is_empty() {
            let _: i64 = redis::cmd("UNLINK").arg(&batch).query_async(&mut conn).await.map_err(server_error)?;
        }
        cursor = next;
        if cursor == 0 {
            break;
        }
    }
    Ok(locks_left)
}

/// Owner values: unique per acquisition, so a release can only delete its own key.
#[derive(Debug)]
pub struct Owners {
    prefix: String,
    next: u64,
}

impl Owners {
    /// Owner values of worker `worker`.
    pub fn new(worker: u32) -> Self {
        Owners { prefix: format!("{worker}-{:08x}", rand::random::<u32>()), next: 0 }
    }

    /// A fresh owner value.
    pub fn fresh(&mut self) -> String {
        self.next += 1;
        format!("{}-{}", self.prefix, self.next)
    }

    /// Starts a new identity (after a crash).
    pub fn restart(&mut self, worker: u32) {
        *self = Owners::new(worker);
    }
}

/// A random delay of at most `max` before retrying a refused acquire.
pub fn retry_pause(max: Duration) -> Duration {
    max.mul_f64(rand::rng().random::<f64>())
}

/// One redis-server.
#[derive(Debug)]
pub struct RedisService {
    url: String,
    keys: KeySpace,
    ttl: Duration,
    retry_delay: Duration,
}

impl RedisService {
    /// Locks on the server at `url`, with keys under `namespace`.
    pub fn new(url: &str, namespace: &str, ttl: Duration, retry_delay: Duration) -> Self {
        RedisService { url: url.to_string(), keys: KeySpace::new(namespace), ttl, retry_delay }
    }
}

/// One worker's connection.
pub struct RedisClient {
    worker: u32,
    conn: ConnectionManager,
    keys: KeySpace,
    ttl: Duration,
    retry_delay: Duration,
    owners: Owners,
}

impl RedisClient {
    /// Extends a held lock by the TTL; `false` if it was no longer ours.
    pub async fn extend(&mut self, held: &Held<String>) -> Result<bool, LockError> {
        extend_key(&mut self.conn, &self.keys, held.lock, &held.handle, self.ttl).await
    }
}

impl LockService for RedisService {
    type Client = RedisClient;
    const MONOTONIC_TOKENS: bool = true;
    const HELD_WHILE_TASK_PAUSED: bool = false;

    async fn connect(&self, worker: u32) -> Result<RedisClient, LockError> {
        Ok(RedisClient {
            worker,
            conn: connect(&self.url).await?,
            keys: self.keys.clone(),
            ttl: self.ttl,
            retry_delay: self.retry_delay,
            owners: Owners::new(worker),
        })
    }

    async fn cleanup(&self) -> Result<u64, LockError> {
        remove_keys(&self.url, &self.keys).await
    }
}

impl LockClient for RedisClient {
    type Handle = String;

    async fn acquire(&mut self, lock: u64, timeout: Duration) -> Result<Held<String>, LockError> {
        let deadline = Instant::now() + timeout;
        let owner = self.owners.fresh();
        loop {
            let token = try_acquire(&mut self.conn, &self.keys, lock, &owner, self.ttl).await?;
            if token > 0 {
                return Ok(Held { lock, token: token as u64, handle: owner });
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(LockError::Timeout(timeout));
            }
            tokio::time::sleep_until((now + retry_pause(self.retry_delay)).min(deadline)).await;
        }
    }

    async fn release(&mut self, held: Held<String>) -> Result<(), LockError> {
        match release_key(&mut self.conn, &self.keys, held.lock, &held.handle).await? {
            true => Ok(()),
            false => Err(LockError::Lost("the key expired or belongs to another owner".into())),
        }
    }

    async fn crash(&mut self, _held: Held<String>) -> Result<(), LockError> {
        self.owners.restart(self.worker);
        Ok(())
    }
}
