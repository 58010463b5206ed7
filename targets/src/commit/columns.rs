//! The commit family's summary columns: what the protocol cost per transaction, how long
//! participants stayed blocked, and why transactions aborted.

use crate::columns::{ColumnWriter, FamilyColumns, RunFacts, round3, round6};

/// What a commit protocol cost and how long participants stayed blocked, over a run.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct CommitMetrics {
    /// Transactions the coordinators decided (committed or aborted).
    pub transactions: u64,
    /// Messages sent by every node and client, per decided transaction.
    pub messages_per_txn: Option<f64>,
    /// Log records forced (the protocol's forced writes), per decided transaction.
    pub forced_writes_per_txn: Option<f64>,
    /// Syncs that made them durable (fewer with group commit), per decided transaction.
    pub log_syncs_per_txn: Option<f64>,
    /// Prepared participants that waited past the decision timeout (in doubt, blocked).
    pub in_doubt_txns: u64,
    /// The longest and the total time in-doubt participants waited for their decision.
    pub in_doubt_ms_max: f64,
    pub in_doubt_ms_total: f64,
    /// The longest any prepared participant waited for its decision.
    pub prepared_wait_ms_max: f64,
}

impl FamilyColumns for CommitMetrics {
    fn write(&self, facts: &RunFacts<'_>, out: &mut ColumnWriter) {
        if let Some(measured) = facts.measured.filter(|m| m.ops > 0) {
            let fraction = |kind: &str| round6((measured.errors_of_kind)(kind) as f64 / measured.ops as f64);
            out.put("aborts_conflict_fraction", fraction("conflict"));
            out.put("aborts_timeout_fraction", fraction("timeout"));
            out.put("aborts_failure_fraction", fraction("failure"));
        }
        out.put("txns", self.transactions);
        out.put_some("messages_per_txn", self.messages_per_txn.map(round3));
        out.put_some("forced_writes_per_txn", self.forced_writes_per_txn.map(round3));
        out.put_some("log_syncs_per_txn", self.log_syncs_per_txn.map(round3));
        out.put("in_doubt_txns", self.in_doubt_txns);
        out.put("in_doubt_ms_max", round3(self.in_doubt_ms_max));
        out.put("in_doubt_ms_total", round3(self.in_doubt_ms_total));
        out.put("prepared_wait_ms_max", round3(self.prepared_wait_ms_max));
    }
}
