//! The networked version of the hashing family: client-side sharding over N real Redis
//! servers, the pattern of ketama clients and twemproxy. The router places each key with any
//! hashing strategy of this family (the same [`Placement`](super::Placement) code and the same
//! key hash as in-process) and talks to the owner directly.
//!
//! - [`shards`]: the servers — started on loopback by the harness, or given by address.
//! - [`routing`]: the routing table, the read rule during a migration, and how a resize waits
//!   for workers still using the old table.
//! - [`worker`]: a driver worker: `GET`/`SET` per operation, or pipelined per batch.
//! - [`migrate`]: moving the keys a resize moves, with `MIGRATE`, while traffic goes on.
//! - [`ledger`]: every acknowledged write, for the verification pass after the run.
//! - [`system`]: loading before the run, resizes and faults during it, verification after.
//! - [`client`]: connections, error kinds, key names, `SCAN` and server-side counters.
//! - [`params`]: the parameters of this version (`migrate_batch`, `migrate_rate`,
//!   `redis_persistence`).
//!
//! What it measures beyond the driver's figures ([`ShardingMetrics`]): keys loaded; for each
//! resize, the keys moved as the servers counted them against the in-process prediction over
//! the same key set and against the ideal, and how long the migration took; reads that found
//! no value (misses), during migrations and overall; the time a killed shard took to answer
//! again after its restart; and the verification pass: keys checked, lost (missing, or holding
//! an older value than an acknowledged write), unreadable, and copies left on servers that no
//! longer own them.

pub mod client;
pub mod columns;
pub mod ledger;
pub mod migrate;
pub mod params;
pub mod routing;
pub mod shards;
pub mod shared;
pub mod system;
pub mod worker;

pub use params::NetParams;
pub use system::NetSystem;

use std::time::Duration;

/// Running counters sampled into the time series (cumulative since the run started).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ShardingSample {
    /// Keys sent by migrations so far.
    pub keys_migrated: u64,
    pub migrations_started: u64,
    pub migrations_finished: u64,
    /// Reads that found no value.
    pub misses: u64,
}

/// What one resize's migration did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MigrationReport {
    /// Keys the new owners received, as the servers counted them (`RESTORE` calls, those
    /// refused because a newer value was there included).
    pub keys_moved: u64,
    /// Keys whose owner changes under the in-process strategy over the same key set.
    pub keys_moved_predicted: u64,
    /// The least any strategy must move (the ideal fraction of the keys).
    pub keys_moved_ideal: f64,
    /// Of the keys moved, those whose new owner already held a newer value written by a
    /// client during the migration (refused by the target, deleted from the source).
    pub keys_superseded: u64,
    /// Keys sent in `MIGRATE` commands, counted by the client.
    pub keys_sent: u64,
    /// Keys the migration could not move.
    pub keys_not_moved: u64,
    /// From the resize's start to the last key moved.
    pub duration: Duration,
    pub notes: Vec<String>,
}

impl MigrationReport {
    /// One line for the event's message.
    pub fn describe(&self) -> String {
        let mut text = format!(
            "moved {} keys (servers' count; predicted {}, ideal {:.0}) in {:.1} ms; {} of them already rewritten on \
             their new owner",
            self.keys_moved,
            self.keys_moved_predicted,
            self.keys_moved_ideal,
            self.duration.as_secs_f64() * 1e3,
            self.keys_superseded
        );
        if self.keys_not_moved > 0 {
            text.push_str(&format!("; {} keys not moved", self.keys_not_moved));
        }
        for note in &self.notes {
            text.push_str("; ");
            text.push_str(note);
        }
        text
    }
}

/// What the verification pass found.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Verification {
    /// Keys read back.
    pub keys_checked: u64,
    /// Keys found on their owner.
    pub keys_present: u64,
    /// Keys missing although a write of them was acknowledged (or they were loaded).
    pub keys_missing: u64,
    /// Keys holding a value older than an acknowledged write.
    pub keys_stale: u64,
    /// Expected keys whose owner did not answer.
    pub keys_unreadable: u64,
    /// The run's keys on the servers beyond those found on their owners: copies a migration
    /// left behind. `None` if some server did not answer.
    pub keys_stray: Option<u64>,
    /// Lost keys (missing or stale) by owner: (node id, count), only nodes with losses.
    pub lost_by_shard: Vec<(u32, u64)>,
}

impl Verification {
    /// Keys whose last acknowledged value is not there.
    pub fn keys_lost(&self) -> u64 {
        self.keys_missing + self.keys_stale
    }

    fn add(&mut self, node: crate::hashing::NodeId, found: system::ShardCheck) {
        self.keys_checked += found.checked;
        self.keys_present += found.present;
        self.keys_missing += found.missing;
        self.keys_stale += found.stale;
        self.keys_unreadable += found.unreadable;
        if found.missing + found.stale > 0 {
            self.lost_by_shard.push((node.0, found.missing + found.stale));
        }
    }

    /// One line for the row's message.
    pub fn describe(&self) -> String {
        let mut text = format!("verified {} keys: {} lost", self.keys_checked, self.keys_lost());
        if self.keys_lost() > 0 {
            let shards: Vec<String> = self.lost_by_shard.iter().map(|(n, c)| format!("shard {n}: {c}")).collect();
            text.push_str(&format!(
                " ({} missing, {} older value; {})",
                self.keys_missing,
                self.keys_stale,
                shards.join(", ")
            ));
        }
        if self.keys_unreadable > 0 {
            text.push_str(&format!(", {} unreadable", self.keys_unreadable));
        }
        text
    }
}

/// Throughput and tail latency over part of the measured phase.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PhaseStats {
    /// Successful operations per second.
    pub throughput_ops_s: f64,
    /// 99th percentile of the recorded values (µs per operation, or ns per operation when
    /// timed in batches); `None` without operations.
    pub p99: Option<u64>,
}

/// The measured phase cut by the migrations: before the first, during any, after the last
/// (intervals of the time series, by overlap with each migration's span).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PhaseFigures {
    pub before: Option<PhaseStats>,
    pub during: Option<PhaseStats>,
    pub after: Option<PhaseStats>,
}

/// The networked hashing family's measurements of one run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ShardingMetrics {
    pub keys_loaded: u64,
    pub load_time: Duration,
    /// One per resize applied, in order.
    pub migrations: Vec<MigrationReport>,
    /// Reads that found no value while a migration ran.
    pub misses_during_migration: u64,
    /// From each server kill to the first operation the restarted server answered.
    pub recoveries: Vec<Duration>,
}
