//! `zookeeper`: zookeeper-client's lock recipe, compatible with Apache Curator's
//! `InterProcessMutex`: each contender creates an ephemeral sequential znode
//! `/<namespace>/<lock>/_c_<uuid>-lock-<sequence>` and holds the lock when its node has the
//! lowest sequence number; otherwise it watches the node just before its own. The fencing
//! token is the node's sequence number, which ZooKeeper assigns in one total order per lock
//! directory, so it grows with every holder.
//!
//! Each worker has its own session. The lock lives as long as the session, which the client
//! library keeps alive in the background: a paused holder task keeps the lock. Sessions are
//! *detached* (dropping a client does not close its session) so that a crashed holder's node
//! stays until the session times out, as it would for a killed process. Release deletes the
//! lock node and waits for the answer (the recipe's own guard would delete it later in the
//! background, which the measurement could not see; the guard is forgotten after the explicit
//! delete, leaking only its path string).

use super::{Held, LockClient, LockError, LockService};
use std::time::Duration;
use zookeeper_client as zk;

/// Digits of a ZooKeeper sequence suffix.
const SEQUENCE_DIGITS: usize = 10;
/// Upper bound on nodes visited by cleanup.
const CLEANUP_NODES_MAX: usize = 10_000_000;

/// Locks on one ZooKeeper ensemble.
#[derive(Clone, Debug)]
pub struct ZooKeeperService {
    connect_string: String,
    root: String,
    session_timeout: Duration,
}

impl ZooKeeperService {
    /// Locks on the ensemble at `connect_string` (`host:port,...`), under `/<namespace>`.
    pub fn new(connect_string: &str, namespace: &str, session_timeout: Duration) -> Self {
        ZooKeeperService { connect_string: connect_string.to_string(), root: format!("/{namespace}"), session_timeout }
    }

    async fn session(&self) -> Result<zk::Client, LockError> {
        zk::Client::connector()
            .with_session_timeout(self.session_timeout)
            .with_connection_timeout(Duration::from_secs(5))
            .with_detached()
            .connect(&self.connect_string)
            .await
            .map_err(|e| LockError::Connect(format!("zookeeper at {}: {e}", self.connect_string)))
    }
}

/// One worker's session.
pub struct ZooKeeperClient {
    /// To open a new session after a crash.
    service: ZooKeeperService,
    client: zk::Client,
}

fn zk_error(error: zk::Error) -> LockError {
    match error {
        zk::Error::ConnectionLoss | zk::Error::SessionExpired | zk::Error::ClientClosed | zk::Error::NoHosts => {
            LockError::Connect(error.to_string())
        }
        other => LockError::Server(other.to_string()),
    }
}

/// The sequence number at the end of a lock node's path.
pub fn sequence_of(path: &str) -> Option<u64> {
    path.len().checked_sub(SEQUENCE_DIGITS).and_then(|start| path.get(start..)).and_then(|s| s.parse().ok())
}

impl LockService for ZooKeeperService {
    type Client = ZooKeeperClient;
    const MONOTONIC_TOKENS: bool = true;
    const HELD_WHILE_TASK_PAUSED: bool = true;

    async fn connect(&self, _worker: u32) -> Result<ZooKeeperClient, LockError> {
        Ok(ZooKeeperClient { service: self.clone(), client: self.session().await? })
    }

    async fn cleanup(&self) -> Result<u64, LockError> {
        let client = self.session().await?;
        let mut left = 0;
        let dirs = match client.list_children(&self.root).await {
            Err(zk::Error::NoNode) => return Ok(0),
            other => other.map_err(zk_error)?,
        };
        for dir in dirs.into_iter().take(CLEANUP_NODES_MAX) {
            let dir = format!("{}/{dir}", self.root);
            let nodes = client.list_children(&dir).await.map_err(zk_error)?;
            left += nodes.len() as u64;
            for node in nodes {
                ignore_missing(client.delete(&format!("{dir}/{node}"), None).await)?;
            }
            ignore_missing(client.delete(&dir, None).await)?;
        }
        ignore_missing(client.delete(&self.root, None).await)?;
        Ok(left)
    }
}

fn ignore_missing(result: Result<(), zk::Error>) -> Result<(), LockError> {
    match result {
        Ok(()) | Err(zk::Error::NoNode) => Ok(()),
        Err(error) => Err(zk_error(error)),
    }
}

impl ZooKeeperClient {
    /// After the session expired (its client was paused past the timeout, say): a new session
    /// for the next cycle, as Curator does; returns the error for this one.
    async fn renew_session(&mut self) -> LockError {
        match self.service.session().await {
            Ok(client) => {
                self.client = client;
                LockError::Connect("the session expired; a new one is open".into())
            }
            Err(error) => error,
        }
    }
}

impl LockClient for ZooKeeperClient {
    /// The lock node's path.
    type Handle = String;

    async fn acquire(&mut self, lock: u64, timeout: Duration) -> Result<Held<String>, LockError> {
        let dir = format!("{}/{lock}", self.service.root);
        let prefix = zk::LockPrefix::new_curator(&dir, "lock-").map_err(zk_error)?;
        let options = zk::LockOptions::new(zk::Acls::anyone_all())
            .with_ancestor_options(zk::CreateMode::Persistent.with_acls(zk::Acls::anyone_all()))
            .map_err(zk_error)?;
        let client = &self.client;
        let attempt = tokio::time::timeout(timeout, async move {
            let guard = client.lock(prefix, b"", options).await?;
            let path = guard.lock_path().to_string();
            // Released explicitly (and awaited) in `release`; see the module doc.
            std::mem::forget(guard);
            Ok::<String, zk::Error>(path)
        })
        .await;
        let Ok(locked) = attempt else { return Err(LockError::Timeout(timeout)) };
        let path = match locked {
            Ok(path) => path,
            Err(zk::Error::SessionExpired) => return Err(self.renew_session().await),
            Err(error) => return Err(zk_error(error)),
        };
        let token =
            sequence_of(&path).ok_or_else(|| LockError::Server(format!("lock node `{path}` has no sequence")))?;
        Ok(Held { lock, token, handle: path })
    }

    async fn release(&mut self, held: Held<String>) -> Result<(), LockError> {
        match self.client.delete(&held.handle, None).await {
            Ok(()) => Ok(()),
            Err(zk::Error::NoNode) => Err(LockError::Lost("the lock node is gone (session expired?)".into())),
            Err(zk::Error::SessionExpired) => {
                self.renew_session().await;
                Err(LockError::Lost("the session expired while holding the lock".into()))
            }
            Err(error) => Err(zk_error(error)),
        }
    }

    async fn crash(&mut self, _held: Held<String>) -> Result<(), LockError> {
        // Dropping the detached client ends the connection without closing the session: the
        // lock node stays until the session times out.
        self.client = self.service.session().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_the_sequence_suffix() {
        assert_eq!(sequence_of("/sb/7/_c_0b2e-lock-0000000042"), Some(42));
        assert_eq!(sequence_of("short"), None);
    }
}
