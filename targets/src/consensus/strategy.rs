//! The consensus strategies by name: our replicas in two modes (Multi-Paxos, single-decree
//! Paxos) and etcd as the real-engine row. They are not one type each (the mode is a value of
//! the same replica), so the table has no types: the harness looks a name up here and matches
//! on the enum where it builds the system.

use super::PaxosMode;
use workloads::scenario::Mode;

crate::registry::strategy_registry! {
    MultiPaxos, "multi-paxos", "Multi-Paxos: stable leader, phase 1 once, batched and pipelined phase 2";
    Paxos, "paxos", "single-decree Paxos per command: both phases for every command";
    EngineEtcd, "engine:etcd", "etcd (Raft) members on loopback, driven by the same workload (put/get)";
}

impl Strategy {
    /// The versions that exist: etcd only networked.
    pub fn modes(self) -> &'static [Mode] {
        match self {
            Strategy::MultiPaxos | Strategy::Paxos => &[Mode::Inproc, Mode::Net],
            Strategy::EngineEtcd => &[Mode::Net],
        }
    }

    /// Our replicas' mode; `None` for the engine row.
    pub fn paxos_mode(self) -> Option<PaxosMode> {
        match self {
            Strategy::MultiPaxos => Some(PaxosMode::MultiPaxos),
            Strategy::Paxos => Some(PaxosMode::Paxos),
            Strategy::EngineEtcd => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_consensus_strategy_is_found_by_its_name_and_only_etcd_has_no_paxos_mode() {
        for strategy in Strategy::ALL {
            assert_eq!(Strategy::from_name(strategy.name()), Some(*strategy));
            assert_eq!(strategy.paxos_mode().is_none(), *strategy == Strategy::EngineEtcd);
        }
        assert_eq!(Strategy::Paxos.paxos_mode(), Some(PaxosMode::Paxos));
        assert_eq!(Strategy::EngineEtcd.modes(), [Mode::Net]);
    }
}
