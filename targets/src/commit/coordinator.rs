//! The two-phase-commit coordinator, presumed abort, as a sans-IO state machine.
//!
//! It logs only what presumed abort needs: an `Incarnation` at every start (so transaction
//! ids are never reused), the forced `Commit` decision (the commit point) and, once every
//! participant has acknowledged, an unforced `End`. An abort is never logged: a coordinator
//! asked about a transaction it has no record of answers "abort". See the [module
//! docs](super) for the whole protocol.

use super::{
    AbortCause, CoordinatorRecord, CrashPoint, Msg, NodeStats, ProtocolCounters, TxnId, TxnOutcome, Vote, txn_id,
};
use crate::transport::PeerId;
use crate::transport::node::{Node, Output};
use crate::transport::runtime::{DEFAULT_TICK, NodeCounters};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// A coordinator's settings.
#[derive(Clone, Copy, Debug)]
pub struct CoordinatorConfig {
    pub id: PeerId,
    /// A transaction whose votes are not all in after this long aborts (cause `timeout`).
    pub vote_timeout: Duration,
    /// A commit decision is resent to participants that have not acknowledged after this long.
    pub resend_every: Duration,
}

type Out = Output<Msg, CoordinatorRecord>;

/// A transaction waiting for votes.
#[derive(Debug)]
struct Deciding {
    client: PeerId,
    req: u64,
    started: Duration,
    /// Participants that have not voted yet.
    waiting: Vec<PeerId>,
    /// Participants that voted yes.
    yes: Vec<PeerId>,
}

/// A committed transaction waiting for acknowledgements.
#[derive(Debug)]
struct Committing {
    waiting: Vec<PeerId>,
    last_sent: Duration,
}

/// The coordinator.
pub struct Coordinator {
    config: CoordinatorConfig,
    incarnation: u64,
    next_seq: u64,
    deciding: BTreeMap<TxnId, Deciding>,
    committing: BTreeMap<TxnId, Committing>,
    crash_at: Option<CrashPoint>,
    runtime: Arc<NodeCounters>,
    counters: Arc<ProtocolCounters>,
}

impl Coordinator {
    /// A coordinator rebuilt from its log (empty for a first start).
    pub fn recover(
        config: CoordinatorConfig,
        records: &[CoordinatorRecord],
        runtime: Arc<NodeCounters>,
        counters: Arc<ProtocolCounters>,
    ) -> Self {
        let mut incarnation = 0;
        let mut committing = BTreeMap::new();
        for record in records {
            match record {
                CoordinatorRecord::Incarnation(n) => incarnation = incarnation.max(*n),
                CoordinatorRecord::Commit { txn, participants } => {
                    committing.insert(*txn, Committing { waiting: participants.clone(), last_sent: Duration::ZERO });
                }
                CoordinatorRecord::End { txn } => {
                    committing.remove(txn);
                }
            }
        }
        Coordinator {
            config,
            incarnation: incarnation + 1,
            next_seq: 0,
            deciding: BTreeMap::new(),
            committing,
            crash_at: None,
            runtime,
            counters,
        }
    }

    fn begin(
        &mut self,
        now: Duration,
        client: PeerId,
        req: u64,
        parts: Vec<(PeerId, Vec<super::KeyOp>)>,
        out: &mut Out,
    ) {
        self.next_seq += 1;
        let txn = txn_id(self.config.id, self.incarnation, self.next_seq);
        if parts.is_empty() {
            out.send(client, Msg::Outcome { req, txn, outcome: TxnOutcome::Committed });
            return;
        }
        let waiting = parts.iter().map(|(p, _)| *p).collect();
        for (participant, ops) in parts {
            out.send(participant, Msg::Prepare { txn, ops });
        }
        self.deciding.insert(txn, Deciding { client, req, started: now, waiting, yes: Vec::new() });
    }

    fn vote(&mut self, now: Duration, from: PeerId, txn: TxnId, vote: Vote, out: &mut Out) {
        let Some(deciding) = self.deciding.get_mut(&txn) else {
            // Not deciding it: either committed and awaiting acks (a duplicate vote), or
            // aborted and forgotten (presumed abort).
            if vote == Vote::Yes {
                out.send(from, Msg::Decision { txn, commit: self.committing.contains_key(&txn) });
            }
            return;
        };
        let Some(position) = deciding.waiting.iter().position(|p| *p == from) else { return };
        deciding.waiting.swap_remove(position);
        match vote {
            Vote::No => return self.abort(txn, AbortCause::Conflict, out),
            Vote::Yes => deciding.yes.push(from),
            Vote::ReadOnly => {}
        }
        if deciding.waiting.is_empty() {
            self.decide(now, txn, out);
        }
    }

    /// Every vote is in and none is no: commit.
    fn decide(&mut self, now: Duration, txn: TxnId, out: &mut Out) {
        let deciding = self.deciding.remove(&txn).expect("deciding a known transaction");
        let reply = Msg::Outcome { req: deciding.req, txn, outcome: TxnOutcome::Committed };
        if deciding.yes.is_empty() {
            // Read-only everywhere: nothing to log and no phase 2.
            self.counters.commits.fetch_add(1, Ordering::Relaxed);
            out.send(deciding.client, reply);
            return;
        }
        if self.crash_at.take_if(|p| *p == CrashPoint::AfterVotes).is_some() {
            return out.crash();
        }
        out.append(CoordinatorRecord::Commit { txn, participants: deciding.yes.clone() }, true);
        if self.crash_at.take_if(|p| *p == CrashPoint::AfterDecision).is_some() {
            return out.crash();
        }
        for participant in &deciding.yes {
            out.send(*participant, Msg::Decision { txn, commit: true });
        }
        out.send(deciding.client, reply);
        self.counters.commits.fetch_add(1, Ordering::Relaxed);
        self.committing.insert(txn, Committing { waiting: deciding.yes, last_sent: now });
    }

    fn abort(&mut self, txn: TxnId, cause: AbortCause, out: &mut Out) {
        let deciding = self.deciding.remove(&txn).expect("aborting a known transaction");
        // Participants that have not voted may yet prepare: tell them too.
        for participant in deciding.yes.iter().chain(&deciding.waiting) {
            out.send(*participant, Msg::Decision { txn, commit: false });
        }
        out.send(deciding.client, Msg::Outcome { req: deciding.req, txn, outcome: TxnOutcome::Aborted(cause) });
        self.counters.aborts.fetch_add(1, Ordering::Relaxed);
    }

    fn ack(&mut self, from: PeerId, txn: TxnId, out: &mut Out) {
        let Some(committing) = self.committing.get_mut(&txn) else { return };
        committing.waiting.retain(|p| *p != from);
        if committing.waiting.is_empty() {
            self.committing.remove(&txn);
            out.append(CoordinatorRecord::End { txn }, false);
        }
    }

    fn inquire(&self, from: PeerId, txn: TxnId, out: &mut Out) {
        if self.committing.contains_key(&txn) {
            out.send(from, Msg::Decision { txn, commit: true });
        } else if !self.deciding.contains_key(&txn) {
            out.send(from, Msg::Decision { txn, commit: false });
        }
    }

    fn stats(&self) -> NodeStats {
        NodeStats::snapshot(&self.runtime, &self.counters, (self.deciding.len() + self.committing.len()) as u64)
    }
}

impl Node for Coordinator {
    type Msg = Msg;
    type Record = CoordinatorRecord;

    fn on_start(&mut self, now: Duration, out: &mut Out) {
        out.append(CoordinatorRecord::Incarnation(self.incarnation), true);
        for (txn, committing) in &mut self.committing {
            for participant in &committing.waiting {
                out.send(*participant, Msg::Decision { txn: *txn, commit: true });
            }
            committing.last_sent = now;
        }
    }

    fn on_message(&mut self, now: Duration, from: PeerId, msg: Msg, out: &mut Out) {
        match msg {
            Msg::Begin { req, parts } => self.begin(now, from, req, parts, out),
            Msg::Vote { txn, vote } => self.vote(now, from, txn, vote, out),
            Msg::Ack { txn } => self.ack(from, txn, out),
            Msg::Inquire { txn } => self.inquire(from, txn, out),
            Msg::ArmCrash { point: CrashPoint::Now } => out.crash(),
            Msg::ArmCrash { point } => self.crash_at = Some(point),
            Msg::StatsRequest => out.send(from, Msg::Stats(self.stats())),
            Msg::Outcome { .. } | Msg::Prepare { .. } | Msg::Decision { .. } | Msg::Stats(_) => {
                tracing::debug!("coordinator {} ignores {msg:?} from {from}", self.config.id);
            }
        }
    }

    fn on_tick(&mut self, now: Duration, out: &mut Out) {
        let expired: Vec<TxnId> = self
            .deciding
            .iter()
            .filter(|(_, d)| now.saturating_sub(d.started) >= self.config.vote_timeout)
            .map(|(txn, _)| *txn)
            .collect();
        for txn in expired {
            self.abort(txn, AbortCause::Timeout, out);
        }
        for (txn, committing) in &mut self.committing {
            if now.saturating_sub(committing.last_sent) >= self.config.resend_every {
                for participant in &committing.waiting {
                    out.send(*participant, Msg::Decision { txn: *txn, commit: true });
                }
                committing.last_sent = now;
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
    use crate::commit::{Access, KeyOp};
    use crate::transport::node::Effect;

    fn coordinator() -> Coordinator {
        let config = CoordinatorConfig {
            id: 9,
            vote_timeout: Duration::from_millis(100),
            resend_every: Duration::from_millis(50),
        };
        Coordinator::recover(config, &[], Arc::default(), Arc::default())
    }

    fn op(key: u64) -> Vec<KeyOp> {
        vec![KeyOp { key, access: Access::Add(1) }]
    }

    fn sends(out: &mut Out) -> Vec<(PeerId, Msg)> {
        out.drain()
            .filter_map(|e| match e {
                Effect::Send { to, msg } => Some((to, msg)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn commit_is_forced_before_anyone_hears_it() {
        let mut c = coordinator();
        let mut out = Out::default();
        c.on_start(Duration::ZERO, &mut out);
        out.drain();
        c.on_message(Duration::ZERO, 100, Msg::Begin { req: 1, parts: vec![(0, op(1)), (1, op(2))] }, &mut out);
        let prepares = sends(&mut out);
        assert_eq!(prepares.len(), 2);
        let Msg::Prepare { txn, .. } = prepares[0].1 else { panic!("{prepares:?}") };
        c.on_message(Duration::ZERO, 0, Msg::Vote { txn, vote: Vote::Yes }, &mut out);
        assert!(out.is_empty(), "no decision before every vote");
        c.on_message(Duration::ZERO, 1, Msg::Vote { txn, vote: Vote::Yes }, &mut out);
        let effects: Vec<_> = out.drain().collect();
        assert!(matches!(effects[0], Effect::Append { record: CoordinatorRecord::Commit { .. }, force: true }));
        assert_eq!(effects.len(), 4, "record, two decisions, the reply: {effects:?}");
        c.on_message(Duration::ZERO, 0, Msg::Ack { txn }, &mut out);
        c.on_message(Duration::ZERO, 1, Msg::Ack { txn }, &mut out);
        let effects: Vec<_> = out.drain().collect();
        assert_eq!(effects, vec![Effect::Append { record: CoordinatorRecord::End { txn }, force: false }]);
    }

    #[test]
    fn a_no_vote_or_a_timeout_aborts_without_logging() {
        let mut c = coordinator();
        let mut out = Out::default();
        c.on_message(Duration::ZERO, 100, Msg::Begin { req: 1, parts: vec![(0, op(1)), (1, op(2))] }, &mut out);
        let Msg::Prepare { txn, .. } = sends(&mut out)[0].1 else { panic!() };
        c.on_message(Duration::ZERO, 0, Msg::Vote { txn, vote: Vote::No }, &mut out);
        let effects = sends(&mut out);
        assert!(
            effects.contains(&(100, Msg::Outcome { req: 1, txn, outcome: TxnOutcome::Aborted(AbortCause::Conflict) }))
        );
        c.on_message(Duration::ZERO, 100, Msg::Begin { req: 2, parts: vec![(0, op(1))] }, &mut out);
        out.drain();
        c.on_tick(Duration::from_millis(100), &mut out);
        let effects = sends(&mut out);
        assert!(
            effects
                .iter()
                .any(|(_, m)| matches!(m, Msg::Outcome { outcome: TxnOutcome::Aborted(AbortCause::Timeout), .. }))
        );
        c.on_message(Duration::ZERO, 0, Msg::Inquire { txn }, &mut out);
        assert_eq!(sends(&mut out), vec![(0, Msg::Decision { txn, commit: false })], "presumed abort");
    }

    #[test]
    fn recovery_resends_commits_without_end_and_never_reuses_ids() {
        let records = vec![
            CoordinatorRecord::Incarnation(1),
            CoordinatorRecord::Commit { txn: 5, participants: vec![0, 1] },
            CoordinatorRecord::Commit { txn: 6, participants: vec![0] },
            CoordinatorRecord::End { txn: 6 },
        ];
        let config =
            CoordinatorConfig { id: 9, vote_timeout: Duration::from_secs(1), resend_every: Duration::from_secs(1) };
        let mut c = Coordinator::recover(config, &records, Arc::default(), Arc::default());
        let mut out = Out::default();
        c.on_start(Duration::ZERO, &mut out);
        let effects: Vec<_> = out.drain().collect();
        assert_eq!(effects[0], Effect::Append { record: CoordinatorRecord::Incarnation(2), force: true });
        assert_eq!(effects.len(), 3, "two commit decisions resent: {effects:?}");
        c.on_message(Duration::ZERO, 100, Msg::Begin { req: 1, parts: vec![(0, op(1))] }, &mut out);
        let Msg::Prepare { txn, .. } = sends(&mut out)[0].1 else { panic!() };
        assert_eq!(txn, txn_id(9, 2, 1));
    }

    #[test]
    fn crash_points_stop_before_and_after_the_decision() {
        for (point, logged) in [(CrashPoint::AfterVotes, false), (CrashPoint::AfterDecision, true)] {
            let mut c = coordinator();
            let mut out = Out::default();
            c.on_message(Duration::ZERO, 100, Msg::ArmCrash { point }, &mut out);
            c.on_message(Duration::ZERO, 100, Msg::Begin { req: 1, parts: vec![(0, op(1))] }, &mut out);
            let Msg::Prepare { txn, .. } = sends(&mut out)[0].1 else { panic!() };
            c.on_message(Duration::ZERO, 0, Msg::Vote { txn, vote: Vote::Yes }, &mut out);
            let effects: Vec<_> = out.drain().collect();
            assert_eq!(effects.last(), Some(&Effect::Crash));
            assert_eq!(effects.len(), if logged { 2 } else { 1 }, "{point:?}: {effects:?}");
        }
    }
}
