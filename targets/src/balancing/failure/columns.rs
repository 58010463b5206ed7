//! The balancing family's failure-handling columns: what was on, and (from the attempts, when
//! they were recorded) retries, ejections, drain, return and the faulty backend's traffic.

use super::FailureMetrics;
use crate::columns::{ColumnWriter, FamilyColumns, RunFacts, round6};

impl FamilyColumns for FailureMetrics {
    fn write(&self, _facts: &RunFacts<'_>, out: &mut ColumnWriter) {
        out.put("failure_layer", self.layer.as_str());
        if self.requests == 0 {
            return;
        }
        out.put("retries_sent", self.retries);
        out.put_some("retry_extra_load_fraction", self.retry_extra_load().map(round6));
        out.put_some("retries_denied", self.retries_denied);
        out.put_some("ejections", self.ejections);
        out.put_some("fault_drain_s", self.drain_s.map(round6));
        out.put_some("fault_return_s", self.return_s.map(round6));
        out.put_some("fault_traffic_share", self.fault_traffic_share.map(round6));
    }
}
