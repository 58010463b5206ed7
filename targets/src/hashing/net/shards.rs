//! The Redis servers behind the router: started here on loopback (one per node, and one more
//! for each node a resize adds), or given by address (`--redis`: the first N are the initial
//! nodes, the rest are spares taken in order by `add-node`). Each node id keeps its server
//! for the whole run: a removed node's server stays up (empty once its keys have moved), and
//! re-adding the node uses it again.
//!
//! Faults apply to managed servers only: `kill-server` kills one (SIGKILL) and may start it
//! again later on the same port; [`ShardHealth`] remembers when, so that the first operation
//! the shard answers after its restart gives the time to recovery.

use crate::hashing::NodeId;
use crate::servers::redis::{Persistence, RedisServer};
use crate::servers::{ServerError, socket_addr};
use crate::sync::Recover as _;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Where one node's server listens, and its health.
#[derive(Clone, Debug)]
pub struct ShardAddr {
    pub node: NodeId,
    pub url: String,
    pub addr: SocketAddr,
    pub health: Arc<ShardHealth>,
}

impl std::fmt::Display for ShardAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "shard {} ({})", self.node.0, self.addr)
    }
}

const UP: u8 = 0;
const DOWN: u8 = 1;
const RESTARTED: u8 = 2;

/// Whether a shard was killed, and how long it took to answer again after its restart.
#[derive(Debug, Default)]
pub struct ShardHealth {
    state: AtomicU8,
    killed_at: Mutex<Option<Instant>>,
    recoveries: Mutex<Vec<Duration>>,
}

impl ShardHealth {
    fn killed(&self) {
        *self.killed_at.locked() = Some(Instant::now());
        self.state.store(DOWN, Ordering::Release);
    }

    fn restarted(&self) {
        self.state.store(RESTARTED, Ordering::Release);
    }

    /// An operation on the shard succeeded: the first one after a restart ends its outage.
    #[inline]
    pub fn succeeded(&self) {
        if self.state.load(Ordering::Relaxed) == RESTARTED {
            self.recovered();
        }
    }

    #[cold]
    fn recovered(&self) {
        let killed_at = self.killed_at.locked().take();
        if let Some(at) = killed_at {
            self.recoveries.locked().push(at.elapsed());
        }
        self.state.store(UP, Ordering::Release);
    }

    /// Times from each kill to the first answered operation after the restart.
    pub fn recoveries(&self) -> Vec<Duration> {
        self.recoveries.locked().clone()
    }

    /// Whether the shard is down now (killed and not restarted).
    pub fn is_down(&self) -> bool {
        self.state.load(Ordering::Relaxed) == DOWN
    }
}

#[derive(Debug)]
struct Shard {
    addr: ShardAddr,
    server: Option<RedisServer>,
}

/// Every server of a run, by node id.
#[derive(Debug)]
pub struct ShardPool {
    persistence: Persistence,
    /// Given addresses not yet used by a node.
    spares: Vec<String>,
    managed: bool,
    shards: BTreeMap<NodeId, Shard>,
}

impl ShardPool {
    /// Starts one server per node of `nodes`.
    pub fn managed(nodes: &[NodeId], persistence: Persistence) -> Result<Self, ServerError> {
        let mut pool = ShardPool { persistence, spares: Vec::new(), managed: true, shards: BTreeMap::new() };
        for &node in nodes {
            pool.start(node)?;
        }
        Ok(pool)
    }

    /// Uses the servers at `urls`: the first `nodes.len()` for `nodes`, the rest as spares.
    pub fn given(urls: &[String], nodes: &[NodeId]) -> Result<Self, String> {
        if urls.len() < nodes.len() {
            return Err(format!(
                "the run starts with {} nodes but --redis gave {} addresses (give one per node, and one more for each \
                 node a resize adds)",
                nodes.len(),
                urls.len()
            ));
        }
        let mut pool = ShardPool {
            persistence: Persistence::Off,
            spares: urls[nodes.len()..].iter().rev().cloned().collect(),
            managed: false,
            shards: BTreeMap::new(),
        };
        for (&node, url) in nodes.iter().zip(urls) {
            pool.insert(node, url, None)?;
        }
        Ok(pool)
    }

    fn insert(&mut self, node: NodeId, url: &str, server: Option<RedisServer>) -> Result<ShardAddr, String> {
        let addr = socket_addr(url)?;
        let shard = ShardAddr { node, url: url.to_string(), addr, health: Arc::default() };
        self.shards.insert(node, Shard { addr: shard.clone(), server });
        Ok(shard)
    }

    fn start(&mut self, node: NodeId) -> Result<ShardAddr, ServerError> {
        let server = RedisServer::start(self.persistence)?;
        let url = server.url();
        self.insert(node, &url, Some(server)).map_err(|detail| ServerError::start("redis-server", detail))
    }

    /// Whether the harness started these servers (and may kill them).
    pub fn is_managed(&self) -> bool {
        self.managed
    }

    /// Every shard, by node id.
    pub fn addrs(&self) -> Vec<ShardAddr> {
        self.shards.values().map(|s| s.addr.clone()).collect()
    }

    /// The server of `node`: its own if it had one, else a new one (started, or the next spare
    /// address).
    pub fn ensure(&mut self, node: NodeId) -> Result<ShardAddr, String> {
        if let Some(shard) = self.shards.get(&node) {
            return Ok(shard.addr.clone());
        }
        if self.managed {
            return self.start(node).map_err(|e| e.to_string());
        }
        let url = self.spares.pop().ok_or_else(|| {
            format!("node {} needs a server, but every --redis address is in use: give one more", node.0)
        })?;
        self.insert(node, &url, None)
    }

    fn server(&mut self, node: NodeId) -> Result<(&mut RedisServer, &ShardAddr), String> {
        let managed = self.managed;
        let shard = self.shards.get_mut(&node).ok_or_else(|| format!("there is no shard {}", node.0))?;
        match shard.server.as_mut() {
            Some(server) => Ok((server, &shard.addr)),
            None if managed => Err(format!("shard {} has no server", node.0)),
            None => Err("servers given with --redis are not the harness's to kill".into()),
        }
    }

    /// Kills the server of `node` (SIGKILL).
    pub fn kill(&mut self, node: NodeId) -> Result<ShardAddr, String> {
        let (server, addr) = self.server(node)?;
        server.kill();
        addr.health.killed();
        Ok(addr.clone())
    }

    /// Starts the server of `node` again on its port (empty unless it keeps an append-only
    /// file).
    pub fn restart(&mut self, node: NodeId) -> Result<ShardAddr, String> {
        let (server, addr) = self.server(node)?;
        server.restart().map_err(|e| e.to_string())?;
        addr.health.restarted();
        Ok(addr.clone())
    }

    /// Pids of the servers started here (for tests).
    pub fn pids(&self) -> Vec<u32> {
        self.shards.values().filter_map(|s| s.server.as_ref().and_then(RedisServer::pid)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_addresses_are_nodes_then_spares_in_order() {
        let urls: Vec<String> = (1..=4).map(|p| format!("redis://127.0.0.1:{p}/")).collect();
        let mut pool = ShardPool::given(&urls, &[NodeId(0), NodeId(1)]).unwrap();
        assert_eq!(pool.addrs().len(), 2);
        assert_eq!(pool.ensure(NodeId(2)).unwrap().addr.port(), 3);
        assert_eq!(pool.ensure(NodeId(0)).unwrap().addr.port(), 1, "a node keeps its server");
        assert_eq!(pool.ensure(NodeId(3)).unwrap().addr.port(), 4);
        assert!(pool.ensure(NodeId(4)).unwrap_err().contains("one more"));
        assert!(pool.kill(NodeId(0)).unwrap_err().contains("--redis"));
        assert!(ShardPool::given(&urls[..1], &[NodeId(0), NodeId(1)]).unwrap_err().contains("2 nodes"));
    }

    #[test]
    fn recovery_is_the_first_success_after_a_restart() {
        let health = ShardHealth::default();
        health.succeeded();
        health.killed();
        assert!(health.is_down());
        health.succeeded();
        assert!(health.recoveries().is_empty(), "an answer before the restart is a late one");
        health.restarted();
        health.succeeded();
        health.succeeded();
        assert_eq!(health.recoveries().len(), 1);
    }
}
