//! The networked hashing system: the router (one [`NetWorker`] per driver worker) over the
//! shards, and the controller side — resizes with live migration, server faults — around an
//! in-process [`HashingSystem`] of the same strategy, which predicts each resize's movement
//! over the same key set and hands over the new placement.
//!
//! A run goes: [`NetSystem::load`] (before the driver starts), the driver's run with its
//! events, then [`NetSystem::verify`] and, for servers given by address, [`NetSystem::cleanup`].
//! Each of these runs in a tokio runtime of the caller's; the workers' connections are opened
//! in the driver's own.

use super::client::{KeyNames, connect, count, restores};
use super::ledger::{KeyCheck, LOADED_ID, Ledger, id_of, stamp};
use super::migrate::{Copier, CopyOutcome};
use super::routing::{ActiveSlot, Routing};
use super::shards::{ShardAddr, ShardPool};
use super::shared::{Counters, Shared};
use super::worker::NetWorker;
use super::{MigrationReport, NetParams, ShardingMetrics, ShardingSample, Verification};
use crate::hashing::system::HashingSystem;
use crate::hashing::{NodeId, Placement, workload_key_hash};
use crate::sync::Recover as _;
use crate::target::{EventReport, EventStatus, FamilyMetrics, ResizeReport, Sample, System};
use arc_swap::ArcSwap;
use redis::aio::ConnectionManager;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use workloads::events::HashingAction;
use workloads::{Event, EventAction, Fault};

/// Keys per pipeline when loading and verifying.
const PIPELINE_KEYS: usize = 1000;
/// How long a resize waits for workers to drop the table it replaced (an operation in flight
/// ends within the response timeout; one abandoned by the driver never does).
const GRACE_TIMEOUT: Duration = Duration::from_secs(10);
/// How often that wait looks again.
const GRACE_POLL: Duration = Duration::from_micros(200);

/// What happened outside the workers: loading, resizes, faults.
#[derive(Default)]
struct Log {
    keys_loaded: u64,
    load_time: Duration,
    migrations: Vec<MigrationReport>,
    notes: Vec<String>,
}

/// Client-side sharding of strategy `P` over Redis servers.
pub struct NetSystem<P: Placement> {
    shared: Arc<Shared<P>>,
    slots: Vec<Arc<ActiveSlot>>,
    model: Arc<HashingSystem<P>>,
    pool: Arc<Mutex<ShardPool>>,
    keys: u64,
    params: NetParams,
    abort: fn() -> bool,
    log: Arc<Mutex<Log>>,
}

impl<P: Placement> NetSystem<P> {
    /// The router over `pool` for keys `0..keys` (placed by `model`), with `workers` workers,
    /// values of `value_size` bytes, key names under `namespace`; `abort` says when to give up
    /// a migration (Ctrl-C).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        model: HashingSystem<P>,
        pool: ShardPool,
        keys: u64,
        workers: u32,
        value_size: usize,
        namespace: &str,
        params: NetParams,
        abort: fn() -> bool,
    ) -> Self {
        let routing = Routing::new(0, model.placement(), None, &pool.addrs());
        let shared = Shared {
            routing: ArcSwap::from_pointee(routing),
            epoch: AtomicU64::new(0),
            ledger: Ledger::default(),
            names: KeyNames::new(namespace),
            value_size,
            counters: Counters::default(),
        };
        NetSystem {
            shared: Arc::new(shared),
            slots: (0..workers).map(|_| Arc::default()).collect(),
            model: Arc::new(model),
            pool: Arc::new(Mutex::new(pool)),
            keys,
            params,
            abort,
            log: Arc::default(),
        }
    }

    /// What happened outside the workers so far (shards that did not answer, restarts).
    pub fn notes(&self) -> Vec<String> {
        self.log.locked().notes.clone()
    }

    fn note(&self, note: String) {
        tracing::info!("{note}");
        self.log.locked().notes.push(note);
    }

    /// Every server of the run.
    fn shards(&self) -> Vec<ShardAddr> {
        self.pool.locked().addrs()
    }

    /// Pids of the servers started for this run.
    pub fn server_pids(&self) -> Vec<u32> {
        self.pool.locked().pids()
    }

    /// Every key's owner under the current table, grouped by owner.
    fn keys_by_owner(&self) -> BTreeMap<NodeId, Vec<u64>> {
        let routing = self.shared.routing.load_full();
        let mut groups: BTreeMap<NodeId, Vec<u64>> = BTreeMap::new();
        for key in 0..self.keys {
            groups.entry(routing.current.locate(workload_key_hash(key))).or_default().push(key);
        }
        groups
    }

    /// Loads every key with its initial value (write id 0), pipelined, all shards at once. A
    /// shard that does not answer is noted and its keys are not expected afterwards.
    pub async fn load(&self) -> (u64, Duration) {
        let start = Instant::now();
        let routing = self.shared.routing.load_full();
        let groups = self.keys_by_owner();
        let loads = groups.iter().map(|(node, keys)| self.load_shard(routing.shard(*node).clone(), keys));
        let loaded: u64 = futures_util::future::join_all(loads).await.into_iter().sum();
        let elapsed = start.elapsed();
        let mut log = self.log.locked();
        (log.keys_loaded, log.load_time) = (loaded, elapsed);
        (loaded, elapsed)
    }

    async fn load_shard(&self, shard: ShardAddr, keys: &[u64]) -> u64 {
        let mut value = Vec::new();
        stamp(&mut value, LOADED_ID, self.shared.value_size);
        let mut conn = match connect(&shard).await {
            Ok(conn) => conn,
            Err(error) => {
                keys.iter().for_each(|key| self.shared.ledger.not_loaded(*key));
                self.note(format!("{error}: its {} keys were not loaded; its operations fail", keys.len()));
                return 0;
            }
        };
        let mut loaded = 0;
        for chunk in keys.chunks(PIPELINE_KEYS) {
            let mut pipe = redis::pipe();
            for key in chunk {
                pipe.cmd("SET").arg(self.shared.names.name(*key)).arg(value.as_slice()).ignore();
            }
            match pipe.query_async::<()>(&mut conn).await {
                Ok(()) => loaded += chunk.len() as u64,
                Err(error) => {
                    chunk.iter().for_each(|key| self.shared.ledger.not_loaded(*key));
                    self.note(format!("loading {} keys on {shard} failed: {error}", chunk.len()));
                }
            }
        }
        loaded
    }

    /// Publishes a new table and returns its epoch.
    fn publish(&self, current: Arc<P>, previous: Option<Arc<P>>, shards: &[ShardAddr]) -> u64 {
        let epoch = self.shared.epoch.load(Ordering::SeqCst) + 1;
        self.shared.routing.store(Arc::new(Routing::new(epoch, current, previous, shards)));
        self.shared.epoch.store(epoch, Ordering::SeqCst);
        epoch
    }

    /// Waits until no worker's operation in flight uses a table older than `epoch`.
    async fn wait_for_workers(&self, epoch: u64) -> bool {
        let deadline = Instant::now() + GRACE_TIMEOUT;
        while !self.slots.iter().all(|slot| slot.caught_up(epoch)) {
            if Instant::now() > deadline {
                return false;
            }
            tokio::time::sleep(GRACE_POLL).await;
        }
        true
    }

    /// Runs `f` on the pool in a blocking thread (starting and killing servers waits on them).
    async fn with_pool<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut ShardPool) -> Result<T, String> + Send + 'static,
    ) -> Result<T, String> {
        let pool = Arc::clone(&self.pool);
        tokio::task::spawn_blocking(move || f(&mut pool.locked()))
            .await
            .unwrap_or_else(|e| Err(format!("the server task failed: {e}")))
    }

    async fn resize(&self, action: HashingAction) -> EventReport {
        let before = self.model.placement();
        if let HashingAction::AddNode { node } = action {
            let id = node.map_or_else(|| before.nodes().next_free_id(), NodeId);
            if let Err(message) = self.with_pool(move |pool| pool.ensure(id)).await {
                return EventReport { status: EventStatus::Error, message: Some(message), resize: None };
            }
        }
        let model = Arc::clone(&self.model);
        let predicted = match tokio::task::spawn_blocking(move || model.apply(action)).await {
            Ok(predicted) => predicted,
            Err(error) => {
                let message = format!("the in-process prediction failed: {error}");
                return EventReport { status: EventStatus::Error, message: Some(message), resize: None };
            }
        };
        let Some(mut resize) = predicted.resize.clone() else { return predicted };
        let after = self.model.placement();
        let report = self.migrate(before, after, &resize).await;
        resize.keys_moved_fraction = report.keys_moved as f64 / self.keys.max(1) as f64;
        let message = report.describe();
        self.log.locked().migrations.push(report);
        EventReport { status: EventStatus::Ok, message: Some(message), resize: Some(resize) }
    }

    /// Moves the keys whose owner changed from `before` to `after`, while traffic goes on.
    async fn migrate(&self, before: Arc<P>, after: Arc<P>, predicted: &ResizeReport) -> MigrationReport {
        let start = Instant::now();
        let shards = self.shards();
        let mut report = MigrationReport {
            keys_moved_predicted: (predicted.keys_moved_fraction * self.keys as f64).round() as u64,
            keys_moved_ideal: predicted.keys_moved_ideal_fraction * self.keys as f64,
            ..MigrationReport::default()
        };
        let conns = self.migration_connections(&shards, &before, &after, &mut report).await;
        let restores_before = total_restores(&conns, after.nodes().nodes().iter().map(|n| n.id)).await;
        let epoch = self.publish(Arc::clone(&after), Some(Arc::clone(&before)), &shards);
        self.shared.counters.migrations_started.fetch_add(1, Ordering::Relaxed);
        if !self.wait_for_workers(epoch).await {
            report.notes.push(format!("a worker kept the old table past {GRACE_TIMEOUT:?}; copying anyway"));
        }
        let copier = Copier::new(&self.shared.names, &*after, &shards, &self.params, self.abort, &self.shared.counters);
        let sources = before.nodes().nodes().iter().filter_map(|n| conns.get(&n.id).map(|c| (n.id, c.clone())));
        let copied = copier.run(sources.collect()).await;
        let restores_after = total_restores(&conns, after.nodes().nodes().iter().map(|n| n.id)).await;
        self.publish(after, None, &shards);
        self.shared.counters.migrations_finished.fetch_add(1, Ordering::Relaxed);
        report.record(copied, restores_before, restores_after, start.elapsed());
        report
    }

    /// The migration's own connection to every shard of either placement; a shard that does
    /// not answer is noted (its keys cannot move).
    async fn migration_connections(
        &self,
        shards: &[ShardAddr],
        before: &P,
        after: &P,
        report: &mut MigrationReport,
    ) -> BTreeMap<NodeId, ConnectionManager> {
        let mut conns = BTreeMap::new();
        let nodes = before.nodes().nodes().iter().chain(after.nodes().nodes()).map(|n| n.id);
        for node in nodes.collect::<std::collections::BTreeSet<_>>() {
            let Some(shard) = shards.iter().find(|s| s.node == node) else { continue };
            match connect(shard).await {
                Ok(conn) => {
                    conns.insert(node, conn);
                }
                Err(error) => report.notes.push(error),
            }
        }
        conns
    }

    /// `kill-server` and `restart-server`: kills a managed server, and starts it again after
    /// `restart_after` (at once for a restart).
    async fn kill(&self, node: u32, restart_after: Option<Duration>) -> EventReport {
        let id = NodeId(node);
        let killed = match self.with_pool(move |pool| pool.kill(id)).await {
            Ok(shard) => shard,
            Err(message) => return EventReport::unsupported(message),
        };
        let message = match restart_after {
            None => format!("killed {killed} (SIGKILL); it stays down"),
            Some(delay) if delay.is_zero() => match self.with_pool(move |pool| pool.restart(id)).await {
                Ok(_) => format!("killed {killed} (SIGKILL) and restarted it {}", self.state_after_restart()),
                Err(error) => {
                    let message = format!("killed {killed} but could not restart it: {error}");
                    return EventReport { status: EventStatus::Error, message: Some(message), resize: None };
                }
            },
            Some(delay) => {
                self.restart_later(id, delay);
                format!("killed {killed} (SIGKILL); restarting it {} after {delay:?}", self.state_after_restart())
            }
        };
        EventReport { status: EventStatus::Ok, message: Some(message), resize: None }
    }

    fn state_after_restart(&self) -> &'static str {
        match self.params.persistence {
            crate::servers::redis::Persistence::Off => "empty (persistence off)",
            crate::servers::redis::Persistence::AppendFsyncAlways => "with its append-only file",
        }
    }

    /// Restarts `node` after `delay`, in the background (the restart is noted; a run that
    /// ends first leaves the shard down).
    fn restart_later(&self, node: NodeId, delay: Duration) {
        let (pool, log) = (Arc::clone(&self.pool), Arc::clone(&self.log));
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let restarted = tokio::task::spawn_blocking(move || pool.locked().restart(node)).await;
            let note = match restarted {
                Ok(Ok(shard)) => format!("restarted {shard} {delay:?} after its kill"),
                Ok(Err(error)) => format!("could not restart shard {}: {error}", node.0),
                Err(error) => format!("could not restart shard {}: {error}", node.0),
            };
            tracing::info!("{note}");
            log.locked().notes.push(note);
        });
    }

    /// Reads every key at its owner and checks it against the ledger; then counts the run's
    /// keys on every server, to find copies left where they no longer belong.
    pub async fn verify(&self) -> Verification {
        let routing = self.shared.routing.load_full();
        let groups = self.keys_by_owner();
        let checks = groups.iter().map(|(node, keys)| self.verify_shard(routing.shard(*node).clone(), keys));
        let mut verification = Verification::default();
        for (node, found) in groups.keys().zip(futures_util::future::join_all(checks).await) {
            verification.add(*node, found);
        }
        verification.keys_stray = self.count_all().await.map(|total| total.saturating_sub(verification.keys_present));
        verification
    }

    async fn verify_shard(&self, shard: ShardAddr, keys: &[u64]) -> ShardCheck {
        let mut found = ShardCheck::default();
        let expected = |keys: &[u64]| keys.iter().filter(|k| self.shared.ledger.expected(**k)).count() as u64;
        let mut conn = match connect(&shard).await {
            Ok(conn) => conn,
            Err(_) => {
                found.unreadable = expected(keys);
                found.checked = keys.len() as u64;
                return found;
            }
        };
        for chunk in keys.chunks(PIPELINE_KEYS) {
            found.checked += chunk.len() as u64;
            let mut pipe = redis::pipe();
            for key in chunk {
                pipe.cmd("GET").arg(self.shared.names.name(*key));
            }
            let values: Vec<Option<Vec<u8>>> = match pipe.query_async(&mut conn).await {
                Ok(values) => values,
                Err(_) => {
                    found.unreadable += expected(chunk);
                    continue;
                }
            };
            for (key, value) in chunk.iter().zip(values) {
                found.present += u64::from(value.is_some());
                // A value too short to carry an id is no value this run wrote.
                let id = value.as_deref().map(|v| id_of(v).unwrap_or(u64::MAX));
                match self.shared.ledger.check(*key, id) {
                    KeyCheck::Ok => {}
                    KeyCheck::Missing => found.missing += 1,
                    KeyCheck::Stale => found.stale += 1,
                }
            }
        }
        found
    }

    /// The run's keys on every server, summed; `None` if some server did not answer.
    async fn count_all(&self) -> Option<u64> {
        let pattern = self.shared.names.pattern();
        let mut total = 0;
        for shard in self.shards() {
            let mut conn = connect(&shard).await.ok()?;
            total += count(&mut conn, &pattern).await.ok()?;
        }
        Some(total)
    }

    /// Removes the run's keys from every server (for servers given by address); returns how
    /// many there were, or what failed (the other servers are still cleaned).
    pub async fn cleanup(&self) -> Result<u64, String> {
        let mut removed = 0;
        let mut failures = Vec::new();
        for shard in self.shards() {
            let unlinked = match connect(&shard).await {
                Ok(mut conn) => super::client::unlink_all(&mut conn, &self.shared.names.pattern())
                    .await
                    .map_err(|e| format!("{shard}: {e}")),
                Err(error) => Err(error),
            };
            match unlinked {
                Ok(count) => removed += count,
                Err(error) => failures.push(error),
            }
        }
        if failures.is_empty() { Ok(removed) } else { Err(failures.join("; ")) }
    }

    /// Whether the servers were started by the harness.
    pub fn managed(&self) -> bool {
        self.pool.locked().is_managed()
    }
}

/// What the verification found on one shard.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct ShardCheck {
    pub checked: u64,
    pub present: u64,
    pub missing: u64,
    pub stale: u64,
    pub unreadable: u64,
}

/// Server-side `RESTORE` counts (calls, failed calls) summed over `nodes`.
async fn total_restores(
    conns: &BTreeMap<NodeId, ConnectionManager>,
    nodes: impl Iterator<Item = NodeId>,
) -> (u64, u64) {
    let mut total = (0, 0);
    for node in nodes {
        if let Some(conn) = conns.get(&node)
            && let Ok((calls, failed)) = restores(&mut conn.clone()).await
        {
            total = (total.0 + calls, total.1 + failed);
        }
    }
    total
}

impl MigrationReport {
    fn record(&mut self, copied: CopyOutcome, before: (u64, u64), after: (u64, u64), duration: Duration) {
        self.keys_moved = after.0.saturating_sub(before.0);
        self.keys_superseded = after.1.saturating_sub(before.1);
        self.keys_sent = copied.sent;
        self.keys_not_moved = copied.failed;
        self.duration = duration;
        self.notes.extend(copied.notes);
    }
}

impl<P: Placement> System for NetSystem<P> {
    type Worker = NetWorker<P>;

    fn worker(&self, index: u32) -> NetWorker<P> {
        NetWorker::new(index, Arc::clone(&self.shared), Arc::clone(&self.slots[index as usize]))
    }

    async fn apply_event(&self, event: &Event) -> EventReport {
        match event.action {
            EventAction::Hashing(action) => self.resize(action).await,
            EventAction::Fault(Fault::KillServer { node, restart_after }) => self.kill(node, restart_after).await,
            EventAction::Fault(Fault::RestartServer { node }) => self.kill(node, Some(Duration::ZERO)).await,
            other => EventReport::unsupported(format!("networked hashing does not do `{}`", other.label())),
        }
    }

    fn metrics(&self) -> FamilyMetrics {
        let log = self.log.locked();
        let shards = self.shards();
        let recoveries = shards.iter().flat_map(|s| s.health.recoveries()).collect();
        let down: Vec<String> = shards.iter().filter(|s| s.health.is_down()).map(ToString::to_string).collect();
        let mut notes = log.notes.clone();
        if !down.is_empty() {
            notes.push(format!("down at the end of the run: {}", down.join(", ")));
        }
        FamilyMetrics { notes, ..self.model.metrics() }.with_columns(ShardingMetrics {
            keys_loaded: log.keys_loaded,
            load_time: log.load_time,
            migrations: log.migrations.clone(),
            misses_during_migration: self.shared.counters.misses_migrating.load(Ordering::Relaxed),
            recoveries,
        })
    }

    fn sample(&self) -> Sample {
        let counters = &self.shared.counters;
        Sample(Some(std::sync::Arc::new(ShardingSample {
            keys_migrated: counters.keys_migrated.load(Ordering::Relaxed),
            migrations_started: counters.migrations_started.load(Ordering::Relaxed),
            migrations_finished: counters.migrations_finished.load(Ordering::Relaxed),
            misses: counters.misses.load(Ordering::Relaxed),
        })))
    }
}
