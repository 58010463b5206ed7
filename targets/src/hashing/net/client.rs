//! Talking to the shards: connections (one per shard, per worker, opened on first use and
//! reopened by the connection manager after a server restart), failures as counted error
//! kinds that name the shard, key names, and the few administrative commands the migration
//! and the checks need (`SCAN`, `INFO commandstats`).

use super::shards::ShardAddr;
use crate::target::OpError;
use redis::RedisError;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::fmt::Write as _;
use std::time::Duration;

/// How long a command may take before it counts as failed.
pub const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// Keys asked of `SCAN` per round.
pub const SCAN_COUNT: usize = 1000;
/// Upper bound on `SCAN` rounds over one server (a billion keys at `SCAN_COUNT` per round).
const SCAN_ROUNDS: usize = 1_000_000;

/// The connection manager's settings: a dead server fails requests at once (one connection
/// attempt, no retry with back-off, so that a worker is not held up and the outage shows as
/// errors rather than as latency), and a restarted one is reconnected to on the next request.
pub fn config() -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_response_timeout(Some(RESPONSE_TIMEOUT))
        .set_connection_timeout(Some(CONNECT_TIMEOUT))
        .set_number_of_retries(0)
        .set_min_delay(Duration::from_millis(1))
        .set_max_delay(Duration::from_millis(10))
}

/// A failure of a command to `shard`, by kind: `timeout`, `connect` (refused, dropped, any
/// I/O failure) or `server` (an error reply).
pub fn op_error(shard: &ShardAddr, error: &RedisError) -> OpError {
    let kind = if error.is_timeout() {
        "timeout"
    } else if error.is_io_error() || error.is_connection_dropped() || error.is_connection_refusal() {
        "connect"
    } else {
        "server"
    };
    OpError { kind, detail: Some(format!("{shard}: {error}")) }
}

/// A connection manager for `shard`, connected lazily (on its first request).
pub fn lazy(shard: &ShardAddr) -> Result<ConnectionManager, OpError> {
    let client = redis::Client::open(shard.url.as_str()).map_err(|e| op_error(shard, &e))?;
    ConnectionManager::new_lazy_with_config(client, config()).map_err(|e| op_error(shard, &e))
}

/// A connection manager for `shard`, connected now.
pub async fn connect(shard: &ShardAddr) -> Result<ConnectionManager, String> {
    let client = redis::Client::open(shard.url.as_str()).map_err(|e| format!("{shard}: {e}"))?;
    let connect = ConnectionManager::new_with_config(client, config());
    match tokio::time::timeout(RESPONSE_TIMEOUT, connect).await {
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(e)) => Err(format!("{shard} does not answer: {e}")),
        Err(_) => Err(format!("{shard} does not answer within {RESPONSE_TIMEOUT:?}")),
    }
}

/// One worker's connections, by node id, each opened on first use.
#[derive(Default)]
pub struct Connections {
    by_node: Vec<Option<ConnectionManager>>,
}

impl Connections {
    /// The connection to `shard`.
    #[inline]
    pub fn get(&mut self, shard: &ShardAddr) -> Result<&mut ConnectionManager, OpError> {
        let slot = shard.node.0 as usize;
        if slot >= self.by_node.len() {
            self.by_node.resize_with(slot + 1, || None);
        }
        let conn = &mut self.by_node[slot];
        if conn.is_none() {
            *conn = Some(lazy(shard)?);
        }
        Ok(conn.as_mut().expect("just opened"))
    }
}

/// Names of one run's keys: `<namespace>:<key>`.
#[derive(Clone, Debug)]
pub struct KeyNames {
    namespace: String,
}

impl KeyNames {
    /// Keys under `namespace`.
    pub fn new(namespace: &str) -> Self {
        KeyNames { namespace: namespace.to_string() }
    }

    /// Writes the name of `key` into `buffer` (cleared first).
    #[inline]
    pub fn write(&self, key: u64, buffer: &mut String) {
        buffer.clear();
        let _ = write!(buffer, "{}:{key}", self.namespace);
    }

    /// The name of `key`.
    pub fn name(&self, key: u64) -> String {
        let mut name = String::new();
        self.write(key, &mut name);
        name
    }

    /// The key a name stands for, if it is one of this run's.
    pub fn parse(&self, name: &str) -> Option<u64> {
        name.strip_prefix(self.namespace.as_str())?.strip_prefix(':')?.parse().ok()
    }

    /// The `SCAN` pattern of every key of the run.
    pub fn pattern(&self) -> String {
        format!("{}:*", self.namespace)
    }
}

/// `SCAN` over one server's keys matching a pattern, a batch at a time (a key may come twice:
/// `SCAN` promises only that keys present throughout come at least once). Bounded in rounds.
pub struct Scan {
    pattern: String,
    cursor: u64,
    rounds: usize,
    done: bool,
}

impl Scan {
    /// A scan of the keys matching `pattern`.
    pub fn new(pattern: String) -> Self {
        Scan { pattern, cursor: 0, rounds: 0, done: false }
    }

    /// The next batch of names (possibly empty), or `None` once the scan is complete.
    pub async fn next(&mut self, conn: &mut ConnectionManager) -> Result<Option<Vec<String>>, RedisError> {
        if self.done || self.rounds >= SCAN_ROUNDS {
            return Ok(None);
        }
        let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(self.cursor)
            .arg("MATCH")
            .arg(&self.pattern)
            .arg("COUNT")
            .arg(SCAN_COUNT)
            .query_async(conn)
            .await?;
        self.rounds += 1;
        self.cursor = next;
        self.done = next == 0;
        Ok(Some(batch))
    }
}

/// Distinct keys matching `pattern` on `conn` (a key `SCAN` returns twice counts once).
pub async fn count(conn: &mut ConnectionManager, pattern: &str) -> Result<u64, RedisError> {
    let mut scan = Scan::new(pattern.to_string());
    let mut seen = std::collections::HashSet::new();
    while let Some(batch) = scan.next(conn).await? {
        seen.extend(batch.iter().map(|name| xxhash_rust::xxh3::xxh3_64(name.as_bytes())));
    }
    Ok(seen.len() as u64)
}

/// Unlinks every key matching `pattern` on `conn`; returns how many there were.
pub async fn unlink_all(conn: &mut ConnectionManager, pattern: &str) -> Result<u64, RedisError> {
    let mut scan = Scan::new(pattern.to_string());
    let mut removed = 0;
    let mut unlink = conn.clone();
    while let Some(batch) = scan.next(conn).await? {
        if !batch.is_empty() {
            removed += redis::cmd("UNLINK").arg(&batch).query_async::<u64>(&mut unlink).await?;
        }
    }
    Ok(removed)
}

/// `RESTORE` commands the server has executed, and how many of them failed: the keys a
/// `MIGRATE` from another server sent it, and those it refused because it already had them
/// (`BUSYKEY`). Counted by the server itself (`INFO commandstats`).
pub async fn restores(conn: &mut ConnectionManager) -> Result<(u64, u64), RedisError> {
    let info: String = redis::cmd("INFO").arg("commandstats").query_async(conn).await?;
    Ok(parse_restores(&info))
}

fn parse_restores(info: &str) -> (u64, u64) {
    let field = |stats: &str, name: &str| -> u64 {
        stats.split(',').find_map(|f| f.strip_prefix(name)?.strip_prefix('=')?.parse().ok()).unwrap_or(0)
    };
    info.lines()
        .filter_map(|line| {
            let stats =
                line.strip_prefix("cmdstat_restore:").or_else(|| line.strip_prefix("cmdstat_restore-asking:"))?;
            Some((field(stats, "calls"), field(stats, "failed_calls")))
        })
        .fold((0, 0), |(calls, failed), (c, f)| (calls + c, failed + f))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_names_round_trip() {
        let names = KeyNames::new("sb-1");
        assert_eq!(names.name(42), "sb-1:42");
        assert_eq!(names.parse("sb-1:42"), Some(42));
        assert_eq!(names.parse("sb-10:42"), None);
        assert_eq!(names.parse("sb-1:x"), None);
        assert_eq!(names.pattern(), "sb-1:*");
    }

    #[test]
    fn restores_come_from_commandstats() {
        let info = "# Commandstats\r\ncmdstat_get:calls=5,usec=3,usec_per_call=0.6,rejected_calls=0,failed_calls=0\r\n\
                    cmdstat_restore:calls=120,usec=900,usec_per_call=7.5,rejected_calls=0,failed_calls=7\r\n\
                    cmdstat_restore-asking:calls=3,usec=9,usec_per_call=3,rejected_calls=0,failed_calls=1\r\n";
        assert_eq!(parse_restores(info), (123, 8));
        assert_eq!(parse_restores("# Commandstats\r\n"), (0, 0));
    }
}
