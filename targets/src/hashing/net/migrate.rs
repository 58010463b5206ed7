//! Copying the keys that move on a resize, while traffic goes on.
//!
//! The servers of the old placement are drained one after the other: `SCAN` finds a server's
//! keys, the new placement says which no longer belong there, and `MIGRATE host port "" 0
//! timeout KEYS ...` moves them to their new owner in batches of `migrate_batch`, at most
//! `migrate_rate` keys per second. One source at a time, because `MIGRATE` blocks its source
//! while it waits on the target: two servers migrating to each other at once (modulo moves
//! keys every way) would each wait for the other until `MIGRATE`'s timeout. `MIGRATE` without `REPLACE` copies a key only if the target lacks it
//! and deletes it from the source once copied; a key the target already has — a client wrote it
//! there after the resize — is refused (`BUSYKEY`) and stays on the source, where it is stale,
//! so it is deleted there. A batch that fails otherwise (a dead server, an I/O error) is retried
//! a few times and then left where it is, and counted.
//!
//! Which keys move is found on the servers, not taken from the prediction; the servers count
//! what they received (`INFO commandstats`, see [`super::client::restores`]), so the measured
//! movement is independent of the in-process model it is compared with.

use super::NetParams;
use super::client::{KeyNames, Scan};
use super::shards::ShardAddr;
use super::shared::Counters;
use crate::hashing::{NodeId, Placement, workload_key_hash};
use redis::aio::ConnectionManager;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// `MIGRATE`'s own timeout for talking to the target, in milliseconds (the source is blocked
/// meanwhile, so it is short).
const MIGRATE_TIMEOUT_MS: u64 = 1000;
/// Tries per batch before its keys are left where they are.
const MIGRATE_ATTEMPTS: u32 = 3;
/// Pause between tries.
const RETRY_PAUSE: Duration = Duration::from_millis(50);
/// Longest a migration may run before it gives up on the keys left.
pub const MIGRATION_TIMEOUT: Duration = Duration::from_secs(600);

/// What a migration's copying did, counted on the client side.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CopyOutcome {
    /// Keys sent in `MIGRATE` commands that the targets took or refused.
    pub sent: u64,
    /// Keys the target already had, deleted from the source.
    pub superseded: u64,
    /// Keys that could not be moved.
    pub failed: u64,
    pub notes: Vec<String>,
}

impl CopyOutcome {
    fn merge(&mut self, other: CopyOutcome) {
        self.sent += other.sent;
        self.superseded += other.superseded;
        self.failed += other.failed;
        self.notes.extend(other.notes);
    }
}

/// Drains the servers of the old placement into the new one.
pub struct Copier<'a, P> {
    names: &'a KeyNames,
    after: &'a P,
    shards: BTreeMap<NodeId, &'a ShardAddr>,
    batch: usize,
    rate: Option<f64>,
    abort: fn() -> bool,
    counters: &'a Counters,
    start: Instant,
    paced: AtomicU64,
}

impl<'a, P: Placement> Copier<'a, P> {
    /// A copier into placement `after`, over `shards`.
    pub(super) fn new(
        names: &'a KeyNames,
        after: &'a P,
        shards: &'a [ShardAddr],
        params: &NetParams,
        abort: fn() -> bool,
        counters: &'a Counters,
    ) -> Self {
        Copier {
            names,
            after,
            shards: shards.iter().map(|s| (s.node, s)).collect(),
            batch: params.migrate_batch as usize,
            rate: params.migrate_rate,
            abort,
            counters,
            start: Instant::now(),
            paced: AtomicU64::new(0),
        }
    }

    /// Drains every source, one after the other.
    pub async fn run(&self, sources: Vec<(NodeId, ConnectionManager)>) -> CopyOutcome {
        let mut total = CopyOutcome::default();
        for (node, conn) in sources {
            total.merge(self.drain(node, conn).await);
        }
        total
    }

    fn stopped(&self) -> bool {
        (self.abort)() || self.start.elapsed() > MIGRATION_TIMEOUT
    }

    /// Moves every key of `source` that the new placement puts elsewhere.
    async fn drain(&self, source: NodeId, mut conn: ConnectionManager) -> CopyOutcome {
        let mut outcome = CopyOutcome::default();
        let mut scan = Scan::new(self.names.pattern());
        let mut scan_conn = conn.clone();
        loop {
            if self.stopped() {
                outcome
                    .notes
                    .push(format!("shard {}: migration stopped (interrupted or over {MIGRATION_TIMEOUT:?})", source.0));
                break;
            }
            let batch = match scan.next(&mut scan_conn).await {
                Ok(Some(batch)) => batch,
                Ok(None) => break,
                Err(error) => {
                    outcome.notes.push(format!("shard {}: SCAN failed, keys left there: {error}", source.0));
                    break;
                }
            };
            for (target, keys) in self.moving(source, batch) {
                for chunk in keys.chunks(self.batch) {
                    outcome.merge(self.move_keys(&mut conn, source, target, chunk).await);
                    self.pace(chunk.len() as u64).await;
                }
            }
        }
        outcome
    }

    /// The names in `batch` whose owner under the new placement is not `source`, by owner.
    fn moving(&self, source: NodeId, batch: Vec<String>) -> BTreeMap<NodeId, Vec<String>> {
        let mut moving: BTreeMap<NodeId, Vec<String>> = BTreeMap::new();
        for name in batch {
            let Some(key) = self.names.parse(&name) else { continue };
            let owner = self.after.locate(workload_key_hash(key));
            if owner != source {
                moving.entry(owner).or_default().push(name);
            }
        }
        moving
    }

    /// One `MIGRATE` of `keys` from `source` to `target`, retried; refused keys are deleted
    /// from the source.
    async fn move_keys(
        &self,
        conn: &mut ConnectionManager,
        source: NodeId,
        target: NodeId,
        keys: &[String],
    ) -> CopyOutcome {
        let Some(to) = self.shards.get(&target) else {
            return CopyOutcome {
                failed: keys.len() as u64,
                notes: vec![format!("no server for node {}", target.0)],
                ..CopyOutcome::default()
            };
        };
        let mut last_error = String::new();
        for attempt in 0..MIGRATE_ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(RETRY_PAUSE).await;
            }
            let reply: Result<redis::Value, _> = redis::cmd("MIGRATE")
                .arg(to.addr.ip().to_string())
                .arg(to.addr.port())
                .arg("")
                .arg(0)
                .arg(MIGRATE_TIMEOUT_MS)
                .arg("KEYS")
                .arg(keys)
                .query_async(conn)
                .await;
            match reply {
                Ok(_) => return self.sent(keys.len() as u64, 0),
                Err(error) if error.to_string().contains("BUSYKEY") => {
                    let deleted: Result<u64, _> = redis::cmd("DEL").arg(keys).query_async(conn).await;
                    return match deleted {
                        Ok(deleted) => self.sent(keys.len() as u64, deleted),
                        Err(error) => CopyOutcome {
                            sent: keys.len() as u64,
                            notes: vec![format!("shard {}: stale copies left after BUSYKEY: {error}", source.0)],
                            ..CopyOutcome::default()
                        },
                    };
                }
                Err(error) => last_error = error.to_string(),
            }
        }
        CopyOutcome {
            failed: keys.len() as u64,
            notes: vec![format!(
                "shard {} -> {}: {} keys not moved after {MIGRATE_ATTEMPTS} tries: {last_error}",
                source.0,
                target.0,
                keys.len()
            )],
            ..CopyOutcome::default()
        }
    }

    fn sent(&self, sent: u64, superseded: u64) -> CopyOutcome {
        self.counters.keys_migrated.fetch_add(sent, Ordering::Relaxed);
        CopyOutcome { sent, superseded, ..CopyOutcome::default() }
    }

    /// Keeps the migration under `migrate_rate` keys per second, over every source.
    async fn pace(&self, keys: u64) {
        let Some(rate) = self.rate else { return };
        let total = self.paced.fetch_add(keys, Ordering::Relaxed) + keys;
        let due = self.start + Duration::from_secs_f64(total as f64 / rate).min(MIGRATION_TIMEOUT);
        tokio::time::sleep_until(due.into()).await;
    }
}
