//! The lock strategies by name: the registry table ([`Strategy`]) and how each one's service
//! is built on its servers ([`BuildService`]), so that the harness's run, its lock-client
//! processes and its list all look a strategy up the same way, with static dispatch to the
//! service type. Adding a strategy is one line in the table and one `impl BuildService`.

use super::etcd::EtcdService;
use super::lease::LeaseService;
use super::redis::RedisService;
use super::redlock::RedlockService;
use super::zookeeper::ZooKeeperService;
use super::{LockParams, LockService};
use workloads::scenario::Mode;

/// A strategy's service, built on the servers at `urls` (none for `lease`; one for `redis`;
/// every master for `redlock`; the ensemble for `zookeeper`; the members for `etcd`), with the
/// run's `namespace` for its keys and nodes.
pub trait BuildService: LockService {
    fn build(urls: &[String], namespace: &str, params: &LockParams) -> Self;
}

/// Does something with a strategy's service type (static dispatch from [`Strategy::visit`]).
pub trait ServiceVisitor {
    type Output;
    fn visit<S: BuildService>(self, strategy: Strategy) -> Self::Output;
}

crate::registry::strategy_registry! {
    ServiceVisitor;
    Lease => LeaseService, "lease", "in-process lock table with TTL leases and fencing tokens (reference)";
    Redis => RedisService, "redis", "one redis-server: SET NX PX + INCR token in Lua; Lua compare-and-delete release";
    Redlock => RedlockService, "redlock", "Redlock over 3 or 5 redis-server masters (quorum, validity time, random retry)";
    ZooKeeper => ZooKeeperService, "zookeeper", "ZooKeeper lock recipe (Curator-compatible ephemeral sequential znodes)";
    Etcd => EtcdService, "etcd", "etcd lock service on a kept-alive lease";
}

impl Strategy {
    /// The versions that exist: `lease` in-process, every other strategy against real servers.
    pub fn modes(self) -> &'static [Mode] {
        match self {
            Strategy::Lease => &[Mode::Inproc],
            _ => &[Mode::Net],
        }
    }
}

impl BuildService for LeaseService {
    fn build(_urls: &[String], _namespace: &str, params: &LockParams) -> Self {
        LeaseService::new(params.ttl)
    }
}

impl BuildService for RedisService {
    fn build(urls: &[String], namespace: &str, params: &LockParams) -> Self {
        RedisService::new(&urls.first().cloned().unwrap_or_default(), namespace, params.ttl, params.retry_delay)
    }
}

impl BuildService for RedlockService {
    fn build(urls: &[String], namespace: &str, params: &LockParams) -> Self {
        RedlockService::new(urls.to_vec(), namespace, params.ttl, params.retry_delay)
    }
}

impl BuildService for ZooKeeperService {
    fn build(urls: &[String], namespace: &str, params: &LockParams) -> Self {
        ZooKeeperService::new(&urls.join(","), namespace, params.session_timeout)
    }
}

impl BuildService for EtcdService {
    fn build(urls: &[String], namespace: &str, params: &LockParams) -> Self {
        EtcdService::new(urls.to_vec(), namespace, params.etcd_ttl_s())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_lock_strategy_is_found_by_its_name_and_only_lease_is_in_process() {
        for strategy in Strategy::ALL {
            assert_eq!(Strategy::from_name(strategy.name()), Some(*strategy));
        }
        assert_eq!(Strategy::from_name("chubby"), None);
        let inproc: Vec<_> =
            Strategy::ALL.iter().filter(|s| s.modes().contains(&Mode::Inproc)).map(|s| s.name()).collect();
        assert_eq!(inproc, ["lease"]);
    }
}
