//! One planned run, as `run` and `sweep` both make it: the family runs the spec, the session
//! records the result. With a precision target (`--precision 5%`), the run is repeated
//! longer until its p99's 95% interval is within ± the target of p99, or the next run would
//! pass the maximum duration; only the last attempt is recorded (the earlier ones' intervals
//! and interval logs are overwritten), and its message says how the precision was reached.
//!
//! The session both commands run in ([`open_session`]) and each run's progress bar are here
//! too: `run` and `sweep` share them, and neither imports the other.

use crate::analysis::quantile_ci;
use crate::cli::{DEFAULT_MAX_DURATION, RunArgs};
use crate::output::Session;
use crate::output::host::HostInfo;
use crate::recorder::Timing;
use crate::run::{RunRecord, RunSpec, RunStatus};
use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal as _;
use std::time::Duration;

/// The percentile whose interval `--precision` targets.
pub const PRECISION_QUANTILE: f64 = 0.99;
/// The most attempts one run makes to reach its precision.
const PRECISION_ATTEMPTS_MAX: u32 = 8;
/// How much longer each attempt runs than the last, at least and at most: the sample needed
/// grows with the square of the precision asked, so a 2× miss asks for ~4× the samples.
const GROWTH_MIN: f64 = 2.0;
const GROWTH_MAX: f64 = 8.0;

/// `--precision`: the half-width of p99's interval to reach, as a fraction of p99, and the
/// longest measured phase to try.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Precision {
    pub target_fraction: f64,
    pub max_duration: Duration,
}

impl Precision {
    /// The precision `args` ask for, if any.
    pub fn of(args: &RunArgs) -> Option<Precision> {
        args.precision.map(|target_fraction| Precision {
            target_fraction,
            max_duration: args.max_duration.map_or(DEFAULT_MAX_DURATION, |d| d.0),
        })
    }
}

/// The half-width of the p99 interval of `record`, relative to p99 (the wider side); `None`
/// when the run has none (no operations, too few, or timed in batches).
pub fn p99_precision(record: &RunRecord<'_>) -> Option<f64> {
    let drive = record.drive.as_ref()?;
    if record.timing != Timing::PerOp {
        return None;
    }
    let histogram = &drive.totals.measured.response;
    let bounds = quantile_ci::interval(histogram, PRECISION_QUANTILE).ok()?;
    let point = histogram.value_at_quantile(PRECISION_QUANTILE) as f64;
    (point > 0.0).then(|| (point - bounds.lo as f64).max(bounds.hi as f64 - point) / point)
}

/// Runs `spec` (to `precision`, if given), lets `inspect` read the final record, and
/// records it in `session`. Returns what `inspect` returned.
pub fn run_and_record<T>(
    spec: &RunSpec,
    precision: Option<Precision>,
    session: &mut Session,
    progress: &ProgressBar,
    inspect: impl FnOnce(&RunRecord<'_>) -> T,
) -> anyhow::Result<T> {
    let Some(precision) = precision else {
        let record = run_once(spec, session, progress);
        let seen = inspect(&record);
        session.record(&record)?;
        return Ok(seen);
    };
    let mut attempt = spec.clone();
    for number in 1..=PRECISION_ATTEMPTS_MAX {
        let mut record = run_once(&attempt, session, progress);
        let reached = p99_precision(&record);
        let next = next_duration(attempt.workload.length.duration, reached, precision);
        let last = record.status != RunStatus::Ok || next.is_none() || number == PRECISION_ATTEMPTS_MAX;
        if last {
            let note = precision_note(reached, precision, number, attempt.workload.length.duration);
            record.message = Some(record.message.take().map_or(note.clone(), |m| format!("{m}; {note}")));
            let seen = inspect(&record);
            session.record(&record)?;
            return Ok(seen);
        }
        attempt.workload.length.duration = next.expect("not the last attempt");
    }
    unreachable!("the last attempt returns")
}

/// The session of `run` or `sweep` in `dir`: the metrics address bound (bad input before
/// anything starts), `dir` refused or cleared (`--force`), child processes supervised, stale
/// scratch directories removed, the first run's start time and the live metrics set.
pub fn open_session(args: &RunArgs, dir: &std::path::Path) -> anyhow::Result<Session> {
    let metrics_listener = args.metrics_listen.map(bind_metrics).transpose()?;
    crate::output::outdir::prepare(dir, args.force)?;
    targets::process::use_supervisor(std::env::current_exe().context("cannot find the stratbench executable")?);
    let stale = targets::process::remove_stale_dirs();
    if stale > 0 {
        tracing::info!("removed {stale} scratch directories left by stratbench runs that are gone");
    }
    let mut host = HostInfo::collect();
    host.driver_id = args.driver_id.clone();
    let mut session = Session::create(dir, host)?;
    if let Some(at) = args.start_at {
        session.start_next_run_at(at);
    }
    if let Some(listener) = metrics_listener {
        let live = std::sync::Arc::new(crate::output::live::LiveMetrics::default());
        let address = crate::output::live::serve(listener, std::sync::Arc::clone(&live))?;
        session.publish_to(live);
        tracing::info!("live metrics at http://{address}/metrics");
    }
    Ok(session)
}

/// Binds `--metrics-listen` before anything starts: an address in use is bad input (exit 2).
fn bind_metrics(address: std::net::SocketAddr) -> anyhow::Result<std::net::TcpListener> {
    std::net::TcpListener::bind(address)
        .map_err(|e| crate::error::bad_input(format!("--metrics-listen {address}: cannot listen there: {e}")))
}

/// A progress bar over a run's planned length, drawn only when stdout is a terminal.
pub fn progress_bar(spec: &RunSpec, total: usize) -> ProgressBar {
    let length = spec.workload.length;
    let bar = ProgressBar::new((length.warmup + length.duration).as_millis() as u64);
    if std::io::stdout().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::stderr());
    } else {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    let style = ProgressStyle::with_template("{prefix} [{bar:30}] {elapsed} {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style.progress_chars("=> "));
    bar.set_prefix(format!(
        "[{}/{}] {} {} {}",
        spec.index + 1,
        total,
        spec.workload.scenario,
        spec.strategy,
        spec.mode.as_str()
    ));
    bar
}

/// Runs `spec` once. A run that failed because Ctrl-C stopped its servers under it was
/// interrupted, not broken: its row says `interrupted`.
fn run_once<'a>(spec: &'a RunSpec, session: &mut Session, progress: &ProgressBar) -> RunRecord<'a> {
    let mut record = spec.family.run(spec, session, progress);
    if crate::interrupt::interrupted() && record.status == RunStatus::Error {
        record.status = RunStatus::Interrupted;
        record.message = Some(format!("interrupted by Ctrl-C ({})", record.message.as_deref().unwrap_or("")));
    }
    record
}

/// The next attempt's measured duration, or `None` when the precision is reached or the
/// maximum duration was this attempt's.
fn next_duration(current: Duration, reached: Option<f64>, precision: Precision) -> Option<Duration> {
    if reached.is_some_and(|r| r <= precision.target_fraction) || current >= precision.max_duration {
        return None;
    }
    let growth = reached.map_or(GROWTH_MAX, |r| (r / precision.target_fraction).powi(2) * 1.2);
    Some(current.mul_f64(growth.clamp(GROWTH_MIN, GROWTH_MAX)).min(precision.max_duration))
}

fn precision_note(reached: Option<f64>, precision: Precision, attempts: u32, duration: Duration) -> String {
    let asked = 100.0 * precision.target_fraction;
    let length =
        format!("{} measured, attempt {attempts}", crate::output::table::human_duration(duration.as_secs_f64()));
    match reached {
        Some(r) if r <= precision.target_fraction => {
            format!("precision: p99 ±{:.1}% (asked ±{asked}%), {length}", r * 100.0)
        }
        Some(r) => format!("precision: p99 ±{:.1}% did not reach ±{asked}% ({length}; the limit)", r * 100.0),
        None => format!("precision: p99 has no interval ({length})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIVE: Precision = Precision { target_fraction: 0.05, max_duration: Duration::from_secs(60) };

    #[test]
    fn a_run_grows_with_the_square_of_its_miss_up_to_the_limit() {
        let s = Duration::from_secs;
        assert_eq!(next_duration(s(5), Some(0.04), FIVE), None, "reached");
        // ±10% asks for 4 × 1.2 = 4.8 times the samples.
        assert_eq!(next_duration(s(5), Some(0.10), FIVE), Some(s(24)));
        assert_eq!(next_duration(s(5), Some(0.06), FIVE), Some(s(10)), "at least twice as long");
        assert_eq!(next_duration(s(5), None, FIVE), Some(s(40)), "no interval: the most growth");
        assert_eq!(next_duration(s(40), None, FIVE), Some(s(60)), "never past the limit");
        assert_eq!(next_duration(s(60), Some(0.2), FIVE), None, "at the limit: stop");
    }
}
