//! The two-phase-commit participant, as a sans-IO state machine: a key-value store of
//! balances with strict two-phase locking and no waiting (a lock conflict votes no at once,
//! so there are no deadlocks and no lock queues).
//!
//! A transaction holds its locks from prepare to decision: shared for reads, exclusive for
//! writes. A participant whose part only reads votes `ReadOnly` and releases at once. Once
//! prepared, it may not decide alone: after the decision timeout it is *in doubt*, asks the
//! coordinator at every [`ParticipantConfig::inquire_every`], and the time from its vote to
//! the decision is counted. After a restart it rebuilds its balances and locks from its log
//! and asks about every transaction still prepared.

use super::{Access, CrashPoint, KeyOp, Msg, NodeStats, ParticipantRecord, ProtocolCounters, TxnId, Vote};
use crate::transport::PeerId;
use crate::transport::node::{Node, Output};
use crate::transport::runtime::{DEFAULT_TICK, NodeCounters};
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// A participant's settings.
#[derive(Clone, Copy, Debug)]
pub struct ParticipantConfig {
    pub id: PeerId,
    /// A prepared transaction without a decision after this long is in doubt.
    pub decision_timeout: Duration,
    /// How often an in-doubt participant asks the coordinator again.
    pub inquire_every: Duration,
}

type Out = Output<Msg, ParticipantRecord>;

/// How many aborts of transactions not (yet) prepared here a participant remembers, so that a
/// prepare request overtaken by its own abort (a reordering network) is refused at once
/// instead of leaving the participant prepared and in doubt.
pub const ABORTED_REMEMBERED: usize = 4096;

#[derive(Debug)]
enum Lock {
    /// Held by these readers.
    Shared(Vec<TxnId>),
    Exclusive(TxnId),
}

#[derive(Debug)]
struct Prepared {
    coordinator: PeerId,
    ops: Vec<KeyOp>,
    /// When it voted yes (or, after a restart, when it recovered).
    since: Duration,
    last_inquiry: Option<Duration>,
}

/// The participant.
pub struct Participant {
    config: ParticipantConfig,
    locks: HashMap<u64, Lock>,
    prepared: BTreeMap<TxnId, Prepared>,
    balances: HashMap<u64, i64>,
    /// Aborts that arrived before their prepare request, oldest first (bounded).
    early_aborts: (VecDeque<TxnId>, HashSet<TxnId>),
    crash_at: Option<CrashPoint>,
    runtime: Arc<NodeCounters>,
    counters: Arc<ProtocolCounters>,
}

impl Participant {
    /// A participant rebuilt from its log: committed writes applied, prepared transactions
    /// locked again.
    pub fn recover(
        config: ParticipantConfig,
        records: &[ParticipantRecord],
        runtime: Arc<NodeCounters>,
        counters: Arc<ProtocolCounters>,
    ) -> Self {
        let mut participant = Participant {
            config,
            locks: HashMap::new(),
            prepared: BTreeMap::new(),
            balances: HashMap::new(),
            early_aborts: (VecDeque::new(), HashSet::new()),
            crash_at: None,
            runtime,
            counters,
        };
        for record in records {
            match record {
                ParticipantRecord::Prepared { txn, coordinator, ops } => {
                    let prepared = Prepared {
                        coordinator: *coordinator,
                        ops: ops.clone(),
                        since: Duration::ZERO,
                        last_inquiry: None,
                    };
                    participant.prepared.insert(*txn, prepared);
                }
                ParticipantRecord::Committed { txn } => {
                    if let Some(prepared) = participant.prepared.remove(txn) {
                        participant.apply(&prepared.ops);
                    }
                }
                ParticipantRecord::Aborted { txn } => {
                    participant.prepared.remove(txn);
                }
            }
        }
        let held: Vec<(TxnId, Vec<KeyOp>)> = participant.prepared.iter().map(|(t, p)| (*t, p.ops.clone())).collect();
        for (txn, ops) in held {
            let locked = participant.try_lock(txn, &ops);
            debug_assert!(locked, "prepared transactions never conflicted");
        }
        let sum: i64 = participant.balances.values().sum();
        participant.counters.balance_sum.store(sum, Ordering::Relaxed);
        participant
    }

    /// Takes every lock of `ops` for `txn`, or none if one conflicts.
    fn try_lock(&mut self, txn: TxnId, ops: &[KeyOp]) -> bool {
        let conflict = ops.iter().any(|op| match (self.locks.get(&op.key), op.access) {
            (None, _) => false,
            (Some(Lock::Exclusive(holder)), _) => *holder != txn,
            (Some(Lock::Shared(_)), Access::Read) => false,
            (Some(Lock::Shared(holders)), Access::Add(_)) => holders.iter().any(|h| *h != txn),
        });
        if conflict {
            return false;
        }
        for op in ops {
            match op.access {
                Access::Add(_) => {
                    self.locks.insert(op.key, Lock::Exclusive(txn));
                }
                Access::Read => match self.locks.entry(op.key).or_insert_with(|| Lock::Shared(Vec::new())) {
                    Lock::Shared(holders) => holders.push(txn),
                    Lock::Exclusive(_) => {}
                },
            }
        }
        true
    }

    fn release(&mut self, txn: TxnId, ops: &[KeyOp]) {
        for op in ops {
            let remove = match self.locks.get_mut(&op.key) {
                Some(Lock::Exclusive(holder)) => *holder == txn,
                Some(Lock::Shared(holders)) => {
                    holders.retain(|h| *h != txn);
                    holders.is_empty()
                }
                None => false,
            };
            if remove {
                self.locks.remove(&op.key);
            }
        }
    }

    fn apply(&mut self, ops: &[KeyOp]) {
        for op in ops {
            if let Access::Add(amount) = op.access {
                *self.balances.entry(op.key).or_insert(0) += amount;
                self.counters.balance_sum.fetch_add(amount, Ordering::Relaxed);
            }
        }
    }

    fn prepare(&mut self, now: Duration, coordinator: PeerId, txn: TxnId, ops: Vec<KeyOp>, out: &mut Out) {
        if self.crash_at.take_if(|p| *p == CrashPoint::BeforeVote).is_some() {
            return out.crash();
        }
        if self.prepared.contains_key(&txn) {
            return out.send(coordinator, Msg::Vote { txn, vote: Vote::Yes });
        }
        if self.early_aborts.1.contains(&txn) || !self.try_lock(txn, &ops) {
            return out.send(coordinator, Msg::Vote { txn, vote: Vote::No });
        }
        if ops.iter().all(|op| op.access == Access::Read) {
            self.release(txn, &ops);
            return out.send(coordinator, Msg::Vote { txn, vote: Vote::ReadOnly });
        }
        out.append(ParticipantRecord::Prepared { txn, coordinator, ops: ops.clone() }, true);
        self.prepared.insert(txn, Prepared { coordinator, ops, since: now, last_inquiry: None });
        out.send(coordinator, Msg::Vote { txn, vote: Vote::Yes });
        if self.crash_at.take_if(|p| *p == CrashPoint::AfterVote).is_some() {
            out.crash();
        }
    }

    fn decide(&mut self, now: Duration, from: PeerId, txn: TxnId, commit: bool, out: &mut Out) {
        let Some(prepared) = self.prepared.remove(&txn) else {
            // Already decided (a resent commit), or not prepared here (an abort sent to every
            // participant, maybe ahead of its prepare request): acknowledge commits so the
            // coordinator can end; remember aborts so a late prepare is refused.
            if commit {
                out.send(from, Msg::Ack { txn });
            } else {
                self.remember_abort(txn);
            }
            return;
        };
        let wait = now.saturating_sub(prepared.since);
        self.counters.record_wait(wait.as_micros() as u64, wait >= self.config.decision_timeout);
        self.release(txn, &prepared.ops);
        if commit {
            out.append(ParticipantRecord::Committed { txn }, true);
            self.apply(&prepared.ops);
            self.counters.commits.fetch_add(1, Ordering::Relaxed);
            out.send(from, Msg::Ack { txn });
        } else {
            out.append(ParticipantRecord::Aborted { txn }, false);
            self.counters.aborts.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn remember_abort(&mut self, txn: TxnId) {
        let (order, set) = &mut self.early_aborts;
        if set.insert(txn) {
            order.push_back(txn);
        }
        if order.len() > ABORTED_REMEMBERED
            && let Some(oldest) = order.pop_front()
        {
            set.remove(&oldest);
        }
    }

    fn stats(&self) -> NodeStats {
        NodeStats::snapshot(&self.runtime, &self.counters, self.prepared.len() as u64)
    }
}

impl Node for Participant {
    type Msg = Msg;
    type Record = ParticipantRecord;

    fn on_start(&mut self, now: Duration, out: &mut Out) {
        for (txn, prepared) in &mut self.prepared {
            prepared.since = now;
            prepared.last_inquiry = Some(now);
            out.send(prepared.coordinator, Msg::Inquire { txn: *txn });
        }
    }

    fn on_message(&mut self, now: Duration, from: PeerId, msg: Msg, out: &mut Out) {
        match msg {
            Msg::Prepare { txn, ops } => self.prepare(now, from, txn, ops, out),
            Msg::Decision { txn, commit } => self.decide(now, from, txn, commit, out),
            Msg::ArmCrash { point: CrashPoint::Now } => out.crash(),
            Msg::ArmCrash { point } => self.crash_at = Some(point),
            Msg::StatsRequest => out.send(from, Msg::Stats(self.stats())),
            other => tracing::debug!("participant {} ignores {other:?} from {from}", self.config.id),
        }
    }

    fn on_tick(&mut self, now: Duration, out: &mut Out) {
        for (txn, prepared) in &mut self.prepared {
            if now.saturating_sub(prepared.since) < self.config.decision_timeout {
                continue;
            }
            if prepared.last_inquiry.is_none_or(|last| now.saturating_sub(last) >= self.config.inquire_every) {
                prepared.last_inquiry = Some(now);
                out.send(prepared.coordinator, Msg::Inquire { txn: *txn });
            }
        }
    }

    fn tick_every(&self) -> Duration {
        DEFAULT_TICK
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::node::Effect;

    fn participant() -> Participant {
        let config = ParticipantConfig {
            id: 0,
            decision_timeout: Duration::from_millis(100),
            inquire_every: Duration::from_millis(50),
        };
        Participant::recover(config, &[], Arc::default(), Arc::default())
    }

    fn add(key: u64, amount: i64) -> KeyOp {
        KeyOp { key, access: Access::Add(amount) }
    }

    fn read(key: u64) -> KeyOp {
        KeyOp { key, access: Access::Read }
    }

    fn votes(out: &mut Out) -> Vec<Vote> {
        out.drain()
            .filter_map(|e| match e {
                Effect::Send { msg: Msg::Vote { vote, .. }, .. } => Some(vote),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn locks_conflict_reads_share_and_read_only_skips_phase_two() {
        let mut p = participant();
        let mut out = Out::default();
        let now = Duration::ZERO;
        p.on_message(now, 9, Msg::Prepare { txn: 1, ops: vec![add(5, 1), read(6)] }, &mut out);
        let effects: Vec<_> = out.drain().collect();
        assert!(matches!(effects[0], Effect::Append { record: ParticipantRecord::Prepared { .. }, force: true }));
        assert!(matches!(effects[1], Effect::Send { msg: Msg::Vote { vote: Vote::Yes, .. }, .. }));
        p.on_message(now, 9, Msg::Prepare { txn: 2, ops: vec![read(5)] }, &mut out);
        p.on_message(now, 9, Msg::Prepare { txn: 3, ops: vec![read(6)] }, &mut out);
        p.on_message(now, 9, Msg::Prepare { txn: 4, ops: vec![add(6, 1)] }, &mut out);
        assert_eq!(votes(&mut out), vec![Vote::No, Vote::ReadOnly, Vote::No]);
        p.on_message(now, 9, Msg::Decision { txn: 1, commit: true }, &mut out);
        out.drain();
        assert_eq!(p.counters.balance_sum.load(Ordering::Relaxed), 1);
        p.on_message(now, 9, Msg::Prepare { txn: 5, ops: vec![add(6, 1)] }, &mut out);
        assert_eq!(votes(&mut out), vec![Vote::Yes], "locks are released at the decision");
    }

    #[test]
    fn an_abort_that_overtook_its_prepare_refuses_it() {
        let mut p = participant();
        let mut out = Out::default();
        p.on_message(Duration::ZERO, 9, Msg::Decision { txn: 1, commit: false }, &mut out);
        p.on_message(Duration::ZERO, 9, Msg::Prepare { txn: 1, ops: vec![add(5, 1)] }, &mut out);
        assert_eq!(votes(&mut out), vec![Vote::No]);
        assert!(p.prepared.is_empty() && p.locks.is_empty());
    }

    #[test]
    fn in_doubt_participants_ask_and_count_their_wait() {
        let mut p = participant();
        let mut out = Out::default();
        p.on_message(Duration::ZERO, 9, Msg::Prepare { txn: 1, ops: vec![add(5, 1)] }, &mut out);
        out.drain();
        p.on_tick(Duration::from_millis(50), &mut out);
        assert!(out.is_empty(), "not in doubt before the timeout");
        p.on_tick(Duration::from_millis(100), &mut out);
        p.on_tick(Duration::from_millis(120), &mut out);
        p.on_tick(Duration::from_millis(150), &mut out);
        let inquiries = out.drain().filter(|e| matches!(e, Effect::Send { msg: Msg::Inquire { .. }, .. })).count();
        assert_eq!(inquiries, 2);
        p.on_message(Duration::from_millis(170), 9, Msg::Decision { txn: 1, commit: false }, &mut out);
        assert_eq!(p.counters.in_doubt.load(Ordering::Relaxed), 1);
        assert_eq!(p.counters.in_doubt_us_max.load(Ordering::Relaxed), 170_000);
    }

    #[test]
    fn recovery_applies_commits_and_keeps_prepared_locked() {
        let records = vec![
            ParticipantRecord::Prepared { txn: 1, coordinator: 9, ops: vec![add(5, 3)] },
            ParticipantRecord::Committed { txn: 1 },
            ParticipantRecord::Prepared { txn: 2, coordinator: 9, ops: vec![add(6, -1)] },
            ParticipantRecord::Prepared { txn: 3, coordinator: 9, ops: vec![add(7, -1)] },
            ParticipantRecord::Aborted { txn: 3 },
        ];
        let config = ParticipantConfig {
            id: 0,
            decision_timeout: Duration::from_secs(1),
            inquire_every: Duration::from_secs(1),
        };
        let mut p = Participant::recover(config, &records, Arc::default(), Arc::default());
        assert_eq!(p.counters.balance_sum.load(Ordering::Relaxed), 3);
        let mut out = Out::default();
        p.on_start(Duration::ZERO, &mut out);
        let effects: Vec<_> = out.drain().collect();
        assert_eq!(effects, vec![Effect::Send { to: 9, msg: Msg::Inquire { txn: 2 } }]);
        p.on_message(Duration::ZERO, 9, Msg::Prepare { txn: 4, ops: vec![add(6, 1)] }, &mut out);
        assert_eq!(votes(&mut out), vec![Vote::No], "the in-doubt transaction still holds its lock");
    }
}
