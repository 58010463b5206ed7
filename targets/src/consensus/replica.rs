//! One replica: acceptor, learner and (when elected) proposer of a replicated key-value log,
//! as a sans-IO state machine. See the [module docs](super) for the protocol; the rules that
//! keep it safe are these:
//!
//! - An acceptor forces a `Promise` record before promising, and an `Accept` record before
//!   saying it accepted; it never accepts below the highest ballot it promised (for every
//!   slot, or for one slot in single-decree mode), and it remembers every value it accepted
//!   until the slot is applied.
//! - A leader proposes at most one value per slot per ballot. Taking over, it learns from a
//!   majority of promises every value accepted (or known decided) in the open slots, and
//!   proposes in each the decided value, else the one accepted in the highest ballot, else a
//!   no-op.
//! - A slot is decided once a majority accepted it in one ballot; the leader applies decided
//!   slots in order and answers their clients. A follower applies slot `s` when the leader of
//!   ballot `b` says `s` is committed and it accepted `s` in `b` (a leader proposes one value
//!   per slot per ballot), and otherwise fetches the decided value.
//! - Lease reads: a follower promises nobody else until an election timeout after it last
//!   heard from its leader (and a restarted replica waits one election timeout before
//!   promising anything); the leader's lease runs from the send time of the latest heartbeat
//!   a majority acknowledged, for three quarters of that timeout. It answers reads from its
//!   state while the lease holds and it has applied every slot it re-proposed on taking over.
//!
//! Limits: at most [`MAX_REPLICAS`] replicas (acknowledgements are a bit set); a fetch gets at
//! most [`MAX_LEARN_SLOTS`] slots at a time; every queue is bounded by the clients (one
//! request each) and by `window`.

use super::state::{StateMachine, digest};
use super::{
    Ballot, CmdResult, Command, CounterValues, Entry, KvOp, Msg, PaxosMode, Record, ReplicaStats, RoleKind, Scope,
    Slot, Snapshot, Value,
};
use crate::transport::PeerId;
use crate::transport::node::{Node, Output};
use crate::transport::runtime::NodeCounters;
use rand::{Rng as _, SeedableRng as _};
use rand_xoshiro::Xoshiro256PlusPlus;
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The most replicas a run may have.
pub const MAX_REPLICAS: u32 = 16;
/// The most decided slots one `Learn` message carries.
pub const MAX_LEARN_SLOTS: usize = 256;

type Out = Output<Msg, Record>;

/// A replica's settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ReplicaConfig {
    pub id: PeerId,
    /// Replicas have ids `0..replicas`.
    pub replicas: u32,
    pub mode: PaxosMode,
    pub heartbeat_every: Duration,
    /// A follower that hears nothing from a leader for this long (plus a random part of as
    /// much again) runs for leader.
    pub election_timeout: Duration,
    pub lease_reads: bool,
    /// The most commands in one slot (Multi-Paxos).
    pub max_batch: usize,
    /// The most slots a leader has in flight.
    pub window: usize,
    /// Seed of the election timeouts' random part.
    pub seed: u64,
}

/// Protocol counters kept across a replica's incarnations (in-process).
#[derive(Debug, Default)]
pub struct ReplicaCounters {
    pub elections_won: AtomicU64,
    pub slots_proposed: AtomicU64,
    pub commands_proposed: AtomicU64,
    pub batch_max: AtomicU64,
    pub slots_applied: AtomicU64,
    pub commands_applied: AtomicU64,
    pub lease_reads: AtomicU64,
    pub catchups: AtomicU64,
    pub catchup_us_max: AtomicU64,
    pub catchup_us_total: AtomicU64,
}

impl ReplicaCounters {
    /// A snapshot, with the runtime's counts.
    pub fn values(&self, runtime: &NodeCounters) -> CounterValues {
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        CounterValues {
            runtime: runtime.snapshot(),
            elections_won: load(&self.elections_won),
            slots_proposed: load(&self.slots_proposed),
            commands_proposed: load(&self.commands_proposed),
            batch_max: load(&self.batch_max),
            slots_applied: load(&self.slots_applied),
            commands_applied: load(&self.commands_applied),
            lease_reads: load(&self.lease_reads),
            catchups: load(&self.catchups),
            catchup_us_max: load(&self.catchup_us_max),
            catchup_us_total: load(&self.catchup_us_total),
        }
    }
}

fn bit(id: PeerId) -> u64 {
    1 << id
}

fn count(set: u64) -> u32 {
    set.count_ones()
}

/// A slot the leader has proposed and not yet applied.
#[derive(Debug)]
struct Proposal {
    value: Value,
    /// Single-decree mode: still collecting promises for this slot, with the value accepted
    /// in the highest ballot among them (`None` ballot: known decided).
    preparing: Option<Option<(Option<Ballot>, Value)>>,
    /// Replicas that promised (while preparing) or accepted.
    acks: u64,
    /// When its current phase was last sent (it is sent again to the replicas that have not
    /// answered, every two heartbeats: messages get lost).
    sent_at: Duration,
}

/// A candidate collecting promises.
#[derive(Debug)]
struct Election {
    ballot: Ballot,
    votes: u64,
    entries: BTreeMap<Slot, Entry>,
    snapshot: Option<Box<Snapshot>>,
    deadline: Duration,
}

impl Election {
    /// Keeps, per slot, a decided value over an accepted one, and the highest ballot's.
    fn merge(&mut self, entry: Entry) {
        let better = match self.entries.get(&entry.slot) {
            None => true,
            Some(old) => match (old.ballot, entry.ballot) {
                (None, _) => false,
                (Some(_), None) => true,
                (Some(old), Some(new)) => new > old,
            },
        };
        if better {
            self.entries.insert(entry.slot, entry);
        }
    }
}

/// A leader's state.
#[derive(Debug)]
struct Leadership {
    ballot: Ballot,
    next_slot: Slot,
    proposals: BTreeMap<Slot, Proposal>,
    /// When each replica last answered (check-quorum).
    answered_at: Vec<Duration>,
    /// The latest heartbeat stamp (µs) each replica acknowledged (the lease).
    acked_stamp: Vec<u64>,
    last_heartbeat: Duration,
    lease_until: Duration,
    /// Lease reads wait until every slot re-proposed on taking over is applied.
    lease_ready: Slot,
}

#[derive(Debug)]
enum Role {
    Follower,
    Candidate(Election),
    Leader(Leadership),
}

/// How a restarted replica's catching up is timed.
#[derive(Clone, Copy, Debug)]
struct Catchup {
    started: Duration,
    /// The first commit index it heard of after the restart.
    target: Option<Slot>,
}

/// The replica.
pub struct Replica {
    config: ReplicaConfig,
    majority: u32,
    rng: Xoshiro256PlusPlus,
    // Acceptor.
    promised: Ballot,
    slot_promises: BTreeMap<Slot, Ballot>,
    accepted: BTreeMap<Slot, (Ballot, Value)>,
    /// The highest round seen anywhere, so that the next ballot is above it.
    seen_round: u64,
    // Learner.
    sm: StateMachine,
    decided_first: Slot,
    decided_digests: Vec<u64>,
    known_commit: Slot,
    commit_ballot: Ballot,
    fetch_sent: Option<Duration>,
    // Following and leading.
    role: Role,
    leader: Option<PeerId>,
    last_heard: Duration,
    election_at: Duration,
    /// A restarted replica promises nothing before this (leases it may have granted).
    quiet_until: Duration,
    incoming: Vec<Command>,
    queue: VecDeque<Command>,
    restarted: bool,
    catchup: Option<Catchup>,
    runtime: Arc<NodeCounters>,
    counters: Arc<ReplicaCounters>,
}

impl Replica {
    /// A replica rebuilt from its log's `records` (none for a first start): its promises, what
    /// it accepted, and its state machine replayed up to the first slot whose decided value
    /// it does not hold.
    pub fn recover(
        config: ReplicaConfig,
        records: &[Vec<u8>],
        runtime: Arc<NodeCounters>,
        counters: Arc<ReplicaCounters>,
    ) -> Result<Self, crate::transport::TransportError> {
        assert!(config.replicas >= 1 && config.replicas <= MAX_REPLICAS, "1 to {MAX_REPLICAS} replicas");
        assert!(config.id < config.replicas, "replica ids are 0..replicas");
        let mut replica = Replica {
            majority: config.replicas / 2 + 1,
            rng: Xoshiro256PlusPlus::seed_from_u64(config.seed ^ (u64::from(config.id) << 32)),
            config,
            promised: Ballot::default(),
            slot_promises: BTreeMap::new(),
            accepted: BTreeMap::new(),
            seen_round: 0,
            sm: StateMachine::default(),
            decided_first: 1,
            decided_digests: Vec::new(),
            known_commit: 0,
            commit_ballot: Ballot::default(),
            fetch_sent: None,
            role: Role::Follower,
            leader: None,
            last_heard: Duration::ZERO,
            election_at: Duration::ZERO,
            quiet_until: Duration::ZERO,
            incoming: Vec::new(),
            queue: VecDeque::new(),
            restarted: !records.is_empty(),
            catchup: None,
            runtime,
            counters,
        };
        let mut replaying = true;
        for bytes in records {
            match crate::transport::codec::decode::<Record>(bytes)? {
                Record::Promise { ballot, slot: None } => replica.promised = replica.promised.max(ballot),
                Record::Promise { ballot, slot: Some(slot) } => {
                    let promise = replica.slot_promises.entry(slot).or_default();
                    *promise = (*promise).max(ballot);
                }
                Record::Accept { slot, ballot, value } => {
                    replica.promised = replica.promised.max(ballot);
                    if slot > replica.sm.applied() && replica.accepted.get(&slot).is_none_or(|(b, _)| *b <= ballot) {
                        replica.accepted.insert(slot, (ballot, value));
                    }
                }
                Record::Decided { first, digests } if replaying => {
                    replaying = replica.replay_decided(first, &digests);
                }
                Record::Decided { .. } => {}
            }
        }
        replica.seen_round = replica.promised.round;
        let applied = replica.sm.applied();
        replica.decided_first = applied + 1;
        replica.known_commit = applied;
        replica.slot_promises.retain(|s, _| *s > applied);
        Ok(replica)
    }

    /// Applies the slots of a `Decided` record whose values this replica accepted; `false`
    /// once one is missing (nothing after a gap can be applied).
    fn replay_decided(&mut self, first: Slot, digests: &[u64]) -> bool {
        for (slot, expected) in (first..).zip(digests) {
            if slot <= self.sm.applied() {
                continue;
            }
            let held =
                self.accepted.get(&slot).filter(|(_, v)| slot == self.sm.applied() + 1 && digest(v) == *expected);
            if held.is_none() {
                return false;
            }
            let (_, value) = self.accepted.remove(&slot).expect("held");
            self.sm.apply(value, |_, _| {});
        }
        true
    }

    fn others(&self) -> impl Iterator<Item = PeerId> + use<> {
        let id = self.config.id;
        (0..self.config.replicas).filter(move |r| *r != id)
    }

    fn timeout(&mut self) -> Duration {
        let base = self.config.election_timeout;
        base + Duration::from_nanos(self.rng.random_range(0..=base.as_nanos() as u64))
    }

    fn effective_promise(&self, slot: Slot) -> Ballot {
        self.slot_promises.get(&slot).map_or(self.promised, |b| (*b).max(self.promised))
    }

    fn is_leader(&self) -> bool {
        matches!(self.role, Role::Leader(_))
    }

    // ---- following ----

    /// `from` leads with `ballot` (at least our promise): follow it.
    fn follow(&mut self, now: Duration, from: PeerId, ballot: Ballot, out: &mut Out) {
        let leading_below = match &self.role {
            Role::Leader(l) => l.ballot < ballot,
            Role::Candidate(e) => e.ballot < ballot,
            Role::Follower => false,
        };
        if leading_below {
            self.step_down(now, out);
        }
        self.promised = self.promised.max(ballot);
        self.seen_round = self.seen_round.max(ballot.round);
        self.leader = Some(from);
        self.last_heard = now;
        self.election_at = now + self.timeout();
    }

    /// Stops leading or running: queued commands are sent back to their clients.
    fn step_down(&mut self, now: Duration, out: &mut Out) {
        if let Role::Leader(_) = self.role {
            for command in self.queue.drain(..).chain(self.incoming.drain(..)) {
                out.send(command.client, Msg::Redirect { req: command.req, leader: None });
            }
        }
        self.role = Role::Follower;
        self.leader = None;
        self.election_at = now + self.timeout();
    }

    /// Whether another replica is known to lead, and was heard from within the election
    /// timeout (so that a candidate must not be helped to depose it).
    fn leader_alive(&self, now: Duration, candidate: PeerId) -> bool {
        now < self.quiet_until
            || (self.leader.is_some_and(|l| l != candidate && l != self.config.id)
                && now < self.last_heard + self.config.election_timeout)
    }

    // ---- acceptor ----

    fn prepare(&mut self, now: Duration, from: PeerId, ballot: Ballot, scope: Scope, out: &mut Out) {
        self.seen_round = self.seen_round.max(ballot.round);
        match scope {
            Scope::From(first) => {
                if self.leader_alive(now, from) {
                    return;
                }
                let retransmission = ballot == self.promised && ballot.node == from;
                if ballot <= self.promised && !retransmission {
                    return out.send(from, Msg::Reject { ballot, promised: self.promised });
                }
                if !self.is_self(from) && !matches!(self.role, Role::Follower) {
                    self.step_down(now, out);
                }
                self.promised = ballot;
                self.leader = None;
                self.last_heard = now;
                self.election_at = now + self.timeout();
                out.append(Record::Promise { ballot, slot: None }, true);
                let (snapshot, entries) = self.report(first);
                out.send(from, Msg::Promise { ballot, scope, applied: self.sm.applied(), snapshot, entries });
            }
            Scope::Only(slot) => {
                let promise = self.effective_promise(slot);
                if ballot < promise {
                    return out.send(from, Msg::Reject { ballot, promised: promise });
                }
                if self.leader == Some(from) {
                    self.last_heard = now;
                }
                let entries = if slot <= self.sm.applied() {
                    // Decided here: say so, or (no longer kept) say nothing rather than
                    // "accepted nothing", which would be a lie.
                    let Some(decided) = self.sm.decided_from(slot, 1) else { return };
                    decided.into_iter().map(decided_entry).collect()
                } else {
                    self.slot_promises.insert(slot, ballot);
                    self.accepted.get(&slot).map(|(b, v)| accepted_entry(slot, *b, v)).into_iter().collect()
                };
                out.append(Record::Promise { ballot, slot: Some(slot) }, true);
                out.send(from, Msg::Promise { ballot, scope, applied: self.sm.applied(), snapshot: None, entries });
            }
        }
    }

    fn is_self(&self, id: PeerId) -> bool {
        id == self.config.id
    }

    /// What this acceptor knows of the slots from `first` on: decided values (or a snapshot
    /// when it no longer keeps them), then what it accepted beyond its applied slot.
    fn report(&self, first: Slot) -> (Option<Box<Snapshot>>, Vec<Entry>) {
        let applied = self.sm.applied();
        let mut snapshot = None;
        let mut entries = Vec::new();
        if first <= applied {
            match self.sm.decided_from(first, usize::MAX) {
                Some(decided) => entries.extend(decided.into_iter().map(decided_entry)),
                None => snapshot = Some(Box::new(self.sm.snapshot())),
            }
        }
        let from = first.max(applied + 1);
        entries.extend(self.accepted.range(from..).map(|(s, (b, v))| accepted_entry(*s, *b, v)));
        (snapshot, entries)
    }

    #[allow(clippy::too_many_arguments)]
    fn accept(
        &mut self,
        now: Duration,
        from: PeerId,
        ballot: Ballot,
        slot: Slot,
        value: Value,
        commit: Slot,
        out: &mut Out,
    ) {
        let promise = self.effective_promise(slot);
        if ballot < promise {
            return out.send(from, Msg::Reject { ballot, promised: promise });
        }
        self.follow(now, from, ballot, out);
        if slot > self.sm.applied() {
            self.accepted.insert(slot, (ballot, value.clone()));
            out.append(Record::Accept { slot, ballot, value }, true);
        }
        out.send(from, Msg::Accepted { ballot, slot });
        self.learn_commit(now, ballot, commit, out);
    }

    fn heartbeat(&mut self, now: Duration, from: PeerId, ballot: Ballot, commit: Slot, stamp: u64, out: &mut Out) {
        if ballot < self.promised {
            return out.send(from, Msg::Reject { ballot, promised: self.promised });
        }
        self.follow(now, from, ballot, out);
        out.send(from, Msg::CommitAck { ballot, stamp, applied: self.sm.applied() });
        self.learn_commit(now, ballot, commit, out);
    }

    // ---- learner ----

    /// The leader of `ballot` says every slot up to `commit` is decided.
    fn learn_commit(&mut self, now: Duration, ballot: Ballot, commit: Slot, out: &mut Out) {
        if let Some(catchup) = self.catchup.as_mut().filter(|c| c.target.is_none()) {
            catchup.target = Some(commit);
        }
        if ballot >= self.commit_ballot {
            self.commit_ballot = ballot;
            self.known_commit = self.known_commit.max(commit);
        }
        self.apply_ready(now, out);
    }

    /// Applies every committed slot whose value this replica accepted in the committing
    /// ballot; fetches the rest.
    fn apply_ready(&mut self, now: Duration, out: &mut Out) {
        while self.sm.applied() < self.known_commit {
            let slot = self.sm.applied() + 1;
            if self.accepted.get(&slot).is_none_or(|(b, _)| *b != self.commit_ballot) {
                self.request_fetch(now, out);
                break;
            }
            let (_, value) = self.accepted.remove(&slot).expect("checked");
            self.apply_slot(now, slot, value, out);
        }
        self.check_caught_up(now);
    }

    fn request_fetch(&mut self, now: Duration, out: &mut Out) {
        let Some(leader) = self.leader.filter(|l| *l != self.config.id) else { return };
        if self.fetch_sent.is_some_and(|at| now < at + self.config.election_timeout) {
            return;
        }
        self.fetch_sent = Some(now);
        out.send(leader, Msg::Fetch { from: self.sm.applied() + 1 });
    }

    fn fetch(&self, from: PeerId, first: Slot, out: &mut Out) {
        match self.sm.decided_from(first, MAX_LEARN_SLOTS) {
            Some(entries) if entries.is_empty() => {}
            Some(entries) => out.send(from, Msg::Learn { snapshot: None, entries }),
            None => out.send(from, Msg::Learn { snapshot: Some(Box::new(self.sm.snapshot())), entries: Vec::new() }),
        }
    }

    fn learn(&mut self, now: Duration, snapshot: Option<Box<Snapshot>>, entries: Vec<(Slot, Value)>, out: &mut Out) {
        self.fetch_sent = None;
        if let Some(snapshot) = snapshot.filter(|s| s.applied > self.sm.applied()) {
            self.install(*snapshot, out);
        }
        for (slot, value) in entries {
            if slot == self.sm.applied() + 1 {
                self.apply_slot(now, slot, value, out);
            }
        }
        self.apply_ready(now, out);
    }

    fn install(&mut self, snapshot: Snapshot, out: &mut Out) {
        self.flush_decided(out);
        self.sm.install(snapshot);
        let applied = self.sm.applied();
        self.accepted.retain(|s, _| *s > applied);
        self.slot_promises.retain(|s, _| *s > applied);
        self.decided_first = applied + 1;
        self.known_commit = self.known_commit.max(applied);
    }

    /// Applies `value`, decided at `slot` (the next one), answering clients if leading.
    fn apply_slot(&mut self, now: Duration, slot: Slot, value: Value, out: &mut Out) {
        assert_eq!(slot, self.sm.applied() + 1, "slots apply in order");
        let ballot = match &self.role {
            Role::Leader(l) => Some(l.ballot),
            _ => None,
        };
        let commands = value.commands() as u64;
        let digest = self.sm.apply(value, |command, result| {
            if let Some(ballot) = ballot {
                out.send(command.client, Msg::Reply { req: command.req, result, ballot });
            }
        });
        if self.decided_digests.is_empty() {
            self.decided_first = slot;
        }
        self.decided_digests.push(digest);
        self.accepted.remove(&slot);
        self.slot_promises.remove(&slot);
        self.counters.slots_applied.fetch_add(1, Ordering::Relaxed);
        self.counters.commands_applied.fetch_add(commands, Ordering::Relaxed);
        self.check_caught_up(now);
    }

    fn check_caught_up(&mut self, now: Duration) {
        let Some(catchup) = self.catchup else { return };
        if catchup.target.is_some_and(|t| self.sm.applied() >= t) {
            let us = (now.saturating_sub(catchup.started)).as_micros() as u64;
            self.counters.catchups.fetch_add(1, Ordering::Relaxed);
            self.counters.catchup_us_max.fetch_max(us, Ordering::Relaxed);
            self.counters.catchup_us_total.fetch_add(us, Ordering::Relaxed);
            self.catchup = None;
        }
    }

    /// Writes the digests of the slots applied this turn as one unforced record.
    fn flush_decided(&mut self, out: &mut Out) {
        if !self.decided_digests.is_empty() {
            let digests = std::mem::take(&mut self.decided_digests);
            out.append(Record::Decided { first: self.decided_first, digests }, false);
            self.decided_first = self.sm.applied() + 1;
        }
    }

    // ---- candidate ----

    fn start_election(&mut self, now: Duration, out: &mut Out) {
        if let Role::Leader(_) = self.role {
            self.step_down(now, out);
        }
        let round = self.seen_round.max(self.promised.round) + 1;
        let ballot = Ballot { round, node: self.config.id };
        self.seen_round = round;
        self.promised = ballot;
        self.leader = None;
        out.append(Record::Promise { ballot, slot: None }, true);
        let first = self.sm.applied() + 1;
        let mut election = Election {
            ballot,
            votes: bit(self.config.id),
            entries: BTreeMap::new(),
            snapshot: None,
            deadline: now + self.timeout(),
        };
        for (slot, (b, v)) in &self.accepted {
            election.merge(accepted_entry(*slot, *b, v));
        }
        self.role = Role::Candidate(election);
        for replica in self.others() {
            out.send(replica, Msg::Prepare { ballot, scope: Scope::From(first) });
        }
        if self.majority == 1 {
            self.become_leader(now, out);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn promise(
        &mut self,
        now: Duration,
        from: PeerId,
        ballot: Ballot,
        scope: Scope,
        snapshot: Option<Box<Snapshot>>,
        entries: Vec<Entry>,
        out: &mut Out,
    ) {
        match (scope, &mut self.role) {
            (Scope::From(_), Role::Candidate(election)) if election.ballot == ballot => {
                election.votes |= bit(from);
                if snapshot.as_ref().is_some_and(|s| election.snapshot.as_ref().is_none_or(|e| s.applied > e.applied)) {
                    election.snapshot = snapshot;
                }
                for entry in entries {
                    election.merge(entry);
                }
                if count(election.votes) >= self.majority {
                    self.become_leader(now, out);
                }
            }
            (Scope::Only(slot), Role::Leader(leader)) if leader.ballot == ballot => {
                leader.answered_at[from as usize] = now;
                let Some(proposal) = leader.proposals.get_mut(&slot) else { return };
                let Some(best) = proposal.preparing.as_mut() else { return };
                proposal.acks |= bit(from);
                for entry in entries {
                    let better = match (best.as_ref(), entry.ballot) {
                        (None, _) | (Some((Some(_), _)), None) => true,
                        (Some((Some(old), _)), Some(new)) => new > *old,
                        (Some((None, _)), _) => false,
                    };
                    if better {
                        *best = Some((entry.ballot, entry.value));
                    }
                }
                if count(proposal.acks) >= self.majority {
                    self.finish_prepare(now, slot, out);
                }
            }
            _ => {}
        }
    }

    fn become_leader(&mut self, now: Duration, out: &mut Out) {
        let Role::Candidate(election) = std::mem::replace(&mut self.role, Role::Follower) else { return };
        if let Some(snapshot) = election.snapshot.filter(|s| s.applied > self.sm.applied()) {
            self.install(*snapshot, out);
        }
        let replicas = self.config.replicas as usize;
        let applied = self.sm.applied();
        self.role = Role::Leader(Leadership {
            ballot: election.ballot,
            next_slot: applied + 1,
            proposals: BTreeMap::new(),
            answered_at: vec![now; replicas],
            acked_stamp: vec![0; replicas],
            last_heartbeat: Duration::ZERO,
            lease_until: Duration::ZERO,
            lease_ready: applied,
        });
        self.leader = Some(self.config.id);
        self.counters.elections_won.fetch_add(1, Ordering::Relaxed);
        tracing::debug!("replica {} leads with ballot {} from slot {}", self.config.id, election.ballot, applied + 1);
        let last = election.entries.last_key_value().map_or(applied, |(s, _)| (*s).max(applied));
        let mut entries = election.entries;
        for slot in applied + 1..=last {
            let value = entries.remove(&slot).map_or(Value::Noop, |e| e.value);
            self.propose_at(now, slot, value, false, out);
        }
        if let Role::Leader(leader) = &mut self.role {
            leader.lease_ready = last;
        }
        self.send_heartbeats(now, out);
        self.advance(now, out);
    }

    // ---- leader ----

    fn request(&mut self, now: Duration, from: PeerId, req: u64, op: KvOp, out: &mut Out) {
        let Role::Leader(leader) = &self.role else {
            return out.send(from, Msg::Redirect { req, leader: self.leader.filter(|l| *l != self.config.id) });
        };
        if let KvOp::Get { key } = op
            && self.config.lease_reads
            && now < leader.lease_until
            && self.sm.applied() >= leader.lease_ready
        {
            let result = CmdResult::Read(self.sm.get(key).cloned());
            self.counters.lease_reads.fetch_add(1, Ordering::Relaxed);
            return out.send(from, Msg::Reply { req, result, ballot: leader.ballot });
        }
        self.incoming.push(Command { client: from, req, op });
    }

    /// Proposes queued commands while the window has room.
    fn propose_queued(&mut self, now: Duration, out: &mut Out) {
        self.queue.extend(self.incoming.drain(..));
        loop {
            let Role::Leader(leader) = &self.role else { return };
            if self.queue.is_empty() || leader.proposals.len() >= self.config.window {
                return;
            }
            let take = match self.config.mode {
                PaxosMode::MultiPaxos => self.queue.len().min(self.config.max_batch),
                PaxosMode::Paxos => 1,
            };
            let slot = leader.next_slot;
            let batch = Value::Batch(self.queue.drain(..take).collect());
            self.propose_at(now, slot, batch, self.config.mode == PaxosMode::Paxos, out);
        }
    }

    /// Proposes `value` at `slot` in the leader's ballot: phase 2 at once, or (single-decree)
    /// phase 1 for the slot first.
    fn propose_at(&mut self, now: Duration, slot: Slot, value: Value, prepare_first: bool, out: &mut Out) {
        let Role::Leader(leader) = &mut self.role else { return };
        leader.next_slot = leader.next_slot.max(slot + 1);
        let commands = value.commands() as u64;
        self.counters.slots_proposed.fetch_add(1, Ordering::Relaxed);
        self.counters.commands_proposed.fetch_add(commands, Ordering::Relaxed);
        self.counters.batch_max.fetch_max(commands, Ordering::Relaxed);
        let ballot = leader.ballot;
        if !prepare_first {
            leader.proposals.insert(slot, Proposal { value, preparing: None, acks: 0, sent_at: now });
            return self.send_accepts(now, slot, out);
        }
        let own = self.accepted.get(&slot).map(|(b, v)| (Some(*b), v.clone()));
        let proposal = Proposal { value, preparing: Some(own), acks: bit(self.config.id), sent_at: now };
        leader.proposals.insert(slot, proposal);
        for replica in self.others() {
            out.send(replica, Msg::Prepare { ballot, scope: Scope::Only(slot) });
        }
        self.slot_promises.insert(slot, ballot);
        out.append(Record::Promise { ballot, slot: Some(slot) }, true);
        if self.majority == 1 {
            self.finish_prepare(now, slot, out);
        }
    }

    /// Single-decree: a majority promised for `slot`; propose the value found, or ours.
    fn finish_prepare(&mut self, now: Duration, slot: Slot, out: &mut Out) {
        let Role::Leader(leader) = &mut self.role else { return };
        let Some(proposal) = leader.proposals.get_mut(&slot) else { return };
        let Some(found) = proposal.preparing.take() else { return };
        if let Some((_, value)) = found
            && value != proposal.value
        {
            // The slot already carries another value: it goes there, ours to a later slot.
            if let Value::Batch(ours) = std::mem::replace(&mut proposal.value, value) {
                for command in ours.into_iter().rev() {
                    self.queue.push_front(command);
                }
            }
        }
        self.send_accepts(now, slot, out);
    }

    /// Phase 2 for a proposal: to the followers first, then this replica's own forced copy.
    fn send_accepts(&mut self, now: Duration, slot: Slot, out: &mut Out) {
        let commit = self.sm.applied();
        let Role::Leader(leader) = &mut self.role else { return };
        let ballot = leader.ballot;
        let proposal = leader.proposals.get_mut(&slot).expect("a proposal being accepted");
        let id = self.config.id;
        for replica in (0..self.config.replicas).filter(|r| *r != id) {
            out.send(replica, Msg::Accept { ballot, slot, value: proposal.value.clone(), commit });
        }
        proposal.acks = bit(id);
        proposal.sent_at = now;
        self.accepted.insert(slot, (ballot, proposal.value.clone()));
        out.append(Record::Accept { slot, ballot, value: proposal.value.clone() }, true);
        if self.majority == 1 {
            self.advance(now, out);
        }
    }

    /// Sends each proposal's current phase again to the replicas that have not answered it
    /// for two heartbeats.
    fn resend_unanswered(&mut self, now: Duration, out: &mut Out) {
        let commit = self.sm.applied();
        let replicas = self.config.replicas;
        let Role::Leader(leader) = &mut self.role else { return };
        let ballot = leader.ballot;
        let stale = now.saturating_sub(self.config.heartbeat_every * 2);
        for (slot, proposal) in leader.proposals.iter_mut().filter(|(_, p)| p.sent_at <= stale) {
            proposal.sent_at = now;
            for replica in (0..replicas).filter(|r| proposal.acks & bit(*r) == 0) {
                let msg = match proposal.preparing {
                    Some(_) => Msg::Prepare { ballot, scope: Scope::Only(*slot) },
                    None => Msg::Accept { ballot, slot: *slot, value: proposal.value.clone(), commit },
                };
                out.send(replica, msg);
            }
        }
    }

    fn accepted_by(&mut self, now: Duration, from: PeerId, ballot: Ballot, slot: Slot, out: &mut Out) {
        let Role::Leader(leader) = &mut self.role else { return };
        if leader.ballot != ballot {
            return;
        }
        leader.answered_at[from as usize] = now;
        if let Some(proposal) = leader.proposals.get_mut(&slot).filter(|p| p.preparing.is_none()) {
            proposal.acks |= bit(from);
        }
        self.advance(now, out);
    }

    /// Applies the chosen proposals at the head of the log.
    fn advance(&mut self, now: Duration, out: &mut Out) {
        loop {
            let next = self.sm.applied() + 1;
            let Role::Leader(leader) = &mut self.role else { return };
            let chosen = leader
                .proposals
                .first_key_value()
                .is_some_and(|(s, p)| *s == next && p.preparing.is_none() && count(p.acks) >= self.majority);
            if !chosen {
                return;
            }
            let (slot, proposal) = leader.proposals.pop_first().expect("checked");
            self.known_commit = slot;
            self.apply_slot(now, slot, proposal.value, out);
        }
    }

    fn rejected(&mut self, now: Duration, ballot: Ballot, promised: Ballot, out: &mut Out) {
        self.seen_round = self.seen_round.max(promised.round);
        match &self.role {
            // Someone promised a higher ballot: run phase 1 above it (this replica holds the
            // most recent state, so its election is quick).
            Role::Leader(leader) if leader.ballot == ballot && promised > ballot => self.start_election(now, out),
            Role::Candidate(election) if election.ballot == ballot && promised > ballot => {
                self.role = Role::Follower;
                self.election_at = now + self.timeout();
            }
            _ => {}
        }
    }

    fn commit_ack(&mut self, now: Duration, from: PeerId, ballot: Ballot, stamp: u64) {
        let majority = self.majority as usize;
        let lease = self.config.election_timeout * 3 / 4;
        let Role::Leader(leader) = &mut self.role else { return };
        if leader.ballot != ballot {
            return;
        }
        leader.answered_at[from as usize] = now;
        let acked = &mut leader.acked_stamp[from as usize];
        *acked = (*acked).max(stamp);
        let mut stamps: Vec<u64> = leader.acked_stamp.clone();
        stamps[self.config.id as usize] = u64::MAX;
        stamps.sort_unstable_by(|a, b| b.cmp(a));
        let held_since = Duration::from_micros(stamps[majority - 1]);
        leader.lease_until = leader.lease_until.max(held_since + lease);
    }

    fn send_heartbeats(&mut self, now: Duration, out: &mut Out) {
        let commit = self.sm.applied();
        let Role::Leader(leader) = &mut self.role else { return };
        leader.last_heartbeat = now;
        let (ballot, stamp) = (leader.ballot, now.as_micros() as u64);
        for replica in self.others() {
            out.send(replica, Msg::Commit { ballot, commit, stamp });
        }
    }

    /// Whether a majority (this replica included) answered within the election timeout.
    fn has_quorum(&self, now: Duration) -> bool {
        let Role::Leader(leader) = &self.role else { return false };
        let recent = leader
            .answered_at
            .iter()
            .enumerate()
            .filter(|(r, at)| *r as PeerId == self.config.id || now < **at + self.config.election_timeout)
            .count();
        recent as u32 >= self.majority
    }

    fn stats(&self) -> ReplicaStats {
        let (role, ballot) = match &self.role {
            Role::Follower => (RoleKind::Follower, self.commit_ballot),
            Role::Candidate(e) => (RoleKind::Candidate, e.ballot),
            Role::Leader(l) => (RoleKind::Leader, l.ballot),
        };
        let in_flight = match &self.role {
            Role::Leader(l) => l.proposals.len() + self.queue.len(),
            _ => 0,
        } + self.incoming.len();
        ReplicaStats {
            role,
            ballot,
            applied: self.sm.applied(),
            commit: self.known_commit,
            in_flight: in_flight as u64,
            counters: self.counters.values(&self.runtime),
        }
    }
}

fn decided_entry((slot, value): (Slot, Value)) -> Entry {
    Entry { slot, ballot: None, value }
}

fn accepted_entry(slot: Slot, ballot: Ballot, value: &Value) -> Entry {
    Entry { slot, ballot: Some(ballot), value: value.clone() }
}

impl Node for Replica {
    type Msg = Msg;
    type Record = Record;

    fn on_start(&mut self, now: Duration, out: &mut Out) {
        self.last_heard = now;
        self.election_at = now + self.timeout();
        if self.restarted {
            self.quiet_until = now + self.config.election_timeout;
            self.catchup = Some(Catchup { started: now, target: None });
        } else if self.config.id == 0 {
            // A fresh cluster: the first replica runs at once, so that runs start quickly.
            self.start_election(now, out);
        }
    }

    fn on_message(&mut self, now: Duration, from: PeerId, msg: Msg, out: &mut Out) {
        match msg {
            Msg::Request { req, op } => self.request(now, from, req, op, out),
            Msg::Prepare { ballot, scope } => self.prepare(now, from, ballot, scope, out),
            Msg::Promise { ballot, scope, snapshot, entries, .. } => {
                self.promise(now, from, ballot, scope, snapshot, entries, out);
            }
            Msg::Reject { ballot, promised } => self.rejected(now, ballot, promised, out),
            Msg::Accept { ballot, slot, value, commit } => self.accept(now, from, ballot, slot, value, commit, out),
            Msg::Accepted { ballot, slot } => self.accepted_by(now, from, ballot, slot, out),
            Msg::Commit { ballot, commit, stamp } => self.heartbeat(now, from, ballot, commit, stamp, out),
            Msg::CommitAck { ballot, stamp, .. } => self.commit_ack(now, from, ballot, stamp),
            Msg::Fetch { from: first } => self.fetch(from, first, out),
            Msg::Learn { snapshot, entries } => self.learn(now, snapshot, entries, out),
            Msg::StatsRequest => out.send(from, Msg::Stats(self.stats())),
            Msg::Reply { .. } | Msg::Redirect { .. } | Msg::Stats(_) => {}
        }
    }

    fn on_tick(&mut self, now: Duration, out: &mut Out) {
        match &self.role {
            Role::Leader(leader) => {
                if !self.has_quorum(now) {
                    tracing::debug!("replica {} lost its quorum: steps down", self.config.id);
                    self.step_down(now, out);
                } else if now >= leader.last_heartbeat + self.config.heartbeat_every {
                    self.send_heartbeats(now, out);
                    self.resend_unanswered(now, out);
                }
            }
            Role::Candidate(election) if now >= election.deadline => self.start_election(now, out),
            Role::Candidate(_) => {}
            Role::Follower if now >= self.election_at && now >= self.quiet_until => self.start_election(now, out),
            Role::Follower => {}
        }
        if self.sm.applied() < self.known_commit {
            self.request_fetch(now, out);
        }
    }

    fn on_turn_end(&mut self, now: Duration, out: &mut Out) {
        if self.is_leader() {
            self.propose_queued(now, out);
        }
        self.flush_decided(out);
    }

    fn tick_every(&self) -> Duration {
        (self.config.heartbeat_every / 4).clamp(Duration::from_millis(1), Duration::from_millis(5))
    }
}
