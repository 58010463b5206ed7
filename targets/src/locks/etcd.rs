//! `etcd`: etcd's lock service (`v3lock`) on a lease. Each worker has its own connection and
//! lease, kept alive by a background task every third of the TTL; `Lock(name, lease)` creates
//! the key `<name>/<lease id>` and returns once every key of the lock with a lower create
//! revision is gone; `Unlock(key)` deletes it. The fencing token is the key's create revision,
//! read back with a serializable `Get` on the member that served the lock: revisions form one
//! total order, and holders hold in create-revision order, so tokens grow with every holder.
//!
//! The lease lives as long as its keep-alive task, not the holder's task: a paused holder keeps
//! the lock. A crash stops the keep-alive without revoking the lease, so the key stays until the
//! lease expires, then the client carries on with a new lease.

use super::{Held, LockClient, LockError, LockService};
use etcd_client as etcd;
use std::time::Duration;
use tokio::task::JoinHandle;

/// Locks on one etcd cluster.
#[derive(Clone, Debug)]
pub struct EtcdService {
    urls: Vec<String>,
    prefix: String,
    ttl_s: i64,
}

impl EtcdService {
    /// Locks on the cluster at `urls`, names under `<namespace>/`, leases of `ttl_s` seconds.
    pub fn new(urls: Vec<String>, namespace: &str, ttl_s: i64) -> Self {
        EtcdService { urls, prefix: format!("{namespace}/"), ttl_s }
    }

    async fn client(&self) -> Result<etcd::Client, LockError> {
        let options = etcd::ConnectOptions::new().with_connect_timeout(Duration::from_secs(5));
        etcd::Client::connect(&self.urls, Some(options))
            .await
            .map_err(|e| LockError::Connect(format!("etcd at {}: {e}", self.urls.join(","))))
    }

    /// A new lease and the task that keeps it alive.
    async fn lease(&self, client: &mut etcd::Client) -> Result<(i64, JoinHandle<()>), LockError> {
        let lease = client.lease_grant(self.ttl_s, None).await.map_err(etcd_error)?.id();
        let (mut keeper, mut stream) = client.lease_keep_alive(lease).await.map_err(etcd_error)?;
        let every = Duration::from_secs_f64(self.ttl_s as f64 / 3.0);
        let task = tokio::spawn(async move {
            // Bounded by the run: the task is aborted when its client crashes or is dropped.
            loop {
                tokio::time::sleep(every).await;
                if keeper.keep_alive().await.is_err() || !matches!(stream.message().await, Ok(Some(_))) {
                    tracing::debug!("lease {lease:x}: keep-alive ended");
                    return;
                }
            }
        });
        Ok((lease, task))
    }
}

fn etcd_error(error: etcd::Error) -> LockError {
    match error {
        etcd::Error::TransportError(_) | etcd::Error::IoError(_) => LockError::Connect(error.to_string()),
        other => LockError::Server(other.to_string()),
    }
}

/// One worker's connection and lease.
pub struct EtcdClient {
    service: EtcdService,
    client: etcd::Client,
    lease: i64,
    keep_alive: JoinHandle<()>,
}

impl Drop for EtcdClient {
    fn drop(&mut self) {
        self.keep_alive.abort();
    }
}

impl LockService for EtcdService {
    type Client = EtcdClient;
    const MONOTONIC_TOKENS: bool = true;
    const HELD_WHILE_TASK_PAUSED: bool = true;

    async fn connect(&self, _worker: u32) -> Result<EtcdClient, LockError> {
        let mut client = self.client().await?;
        let (lease, keep_alive) = self.lease(&mut client).await?;
        Ok(EtcdClient { service: self.clone(), client, lease, keep_alive })
    }

    async fn cleanup(&self) -> Result<u64, LockError> {
        let mut client = self.client().await?;
        let options = etcd::DeleteOptions::new().with_prefix();
        let deleted = client.delete(self.prefix.as_str(), Some(options)).await.map_err(etcd_error)?.deleted();
        Ok(deleted.max(0) as u64)
    }
}

impl EtcdClient {
    /// Stops keeping the current lease alive and takes a new one.
    async fn new_lease(&mut self) -> Result<(), LockError> {
        self.keep_alive.abort();
        let (lease, keep_alive) = self.service.lease(&mut self.client).await?;
        self.lease = lease;
        self.keep_alive = keep_alive;
        Ok(())
    }

    /// After the lease expired (its client was paused past the TTL, say): a new lease for the
    /// next cycle; returns the error for this one.
    async fn renew_lease(&mut self) -> LockError {
        match self.new_lease().await {
            Ok(()) => LockError::Lost("the lease expired; a new one is granted".into()),
            Err(error) => error,
        }
    }
}

impl LockClient for EtcdClient {
    /// The lock's key.
    type Handle = Vec<u8>;

    async fn acquire(&mut self, lock: u64, timeout: Duration) -> Result<Held<Vec<u8>>, LockError> {
        let name = format!("{}lock/{lock}", self.service.prefix);
        let options = etcd::LockOptions::new().with_lease(self.lease);
        let response = match tokio::time::timeout(timeout, self.client.lock(name, Some(options))).await {
            Err(_) => return Err(LockError::Timeout(timeout)),
            Ok(Err(error)) if error.to_string().contains("lease not found") => {
                return Err(self.renew_lease().await);
            }
            Ok(result) => result.map_err(etcd_error)?,
        };
        let key = response.key().to_vec();
        let read = etcd::GetOptions::new().with_serializable();
        let got = self.client.get(key.clone(), Some(read)).await.map_err(etcd_error)?;
        let token = match got.kvs().first() {
            Some(kv) => kv.create_revision() as u64,
            None => return Err(LockError::Lost("the lock key vanished right after Lock".into())),
        };
        Ok(Held { lock, token, handle: key })
    }

    async fn release(&mut self, held: Held<Vec<u8>>) -> Result<(), LockError> {
        self.client.unlock(held.handle).await.map_err(etcd_error)?;
        Ok(())
    }

    async fn crash(&mut self, _held: Held<Vec<u8>>) -> Result<(), LockError> {
        self.new_lease().await
    }
}
