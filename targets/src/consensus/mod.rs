//! The `consensus` family: a replicated key-value store whose replicas agree on one log of
//! commands with Paxos, written once as a sans-IO state machine ([`replica`]) and run
//! in-process (replicas as tasks over channels) or as `stratbench serve replica` processes
//! over TCP, through the shared [`transport`](crate::transport).
//!
//! Two strategies share the replica:
//! - **`multi-paxos`** ([`PaxosMode::MultiPaxos`]): a stable leader runs phase 1 (prepare/promise)
//!   once, for every slot from its first unknown one on, then only phase 2 (accept/accepted)
//!   per slot. Client requests that arrive in one runtime turn go into one slot (batching),
//!   and up to `window` slots are in flight at once (pipelining). Heartbeats carry the commit
//!   index; a replica that hears nothing from a leader for its election timeout runs phase 1
//!   with a higher ballot, re-proposes every open slot it learns of, and fills the gaps with
//!   no-ops. Clients are redirected to the leader. Reads go through the log (linearizable);
//!   with `lease_reads` the leader answers them itself while it holds a lease: followers
//!   refuse to promise to anyone else until an election timeout after they last heard from
//!   it, and it counts its lease from when it sent the heartbeat a majority answered.
//! - **`paxos`** ([`PaxosMode::Paxos`]): every command is its own single-decree Paxos instance:
//!   the leader (kept only as the distinguished proposer, for liveness) runs both phases for
//!   each slot — a prepare/promise round trip and a forced promise record at every acceptor,
//!   then accept/accepted — with one command per slot. A leader change recovers open slots
//!   as in Multi-Paxos.
//!
//! Acceptors force a record before every promise and every accept (the runtime's group
//! commit makes one sync of a turn's records); the leader sends its proposal to the
//! followers before forcing its own copy, so the syncs overlap. Each replica appends an
//! unforced [`Record::Decided`] with a digest of every slot it applies: the agreement checker
//! ([`check::agreement`]) reads every replica's log after the run. The driver's workers record
//! a history of what they asked and were told, checked for linearizability per key
//! ([`check::linearizability`]) with the Wing–Gong–Lowe search and Lowe's memoisation.
//!
//! The rest: [`params`] (scenario parameters), [`state`] (the key-value state machine, client
//! sessions that make retried commands apply once, snapshots), [`client`] (a driver worker:
//! finds the leader, retries, records the history), [`cluster`] and [`net`] (in-process and
//! process backends), [`system`] (the driver's [`System`](crate::target::System) over either),
//! and `engine` (etcd behind the same workload).

pub mod check;
pub mod client;
pub mod cluster;
pub mod columns;
pub mod engine;
pub mod history;
pub mod net;
pub mod params;
pub mod replica;
pub mod state;
pub mod strategy;
pub mod system;

use crate::protocol::Family;
use crate::transport::PeerId;
use crate::transport::runtime::RuntimeStats;
use serde::{Deserialize, Serialize};

/// The consensus family's types, named once for the shared [`protocol`](crate::protocol)
/// layer.
pub enum Consensus {}

impl Family for Consensus {
    const NAME: &'static str = "consensus";
    type Msg = Msg;
    type Params = params::ConsensusParams;
    type Logs = crate::transport::NodeRecords;
    type Stats = CounterValues;
}

/// A position in the replicated log, from 1.
pub type Slot = u64;

/// A ballot: rounds are totally ordered, ties broken by the proposer's id, so two proposers
/// never share one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Ballot {
    pub round: u64,
    pub node: PeerId,
}

impl std::fmt::Display for Ballot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.round, self.node)
    }
}

/// Which protocol the replicas run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PaxosMode {
    /// Phase 1 once per leader, phase 2 per slot, batched and pipelined.
    MultiPaxos,
    /// Both phases for every command, one command per slot.
    Paxos,
}

/// A value of the store: immutable bytes shared by every copy (a command's value is held by
/// its proposal, every replica's log entry and state machine, and the messages between
/// them), encoded as one length-prefixed run of bytes.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct Data(std::sync::Arc<[u8]>);

impl Data {
    /// The bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }
}

impl From<Vec<u8>> for Data {
    fn from(bytes: Vec<u8>) -> Self {
        Data(bytes.into())
    }
}

impl Serialize for Data {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for Data {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Bytes;
        impl<'de> serde::de::Visitor<'de> for Bytes {
            type Value = Data;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("bytes")
            }
            fn visit_bytes<E: serde::de::Error>(self, bytes: &[u8]) -> Result<Data, E> {
                Ok(Data(bytes.into()))
            }
            fn visit_byte_buf<E: serde::de::Error>(self, bytes: Vec<u8>) -> Result<Data, E> {
                Ok(Data(bytes.into()))
            }
        }
        deserializer.deserialize_bytes(Bytes)
    }
}

/// An operation on the key-value store.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KvOp {
    Put { key: u64, value: Data },
    Get { key: u64 },
}

impl KvOp {
    /// The key it touches.
    pub fn key(&self) -> u64 {
        match self {
            KvOp::Put { key, .. } | KvOp::Get { key } => *key,
        }
    }
}

/// A client's command, as it goes into the log: who asked, which of its requests, what.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Command {
    pub client: PeerId,
    pub req: u64,
    pub op: KvOp,
}

/// What one slot of the log decides.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Value {
    /// Fills a gap left by a failed leader.
    Noop,
    /// Client commands, applied in order.
    Batch(Vec<Command>),
}

impl Value {
    /// Commands in it.
    pub fn commands(&self) -> usize {
        match self {
            Value::Noop => 0,
            Value::Batch(commands) => commands.len(),
        }
    }
}

/// What a command returned.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CmdResult {
    Written,
    /// A read: the value, if the key was ever written.
    Read(Option<Data>),
}

/// Which slots a prepare is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Scope {
    /// Every slot from this one on (Multi-Paxos, and any leader taking over).
    From(Slot),
    /// This slot only (single-decree Paxos).
    Only(Slot),
}

/// One slot as an acceptor reports it in a promise.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub slot: Slot,
    /// The ballot it accepted the value in; `None`: the acceptor knows the value is decided.
    pub ballot: Option<Ballot>,
    pub value: Value,
}

/// A replica's state machine at a slot, sent to a replica too far behind to catch up from
/// the log it keeps.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Every slot up to this one is applied in it.
    pub applied: Slot,
    pub kv: Vec<(u64, Data)>,
    /// Each client's last applied request.
    pub sessions: Vec<(PeerId, u64)>,
}

/// Every message of the protocol, of its clients and of the harness.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Msg {
    /// Client → replica.
    Request { req: u64, op: KvOp },
    /// Leader → client: the command was applied (`ballot`: the leader's, so a client can
    /// tell a new leader's first commit).
    Reply { req: u64, result: CmdResult, ballot: Ballot },
    /// Replica → client: not the leader; try `leader` (if known).
    Redirect { req: u64, leader: Option<PeerId> },
    /// Phase 1a.
    Prepare { ballot: Ballot, scope: Scope },
    /// Phase 1b: the acceptor promises `ballot`; `applied`: every slot up to it is decided
    /// and applied there (the decided values of the prepared scope come as entries, or as a
    /// snapshot when it no longer keeps them).
    Promise { ballot: Ballot, scope: Scope, applied: Slot, snapshot: Option<Box<Snapshot>>, entries: Vec<Entry> },
    /// A prepare or accept for `ballot` refused: the acceptor has promised `promised`.
    Reject { ballot: Ballot, promised: Ballot },
    /// Phase 2a; `commit`: the leader's commit index (every slot up to it is decided).
    Accept { ballot: Ballot, slot: Slot, value: Value, commit: Slot },
    /// Phase 2b.
    Accepted { ballot: Ballot, slot: Slot },
    /// Leader → followers: heartbeat with the commit index; `stamp` (the leader's clock, µs)
    /// comes back in the ack and times the leader's lease.
    Commit { ballot: Ballot, commit: Slot, stamp: u64 },
    /// Follower → leader.
    CommitAck { ballot: Ballot, stamp: u64, applied: Slot },
    /// A replica missing decided values asks for those from `from` on.
    Fetch { from: Slot },
    /// Decided values (after the snapshot, if one is sent).
    Learn { snapshot: Option<Box<Snapshot>>, entries: Vec<(Slot, Value)> },
    /// Harness → replica.
    StatsRequest,
    /// Replica → harness.
    Stats(ReplicaStats),
}

crate::protocol::polled!(Msg, ReplicaStats);

/// A replica's log records.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Record {
    /// Forced before a promise: never accept below `ballot` (for every slot, or `slot` only).
    Promise { ballot: Ballot, slot: Option<Slot> },
    /// Forced before an accepted message.
    Accept { slot: Slot, ballot: Ballot, value: Value },
    /// Unforced: the digests of the values applied at slots `first`, `first + 1`, ... (what
    /// the agreement checker compares across replicas).
    Decided { first: Slot, digests: Vec<u64> },
}

/// The postcard tag of [`Record::Decided`] (its variant index), so that a checker can skip
/// the other records without decoding them.
pub const DECIDED_TAG: u8 = 2;

/// A replica's role, as reported.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum RoleKind {
    #[default]
    Follower,
    Candidate,
    Leader,
}

/// What a replica reports to the harness.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplicaStats {
    pub role: RoleKind,
    /// The ballot it leads or follows.
    pub ballot: Ballot,
    pub applied: Slot,
    /// The highest commit index it has heard of.
    pub commit: Slot,
    /// Leader: slots proposed and not yet applied, plus commands waiting for a slot.
    pub in_flight: u64,
    pub counters: CounterValues,
}

/// Counts of what a replica did (runtime and protocol), across its incarnations in-process
/// and since its process started over TCP.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CounterValues {
    pub runtime: RuntimeStats,
    /// Elections it won.
    pub elections_won: u64,
    /// Slots it proposed as leader (no-ops and re-proposals included) and the client
    /// commands in them.
    pub slots_proposed: u64,
    pub commands_proposed: u64,
    pub batch_max: u64,
    /// Slots it applied and the commands in them.
    pub slots_applied: u64,
    pub commands_applied: u64,
    /// Reads it answered from its lease, outside the log.
    pub lease_reads: u64,
    /// Restarts after which it caught up with the commit index it first heard of, and the
    /// longest and total time that took (µs).
    pub catchups: u64,
    pub catchup_us_max: u64,
    pub catchup_us_total: u64,
}

impl CounterValues {
    /// Adds `other` (maxima are maxima).
    pub fn merge(&mut self, other: &CounterValues) {
        self.runtime.merge(&other.runtime);
        self.elections_won += other.elections_won;
        self.slots_proposed += other.slots_proposed;
        self.commands_proposed += other.commands_proposed;
        self.batch_max = self.batch_max.max(other.batch_max);
        self.slots_applied += other.slots_applied;
        self.commands_applied += other.commands_applied;
        self.lease_reads += other.lease_reads;
        self.catchups += other.catchups;
        self.catchup_us_max = self.catchup_us_max.max(other.catchup_us_max);
        self.catchup_us_total += other.catchup_us_total;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ballots_order_by_round_then_node() {
        let a = Ballot { round: 1, node: 2 };
        let b = Ballot { round: 2, node: 0 };
        let c = Ballot { round: 2, node: 1 };
        assert!(a < b && b < c);
        assert_eq!(c.to_string(), "2.1");
    }

    #[test]
    fn data_round_trips_as_bytes() {
        let data = Data::from(vec![1, 2, 3]);
        let bytes = crate::transport::codec::encode(&data).unwrap();
        assert_eq!(bytes, vec![3, 1, 2, 3], "a length, then the bytes");
        assert_eq!(crate::transport::codec::decode::<Data>(&bytes).unwrap(), data);
    }

    #[test]
    fn the_decided_tag_is_the_records_variant_index() {
        let record = Record::Decided { first: 3, digests: vec![1, 2] };
        let bytes = crate::transport::codec::encode(&record).unwrap();
        assert_eq!(bytes[0], DECIDED_TAG);
        let other =
            crate::transport::codec::encode(&Record::Promise { ballot: Ballot::default(), slot: None }).unwrap();
        assert_ne!(other[0], DECIDED_TAG);
    }
}
