//! The commit strategies by name: one 2PC implementation with three decision logs, and
//! PostgreSQL's prepared transactions as the real-engine row. They are not one type each (the
//! log is a value of the same cluster), so the table has no types: the harness looks a name up
//! here and matches on the enum where it builds the system.

use workloads::scenario::Mode;

crate::registry::strategy_registry! {
    TwoPc, "2pc", "two-phase commit, presumed abort, logs in memory (the protocol's own cost)";
    TwoPcFile, "2pc-file", "two-phase commit with a log file per node, written without fsync";
    TwoPcFsync, "2pc-fsync", "two-phase commit with a log file per node, fsynced at every forced write";
    EnginePostgres, "engine:postgres-2pc", "PostgreSQL prepared transactions across P databases of a local server (the real-engine row)";
}

impl Strategy {
    /// The versions that exist: logs in memory only in-process, the engine only networked.
    pub fn modes(self) -> &'static [Mode] {
        match self {
            Strategy::TwoPc => &[Mode::Inproc],
            Strategy::TwoPcFile | Strategy::TwoPcFsync => &[Mode::Inproc, Mode::Net],
            Strategy::EnginePostgres => &[Mode::Net],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_commit_strategy_is_found_by_its_name_and_the_memory_log_is_in_process_only() {
        for strategy in Strategy::ALL {
            assert_eq!(Strategy::from_name(strategy.name()), Some(*strategy));
        }
        assert_eq!(Strategy::from_name("3pc"), None);
        assert_eq!(Strategy::TwoPc.modes(), [Mode::Inproc], "a log in memory has no process to live in");
        assert_eq!(Strategy::EnginePostgres.modes(), [Mode::Net]);
    }
}
