//! Networked hashing's summary and time-series columns: loading, the migrations summed over
//! the resizes, misses, recovery from server kills (from [`ShardingMetrics`]); the
//! verification pass after the run ([`Verification`]); throughput and p99 before, during and
//! after the migrations ([`PhaseFigures`]); and, per interval, the migration counters
//! ([`ShardingSample`]).

use super::{PhaseFigures, PhaseStats, ShardingMetrics, ShardingSample, Verification};
use crate::columns::{ColumnWriter, FamilyColumns, RunFacts, round3, round6, us_of_ns};
use crate::target::SampleColumns;
use std::time::Duration;

fn ms(duration: Duration) -> f64 {
    round3(duration.as_secs_f64() * 1e3)
}

impl FamilyColumns for ShardingMetrics {
    fn write(&self, facts: &RunFacts<'_>, out: &mut ColumnWriter) {
        out.put("keys_loaded", self.keys_loaded);
        out.put("load_ms", ms(self.load_time));
        let migrations = &self.migrations;
        if !migrations.is_empty() {
            out.put("keys_moved", migrations.iter().map(|m| m.keys_moved).sum::<u64>());
            out.put("keys_moved_predicted", migrations.iter().map(|m| m.keys_moved_predicted).sum::<u64>());
            out.put("keys_moved_ideal", round3(migrations.iter().map(|m| m.keys_moved_ideal).sum()));
            out.put("keys_superseded", migrations.iter().map(|m| m.keys_superseded).sum::<u64>());
            out.put("migration_ms", ms(migrations.iter().map(|m| m.duration).sum()));
        }
        out.put_some("misses", facts.measured.map(|m| (m.errors_of_kind)("miss")));
        out.put("misses_during_migration", self.misses_during_migration);
        out.put_some("recovery_ms_max", self.recoveries.iter().max().map(|d| ms(*d)));
    }
}

impl FamilyColumns for Verification {
    fn write(&self, _facts: &RunFacts<'_>, out: &mut ColumnWriter) {
        out.put("keys_verified", self.keys_checked);
        out.put("keys_lost", self.keys_lost());
        out.put("keys_unreadable", self.keys_unreadable);
        out.put_some("keys_stray", self.keys_stray);
    }
}

impl PhaseFigures {
    /// The columns [`PhaseFigures`] writes (what `merge` recomputes from summed logs).
    pub const COLUMNS: &[&str] = &[
        "throughput_before_ops_s",
        "throughput_during_ops_s",
        "throughput_after_ops_s",
        "latency_us_p99_before",
        "latency_us_p99_during",
        "latency_us_p99_after",
        "latency_us_p99_during_to_before",
    ];
}

impl FamilyColumns for PhaseFigures {
    fn write(&self, facts: &RunFacts<'_>, out: &mut ColumnWriter) {
        let throughput = |p: Option<PhaseStats>| p.map(|p| round3(p.throughput_ops_s));
        out.put_some("throughput_before_ops_s", throughput(self.before));
        out.put_some("throughput_during_ops_s", throughput(self.during));
        out.put_some("throughput_after_ops_s", throughput(self.after));
        if facts.per_op {
            let p99 = |p: Option<PhaseStats>| p.and_then(|p| p.p99).map(us_of_ns);
            let (before, during) = (p99(self.before), p99(self.during));
            out.put_some("latency_us_p99_before", before);
            out.put_some("latency_us_p99_during", during);
            out.put_some("latency_us_p99_after", p99(self.after));
            let ratio = match (during, before) {
                (Some(during), Some(before)) if before > 0.0 => Some(round6(during / before)),
                _ => None,
            };
            out.put_some("latency_us_p99_during_to_before", ratio);
        }
    }
}

impl SampleColumns for ShardingSample {
    fn write_change(&self, before: Option<&dyn SampleColumns>, out: &mut ColumnWriter) {
        let before = before
            .and_then(|b| (b as &dyn std::any::Any).downcast_ref::<ShardingSample>())
            .copied()
            .unwrap_or_default();
        let migrating = before.migrations_started > before.migrations_finished
            || self.migrations_started > before.migrations_started;
        out.put("migrating", migrating);
        out.put("keys_migrated", self.keys_migrated.saturating_sub(before.keys_migrated));
        out.put("misses", self.misses.saturating_sub(before.misses));
    }
}
