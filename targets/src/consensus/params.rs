//! The consensus family's scenario parameters (`[scenario.params]`), checked once before a
//! run:
//!
//! | parameter | default | meaning |
//! |---|---|---|
//! | `replicas` | 3 | replicas (etcd: members, 1 or 3) |
//! | `log` | `"file"` | `file`: a log file per replica, written without fsync (etcd: `--unsafe-no-fsync`); `fsync`: fsynced at every forced write, one fsync per runtime turn (etcd: its default); `memory`: in memory (in-process only) |
//! | `heartbeat` | `"20ms"` | the leader's heartbeat interval |
//! | `election_timeout` | `"150ms"` | a follower that hears no leader for this long (plus a random part of as much again) runs for leader |
//! | `lease_reads` | false | the leader answers reads from its state while it holds a lease, instead of through the log |
//! | `max_batch` | 1024 | the most commands in one slot (`multi-paxos`) |
//! | `window` | 64 | the most slots a leader has in flight |
//! | `client_timeout` | `"2s"` | a client gives up on an operation after this (an error of kind `timeout`: its outcome is unknown) |
//! | `history_ops` | 2000000 | the most operations recorded for the linearizability checker; beyond, it keeps a sample of the keys, whole |
//! | `check_timeout` | `"20s"` | the longest the linearizability checker may search; keys it has not finished are reported unchecked |

use super::replica::MAX_REPLICAS;
use crate::protocol::ProtocolError;
use crate::protocol::params::{count, duration, flag, read_table};
use std::collections::BTreeMap;
use std::time::Duration;

/// The most commands in one slot.
pub const MAX_BATCH: u32 = 65_536;
/// The largest pipelining window.
pub const MAX_WINDOW: u32 = 4096;
/// The most operations a history may record.
pub const MAX_HISTORY_OPS: u32 = 20_000_000;

/// How replicas keep their logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogChoice {
    Memory,
    File,
    Fsync,
}

impl LogChoice {
    /// The name in scenario files.
    pub fn as_str(self) -> &'static str {
        match self {
            LogChoice::Memory => "memory",
            LogChoice::File => "file",
            LogChoice::Fsync => "fsync",
        }
    }
}

/// The parameters of a consensus run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ConsensusParams {
    pub replicas: u32,
    pub log: LogChoice,
    pub heartbeat: Duration,
    pub election_timeout: Duration,
    pub lease_reads: bool,
    pub max_batch: u32,
    pub window: u32,
    pub client_timeout: Duration,
    pub history_ops: u32,
    pub check_timeout: Duration,
}

impl Default for ConsensusParams {
    fn default() -> Self {
        ConsensusParams {
            replicas: 3,
            log: LogChoice::File,
            heartbeat: Duration::from_millis(20),
            election_timeout: Duration::from_millis(150),
            lease_reads: false,
            max_batch: 1024,
            window: 64,
            client_timeout: Duration::from_secs(2),
            history_ops: 2_000_000,
            check_timeout: Duration::from_secs(20),
        }
    }
}

const NAMES: &str = "replicas, log, heartbeat, election_timeout, lease_reads, max_batch, window, client_timeout, \
                     history_ops, check_timeout";

impl ConsensusParams {
    /// Reads the parameters; the error names the parameter.
    pub fn from_table(table: &BTreeMap<String, toml::Value>) -> Result<Self, ProtocolError> {
        let params = read_table(table, "consensus", NAMES, ConsensusParams::default(), |params, name, value| {
            match name {
                "replicas" => params.replicas = count(name, value, MAX_REPLICAS)?,
                "log" => params.log = log_choice(name, value)?,
                "heartbeat" => params.heartbeat = duration(name, value, "150ms")?,
                "election_timeout" => params.election_timeout = duration(name, value, "150ms")?,
                "lease_reads" => params.lease_reads = flag(name, value)?,
                "max_batch" => params.max_batch = count(name, value, MAX_BATCH)?,
                "window" => params.window = count(name, value, MAX_WINDOW)?,
                "client_timeout" => params.client_timeout = duration(name, value, "150ms")?,
                "history_ops" => params.history_ops = count(name, value, MAX_HISTORY_OPS)?,
                "check_timeout" => params.check_timeout = duration(name, value, "150ms")?,
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        if params.heartbeat >= params.election_timeout {
            return Err(ProtocolError::invalid("heartbeat", "must be shorter than `election_timeout`"));
        }
        Ok(params)
    }

    /// How long a client waits for one attempt before trying another replica: long enough
    /// for a leader to be elected.
    pub fn attempt_timeout(&self) -> Duration {
        (self.election_timeout * 2).min(self.client_timeout)
    }
}

fn log_choice(name: &str, value: &toml::Value) -> Result<LogChoice, ProtocolError> {
    match value.as_str() {
        Some("memory") => Ok(LogChoice::Memory),
        Some("file") => Ok(LogChoice::File),
        Some("fsync") => Ok(LogChoice::Fsync),
        _ => Err(ProtocolError::invalid(name, format!("must be \"file\", \"fsync\" or \"memory\", got {value}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::params::table_of as table;

    #[test]
    fn reads_values_and_names_the_bad_one() {
        let params = ConsensusParams::from_table(&table(&[
            ("replicas", 5.into()),
            ("log", "fsync".into()),
            ("lease_reads", true.into()),
        ]))
        .unwrap();
        assert_eq!((params.replicas, params.log, params.lease_reads), (5, LogChoice::Fsync, true));
        for (name, value) in [
            ("replicas", 0.into()),
            ("replicas", 17.into()),
            ("log", "disk".into()),
            ("heartbeat", "soon".into()),
            ("lease_reads", 1.into()),
            ("windw", 3.into()),
        ] {
            let error = ConsensusParams::from_table(&table(&[(name, value)])).unwrap_err().to_string();
            assert!(error.contains(name), "{error}");
        }
        let slow_heartbeat = table(&[("heartbeat", "1s".into())]);
        assert!(ConsensusParams::from_table(&slow_heartbeat).unwrap_err().to_string().contains("heartbeat"));
    }
}
