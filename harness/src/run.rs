//! What a run is and how it ended: [`RunSpec`] (a scenario's workload against one strategy
//! of one [`Family`] in one mode), [`RunStatus`] and [`RunRecord`].
//!
//! These types sit below the modules that make, run and write runs — `plan` builds specs,
//! `families` turns a spec into a record, `output` writes records, `runner` and `sweep`
//! drive all three — so each of those imports them from here rather than from one another,
//! and no two import each other. The family's identity (its name and description) is here
//! too; what a family *does* with a spec is in [`crate::families`].

use crate::driver::DriveReport;
use crate::recorder::Timing;
use serde::Serialize;
use std::time::Duration;
use targets::target::FamilyMetrics;
use workloads::Workload;
use workloads::scenario::Mode;

/// A family of strategies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Family {
    Hashing,
    Locks,
    Commit,
    Consensus,
    Balancing,
    Noop,
}

impl Family {
    /// Every family.
    pub const ALL: [Family; 6] =
        [Family::Hashing, Family::Balancing, Family::Locks, Family::Commit, Family::Consensus, Family::Noop];

    /// The family's name in files and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Family::Hashing => "hashing",
            Family::Locks => "locks",
            Family::Commit => "commit",
            Family::Consensus => "consensus",
            Family::Balancing => "balancing",
            Family::Noop => "noop",
        }
    }

    /// One line on what the family measures.
    pub fn about(self) -> &'static str {
        match self {
            Family::Hashing => {
                "partitioning: which node owns a key; lookup cost, balance, key movement on resize; sharding over Redis \
                 with live migration"
            }
            Family::Locks => {
                "distributed locks: acquire latency, cycles/s, hand-off, fairness; safety under pauses and crashes"
            }
            Family::Commit => {
                "two-phase commit (presumed abort): commit latency and rate, aborts by cause, atomicity under faults"
            }
            Family::Consensus => {
                "replicated key-value store (Multi-Paxos, Paxos, etcd): commits/s, latency, failover; agreement and \
                 linearizability"
            }
            Family::Balancing => "load balancing: which backend serves a request; latency, spread, reaction to faults",
            Family::Noop => "a target that does nothing: the driver's own ceiling",
        }
    }

    /// Looks a family up by name.
    pub fn from_name(name: &str) -> Option<Family> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }

    /// Every family name, for messages.
    pub fn names() -> String {
        Self::ALL.iter().map(|f| f.name()).collect::<Vec<_>>().join(", ")
    }
}

/// One run: a scenario's workload against one strategy in one mode.
#[derive(Clone, Debug)]
pub struct RunSpec {
    /// Position in the plan, from 0.
    pub index: usize,
    /// Unique within the session; names the run's interval log.
    pub run_id: String,
    pub family: Family,
    pub strategy: String,
    /// `Inproc` or `Net` (never `All`).
    pub mode: Mode,
    pub workload: Workload,
    /// Repetition number, from 1.
    pub repeat: u32,
    /// Running servers given on the command line, used instead of starting servers.
    pub servers: GivenServers,
}

/// Addresses of running servers (`--redis`, `--zookeeper`, `--etcd`); empty lists mean the
/// harness starts its own.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GivenServers {
    pub redis: Vec<String>,
    pub zookeeper: Vec<String>,
    pub etcd: Vec<String>,
}

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunStatus {
    Ok,
    /// The target could not be built or reached; `message` says why.
    Error,
    /// The strategy cannot run this scenario (for example weights it does not support).
    Unsupported,
    /// Ctrl-C stopped it; the figures cover what was measured until then.
    Interrupted,
    /// The run did not keep its schedule: operations were left unfinished at the drain limit,
    /// or an open loop started under 95% of the operations due. The figures are those of a
    /// target pushed past what it carries (the tail a lower bound); `message` says which.
    Overloaded,
}

impl RunStatus {
    /// The name used in CSV rows and tables.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Ok => "ok",
            RunStatus::Error => "error",
            RunStatus::Unsupported => "unsupported",
            RunStatus::Interrupted => "interrupted",
            RunStatus::Overloaded => "overloaded",
        }
    }
}

/// Everything known about one finished run.
#[derive(Debug)]
pub struct RunRecord<'a> {
    pub spec: &'a RunSpec,
    pub status: RunStatus,
    pub message: Option<String>,
    pub timing: Timing,
    pub build_time: Option<Duration>,
    pub drive: Option<DriveReport>,
    pub family: FamilyMetrics,
}

impl<'a> RunRecord<'a> {
    /// A run that ended before the driver started.
    pub fn failed(spec: &'a RunSpec, status: RunStatus, message: String) -> Self {
        RunRecord {
            spec,
            status,
            message: Some(message),
            timing: Timing::PerOp,
            build_time: None,
            drive: None,
            family: FamilyMetrics::default(),
        }
    }
}
