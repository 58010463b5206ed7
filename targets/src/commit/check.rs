//! The checkers, run over every node's log after a run (and after every node has been
//! restarted and left time to recover):
//!
//! - **atomicity**: a transaction the coordinator logged as committed is committed at every
//!   participant that voted yes, and nowhere else; a participant never commits what no
//!   coordinator decided, and never aborts what one committed;
//! - **nobody in doubt**: no participant's log ends with a transaction prepared and undecided;
//! - **balance**: the committed writes sum to zero over all participants (every transfer
//!   does, so a partly applied one shows), and the participants' live balances (when known)
//!   agree with their logs;
//! - **what clients were told**: a transaction reported committed is committed; one reported
//!   aborted is committed nowhere.
//!
//! Each broken rule is one violation; the first few are described.

use super::{Access, CoordinatorRecord, ParticipantRecord, TxnId};
use crate::transport::PeerId;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Descriptions kept for a report (the count is always complete).
const MAX_DESCRIBED: usize = 5;

/// Every node's log, decoded.
#[derive(Clone, Debug, Default)]
pub struct Logs {
    pub coordinators: Vec<(PeerId, Vec<CoordinatorRecord>)>,
    pub participants: Vec<(PeerId, Vec<ParticipantRecord>)>,
}

/// What a client was told about a transaction that writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientOutcome {
    pub txn: TxnId,
    pub committed: bool,
}

/// The checkers' findings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckReport {
    pub violations: u64,
    /// The first few violations, described.
    pub described: Vec<String>,
    /// Transactions committed by a coordinator.
    pub committed: u64,
    /// Prepared, undecided transactions left at participants.
    pub in_doubt: u64,
    /// Sum of every committed write.
    pub balance_total: i64,
}

impl CheckReport {
    fn violation(&mut self, description: String) {
        self.violations += 1;
        if self.described.len() < MAX_DESCRIBED {
            self.described.push(description);
        }
    }
}

/// What one participant's log says.
#[derive(Default)]
struct ParticipantView {
    committed: BTreeSet<TxnId>,
    aborted: BTreeSet<TxnId>,
    prepared: BTreeSet<TxnId>,
    balance: i64,
}

fn replay(records: &[ParticipantRecord]) -> ParticipantView {
    let mut view = ParticipantView::default();
    let mut writes: HashMap<TxnId, i64> = HashMap::new();
    for record in records {
        match record {
            ParticipantRecord::Prepared { txn, ops, .. } => {
                let sum = ops.iter().map(|op| if let Access::Add(a) = op.access { a } else { 0 }).sum();
                writes.insert(*txn, sum);
                view.prepared.insert(*txn);
            }
            ParticipantRecord::Committed { txn } => {
                if view.prepared.remove(txn) {
                    view.balance += writes.remove(txn).unwrap_or(0);
                    view.committed.insert(*txn);
                }
            }
            ParticipantRecord::Aborted { txn } => {
                if view.prepared.remove(txn) {
                    writes.remove(txn);
                    view.aborted.insert(*txn);
                }
            }
        }
    }
    view
}

/// Runs every checker. `live_balances`: each participant's balance sum as it reported it.
pub fn check(logs: &Logs, clients: &[ClientOutcome], live_balances: Option<&BTreeMap<PeerId, i64>>) -> CheckReport {
    let mut report = CheckReport::default();
    let mut decided: HashMap<TxnId, Vec<PeerId>> = HashMap::new();
    for (_, records) in &logs.coordinators {
        for record in records {
            if let CoordinatorRecord::Commit { txn, participants } = record {
                decided.insert(*txn, participants.clone());
            }
        }
    }
    report.committed = decided.len() as u64;
    let views: BTreeMap<PeerId, ParticipantView> = logs.participants.iter().map(|(id, r)| (*id, replay(r))).collect();
    check_decisions(&decided, &views, &mut report);
    for (id, view) in &views {
        for txn in &view.committed {
            if !decided.get(txn).is_some_and(|parts| parts.contains(id)) {
                report.violation(format!(
                    "participant {id} committed txn {txn:#x}, which no coordinator committed there"
                ));
            }
        }
        for txn in &view.prepared {
            report.in_doubt += 1;
            report.violation(format!("participant {id} is still in doubt about txn {txn:#x}"));
        }
        if let Some(live) = live_balances.and_then(|b| b.get(id))
            && *live != view.balance
        {
            report.violation(format!("participant {id} holds a balance of {live} but its log says {}", view.balance));
        }
        report.balance_total += view.balance;
    }
    if report.balance_total != 0 {
        report.violation(format!("the total balance moved by {}", report.balance_total));
    }
    check_clients(clients, &decided, &views, &mut report);
    report
}

fn check_decisions(
    decided: &HashMap<TxnId, Vec<PeerId>>,
    views: &BTreeMap<PeerId, ParticipantView>,
    report: &mut CheckReport,
) {
    let mut sorted: Vec<_> = decided.iter().collect();
    sorted.sort_by_key(|(txn, _)| **txn);
    for (txn, participants) in sorted {
        for participant in participants {
            let Some(view) = views.get(participant) else {
                report.violation(format!("txn {txn:#x} committed at unknown participant {participant}"));
                continue;
            };
            if view.aborted.contains(txn) {
                report.violation(format!("txn {txn:#x} was committed but participant {participant} aborted it"));
            } else if !view.committed.contains(txn) && !view.prepared.contains(txn) {
                report.violation(format!("txn {txn:#x} was committed but participant {participant} never applied it"));
            }
        }
    }
}

fn check_clients(
    clients: &[ClientOutcome],
    decided: &HashMap<TxnId, Vec<PeerId>>,
    views: &BTreeMap<PeerId, ParticipantView>,
    report: &mut CheckReport,
) {
    for outcome in clients {
        let committed_somewhere = views.values().any(|v| v.committed.contains(&outcome.txn));
        if outcome.committed && !decided.contains_key(&outcome.txn) {
            report
                .violation(format!("a client was told txn {:#x} committed, but no coordinator logged it", outcome.txn));
        }
        if !outcome.committed && committed_somewhere {
            report.violation(format!("a client was told txn {:#x} aborted, but it committed", outcome.txn));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commit::KeyOp;

    fn prepared(txn: TxnId, amount: i64) -> ParticipantRecord {
        ParticipantRecord::Prepared { txn, coordinator: 9, ops: vec![KeyOp { key: 1, access: Access::Add(amount) }] }
    }

    fn logs(p0: Vec<ParticipantRecord>, p1: Vec<ParticipantRecord>) -> Logs {
        Logs {
            coordinators: vec![(9, vec![CoordinatorRecord::Commit { txn: 1, participants: vec![0, 1] }])],
            participants: vec![(0, p0), (1, p1)],
        }
    }

    #[test]
    fn a_clean_history_passes() {
        let logs = logs(
            vec![
                prepared(1, -1),
                ParticipantRecord::Committed { txn: 1 },
                prepared(2, -1),
                ParticipantRecord::Aborted { txn: 2 },
            ],
            vec![prepared(1, 1), ParticipantRecord::Committed { txn: 1 }],
        );
        let clients = [ClientOutcome { txn: 1, committed: true }, ClientOutcome { txn: 2, committed: false }];
        let report = check(&logs, &clients, None);
        assert_eq!(report.violations, 0, "{:?}", report.described);
        assert_eq!(report.committed, 1);
    }

    #[test]
    fn half_committed_in_doubt_and_lying_to_clients_are_caught() {
        let half = logs(
            vec![prepared(1, -1), ParticipantRecord::Committed { txn: 1 }],
            vec![prepared(1, 1), ParticipantRecord::Aborted { txn: 1 }],
        );
        let report = check(&half, &[], None);
        assert!(report.violations >= 2, "aborted at one and the balance moved: {:?}", report.described);
        let doubt = logs(vec![prepared(1, -1), ParticipantRecord::Committed { txn: 1 }], vec![prepared(1, 1)]);
        let report = check(&doubt, &[], None);
        assert_eq!(report.in_doubt, 1);
        assert!(report.violations >= 1);
        let clean = logs(
            vec![prepared(1, -1), ParticipantRecord::Committed { txn: 1 }],
            vec![prepared(1, 1), ParticipantRecord::Committed { txn: 1 }],
        );
        let lie = [ClientOutcome { txn: 1, committed: false }, ClientOutcome { txn: 7, committed: true }];
        assert_eq!(check(&clean, &lie, None).violations, 2);
        let live = BTreeMap::from([(0, -1), (1, 5)]);
        assert_eq!(check(&clean, &[], Some(&live)).violations, 1);
    }
}
