//! What a run under faults did, read from its attempts: every request sent to a backend (the
//! first attempt of a client request or a retry), with when it was sent and whether it
//! succeeded, beside the times of the faults. One computation serves every row: the
//! simulation records its attempts in memory ([`AttemptLog`]), our proxy and nginx write
//! them to an access log in one format ([`NGINX_LOG_FORMAT`], read by [`parse_log`]).
//!
//! For the first fault of the run (`kill-node`, `slow-node`, `fail-node`, `flap-node` on
//! backend b at t0), until b's `restore-node` at t1 (or the last attempt of the run):
//!
//! - **drain time**: from t0 to the last attempt sent to b before the first gap of at least
//!   [`DRAIN_GAP`] without any (0 if none was sent after t0); none if b kept getting attempts
//!   to the end of the fault — it was never drained;
//! - **fault traffic share**: the share of the attempts sent during the fault that went to b;
//! - **return time**: from t1 to the first successful attempt b served after it.
//!
//! Retries and requests are counted over the whole run (warm-up included, both alike), so
//! their ratio is the extra load the retries caused.

use crate::sync::Recover as _;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a backend must go without attempts to count as drained.
pub const DRAIN_GAP: Duration = Duration::from_secs(1);
/// The most attempts kept in memory for one run; a longer run reports no fault figures
/// rather than figures over part of it.
pub const MAX_ATTEMPTS_LOGGED: usize = 8_000_000;

/// The nginx `log_format` of the attempt log; our proxy writes the same lines.
pub const NGINX_LOG_FORMAT: &str = "$msec $request_time $upstream_addr|$upstream_status|$upstream_response_time";

/// One request sent to one backend.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Attempt {
    /// When it was sent, from any origin shared with the fault marks.
    pub at: Duration,
    pub backend: u32,
    pub ok: bool,
    /// Whether it retried a failed attempt of the same client request.
    pub retry: bool,
}

/// A fault on a backend, or its end.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FaultMark {
    pub at: Duration,
    pub node: u32,
    pub restore: bool,
}

/// The failure-handling figures of one run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FailureMetrics {
    /// What failure handling was on (`off`, the layer's parameters, or nginx's directives).
    pub layer: String,
    /// Client requests (first attempts).
    pub requests: u64,
    pub retries: u64,
    /// Retries the budget refused (our layer only).
    pub retries_denied: Option<u64>,
    /// Ejections and marks down (our layer only).
    pub ejections: Option<u64>,
    pub drain_s: Option<f64>,
    pub return_s: Option<f64>,
    pub fault_traffic_share: Option<f64>,
}

impl FailureMetrics {
    /// Retries per client request: the extra load they caused.
    pub fn retry_extra_load(&self) -> Option<f64> {
        (self.requests > 0).then(|| self.retries as f64 / self.requests as f64)
    }
}

/// The figures of `attempts` (any order) under the faults of `marks`; `layer` is left empty.
pub fn measure(attempts: &mut [Attempt], marks: &[FaultMark]) -> FailureMetrics {
    attempts.sort_by_key(|a| a.at);
    let retries = attempts.iter().filter(|a| a.retry).count() as u64;
    let mut metrics =
        FailureMetrics { requests: attempts.len() as u64 - retries, retries, ..FailureMetrics::default() };
    let Some(fault) = marks.iter().find(|m| !m.restore) else { return metrics };
    let restore = marks.iter().find(|m| m.restore && m.node == fault.node && m.at >= fault.at);
    let Some(last) = attempts.last() else { return metrics };
    let end = restore.map_or(last.at, |r| r.at);
    let during: Vec<&Attempt> = attempts.iter().filter(|a| a.at >= fault.at && a.at < end).collect();
    let on_node = || during.iter().filter(|a| a.backend == fault.node);
    if !during.is_empty() {
        metrics.fault_traffic_share = Some(on_node().count() as f64 / during.len() as f64);
    }
    let mut previous = fault.at;
    let mut drained = false;
    for attempt in on_node() {
        if attempt.at - previous >= DRAIN_GAP {
            drained = true;
            break;
        }
        previous = attempt.at;
    }
    drained |= end.saturating_sub(previous) >= DRAIN_GAP;
    metrics.drain_s = drained.then(|| (previous - fault.at).as_secs_f64());
    if let Some(restore) = restore {
        let back = attempts.iter().find(|a| a.at >= restore.at && a.backend == fault.node && a.ok);
        metrics.return_s = back.map(|a| (a.at - restore.at).as_secs_f64());
    }
    metrics
}

/// The attempts and faults of an in-process run, on the simulation's clock.
#[derive(Debug, Default)]
pub struct AttemptLog {
    inner: Mutex<LogInner>,
}

#[derive(Debug, Default)]
struct LogInner {
    origin: Option<Instant>,
    attempts: Vec<Attempt>,
    marks: Vec<FaultMark>,
    overflow: bool,
}

impl LogInner {
    fn since_origin(&mut self, at: Instant) -> Duration {
        at.saturating_duration_since(*self.origin.get_or_insert(at))
    }
}

impl AttemptLog {
    fn lock(&self) -> std::sync::MutexGuard<'_, LogInner> {
        self.inner.locked()
    }

    /// An attempt sent to `backend` at `sent`.
    pub fn attempt(&self, sent: Instant, backend: usize, ok: bool, retry: bool) {
        let mut inner = self.lock();
        if inner.attempts.len() >= MAX_ATTEMPTS_LOGGED {
            inner.overflow = true;
            return;
        }
        let at = inner.since_origin(sent);
        inner.attempts.push(Attempt { at, backend: backend as u32, ok, retry });
    }

    /// A fault on `node` (or its end, `restore`) at `at`.
    pub fn mark(&self, at: Instant, node: u32, restore: bool) {
        let mut inner = self.lock();
        let at = inner.since_origin(at);
        inner.marks.push(FaultMark { at, node, restore });
    }

    /// The run's figures, or none if the log overflowed.
    pub fn measure(&self) -> Option<FailureMetrics> {
        let mut inner = self.lock();
        if inner.overflow {
            return None;
        }
        let marks = inner.marks.clone();
        Some(measure(&mut inner.attempts, &marks))
    }
}

/// One line of the attempt log for a request that ended at `end` (since the Unix epoch)
/// after `tries`: each backend tried, the status it gave (502 refused, 504 timeout) and how
/// long the try took.
pub fn log_line(end: Duration, request_time: Duration, tries: &[(SocketAddr, u16, Duration)]) -> String {
    let join = |f: &dyn Fn(&(SocketAddr, u16, Duration)) -> String| tries.iter().map(f).collect::<Vec<_>>().join(", ");
    format!(
        "{:.3} {:.3} {}|{}|{}\n",
        end.as_secs_f64(),
        request_time.as_secs_f64(),
        join(&|t| t.0.to_string()),
        join(&|t| t.1.to_string()),
        join(&|t| format!("{:.3}", t.2.as_secs_f64()))
    )
}

/// The attempts of an access log in [`NGINX_LOG_FORMAT`], with times since the Unix epoch;
/// `backends` gives each address its index. Lines that do not parse (nginx's `-` for a
/// request that reached no backend) are skipped.
pub fn parse_log(text: &str, backends: &[SocketAddr]) -> Vec<Attempt> {
    text.lines().flat_map(|line| parse_line(line, backends).unwrap_or_default()).collect()
}

fn parse_line(line: &str, backends: &[SocketAddr]) -> Option<Vec<Attempt>> {
    let (times, rest) = line.split_once(' ').and_then(|(end, rest)| Some((end, rest.split_once(' ')?)))?;
    let end: f64 = times.parse().ok()?;
    let (request_time, fields) = rest;
    let request_time: f64 = request_time.parse().ok()?;
    let mut parts = fields.split('|');
    fn list(text: Option<&str>) -> Option<Vec<&str>> {
        text.map(|t| t.split(", ").map(str::trim).collect())
    }
    let (addresses, statuses, spent) = (list(parts.next())?, list(parts.next())?, list(parts.next())?);
    let mut at = (end - request_time).max(0.0);
    let mut attempts = Vec::with_capacity(addresses.len());
    for (i, address) in addresses.iter().enumerate() {
        let backend = address.parse::<SocketAddr>().ok().and_then(|a| backends.iter().position(|b| *b == a))?;
        let status: u16 = statuses.get(i)?.parse().ok()?;
        attempts.push(Attempt {
            at: Duration::from_secs_f64(at),
            backend: backend as u32,
            ok: status < 500,
            retry: i > 0,
        });
        at += spent.get(i).and_then(|s| s.parse::<f64>().ok()).unwrap_or(0.0);
    }
    Some(attempts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(at_ms: u64, backend: u32, ok: bool) -> Attempt {
        Attempt { at: Duration::from_millis(at_ms), backend, ok, retry: false }
    }

    fn marks(fault_ms: u64, restore_ms: u64) -> Vec<FaultMark> {
        vec![
            FaultMark { at: Duration::from_millis(fault_ms), node: 1, restore: false },
            FaultMark { at: Duration::from_millis(restore_ms), node: 1, restore: true },
        ]
    }

    #[test]
    fn drain_ends_at_the_last_attempt_before_a_quiet_second() {
        // Backend 1 fails at 1 s, gets attempts until 1.3 s, then nothing until a probe at
        // 3 s; restored at 5 s, back at 5.2 s.
        let mut attempts: Vec<Attempt> = (0..60).map(|i| attempt(i * 100, 0, true)).collect();
        attempts.extend([attempt(1100, 1, false), attempt(1300, 1, false), attempt(3000, 1, false)]);
        attempts.extend([attempt(5200, 1, true), attempt(5100, 1, false)]);
        let metrics = measure(&mut attempts, &marks(1000, 5000));
        assert_eq!(metrics.drain_s, Some(0.3));
        assert_eq!(metrics.return_s, Some(0.2), "the first success after the restore");
        let share = metrics.fault_traffic_share.unwrap();
        assert!((share - 3.0 / 43.0).abs() < 1e-9, "{share}");
    }

    #[test]
    fn a_backend_that_keeps_getting_traffic_never_drained() {
        let mut attempts: Vec<Attempt> = (0..50).map(|i| attempt(i * 100, i as u32 % 2, true)).collect();
        let metrics = measure(&mut attempts, &marks(1000, 4500));
        assert_eq!(metrics.drain_s, None);
        assert!((metrics.fault_traffic_share.unwrap() - 0.5).abs() < 0.05);
    }

    #[test]
    fn log_lines_round_trip_with_retries_after_the_first_try() {
        let a: SocketAddr = "127.0.0.1:9001".parse().unwrap();
        let b: SocketAddr = "127.0.0.1:9002".parse().unwrap();
        let line = log_line(
            Duration::from_secs(100),
            Duration::from_millis(7),
            &[(a, 502, Duration::from_millis(2)), (b, 200, Duration::from_millis(5))],
        );
        assert_eq!(line, "100.000 0.007 127.0.0.1:9001, 127.0.0.1:9002|502, 200|0.002, 0.005\n");
        let attempts = parse_log(&format!("{line}100.5 0.000 -|-|-\n"), &[a, b]);
        assert_eq!(attempts.len(), 2, "{attempts:?}");
        assert_eq!((attempts[0].backend, attempts[0].ok, attempts[0].retry), (0, false, false));
        assert_eq!((attempts[1].backend, attempts[1].ok, attempts[1].retry), (1, true, true));
        assert!((attempts[1].at.as_secs_f64() - 99.995).abs() < 1e-6);
    }
}
