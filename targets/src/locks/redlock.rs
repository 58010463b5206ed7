//! `redlock`: the Redlock algorithm over N = 3 or 5 independent redis-server masters, written
//! on the same scripts as [`super::redis`].
//!
//! Acquire: with one owner value, run the acquire script on every master concurrently; the
//! lock is held if a quorum of N/2+1 masters granted it and the validity time — TTL minus the
//! time the attempt took minus the clock drift allowance (1% of the TTL plus 2 ms) — is still
//! positive. Otherwise release it on every master and retry after a random delay.
//! Release: compare-and-delete on every master.
//!
//! The token is the largest of the fencing counters the granting masters returned. It is *not*
//! a real fencing token: two successive quorums share at least one master, but the largest
//! counter may come from a master the next quorum does not include, and a master restarted
//! without persistence starts its counters again from zero. The checker's `token_regressions`
//! column counts how often the token went backwards; this is the point of Kleppmann's critique
//! of Redlock, measured.

use super::redis::{KeySpace, Owners, connect, release_key, remove_keys, retry_pause, try_acquire};
use super::{Held, LockClient, LockError, LockService};
use futures_util::future::join_all;
use redis::aio::ConnectionManager;
use std::time::Duration;
use tokio::time::Instant;

/// Attempts at releasing on a master whose connection failed.
const RELEASE_ATTEMPTS: u32 = 3;
/// Pause between those attempts.
const RELEASE_RETRY_PAUSE: Duration = Duration::from_millis(50);

/// Redlock over several masters.
#[derive(Debug)]
pub struct RedlockService {
    urls: Vec<String>,
    keys: KeySpace,
    ttl: Duration,
    retry_delay: Duration,
}

impl RedlockService {
    /// Locks over the masters at `urls` (3 or 5 of them), keys under `namespace`.
    pub fn new(urls: Vec<String>, namespace: &str, ttl: Duration, retry_delay: Duration) -> Self {
        assert!(urls.len() >= 3, "Redlock needs at least three masters");
        RedlockService { urls, keys: KeySpace::new(namespace), ttl, retry_delay }
    }
}

/// The allowance for clock drift between the client and the masters.
pub fn drift(ttl: Duration) -> Duration {
    ttl / 100 + Duration::from_millis(2)
}

/// One worker's connections to every master.
pub struct RedlockClient {
    worker: u32,
    conns: Vec<ConnectionManager>,
    keys: KeySpace,
    ttl: Duration,
    retry_delay: Duration,
    owners: Owners,
}

impl RedlockClient {
    fn quorum(&self) -> usize {
        self.conns.len() / 2 + 1
    }

    /// One attempt on every master: the largest token if a quorum granted it in time.
    async fn attempt(&mut self, lock: u64, owner: &str) -> Option<u64> {
        let start = Instant::now();
        let (keys, ttl) = (&self.keys, self.ttl);
        let results = join_all(self.conns.iter_mut().map(|conn| try_acquire(conn, keys, lock, owner, ttl))).await;
        let granted: Vec<u64> = results.into_iter().filter_map(Result::ok).filter(|t| *t > 0).collect();
        let validity = ttl.checked_sub(start.elapsed() + drift(ttl));
        if granted.len() >= self.quorum() && validity.is_some_and(|v| !v.is_zero()) {
            return granted.into_iter().max();
        }
        self.release_everywhere(lock, owner).await;
        None
    }

    /// Compare-and-delete on every master; how many still held it. A master whose connection
    /// failed (it restarted, say) is asked again after a short pause while its connection
    /// manager reconnects, so a release is not lost to a broken connection.
    async fn release_everywhere(&mut self, lock: u64, owner: &str) -> usize {
        let keys = &self.keys;
        let mut released = 0;
        let mut pending: Vec<&mut ConnectionManager> = self.conns.iter_mut().collect();
        for attempt in 0..RELEASE_ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(RELEASE_RETRY_PAUSE).await;
            }
            let results = join_all(pending.iter_mut().map(|conn| release_key(conn, keys, lock, owner))).await;
            released += results.iter().filter(|r| matches!(r, Ok(true))).count();
            let failed: Vec<bool> = results.iter().map(|r| matches!(r, Err(LockError::Connect(_)))).collect();
            let mut failed = failed.into_iter();
            pending.retain(|_| failed.next().unwrap_or(false));
            if pending.is_empty() {
                break;
            }
        }
        released
    }
}

impl LockService for RedlockService {
    type Client = RedlockClient;
    const MONOTONIC_TOKENS: bool = false;
    const HELD_WHILE_TASK_PAUSED: bool = false;

    async fn connect(&self, worker: u32) -> Result<RedlockClient, LockError> {
        let mut conns = Vec::with_capacity(self.urls.len());
        for url in &self.urls {
            conns.push(connect(url).await?);
        }
        Ok(RedlockClient {
            worker,
            conns,
            keys: self.keys.clone(),
            ttl: self.ttl,
            retry_delay: self.retry_delay,
            owners: Owners::new(worker),
        })
    }

    async fn cleanup(&self) -> Result<u64, LockError> {
        let mut left = 0;
        for url in &self.urls {
            left += remove_keys(url, &self.keys).await?;
        }
        Ok(left)
    }
}

impl LockClient for RedlockClient {
    type Handle = String;

    async fn acquire(&mut self, lock: u64, timeout: Duration) -> Result<Held<String>, LockError> {
        let deadline = Instant::now() + timeout;
        loop {
            let owner = self.owners.fresh();
            if let Some(token) = self.attempt(lock, &owner).await {
                return Ok(Held { lock, token, handle: owner });
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(LockError::Timeout(timeout));
            }
            tokio::time::sleep_until((now + retry_pause(self.retry_delay)).min(deadline)).await;
        }
    }

    async fn release(&mut self, held: Held<String>) -> Result<(), LockError> {
        let released = self.release_everywhere(held.lock, &held.handle).await;
        if released >= self.quorum() {
            Ok(())
        } else {
            Err(LockError::Lost(format!("only {released} of {} masters still held it", self.conns.len())))
        }
    }

    async fn crash(&mut self, _held: Held<String>) -> Result<(), LockError> {
        self.owners.restart(self.worker);
        Ok(())
    }
}
