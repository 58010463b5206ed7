//! The locks family's summary columns: failures by kind from the measured phase, and the
//! checker's findings over the whole run (hand-offs, fairness, overlaps, stale writes, holder
//! deaths), and what was left on the server after it.

use super::system::LockMetrics;
use crate::columns::{ColumnWriter, FamilyColumns, RunFacts, round3, round6};

impl FamilyColumns for LockMetrics {
    fn write(&self, facts: &RunFacts<'_>, out: &mut ColumnWriter) {
        if let Some(measured) = facts.measured {
            let errors = measured.errors_of_kind;
            out.put("acquire_timeouts", errors("timeout"));
            out.put("acquire_failures", errors("connect") + errors("server"));
            out.put("lost_releases", errors("lost"));
        }
        let counts = &self.findings.counts;
        match self.findings.handoff_us {
            Some((handoffs, p50, p99, max)) => {
                out.put("handoffs", handoffs);
                out.put("handoff_us_p50", p50);
                out.put("handoff_us_p99", p99);
                out.put("handoff_us_max", max);
            }
            None => out.put("handoffs", 0u64),
        }
        out.put("acquisitions_per_client_min", self.acquisitions_min);
        out.put("acquisitions_per_client_max", self.acquisitions_max);
        out.put_some("fairness_max_to_min", (self.acquisitions_min > 0).then(|| round6(self.fairness_max_to_min())));
        out.put("critical_sections", counts.critical_sections);
        out.put("overlaps", counts.overlaps);
        out.put("stale_writes_rejected", counts.stale_writes_rejected);
        out.put("stale_writes_accepted", counts.stale_writes_accepted);
        out.put("current_writes_rejected", counts.current_writes_rejected);
        out.put("token_regressions", counts.token_regressions);
        out.put("holder_deaths", counts.deaths);
        let reacquire = &self.findings.reacquire_us;
        out.put_some(
            "reacquire_us_mean",
            (!reacquire.is_empty()).then(|| round3(reacquire.iter().sum::<u64>() as f64 / reacquire.len() as f64)),
        );
        out.put_some("reacquire_us_max", reacquire.iter().copied().max());
        out.put("deaths_not_reacquired", counts.deaths_not_reacquired);
        out.put("fencing", self.fencing);
        out.put("safety_promised", facts.safety_promised);
    }
}

/// Lock keys or nodes found (and removed) on the server after the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LocksLeft(pub u64);

impl FamilyColumns for LocksLeft {
    fn write(&self, _facts: &RunFacts<'_>, out: &mut ColumnWriter) {
        out.put("locks_left_after_run", self.0);
    }
}
