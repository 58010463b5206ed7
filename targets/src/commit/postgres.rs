//! `engine:postgres-2pc`: the same transactions as our two-phase commit, run by PostgreSQL's
//! prepared transactions across P databases of one local server — the real-engine row the
//! protocol is set beside.
//!
//! Each participant is a database `p<i>` holding its own `accounts(id, balance)` (one row per
//! key, balance 0) and an `applied(gid)` table. Each driver worker is a client that is its own
//! coordinator, with one session per participant:
//!
//! 1. Phase 1, sent to every participant at once, one round trip each: `BEGIN`, lock the keys
//!    with `SELECT … FOR UPDATE NOWAIT` (a conflict votes no at once, as our participants do),
//!    apply the amounts, insert the transaction's id into `applied`, `PREPARE TRANSACTION`
//!    (PostgreSQL flushes its WAL: the forced prepare record). A participant that only reads
//!    runs one `SELECT` and is done (the read-only vote).
//! 2. All prepared: the client records its decision (in memory: unlike our coordinator it
//!    keeps no decision log, as an application without a transaction manager would), then
//!    `COMMIT PREPARED` everywhere at once and waits for every answer. Any no: `ROLLBACK
//!    PREPARED` where prepared, `ROLLBACK` where the batch failed; the abort is a failure of
//!    kind `conflict` (lock not available, serialization failure, deadlock) or `failure`.
//!
//! So a commit's latency here includes phase 2, while our coordinator answers its client at
//! the commit point; the row's notes say so. Faults and events do not apply to this row.
//!
//! After the run, the checkers: prepared transactions still in `pg_prepared_xacts` (a client
//! that timed out between the phases) are resolved by the recorded decision, or rolled back
//! when there is none (presumed abort), and counted as in doubt; every transaction decided
//! committed must then have its id in `applied` at every participant it wrote, and every
//! other at none; and the balances of all databases must sum to zero. WAL syncs per
//! transaction come from `pg_stat_wal`.

use super::params::CommitParams;
use super::workload::{Parts, TxnBuilder};
use super::{Access, KeyOp};
use crate::commit::columns::CommitMetrics;
use crate::protocol::ProtocolError;
use crate::servers::postgres::{Login, PostgresConfig, PostgresServer};
use crate::sync::Recover as _;
use crate::target::{EventReport, FamilyMetrics, Op, OpError, OpResult, System, Worker};
use crate::transport::PeerId;
use futures_util::future::join_all;
use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, NoTls};
use workloads::{Event, Workload};

/// Rows loaded per `INSERT … SELECT generate_series` statement.
const LOAD_CHUNK_ROWS: u64 = 1_000_000;
/// The most keys a run may load per participant.
pub const MAX_KEYS: u64 = 10_000_000;

/// What a client decided about one transaction that writes.
#[derive(Clone, Debug)]
struct Decision {
    gid: String,
    writers: Vec<PeerId>,
    committed: bool,
}

/// The `engine:postgres-2pc` system: a managed server with P participant databases.
pub struct PostgresSystem {
    // Declared first so that the sessions' runtime goes before the server.
    runtime: tokio::runtime::Runtime,
    server: PostgresServer,
    params: CommitParams,
    workload: Workload,
    decisions: Arc<Mutex<Vec<Decision>>>,
    wal_syncs_at_start: Option<i64>,
}

impl PostgresSystem {
    /// Starts a server sized for `workload`, creates and loads the participant databases.
    pub fn start(params: CommitParams, workload: &Workload) -> Result<Self, ProtocolError> {
        if workload.keys > MAX_KEYS {
            return Err(ProtocolError::Cluster(format!(
                "engine:postgres-2pc loads every key into every participant: keys must be at most {MAX_KEYS}"
            )));
        }
        let workers = workload.shape.workers();
        let config = PostgresConfig {
            fsync: params.engine_fsync,
            // A client prepares at most one transaction per participant at a time; leftovers
            // of clients that timed out wait for the end of the run.
            max_prepared_transactions: (4 * workers).max(64),
            max_connections: workers * params.participants + 20,
        };
        let server = PostgresServer::start(config).map_err(|e| ProtocolError::Cluster(e.to_string()))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| ProtocolError::Cluster(format!("cannot start a runtime: {e}")))?;
        let access = server.access().clone();
        let wal_syncs_at_start = runtime.block_on(create_databases(&access, params.participants, workload.keys))?;
        Ok(PostgresSystem {
            runtime,
            server,
            params,
            workload: workload.clone(),
            decisions: Arc::default(),
            wal_syncs_at_start,
        })
    }

    /// Where the server listens.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// Where and as whom to connect (for tests).
    pub fn access(&self) -> &Login {
        self.server.access()
    }

    fn finish(&self) -> Result<FamilyMetrics, ProtocolError> {
        let decisions = self.decisions.locked().clone();
        let access = self.server.access().clone();
        let participants = self.params.participants;
        let checked = self.runtime.block_on(check(&access, participants, &decisions))?;
        let mut notes = vec![
            "engine: a commit's latency includes COMMIT PREPARED (phase 2); the client keeps no decision log".into(),
        ];
        notes.extend(checked.described.iter().cloned());
        let txns = decisions.len() as u64;
        let syncs = checked.wal_syncs.zip(self.wal_syncs_at_start).map(|(end, start)| end - start);
        Ok(FamilyMetrics::safety_checked(checked.violations, notes).with_columns(CommitMetrics {
            transactions: txns,
            log_syncs_per_txn: syncs.filter(|_| txns > 0).map(|s| s as f64 / txns as f64),
            in_doubt_txns: checked.in_doubt,
            ..CommitMetrics::default()
        }))
    }
}

impl System for PostgresSystem {
    type Worker = PostgresWorker;

    fn worker(&self, index: u32) -> PostgresWorker {
        let builder = TxnBuilder::new(&self.workload, self.params, index, self.workload.shape.workers());
        PostgresWorker {
            access: self.server.access().clone(),
            index,
            participants: self.params.participants,
            timeout: self.params.client_timeout,
            builder,
            sessions: None,
            seq: 0,
            decisions: Vec::new(),
            sink: Arc::clone(&self.decisions),
        }
    }

    async fn apply_event(&self, event: &Event) -> EventReport {
        EventReport::unsupported(format!("engine:postgres-2pc does not do `{}`", event.action.label()))
    }

    fn metrics(&self) -> FamilyMetrics {
        self.finish().unwrap_or_else(|error| FamilyMetrics {
            notes: vec![format!("cannot check the run: {error}")],
            ..FamilyMetrics::default()
        })
    }
}

/// Opens a session on database `db`; its connection runs on the current runtime.
async fn connect(access: &Login, db: &str) -> Result<Client, tokio_postgres::Error> {
    let (client, connection) = access.config(db).connect(NoTls).await?;
    tokio::spawn(async move {
        if let Err(error) = connection.await {
            tracing::debug!("postgres session ended: {error}");
        }
    });
    Ok(client)
}

fn database(participant: PeerId) -> String {
    format!("p{participant}")
}

fn sql_error(what: &str) -> impl Fn(tokio_postgres::Error) -> ProtocolError + '_ {
    move |error| ProtocolError::Cluster(format!("postgres: {what}: {error}"))
}

/// Creates the participants' databases and loads `keys` accounts into each; returns the
/// server's WAL sync count so far.
async fn create_databases(access: &Login, participants: u32, keys: u64) -> Result<Option<i64>, ProtocolError> {
    let admin = connect(access, "postgres").await.map_err(sql_error("connect"))?;
    for participant in 0..participants {
        let db = database(participant);
        admin.batch_execute(&format!("CREATE DATABASE {db}")).await.map_err(sql_error("create database"))?;
        let client = connect(access, &db).await.map_err(sql_error("connect"))?;
        client
            .batch_execute(
                "CREATE TABLE accounts (id bigint PRIMARY KEY, balance bigint NOT NULL);
                 CREATE TABLE applied (gid text PRIMARY KEY)",
            )
            .await
            .map_err(sql_error("create tables"))?;
        for first in (0..keys).step_by(LOAD_CHUNK_ROWS as usize) {
            let last = (first + LOAD_CHUNK_ROWS).min(keys) - 1;
            let load = format!("INSERT INTO accounts SELECT g, 0 FROM generate_series({first}, {last}) g");
            client.batch_execute(&load).await.map_err(sql_error("load accounts"))?;
        }
        client.batch_execute("VACUUM ANALYZE accounts").await.map_err(sql_error("vacuum"))?;
    }
    Ok(wal_syncs(&admin).await)
}

/// The server's WAL syncs so far (`pg_stat_wal`, PostgreSQL 14 and later).
async fn wal_syncs(client: &Client) -> Option<i64> {
    client.query_one("SELECT wal_sync FROM pg_stat_wal", &[]).await.ok().map(|row| row.get(0))
}

/// A driver worker: one client, its own coordinator, with a session per participant.
pub struct PostgresWorker {
    access: Login,
    index: u32,
    participants: u32,
    timeout: std::time::Duration,
    builder: TxnBuilder,
    /// Sessions by participant, opened at the first call and again after a failure.
    sessions: Option<Vec<Client>>,
    seq: u64,
    decisions: Vec<Decision>,
    sink: Arc<Mutex<Vec<Decision>>>,
}

/// A participant's answer to phase 1.
enum Vote {
    Prepared,
    ReadOnly,
    No(tokio_postgres::Error),
}

impl PostgresWorker {
    async fn open_sessions(&mut self) -> Result<(), OpError> {
        if self.sessions.is_none() {
            let dbs: Vec<String> = (0..self.participants).map(database).collect();
            let opened = join_all(dbs.iter().map(|db| connect(&self.access, db))).await;
            let sessions = opened.into_iter().collect::<Result<Vec<_>, _>>().map_err(failure)?;
            self.sessions = Some(sessions);
        }
        Ok(())
    }

    /// Runs one transaction; the outcome is the client's.
    async fn transact(&mut self, parts: Parts) -> OpResult {
        self.seq += 1;
        let gid = format!("sb-{}-{}", self.index, self.seq);
        self.open_sessions().await?;
        let sessions = self.sessions.as_deref().expect("just opened");
        let phase1 = parts.iter().map(|(p, ops)| vote(&sessions[*p as usize], &gid, *p, ops));
        let votes = join_all(phase1).await;
        let writers: Vec<PeerId> =
            parts.iter().zip(&votes).filter(|(_, v)| matches!(v, Vote::Prepared)).map(|((p, _), _)| *p).collect();
        let first_no = votes.iter().position(|v| matches!(v, Vote::No(_)));
        let Some(no) = first_no else {
            if !writers.is_empty() {
                self.decisions.push(Decision { gid: gid.clone(), writers: writers.clone(), committed: true });
            }
            let commits: Vec<(PeerId, String)> =
                writers.iter().map(|p| (*p, format!("COMMIT PREPARED '{}'", prepared_gid(&gid, *p)))).collect();
            let answers = join_all(commits.iter().map(|(p, sql)| sessions[*p as usize].batch_execute(sql))).await;
            return answers.into_iter().collect::<Result<(), _>>().map_err(failure);
        };
        if !writers.is_empty() {
            self.decisions.push(Decision { gid: gid.clone(), writers: writers.clone(), committed: false });
        }
        let undo: Vec<(PeerId, String)> = parts
            .iter()
            .zip(&votes)
            .filter_map(|((p, _), vote)| match vote {
                Vote::Prepared => Some((*p, format!("ROLLBACK PREPARED '{}'", prepared_gid(&gid, *p)))),
                Vote::No(_) => Some((*p, "ROLLBACK".to_string())),
                Vote::ReadOnly => None,
            })
            .collect();
        join_all(undo.iter().map(|(p, sql)| sessions[*p as usize].batch_execute(sql)))
            .await
            .into_iter()
            .collect::<Result<(), _>>()
            .map_err(failure)?;
        let Vote::No(error) = &votes[no] else { unreachable!("position found a no") };
        Err(abort_cause(error))
    }
}

/// The id of transaction `gid` prepared at `participant`: prepared-transaction ids are unique
/// across the whole server, and every participant is a database of the same one.
fn prepared_gid(gid: &str, participant: PeerId) -> String {
    format!("{gid}-p{participant}")
}

/// The transaction id in a prepared-transaction id.
fn transaction_gid(prepared: &str) -> &str {
    prepared.rsplit_once("-p").map_or(prepared, |(gid, _)| gid)
}

/// Phase 1 at `participant`, in one round trip.
async fn vote(session: &Client, gid: &str, participant: PeerId, ops: &[KeyOp]) -> Vote {
    let answer = session.batch_execute(&phase1_sql(gid, &prepared_gid(gid, participant), ops)).await;
    match answer {
        Err(error) => Vote::No(error),
        Ok(()) if ops.iter().all(|op| op.access == Access::Read) => Vote::ReadOnly,
        Ok(()) => Vote::Prepared,
    }
}

/// The statements of phase 1 at one participant: transaction `gid`, prepared as `prepared`.
/// Keys and amounts are integers and the ids are ours, so the text is built directly.
fn phase1_sql(gid: &str, prepared: &str, ops: &[KeyOp]) -> String {
    let ids: Vec<String> = ops.iter().map(|op| op.key.to_string()).collect();
    let ids = ids.join(",");
    if ops.iter().all(|op| op.access == Access::Read) {
        return format!("SELECT balance FROM accounts WHERE id IN ({ids})");
    }
    let mut sql = format!("BEGIN; SELECT 1 FROM accounts WHERE id IN ({ids}) ORDER BY id FOR UPDATE NOWAIT;");
    for op in ops {
        if let Access::Add(amount) = op.access {
            let _ = write!(sql, " UPDATE accounts SET balance = balance + ({amount}) WHERE id = {};", op.key);
        }
    }
    let _ = write!(sql, " INSERT INTO applied VALUES ('{gid}'); PREPARE TRANSACTION '{prepared}'");
    sql
}

/// The failure kind of an abort.
fn abort_cause(error: &tokio_postgres::Error) -> OpError {
    let conflict = [SqlState::LOCK_NOT_AVAILABLE, SqlState::T_R_SERIALIZATION_FAILURE, SqlState::T_R_DEADLOCK_DETECTED];
    match error.code() {
        Some(code) if conflict.contains(code) => OpError::new("conflict"),
        _ => failure(describe(error)),
    }
}

/// A failure that is not a vote: a broken session, an error the protocol does not expect.
fn failure(error: impl std::fmt::Display) -> OpError {
    OpError { kind: "failure", detail: Some(error.to_string()) }
}

/// An error with the server's code and message when it has them.
fn describe(error: &tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => format!("{}: {}", db.code().code(), db.message()),
        None => error.to_string(),
    }
}

impl Worker for PostgresWorker {
    async fn call(&mut self, op: Op) -> OpResult {
        let parts = self.builder.build(op);
        let result = match tokio::time::timeout(self.timeout, self.transact(parts)).await {
            Ok(result) => result,
            Err(_) => Err(OpError { kind: "timeout", detail: Some("no outcome within client_timeout".into()) }),
        };
        if matches!(&result, Err(e) if e.kind != "conflict") {
            // A session may be mid-transaction or broken: start afresh; the server rolls back
            // what the closed sessions had open, and prepared transactions wait for the end.
            self.sessions = None;
        }
        result
    }
}

impl Drop for PostgresWorker {
    fn drop(&mut self) {
        self.sink.locked().append(&mut self.decisions);
    }
}

/// What the checkers found.
#[derive(Debug, Default)]
struct Checked {
    violations: u64,
    in_doubt: u64,
    described: Vec<String>,
    wal_syncs: Option<i64>,
}

impl Checked {
    fn violation(&mut self, what: String) {
        self.violations += 1;
        if self.described.len() < 5 {
            self.described.push(what);
        }
    }
}

/// Resolves what is still prepared, then checks atomicity and the balance.
async fn check(access: &Login, participants: u32, decisions: &[Decision]) -> Result<Checked, ProtocolError> {
    let decided: BTreeMap<&str, &Decision> = decisions.iter().map(|d| (d.gid.as_str(), d)).collect();
    let mut checked = Checked::default();
    let mut applied: Vec<HashSet<String>> = Vec::new();
    let mut balance_total = 0i64;
    for participant in 0..participants {
        let client = connect(access, &database(participant)).await.map_err(sql_error("connect"))?;
        checked.in_doubt += resolve_prepared(&client, &decided).await?;
        let rows = client.query("SELECT gid FROM applied", &[]).await.map_err(sql_error("read applied"))?;
        applied.push(rows.iter().map(|row| row.get::<_, String>(0)).collect());
        let sum = client
            .query_one("SELECT coalesce(sum(balance), 0)::bigint FROM accounts", &[])
            .await
            .map_err(sql_error("sum balances"))?;
        balance_total += sum.get::<_, i64>(0);
    }
    for decision in decisions {
        let at: Vec<PeerId> = (0..participants).filter(|p| applied[*p as usize].contains(&decision.gid)).collect();
        let mut expected = if decision.committed { decision.writers.clone() } else { Vec::new() };
        expected.sort_unstable();
        if at != expected {
            let verdict = if decision.committed { "committed" } else { "aborted" };
            checked.violation(format!("{} {verdict} but applied at {at:?} of {:?}", decision.gid, decision.writers));
        }
    }
    for (participant, gids) in applied.iter().enumerate() {
        for gid in gids.iter().filter(|gid| !decided.contains_key(gid.as_str())) {
            checked.violation(format!("{gid} applied at p{participant} without a decision"));
        }
    }
    if balance_total != 0 {
        checked.violation(format!("the balances sum to {balance_total}, not 0"));
    }
    let admin = connect(access, "postgres").await.map_err(sql_error("connect"))?;
    checked.wal_syncs = wal_syncs(&admin).await;
    Ok(checked)
}

/// Commits or rolls back every transaction still prepared in the session's database, by the
/// recorded decision (none: presumed abort); returns how many there were.
async fn resolve_prepared(client: &Client, decided: &BTreeMap<&str, &Decision>) -> Result<u64, ProtocolError> {
    let rows = client
        .query("SELECT gid FROM pg_prepared_xacts WHERE database = current_database()", &[])
        .await
        .map_err(sql_error("read pg_prepared_xacts"))?;
    for row in &rows {
        let prepared: String = row.get(0);
        let committed = decided.get(transaction_gid(&prepared)).is_some_and(|d| d.committed);
        let verb = if committed { "COMMIT" } else { "ROLLBACK" };
        client.batch_execute(&format!("{verb} PREPARED '{prepared}'")).await.map_err(sql_error("resolve prepared"))?;
    }
    Ok(rows.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phase_one_locks_applies_records_and_prepares_in_one_text() {
        let ops = [KeyOp { key: 7, access: Access::Add(-2) }, KeyOp { key: 3, access: Access::Read }];
        let sql = phase1_sql("sb-0-1", "sb-0-1-p4", &ops);
        assert!(sql.starts_with("BEGIN; SELECT 1 FROM accounts WHERE id IN (7,3) ORDER BY id FOR UPDATE NOWAIT;"));
        assert!(sql.contains("UPDATE accounts SET balance = balance + (-2) WHERE id = 7;"));
        assert!(!sql.contains("WHERE id = 3;"), "a read is not an update: {sql}");
        assert!(sql.ends_with("INSERT INTO applied VALUES ('sb-0-1'); PREPARE TRANSACTION 'sb-0-1-p4'"));
        assert_eq!(transaction_gid(&prepared_gid("sb-12-7", 4)), "sb-12-7");
        let read = phase1_sql("sb-0-2", "sb-0-2-p0", &[KeyOp { key: 3, access: Access::Read }]);
        assert_eq!(read, "SELECT balance FROM accounts WHERE id IN (3)");
    }
}
