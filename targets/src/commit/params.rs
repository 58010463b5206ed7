//! The commit family's scenario parameters (`[scenario.params]`), checked once before a run:
//!
//! | parameter | default | meaning |
//! |---|---|---|
//! | `participants` | 3 | P, the participants (each holds its own accounts) |
//! | `keys_per_txn` | 2 | k, the keys one transaction touches, spread over min(k, P) participants |
//! | `coordinators` | 1 | coordinators; driver worker w uses coordinator w mod C |
//! | `vote_timeout` | `"500ms"` | a coordinator aborts a transaction whose votes are not in by then |
//! | `decision_timeout` | `"200ms"` | a prepared participant is in doubt after this and asks the coordinator |
//! | `client_timeout` | `"2s"` | a client gives up on a transaction after this (counted as `failure`) |
//! | `engine_fsync` | `true` | `engine:postgres-2pc`: the server's fsync and synchronous commit (compare with `2pc-fsync`; `false` compares with `2pc-file`) |

use crate::protocol::ProtocolError;
use crate::protocol::params::{count, duration, flag, read_table};
use crate::transport::PeerId;
use std::collections::BTreeMap;
use std::time::Duration;

/// The most participants, keys per transaction and coordinators a run may ask for.
pub const MAX_PARTICIPANTS: u32 = 64;
pub const MAX_KEYS_PER_TXN: u32 = 64;
pub const MAX_COORDINATORS: u32 = 16;

/// The parameters of a commit run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CommitParams {
    pub participants: u32,
    pub keys_per_txn: u32,
    pub coordinators: u32,
    pub vote_timeout: Duration,
    pub decision_timeout: Duration,
    pub client_timeout: Duration,
    pub engine_fsync: bool,
}

impl Default for CommitParams {
    fn default() -> Self {
        CommitParams {
            participants: 3,
            keys_per_txn: 2,
            coordinators: 1,
            vote_timeout: Duration::from_millis(500),
            decision_timeout: Duration::from_millis(200),
            client_timeout: Duration::from_secs(2),
            engine_fsync: true,
        }
    }
}

const NAMES: &str =
    "participants, keys_per_txn, coordinators, vote_timeout, decision_timeout, client_timeout, engine_fsync";

impl CommitParams {
    /// Reads the parameters; the error names the parameter.
    pub fn from_table(table: &BTreeMap<String, toml::Value>) -> Result<Self, ProtocolError> {
        read_table(table, "commit", NAMES, CommitParams::default(), |params, name, value| {
            match name {
                "participants" => params.participants = count(name, value, MAX_PARTICIPANTS)?,
                "keys_per_txn" => params.keys_per_txn = count(name, value, MAX_KEYS_PER_TXN)?,
                "coordinators" => params.coordinators = count(name, value, MAX_COORDINATORS)?,
                "vote_timeout" => params.vote_timeout = duration(name, value, "500ms")?,
                "decision_timeout" => params.decision_timeout = duration(name, value, "500ms")?,
                "client_timeout" => params.client_timeout = duration(name, value, "500ms")?,
                "engine_fsync" => params.engine_fsync = flag(name, value)?,
                _ => return Ok(false),
            }
            Ok(true)
        })
    }

    /// The node id of participant `index`.
    pub fn participant_id(&self, index: u32) -> PeerId {
        index
    }

    /// The node id of coordinator `index`.
    pub fn coordinator_id(&self, index: u32) -> PeerId {
        self.participants + index
    }

    /// How often a coordinator resends an unacknowledged commit, and an in-doubt participant
    /// asks again: often enough to end blocking soon after a peer is back.
    pub fn retry_every(&self) -> Duration {
        (self.decision_timeout / 2).max(Duration::from_millis(5))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::params::table_of as table;

    #[test]
    fn reads_values_and_names_the_bad_one() {
        let params =
            CommitParams::from_table(&table(&[("participants", 5.into()), ("vote_timeout", "1s".into())])).unwrap();
        assert_eq!(params.participants, 5);
        assert_eq!(params.vote_timeout, Duration::from_secs(1));
        assert_eq!(params.coordinator_id(0), 5);
        for (name, value) in [("participants", 0.into()), ("keys_per_txn", "x".into()), ("vote_timeout", "soon".into())]
        {
            let error = CommitParams::from_table(&table(&[(name, value)])).unwrap_err().to_string();
            assert!(error.contains(name), "{error}");
        }
        assert!(
            CommitParams::from_table(&table(&[("participant", 1.into())]))
                .unwrap_err()
                .to_string()
                .contains("participant")
        );
    }
}
