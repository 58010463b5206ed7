//! The `commit` family: two-phase commit, presumed abort, written once as sans-IO state
//! machines and run in-process (nodes as tasks over channels) or as separate processes over
//! TCP, through the shared [`transport`](crate::transport).
//!
//! The protocol ([`coordinator`], [`participant`]):
//! 1. A client sends `Begin` with the transaction's keys, grouped by participant. The
//!    coordinator sends `Prepare` to each participant; nothing is logged yet (presumed abort:
//!    a transaction the coordinator has no record of is aborted).
//! 2. Each participant locks the keys (no waiting: a conflict votes `No`), forces a
//!    `Prepared` record if it writes, and votes `Yes`; a participant that only reads votes
//!    `ReadOnly`, releases its locks and leaves the transaction (it skips phase 2).
//! 3. All `Yes`/`ReadOnly`: the coordinator forces `Commit` (the commit point), answers the
//!    client, and sends `Decision(commit)` to the `Yes` voters; they force `Committed`, apply
//!    the writes, release their locks and `Ack`; once every ack is in, the coordinator writes
//!    `End` lazily (unforced). Any `No` or a vote timeout: the coordinator aborts without
//!    logging anything and tells the `Yes` voters, who write an unforced `Aborted`.
//! 4. A participant prepared for longer than its decision timeout is *in doubt*: it is
//!    blocked (its locks held) and asks the coordinator (`Inquire`) until it hears; the time
//!    it spends blocked is measured. A coordinator that does not know the transaction answers
//!    abort. After a restart, the coordinator resends `Commit` for every transaction without
//!    `End`, and participants ask about every `Prepared` without an outcome.
//!
//! Forced writes per committed transaction: 1 at the coordinator + 2 per writing
//! participant; messages: 4 per writing participant plus the client's request and reply.
//!
//! The rest: [`workload`] turns driver operations into transactions (bank transfers that keep
//! the total balance constant, and read-only transactions); [`cluster`] runs the nodes
//! in-process; [`net`] runs them as `stratbench serve` processes; [`system`] is the driver's
//! [`System`](crate::target::System) over either; [`check`] reads every log after a run and
//! checks atomicity, that nobody is left in doubt, and the balance.

pub mod check;
pub mod cluster;
pub mod columns;
pub mod coordinator;
pub mod net;
pub mod params;
pub mod participant;
pub mod postgres;
pub mod strategy;
pub mod system;
pub mod workload;

use crate::protocol::Family;
use crate::transport::PeerId;
use crate::transport::runtime::{NodeCounters, RuntimeStats};
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
pub use workloads::events::CrashPoint;

/// Two-phase commit's types, named once for the shared [`protocol`](crate::protocol) layer.
pub enum Commit {}

impl Family for Commit {
    const NAME: &'static str = "commit";
    type Msg = Msg;
    type Params = params::CommitParams;
    type Logs = check::Logs;
    type Stats = NodeStats;
}

/// A transaction id: the coordinator's node id (16 bits), its incarnation (16 bits) and a
/// sequence number (32 bits), so that a restarted coordinator never reuses an id.
pub type TxnId = u64;

/// Builds a [`TxnId`].
pub fn txn_id(coordinator: PeerId, incarnation: u64, seq: u64) -> TxnId {
    (u64::from(coordinator) & 0xffff) << 48 | (incarnation & 0xffff) << 32 | (seq & 0xffff_ffff)
}

/// What a transaction does to one key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Access {
    Read,
    /// Adds this amount to the key's balance.
    Add(i64),
}

/// One key of a transaction at one participant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyOp {
    pub key: u64,
    pub access: Access,
}

/// A participant's vote.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Vote {
    Yes,
    /// A lock conflict (or the participant cannot prepare).
    No,
    /// The participant only reads: it has released its locks and skips phase 2.
    ReadOnly,
}

/// Why a transaction aborted; the label is the driver's error kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AbortCause {
    /// A participant voted no (a lock was taken).
    Conflict,
    /// A participant did not vote in time.
    Timeout,
    /// The coordinator failed or could not be reached: the client does not know the outcome.
    Failure,
}

impl AbortCause {
    /// The error kind under which the driver counts it.
    pub fn label(self) -> &'static str {
        match self {
            AbortCause::Conflict => "conflict",
            AbortCause::Timeout => "timeout",
            AbortCause::Failure => "failure",
        }
    }
}

/// The outcome the coordinator reports to the client.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TxnOutcome {
    Committed,
    Aborted(AbortCause),
}

/// Every message of the protocol, of its clients and of the harness's control.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Msg {
    /// Client → coordinator: run a transaction touching these keys at these participants.
    Begin { req: u64, parts: Vec<(PeerId, Vec<KeyOp>)> },
    /// Coordinator → client.
    Outcome { req: u64, txn: TxnId, outcome: TxnOutcome },
    /// Coordinator → participant: phase 1.
    Prepare { txn: TxnId, ops: Vec<KeyOp> },
    /// Participant → coordinator.
    Vote { txn: TxnId, vote: Vote },
    /// Coordinator → participant: phase 2.
    Decision { txn: TxnId, commit: bool },
    /// Participant → coordinator: the commit is applied and logged.
    Ack { txn: TxnId },
    /// In-doubt participant → coordinator: what became of `txn`?
    Inquire { txn: TxnId },
    /// Harness → node: crash when the protocol next reaches `point`.
    ArmCrash { point: CrashPoint },
    /// Harness → node: report [`NodeStats`].
    StatsRequest,
    /// Node → harness.
    Stats(NodeStats),
}

crate::protocol::polled!(Msg, NodeStats);

/// A coordinator's log records.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CoordinatorRecord {
    /// Forced at every start: transaction ids of this incarnation never collide with older
    /// ones.
    Incarnation(u64),
    /// The commit point: forced before anyone hears "commit". Lists the participants that
    /// voted yes (those that must apply it).
    Commit { txn: TxnId, participants: Vec<PeerId> },
    /// Every participant acknowledged; unforced.
    End { txn: TxnId },
}

/// A participant's log records.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ParticipantRecord {
    /// Forced before voting yes: the writes, and whom to ask if in doubt.
    Prepared { txn: TxnId, coordinator: PeerId, ops: Vec<KeyOp> },
    /// Forced before acknowledging a commit.
    Committed { txn: TxnId },
    /// Unforced (presumed abort: forgetting it is harmless).
    Aborted { txn: TxnId },
}

/// Counters of the protocol at one node, kept across its incarnations in-process.
#[derive(Debug, Default)]
pub struct ProtocolCounters {
    pub commits: AtomicU64,
    pub aborts: AtomicU64,
    /// Participant: prepared transactions that waited past the decision timeout.
    pub in_doubt: AtomicU64,
    /// Participant: total and longest time from a yes vote to the decision, over the
    /// in-doubt ones (µs).
    pub in_doubt_us_total: AtomicU64,
    pub in_doubt_us_max: AtomicU64,
    /// Participant: longest time from a yes vote to the decision, over all (µs).
    pub prepared_wait_us_max: AtomicU64,
    /// Participant: net sum of the balances it holds.
    pub balance_sum: AtomicI64,
}

impl ProtocolCounters {
    /// Counts one wait from a yes vote to the decision.
    pub fn record_wait(&self, wait_us: u64, in_doubt: bool) {
        self.prepared_wait_us_max.fetch_max(wait_us, Ordering::Relaxed);
        if in_doubt {
            self.in_doubt.fetch_add(1, Ordering::Relaxed);
            self.in_doubt_us_total.fetch_add(wait_us, Ordering::Relaxed);
            self.in_doubt_us_max.fetch_max(wait_us, Ordering::Relaxed);
        }
    }
}

/// What a node reports to the harness.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeStats {
    pub runtime: RuntimeStats,
    pub commits: u64,
    pub aborts: u64,
    pub in_doubt: u64,
    pub in_doubt_us_total: u64,
    pub in_doubt_us_max: u64,
    pub prepared_wait_us_max: u64,
    pub balance_sum: i64,
    /// Transactions not finished yet: coordinator — deciding or awaiting acks; participant —
    /// prepared and waiting for the decision.
    pub pending: u64,
}

impl NodeStats {
    /// A snapshot of `runtime` and `protocol`, with `pending` unfinished transactions.
    pub fn snapshot(runtime: &NodeCounters, protocol: &ProtocolCounters, pending: u64) -> Self {
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        NodeStats {
            runtime: runtime.snapshot(),
            commits: load(&protocol.commits),
            aborts: load(&protocol.aborts),
            in_doubt: load(&protocol.in_doubt),
            in_doubt_us_total: load(&protocol.in_doubt_us_total),
            in_doubt_us_max: load(&protocol.in_doubt_us_max),
            prepared_wait_us_max: load(&protocol.prepared_wait_us_max),
            balance_sum: protocol.balance_sum.load(Ordering::Relaxed),
            pending,
        }
    }

    /// Adds `other` (maxima are maxima).
    pub fn merge(&mut self, other: &NodeStats) {
        self.runtime.merge(&other.runtime);
        self.commits += other.commits;
        self.aborts += other.aborts;
        self.in_doubt += other.in_doubt;
        self.in_doubt_us_total += other.in_doubt_us_total;
        self.in_doubt_us_max = self.in_doubt_us_max.max(other.in_doubt_us_max);
        self.prepared_wait_us_max = self.prepared_wait_us_max.max(other.prepared_wait_us_max);
        self.balance_sum += other.balance_sum;
        self.pending += other.pending;
    }
}
