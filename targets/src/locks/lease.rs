//! `lease`: the in-process reference. A lock table (sharded, one mutex per shard) whose
//! entries are leases: a holder, a fencing token, and an expiry on the monotonic clock. An
//! expired lease is free for the next claimant, exactly like a Redis key with a TTL, so the
//! same faults (a holder paused past its TTL) show the same overlaps — without a network.
//! Waiters sleep on the shard's notification until a release or the earliest expiry.

use super::{Held, LockClient, LockError, LockService};
use crate::sync::Recover as _;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

/// Shards of the lock table: enough that 64 workers on 1024 locks rarely share a mutex.
const SHARDS: usize = 64;

#[derive(Debug)]
struct Lease {
    owner: u64,
    token: u64,
    expires_at: Instant,
}

#[derive(Debug, Default)]
struct Entry {
    lease: Option<Lease>,
    /// The last token handed out for this lock.
    last_token: u64,
}

#[derive(Debug, Default)]
struct Shard {
    entries: Mutex<HashMap<u64, Entry>>,
    released: Notify,
}

/// The lock table.
#[derive(Debug)]
pub struct LeaseService {
    ttl: Duration,
    shards: Arc<Vec<Shard>>,
}

impl LeaseService {
    /// A table whose leases last `ttl`.
    pub fn new(ttl: Duration) -> Self {
        LeaseService { ttl, shards: Arc::new((0..SHARDS).map(|_| Shard::default()).collect()) }
    }

    /// Locks currently held (not expired).
    pub fn held(&self) -> usize {
        let now = Instant::now();
        self.shards
            .iter()
            .map(|s| {
                let entries = s.entries.locked();
                entries.values().filter(|e| e.lease.as_ref().is_some_and(|l| l.expires_at > now)).count()
            })
            .sum()
    }
}

/// One worker's handle on the table.
#[derive(Debug)]
pub struct LeaseClient {
    ttl: Duration,
    shards: Arc<Vec<Shard>>,
    /// This client's identity; a crash gives it a new one.
    owner: u64,
    next_owner: u64,
}

fn shard_of(lock: u64) -> usize {
    (workloads::rng::splitmix64(lock) % SHARDS as u64) as usize
}

impl LeaseClient {
    /// Takes the lease if it is free or expired; otherwise says until when to wait.
    fn try_take(&self, lock: u64, now: Instant) -> Result<u64, Instant> {
        let shard = &self.shards[shard_of(lock)];
        let mut entries = shard.entries.locked();
        let entry = entries.entry(lock).or_default();
        match &entry.lease {
            Some(lease) if lease.expires_at > now => Err(lease.expires_at),
            _ => {
                entry.last_token += 1;
                entry.lease = Some(Lease { owner: self.owner, token: entry.last_token, expires_at: now + self.ttl });
                Ok(entry.last_token)
            }
        }
    }
}

impl LockService for LeaseService {
    type Client = LeaseClient;
    const MONOTONIC_TOKENS: bool = true;
    const HELD_WHILE_TASK_PAUSED: bool = false;

    async fn connect(&self, worker: u32) -> Result<LeaseClient, LockError> {
        let owner = u64::from(worker) << 32;
        Ok(LeaseClient { ttl: self.ttl, shards: Arc::clone(&self.shards), owner, next_owner: owner + 1 })
    }

    async fn cleanup(&self) -> Result<u64, LockError> {
        let held = self.held() as u64;
        for shard in self.shards.iter() {
            shard.entries.locked().clear();
        }
        Ok(held)
    }
}

impl LockClient for LeaseClient {
    type Handle = ();

    async fn acquire(&mut self, lock: u64, timeout: Duration) -> Result<Held<()>, LockError> {
        let deadline = Instant::now() + timeout;
        let shard = &self.shards[shard_of(lock)];
        loop {
            // Registered before looking, so a release between the look and the wait wakes us.
            let released = shard.released.notified();
            tokio::pin!(released);
            released.as_mut().enable();
            let now = Instant::now();
            match self.try_take(lock, now) {
                Ok(token) => return Ok(Held { lock, token, handle: () }),
                Err(_) if now >= deadline => return Err(LockError::Timeout(timeout)),
                Err(expiry) => {
                    tokio::select! {
                        _ = released => {}
                        _ = tokio::time::sleep_until(expiry.min(deadline)) => {}
                    }
                }
            }
        }
    }

    async fn release(&mut self, held: Held<()>) -> Result<(), LockError> {
        let shard = &self.shards[shard_of(held.lock)];
        let result = {
            let mut entries = shard.entries.locked();
            let entry = entries.entry(held.lock).or_default();
            match &entry.lease {
                Some(lease) if lease.owner == self.owner && lease.token == held.token => {
                    entry.lease = None;
                    Ok(())
                }
                Some(lease) => Err(LockError::Lost(format!("held by token {} now", lease.token))),
                None => Err(LockError::Lost("expired".into())),
            }
        };
        shard.released.notify_waiters();
        result
    }

    async fn crash(&mut self, _held: Held<()>) -> Result<(), LockError> {
        // The lease stays until it expires; the restarted client is somebody else.
        self.owner = self.next_owner;
        self.next_owner += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_lease_expires_after_its_ttl_and_the_token_grows() {
        let service = LeaseService::new(Duration::from_millis(100));
        let mut a = service.connect(0).await.unwrap();
        let mut b = service.connect(1).await.unwrap();
        let first = a.acquire(1, Duration::from_secs(1)).await.unwrap();
        let start = Instant::now();
        let second = b.acquire(1, Duration::from_secs(1)).await.unwrap();
        assert_eq!(start.elapsed(), Duration::from_millis(100), "b waits exactly for the expiry");
        assert!(second.token > first.token);
        assert!(matches!(a.release(first).await, Err(LockError::Lost(_))));
        b.release(second).await.unwrap();
        assert_eq!(service.held(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_waiter_times_out() {
        let service = LeaseService::new(Duration::from_secs(10));
        let mut a = service.connect(0).await.unwrap();
        let mut b = service.connect(1).await.unwrap();
        let _held = a.acquire(1, Duration::from_secs(1)).await.unwrap();
        assert_eq!(
            b.acquire(1, Duration::from_millis(50)).await.unwrap_err(),
            LockError::Timeout(Duration::from_millis(50))
        );
    }

    #[tokio::test(start_paused = true)]
    async fn release_wakes_a_waiter_at_once() {
        let service = LeaseService::new(Duration::from_secs(10));
        let mut a = service.connect(0).await.unwrap();
        let mut b = service.connect(1).await.unwrap();
        let held = a.acquire(1, Duration::from_secs(1)).await.unwrap();
        let waiter = tokio::spawn(async move { (b.acquire(1, Duration::from_secs(5)).await, Instant::now()) });
        tokio::time::sleep(Duration::from_millis(30)).await;
        let released_at = Instant::now();
        a.release(held).await.unwrap();
        let (result, acquired_at) = waiter.await.unwrap();
        assert!(result.is_ok());
        assert_eq!(acquired_at, released_at);
    }
}
