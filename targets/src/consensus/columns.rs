//! The consensus family's summary columns: the protocol's figures (commands, slots, batching,
//! messages and syncs per command, leader changes, unavailability after leader kills,
//! catch-ups) and the checkers' verdicts (agreement, linearizability).

use super::system::ConsensusMetrics;
use crate::columns::{ColumnWriter, FamilyColumns, RunFacts, round3, round6};
use std::time::Duration;

impl FamilyColumns for ConsensusMetrics {
    fn write(&self, facts: &RunFacts<'_>, out: &mut ColumnWriter) {
        let ms = |d: Duration| round3(d.as_secs_f64() * 1e3);
        out.put("safety_promised", facts.safety_promised);
        out.put_some("commands", self.commands);
        out.put_some("slots", self.slots);
        out.put_some("batch_size_mean", self.batch_size_mean.map(round3));
        out.put_some("batch_size_max", self.batch_size_max);
        out.put_some("messages_per_command", self.messages_per_command.map(round3));
        out.put_some("log_syncs_per_command", self.log_syncs_per_command.map(round3));
        out.put_some("leader_changes", self.leader_changes);
        out.put_some("catchups", self.catchups);
        out.put_some("catchup_ms_max", self.catchup_max.map(ms));
        out.put_some("agreement_slots", self.agreement_slots);
        if !self.unavailable.is_empty() || self.commands.is_some() {
            let windows: Vec<f64> = self.unavailable.iter().flatten().map(|d| ms(*d)).collect();
            out.put("leader_kills", self.unavailable.len() as u64);
            out.put_some(
                "unavailable_ms_mean",
                (!windows.is_empty()).then(|| round3(windows.iter().sum::<f64>() / windows.len() as f64)),
            );
            out.put_some("unavailable_ms_max", windows.iter().copied().reduce(f64::max));
        }
        if let Some(lin) = &self.linearizability {
            out.put("linearizability", lin.verdict);
            out.put("lin_ops", lin.ops);
            out.put("lin_keys_checked", lin.keys_checked);
            out.put("lin_keys_unchecked", lin.keys_unchecked);
            out.put("lin_keys_fraction", round6(lin.keys_fraction));
        }
    }
}
