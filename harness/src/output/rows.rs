//! The rows of the CSV files. The column names and their order are the contract documented in
//! `results/README.md`: snake_case, unit last, new columns only at the end. The columns every
//! run has are serde structs filled here from the driver's report; a family's own columns are
//! written by the family's metrics ([`targets::columns::FamilyColumns`]) and placed by the
//! schema ([`super::schema`]), so this module knows no family. Columns a run does not fill
//! stay empty.

use super::host::HostInfo;
use super::schema::{self, Row, Schema};
use super::spread;
use crate::analysis::quantile_ci::{self, Unbounded};
use crate::analysis::trend;
use crate::driver::DriveReport;
use crate::driver::controller::FiredEvent;
use crate::recorder::{FlushedInterval, Histograms, Timing};
use crate::run::{RunRecord, RunSpec, RunStatus};
use hdrhistogram::Histogram;
use serde::Serialize;
use std::time::Duration;
use targets::columns::{Measured, round3, round6};
use targets::target::{EventStatus, FamilyMetrics, ResizeReport};
use workloads::LoadShape;

/// Percentiles of a histogram in the unit of its columns (µs for latencies, ns for the cost
/// per operation of batches: [`Timing::column_value`]).
#[derive(Clone, Copy, Debug)]
struct Percentiles {
    mean: f64,
    p50: f64,
    p90: f64,
    p99: f64,
    p999: f64,
    max: f64,
}

impl Percentiles {
    fn of(histogram: &Histogram<u64>) -> Option<Self> {
        let at = |q: f64| Timing::column_value(histogram.value_at_quantile(q));
        (!histogram.is_empty()).then(|| Percentiles {
            mean: round3(histogram.mean() / 1000.0),
            p50: at(0.50),
            p90: at(0.90),
            p99: at(0.99),
            p999: at(0.999),
            max: Timing::column_value(histogram.max()),
        })
    }
}

/// The 95% intervals of a histogram's p50, p90, p99 and p99.9 (in the unit of its columns),
/// each `None` when the sample cannot bound it; [`PercentileIntervals::unbounded`] says why.
#[derive(Clone, Copy, Debug, Default)]
struct PercentileIntervals {
    bounds: [Option<(f64, f64)>; 4],
    unbounded: [Option<Unbounded>; 4],
}

/// The (point, lo, hi) columns of p50, p90, p99 and p99.9 of one histogram.
type IntervalCells<'a> = [(&'a mut Option<f64>, &'a mut Option<f64>, &'a mut Option<f64>); 4];

/// Where one histogram's interval cells are in a row.
type IntervalColumnsOf = for<'a> fn(&'a mut SummaryCore) -> IntervalCells<'a>;

/// The interval columns of the response, service and phase (lock acquire) histograms, in
/// that order, with the prefix `ci_unbounded` names them by.
const INTERVAL_COLUMNS: [(IntervalColumnsOf, &str); 3] = [
    (
        |c| {
            [
                (&mut c.latency_us_p50, &mut c.latency_us_p50_lo, &mut c.latency_us_p50_hi),
                (&mut c.latency_us_p90, &mut c.latency_us_p90_lo, &mut c.latency_us_p90_hi),
                (&mut c.latency_us_p99, &mut c.latency_us_p99_lo, &mut c.latency_us_p99_hi),
                (&mut c.latency_us_p999, &mut c.latency_us_p999_lo, &mut c.latency_us_p999_hi),
            ]
        },
        "latency_us",
    ),
    (
        |c| {
            [
                (&mut c.service_us_p50, &mut c.service_us_p50_lo, &mut c.service_us_p50_hi),
                (&mut c.service_us_p90, &mut c.service_us_p90_lo, &mut c.service_us_p90_hi),
                (&mut c.service_us_p99, &mut c.service_us_p99_lo, &mut c.service_us_p99_hi),
                (&mut c.service_us_p999, &mut c.service_us_p999_lo, &mut c.service_us_p999_hi),
            ]
        },
        "service_us",
    ),
    (
        |c| {
            [
                (&mut c.acquire_latency_us_p50, &mut c.acquire_latency_us_p50_lo, &mut c.acquire_latency_us_p50_hi),
                (&mut c.acquire_latency_us_p90, &mut c.acquire_latency_us_p90_lo, &mut c.acquire_latency_us_p90_hi),
                (&mut c.acquire_latency_us_p99, &mut c.acquire_latency_us_p99_lo, &mut c.acquire_latency_us_p99_hi),
                (&mut c.acquire_latency_us_p999, &mut c.acquire_latency_us_p999_lo, &mut c.acquire_latency_us_p999_hi),
            ]
        },
        "acquire_latency_us",
    ),
];

/// The percentiles that carry intervals, with their column suffixes.
const INTERVAL_QUANTILES: [(f64, &str); 4] = [(0.50, "p50"), (0.90, "p90"), (0.99, "p99"), (0.999, "p999")];

impl PercentileIntervals {
    fn of(histogram: &Histogram<u64>) -> Self {
        let mut intervals = PercentileIntervals::default();
        for (i, (q, _)) in INTERVAL_QUANTILES.iter().enumerate() {
            match quantile_ci::interval(histogram, *q) {
                Ok(raw) => intervals.bounds[i] = Some((Timing::column_value(raw.lo), Timing::column_value(raw.hi))),
                Err(why) => intervals.unbounded[i] = Some(why),
            }
        }
        intervals
    }

    /// The (point, lo, hi) columns of p50, p90, p99 and p99.9, in that order. A percentile
    /// the sample cannot bound loses its point estimate too: it is not known.
    fn write(&self, columns: IntervalCells<'_>) {
        for ((point, lo, hi), bounds) in columns.into_iter().zip(self.bounds) {
            *lo = bounds.map(|b| b.0);
            *hi = bounds.map(|b| b.1);
            if bounds.is_none() {
                *point = None;
            }
        }
    }

    /// Why each unbounded percentile of `column` (a column prefix) has no interval.
    fn reasons(&self, column: &str) -> Vec<String> {
        INTERVAL_QUANTILES
            .iter()
            .zip(self.unbounded)
            .filter_map(|((_, suffix), why)| {
                why.map(|why| format!("{column}_{suffix}: {} samples, {} needed to bound it", why.samples, why.needed))
            })
            .collect()
    }
}

/// One row of `summary.csv`: the columns every run has, and the family's own.
pub type SummaryRow = Row<SummaryCore>;

/// The columns of `summary.csv` every run has; a family's own columns are written by its
/// metrics ([`targets::columns::FamilyColumns`]) and placed by the schema.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SummaryCore {
    pub run_id: String,
    pub started_at: String,
    pub scenario: String,
    pub family: String,
    pub strategy: String,
    pub mode: String,
    pub status: String,
    pub message: Option<String>,
    pub repeat: u32,
    pub seed: u64,
    pub r#loop: String,
    pub latency_basis: String,
    pub workers: u32,
    pub target_rate_ops_s: Option<f64>,
    pub arrivals: Option<String>,
    pub timing: String,
    pub batch_size_ops: u32,
    pub duration_s: Option<f64>,
    pub warmup_s: f64,
    pub interval_s: f64,
    pub ops_limit: Option<u64>,
    pub keys: u64,
    pub dist: String,
    pub mix: String,
    pub nodes: u32,
    pub value_size_bytes: u64,
    pub events: String,
    pub params: String,
    pub ops: Option<u64>,
    pub errors: Option<u64>,
    pub error_rate: Option<f64>,
    pub error_kinds: Option<String>,
    pub throughput_ops_s: Option<f64>,
    pub warmup_ops: Option<u64>,
    pub latency_us_mean: Option<f64>,
    pub latency_us_p50: Option<f64>,
    pub latency_us_p90: Option<f64>,
    pub latency_us_p99: Option<f64>,
    pub latency_us_p999: Option<f64>,
    pub latency_us_max: Option<f64>,
    pub op_cost_ns_mean: Option<f64>,
    pub op_cost_ns_p50: Option<f64>,
    pub op_cost_ns_p99: Option<f64>,
    pub op_cost_ns_max: Option<f64>,
    pub driver_cpu_percent: Option<f64>,
    pub driver_rss_bytes_peak: Option<u64>,
    pub build_time_us: Option<u64>,
    pub memory_bytes: Option<u64>,
    pub load_peak_to_mean: Option<f64>,
    pub load_min_to_mean: Option<f64>,
    pub load_cv: Option<f64>,
    pub resize_events: Option<u32>,
    pub resize_unsupported: Option<u32>,
    pub keys_moved_fraction: Option<f64>,
    pub keys_moved_ideal_fraction: Option<f64>,
    pub keys_moved_ratio: Option<f64>,
    pub monotonicity_violations: Option<u64>,
    pub mapping_restored_fraction: Option<f64>,
    pub violations: Option<u64>,
    pub host_name: Option<String>,
    pub host_cpu: Option<String>,
    pub host_cores: usize,
    pub host_memory_bytes: u64,
    pub host_os: Option<String>,
    pub git_commit: Option<String>,
    pub stratbench_version: String,
    pub driver_id: Option<String>,
    pub acquire_latency_us_mean: Option<f64>,
    pub acquire_latency_us_p50: Option<f64>,
    pub acquire_latency_us_p90: Option<f64>,
    pub acquire_latency_us_p99: Option<f64>,
    pub acquire_latency_us_p999: Option<f64>,
    pub acquire_latency_us_max: Option<f64>,
    pub error_latency_us_p50: Option<f64>,
    pub error_latency_us_p99: Option<f64>,
    pub error_latency_us_max: Option<f64>,
    pub backend_requests_share: Option<String>,
    pub requests_peak_to_mean: Option<f64>,
    pub requests_cv: Option<f64>,
    pub traffic_drain_s: Option<f64>,
    pub traffic_return_s: Option<f64>,
    pub service_us_mean: Option<f64>,
    pub service_us_p50: Option<f64>,
    pub service_us_p90: Option<f64>,
    pub service_us_p99: Option<f64>,
    pub service_us_p999: Option<f64>,
    pub service_us_max: Option<f64>,
    pub schedule_lag_us_p99: Option<f64>,
    pub schedule_lag_us_max: Option<f64>,
    pub ops_unfinished: Option<u64>,
    pub achieved_rate_ops_s: Option<f64>,
    /// What generated the load and took the timestamps: `driver` or `goose`; empty when
    /// nothing was measured.
    pub load_engine: Option<String>,
    pub latency_us_p50_lo: Option<f64>,
    pub latency_us_p50_hi: Option<f64>,
    pub latency_us_p90_lo: Option<f64>,
    pub latency_us_p90_hi: Option<f64>,
    pub latency_us_p99_lo: Option<f64>,
    pub latency_us_p99_hi: Option<f64>,
    pub latency_us_p999_lo: Option<f64>,
    pub latency_us_p999_hi: Option<f64>,
    pub service_us_p50_lo: Option<f64>,
    pub service_us_p50_hi: Option<f64>,
    pub service_us_p90_lo: Option<f64>,
    pub service_us_p90_hi: Option<f64>,
    pub service_us_p99_lo: Option<f64>,
    pub service_us_p99_hi: Option<f64>,
    pub service_us_p999_lo: Option<f64>,
    pub service_us_p999_hi: Option<f64>,
    pub acquire_latency_us_p50_lo: Option<f64>,
    pub acquire_latency_us_p50_hi: Option<f64>,
    pub acquire_latency_us_p90_lo: Option<f64>,
    pub acquire_latency_us_p90_hi: Option<f64>,
    pub acquire_latency_us_p99_lo: Option<f64>,
    pub acquire_latency_us_p99_hi: Option<f64>,
    pub acquire_latency_us_p999_lo: Option<f64>,
    pub acquire_latency_us_p999_hi: Option<f64>,
    pub ci_unbounded: Option<String>,
    pub stationary: Option<bool>,
    pub drift: Option<String>,
    pub throughput_ops_s_mean: Option<f64>,
    pub throughput_ops_s_lo: Option<f64>,
    pub throughput_ops_s_hi: Option<f64>,
    pub slo: Option<String>,
    pub capacity_ops_s: Option<f64>,
    pub capacity_ops_s_lo: Option<f64>,
    pub capacity_ops_s_hi: Option<f64>,
}

impl Schema for SummaryCore {
    fn columns() -> &'static [&'static str] {
        schema::summary_columns()
    }
}

impl SummaryRow {
    /// The row for `record`, measured on `host`.
    pub fn new(record: &RunRecord<'_>, host: &HostInfo) -> Self {
        let spec = record.spec;
        let workload = &spec.workload;
        let (target_rate_ops_s, arrivals) = match workload.shape {
            LoadShape::Open { rate_ops_s, arrivals, .. } => (Some(rate_ops_s), Some(arrivals.as_str().to_string())),
            LoadShape::Closed { .. } => (None, None),
        };
        let mut row = SummaryRow::from(SummaryCore {
            run_id: spec.run_id.clone(),
            scenario: workload.scenario.clone(),
            family: spec.family.name().to_string(),
            strategy: spec.strategy.clone(),
            mode: spec.mode.as_str().to_string(),
            status: record.status.as_str().to_string(),
            message: record.message.clone(),
            repeat: spec.repeat,
            seed: workload.seed,
            r#loop: workload.shape.loop_name().to_string(),
            latency_basis: match workload.shape {
                LoadShape::Open { .. } => "intended-start",
                LoadShape::Closed { .. } => "actual-start",
            }
            .to_string(),
            workers: workload.shape.workers(),
            target_rate_ops_s,
            arrivals,
            timing: match record.timing {
                Timing::PerOp => "per-op",
                Timing::Batch(_) => "batch",
            }
            .to_string(),
            batch_size_ops: record.timing.batch_size(),
            warmup_s: workload.length.warmup.as_secs_f64(),
            interval_s: workload.interval.as_secs_f64(),
            ops_limit: workload.length.ops,
            keys: workload.keys,
            dist: workload.dist.describe(),
            mix: workload.mix.describe(),
            nodes: workload.nodes,
            value_size_bytes: workload.value_size_bytes,
            events: workload
                .events
                .iter()
                .map(|e| format!("{} {}", e.action.label(), e.trigger))
                .collect::<Vec<_>>()
                .join(";"),
            params: workload.params.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(";"),
            build_time_us: record.build_time.map(|d| d.as_micros() as u64),
            host_name: host.hostname.clone(),
            host_cpu: host.cpu_model.clone(),
            host_cores: host.cpu_cores_logical,
            host_memory_bytes: host.memory_bytes,
            host_os: host.os_line(),
            git_commit: host.git_commit.clone(),
            stratbench_version: host.stratbench_version.to_string(),
            driver_id: host.driver_id.clone(),
            ..SummaryCore::default()
        });
        if let Some(drive) = &record.drive {
            row.fill_measurements(drive, record.timing, workload.shape);
            row.fill_resizes(&drive.events);
            row.fill_spread(drive, &record.family.node_weights, workload.nodes as usize);
        }
        row.fill_family(&record.family, record.drive.as_ref(), record.timing);
        row
    }

    /// On the last repetition of a run: the mean throughput of its repetitions and its
    /// t-interval, from the rows of the earlier repetitions in `earlier` (same scenario,
    /// strategy, mode and parameters). Repetitions that did not end `ok` are left out: an
    /// overloaded or failed repetition measured another thing.
    pub fn fill_repetitions(&mut self, earlier: &[SummaryRow]) {
        let same = |r: &&SummaryRow| {
            r.scenario == self.scenario
                && r.strategy == self.strategy
                && r.mode == self.mode
                && r.params == self.params
                && r.target_rate_ops_s == self.target_rate_ops_s
                && r.repeat < self.repeat
        };
        let ok = RunStatus::Ok.as_str();
        let values: Vec<f64> = earlier
            .iter()
            .filter(same)
            .chain(std::iter::once(&*self))
            .filter(|r| r.status == ok)
            .filter_map(|r| r.throughput_ops_s)
            .collect();
        if let Some(interval) = crate::analysis::mean_interval(&values) {
            self.throughput_ops_s_mean = Some(round3(interval.mean));
            self.throughput_ops_s_lo = Some(round3(interval.lo));
            self.throughput_ops_s_hi = Some(round3(interval.hi));
        }
    }

    fn fill_measurements(&mut self, drive: &DriveReport, timing: Timing, shape: LoadShape) {
        let totals = &drive.totals;
        let errors = totals.measured_errors.total();
        let span = drive.measured_span.as_secs_f64();
        self.started_at = chrono::DateTime::<chrono::Utc>::from(drive.started_at)
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        self.duration_s = (span > 0.0).then(|| round6(span));
        self.ops = Some(totals.measured_ops);
        self.errors = Some(errors);
        self.error_rate = (totals.measured_ops > 0).then(|| round6(errors as f64 / totals.measured_ops as f64));
        self.error_kinds = Some(totals.measured_errors.describe());
        self.throughput_ops_s = (span > 0.0).then(|| round3((totals.measured_ops - errors) as f64 / span));
        self.warmup_ops = Some(totals.warmup_ops);
        self.ops_unfinished = Some(totals.unfinished);
        if let (Some(kept), LoadShape::Open { rate_ops_s, .. }) = (drive.schedule, shape) {
            self.achieved_rate_ops_s = kept.fraction().map(|f| round3(f * rate_ops_s));
        }
        self.load_engine = Some(drive.load_engine.as_str().to_string());
        self.driver_cpu_percent = drive.resources.cpu_percent_mean.map(|c| (c * 10.0).round() / 10.0);
        self.driver_rss_bytes_peak = drive.resources.rss_bytes_peak;
        self.fill_histograms(&totals.measured, timing);
    }

    /// Every percentile column, from the run's histograms ([`HISTOGRAM_COLUMNS`]).
    pub(crate) fn fill_histograms(&mut self, histograms: &Histograms, timing: Timing) {
        self.fill_percentiles(histograms, timing);
        if timing == Timing::PerOp {
            self.fill_intervals(histograms);
        }
    }

    /// The 95% intervals of the latency, service-time and acquire-latency percentiles of
    /// operations timed alone (a batch's values are averages over the batch: their order
    /// statistics are not those of single operations, so batches get none).
    fn fill_intervals(&mut self, histograms: &Histograms) {
        let intervals_of = |h: Option<&Histogram<u64>>| h.filter(|h| !h.is_empty()).map(PercentileIntervals::of);
        let response = intervals_of(Some(&histograms.response));
        // A closed loop's service time is its latency (as in `fill_percentiles`).
        let service = intervals_of(histograms.service.as_ref()).or(response);
        let phase = intervals_of(histograms.phase.as_ref());
        let mut reasons = Vec::new();
        for (intervals, (columns, name)) in [response, service, phase].into_iter().zip(INTERVAL_COLUMNS) {
            if let Some(intervals) = intervals {
                intervals.write(columns(&mut self.core));
                reasons.extend(intervals.reasons(name));
            }
        }
        self.ci_unbounded = (!reasons.is_empty()).then(|| reasons.join("; "));
    }

    /// The point estimates of every percentile column.
    fn fill_percentiles(&mut self, histograms: &Histograms, timing: Timing) {
        if let Some(p) = histograms.phase.as_ref().and_then(Percentiles::of) {
            self.acquire_latency_us_mean = Some(p.mean);
            self.acquire_latency_us_p50 = Some(p.p50);
            self.acquire_latency_us_p90 = Some(p.p90);
            self.acquire_latency_us_p99 = Some(p.p99);
            self.acquire_latency_us_p999 = Some(p.p999);
            self.acquire_latency_us_max = Some(p.max);
        }
        let response = Percentiles::of(&histograms.response);
        if timing != Timing::PerOp {
            if let Some(p) = response {
                self.op_cost_ns_mean = Some(p.mean);
                self.op_cost_ns_p50 = Some(p.p50);
                self.op_cost_ns_p99 = Some(p.p99);
                self.op_cost_ns_max = Some(p.max);
            }
            return;
        }
        if let Some(p) = histograms.failed.as_ref().and_then(Percentiles::of) {
            self.error_latency_us_p50 = Some(p.p50);
            self.error_latency_us_p99 = Some(p.p99);
            self.error_latency_us_max = Some(p.max);
        }
        if let Some(p) = response {
            self.latency_us_mean = Some(p.mean);
            self.latency_us_p50 = Some(p.p50);
            self.latency_us_p90 = Some(p.p90);
            self.latency_us_p99 = Some(p.p99);
            self.latency_us_p999 = Some(p.p999);
            self.latency_us_max = Some(p.max);
        }
        // A closed loop starts each operation when it is due: its service time is its latency.
        if let Some(p) = histograms.service.as_ref().map_or(response, Percentiles::of) {
            self.service_us_mean = Some(p.mean);
            self.service_us_p50 = Some(p.p50);
            self.service_us_p90 = Some(p.p90);
            self.service_us_p99 = Some(p.p99);
            self.service_us_p999 = Some(p.p999);
            self.service_us_max = Some(p.max);
        }
        if let Some(p) = histograms.lag.as_ref().and_then(Percentiles::of) {
            self.schedule_lag_us_p99 = Some(p.p99);
            self.schedule_lag_us_max = Some(p.max);
        }
    }

    /// Resize totals over the run's events: moved and ideal fractions summed over the events
    /// that were applied, their ratio, violations summed, restored fraction averaged.
    fn fill_resizes(&mut self, events: &[FiredEvent]) {
        let resizes: Vec<&ResizeReport> = events.iter().filter_map(|e| e.report.resize.as_ref()).collect();
        let unsupported = events.iter().filter(|e| e.report.status == EventStatus::Unsupported).count() as u32;
        if resizes.is_empty() && unsupported == 0 {
            return;
        }
        self.resize_events = Some(resizes.len() as u32);
        self.resize_unsupported = Some(unsupported);
        if resizes.is_empty() {
            return;
        }
        let moved: f64 = resizes.iter().map(|r| r.keys_moved_fraction).sum();
        let ideal: f64 = resizes.iter().map(|r| r.keys_moved_ideal_fraction).sum();
        self.keys_moved_fraction = Some(round6(moved));
        self.keys_moved_ideal_fraction = Some(round6(ideal));
        self.keys_moved_ratio = (ideal > 0.0).then(|| round6(moved / ideal));
        self.monotonicity_violations = Some(resizes.iter().map(|r| r.monotonicity_violations).sum());
        let restored: Vec<f64> = resizes.iter().filter_map(|r| r.mapping_restored_fraction).collect();
        self.mapping_restored_fraction =
            (!restored.is_empty()).then(|| restored.iter().sum::<f64>() / restored.len() as f64);
    }

    /// Each node's share of the requests, imbalance, and reaction times, for families whose
    /// workers say which node served each operation.
    fn fill_spread(&mut self, drive: &DriveReport, weights: &[f64], nodes: usize) {
        let shares = spread::shares(&drive.totals.node_ops, nodes);
        if shares.is_empty() {
            return;
        }
        self.backend_requests_share = Some(spread::describe(&shares));
        if let Some((peak, cv)) = spread::imbalance(&shares, weights) {
            self.requests_peak_to_mean = Some(peak);
            self.requests_cv = Some(cv);
        }
        let (drain, back) = spread::reaction_times(&drive.totals.node_series, &drive.events, weights);
        self.traffic_drain_s = drain;
        self.traffic_return_s = back;
    }

    /// The family's figures: the ones every family may have, and the family's own columns.
    fn fill_family(&mut self, family: &FamilyMetrics, drive: Option<&DriveReport>, timing: Timing) {
        self.memory_bytes = family.memory_bytes;
        self.violations = family.violations;
        if let Some(load) = family.load {
            self.load_peak_to_mean = Some(round6(load.peak_to_mean));
            self.load_min_to_mean = Some(round6(load.min_to_mean));
            self.load_cv = Some(round6(load.cv));
        }
        let errors_of_kind = |kind: &str| drive.map_or(0, |d| d.totals.measured_errors.count(kind));
        let measured = drive.map(|d| Measured { ops: d.totals.measured_ops, errors_of_kind: &errors_of_kind });
        self.family_columns = family.write_columns(measured, timing == Timing::PerOp);
    }
}

/// The figures whose drift over a run's intervals the stationarity check tests: a column
/// label and how to read it from an interval's row.
type SeriesReader = (&'static str, fn(&TimeseriesRow) -> Option<f64>);
const STATIONARITY_SERIES: [SeriesReader; 3] = [
    ("latency p50", |r| r.latency_us_p50),
    ("cost per op p50", |r| r.op_cost_ns_p50),
    ("throughput", |r| r.throughput_ops_s),
];

impl SummaryRow {
    /// `stationary` and `drift`: the Mann–Kendall test ([`trend`]) on the per-interval median
    /// latency (or cost per operation) and throughput of the measured phase's full-length
    /// intervals. Left empty when there are too few intervals to find a trend.
    pub fn fill_stationarity(&mut self, intervals: &[TimeseriesRow], interval_length: Duration) {
        let full = |r: &&TimeseriesRow| {
            r.phase == crate::recorder::Phase::Measure.as_str() && r.interval_s >= 0.9 * interval_length.as_secs_f64()
        };
        let measured: Vec<&TimeseriesRow> = intervals.iter().filter(full).collect();
        let mut tested = false;
        let mut drifts = Vec::new();
        for (label, read) in STATIONARITY_SERIES {
            let values: Option<Vec<f64>> = measured.iter().map(|r| read(r)).collect();
            let Some(result) = values.and_then(|v| trend::mann_kendall(&v)) else { continue };
            tested = true;
            if result.is_drift() {
                let direction = if result.change_fraction > 0.0 { "rising" } else { "falling" };
                drifts.push(format!(
                    "{label} {direction} {:.0}% over {} intervals (Mann-Kendall p={:.4})",
                    100.0 * result.change_fraction.abs(),
                    measured.len(),
                    result.p_value
                ));
            }
        }
        if tested {
            self.stationary = Some(drifts.is_empty());
            self.drift = (!drifts.is_empty()).then(|| drifts.join("; "));
        }
    }
}

impl SummaryRow {}

/// The summary columns computed from a run's histograms (by [`SummaryRow::fill_histograms`]):
/// what `merge` recomputes from the drivers' summed interval logs.
pub const HISTOGRAM_COLUMNS: &[&str] = &[
    "latency_us_mean",
    "latency_us_p50",
    "latency_us_p90",
    "latency_us_p99",
    "latency_us_p999",
    "latency_us_max",
    "op_cost_ns_mean",
    "op_cost_ns_p50",
    "op_cost_ns_p99",
    "op_cost_ns_max",
    "acquire_latency_us_mean",
    "acquire_latency_us_p50",
    "acquire_latency_us_p90",
    "acquire_latency_us_p99",
    "acquire_latency_us_p999",
    "acquire_latency_us_max",
    "error_latency_us_p50",
    "error_latency_us_p99",
    "error_latency_us_max",
    "service_us_mean",
    "service_us_p50",
    "service_us_p90",
    "service_us_p99",
    "service_us_p999",
    "service_us_max",
    "schedule_lag_us_p99",
    "schedule_lag_us_max",
    "latency_us_p50_lo",
    "latency_us_p50_hi",
    "latency_us_p90_lo",
    "latency_us_p90_hi",
    "latency_us_p99_lo",
    "latency_us_p99_hi",
    "latency_us_p999_lo",
    "latency_us_p999_hi",
    "service_us_p50_lo",
    "service_us_p50_hi",
    "service_us_p90_lo",
    "service_us_p90_hi",
    "service_us_p99_lo",
    "service_us_p99_hi",
    "service_us_p999_lo",
    "service_us_p999_hi",
    "acquire_latency_us_p50_lo",
    "acquire_latency_us_p50_hi",
    "acquire_latency_us_p90_lo",
    "acquire_latency_us_p90_hi",
    "acquire_latency_us_p99_lo",
    "acquire_latency_us_p99_hi",
    "acquire_latency_us_p999_lo",
    "acquire_latency_us_p999_hi",
    "ci_unbounded",
];

/// The values of `columns` in `row`, as `summary.csv` writes them (empty when not filled).
pub fn cells_of(row: &SummaryRow, columns: &[&str]) -> anyhow::Result<Vec<(String, String)>> {
    Ok(schema::text_cells(row)?.into_iter().filter(|(name, _)| columns.contains(&name.as_str())).collect())
}

/// The columns that identify a run; the other files start with them.
#[derive(Debug, Default, Serialize, Clone)]
pub struct RunKey {
    pub run_id: String,
    pub scenario: String,
    pub family: String,
    pub strategy: String,
    pub mode: String,
    pub repeat: u32,
}

impl RunKey {
    /// The key of `spec`.
    pub fn of(spec: &RunSpec) -> Self {
        RunKey {
            run_id: spec.run_id.clone(),
            scenario: spec.workload.scenario.clone(),
            family: spec.family.name().to_string(),
            strategy: spec.strategy.clone(),
            mode: spec.mode.as_str().to_string(),
            repeat: spec.repeat,
        }
    }
}

/// The columns of `timeseries.csv` after the [`RunKey`]: one interval of one run; the
/// family's own (its counters' change over the interval) are written by its
/// [`targets::target::SampleColumns`].
pub type TimeseriesRow = Row<TimeseriesCore>;

/// The columns of `timeseries.csv` every run has.
#[derive(Debug, Default, Serialize, Clone)]
pub struct TimeseriesCore {
    pub phase: String,
    pub interval_index: u64,
    pub interval_start_s: f64,
    pub interval_s: f64,
    pub ops: u64,
    pub errors: u64,
    pub throughput_ops_s: Option<f64>,
    pub latency_us_p50: Option<f64>,
    pub latency_us_p90: Option<f64>,
    pub latency_us_p99: Option<f64>,
    pub latency_us_p999: Option<f64>,
    pub latency_us_max: Option<f64>,
    pub op_cost_ns_p50: Option<f64>,
    pub op_cost_ns_p99: Option<f64>,
    pub driver_rss_bytes: Option<u64>,
    pub acquire_latency_us_p50: Option<f64>,
    pub acquire_latency_us_p99: Option<f64>,
    pub backend_requests_share: Option<String>,
    pub ops_unfinished: u64,
    pub service_us_p50: Option<f64>,
    pub service_us_p99: Option<f64>,
    pub schedule_lag_us_p99: Option<f64>,
}

impl Schema for TimeseriesCore {
    fn columns() -> &'static [&'static str] {
        schema::timeseries_columns()
    }
}

/// The shortest interval whose rate is written, as a fraction of the interval length: a few
/// operations over a few microseconds (the last sliver of a run) are not a rate.
pub const RATE_MIN_INTERVAL_FRACTION: f64 = 0.1;

impl TimeseriesRow {
    /// The row for `interval` of a run whose intervals are `interval_length` long (backend
    /// shares are filled at the end of the run, by [`TimeseriesRow::fill_shares`]).
    pub fn new(interval: &FlushedInterval, timing: Timing, interval_length: Duration) -> Self {
        let errors = interval.errors.total();
        let seconds = interval.length.as_secs_f64();
        let long_enough = seconds >= RATE_MIN_INTERVAL_FRACTION * interval_length.as_secs_f64() && seconds > 0.0;
        let mut row = TimeseriesRow::from(TimeseriesCore {
            phase: interval.slot.phase.as_str().to_string(),
            interval_index: interval.slot.index,
            interval_start_s: round3(interval.start_offset_s),
            interval_s: round6(seconds),
            ops: interval.ops,
            errors,
            throughput_ops_s: long_enough.then(|| round3((interval.ops - errors) as f64 / seconds)),
            driver_rss_bytes: interval.driver_rss_bytes,
            ops_unfinished: interval.unfinished,
            ..TimeseriesCore::default()
        });
        let histograms = &interval.histograms;
        if let Some(p) = Percentiles::of(&histograms.response) {
            match timing {
                Timing::PerOp => {
                    row.latency_us_p50 = Some(p.p50);
                    row.latency_us_p90 = Some(p.p90);
                    row.latency_us_p99 = Some(p.p99);
                    row.latency_us_p999 = Some(p.p999);
                    row.latency_us_max = Some(p.max);
                }
                Timing::Batch(_) => {
                    row.op_cost_ns_p50 = Some(p.p50);
                    row.op_cost_ns_p99 = Some(p.p99);
                }
            }
        }
        if let Some(p) = histograms.phase.as_ref().and_then(Percentiles::of) {
            row.acquire_latency_us_p50 = Some(p.p50);
            row.acquire_latency_us_p99 = Some(p.p99);
        }
        if let Some(p) = histograms.service.as_ref().and_then(Percentiles::of) {
            row.service_us_p50 = Some(p.p50);
            row.service_us_p99 = Some(p.p99);
        }
        row.schedule_lag_us_p99 = histograms.lag.as_ref().and_then(Percentiles::of).map(|p| p.p99);
        row
    }
}

impl TimeseriesRow {
    /// Fills each row's backend shares from the run's node counts (by the interval requests
    /// started in), for a run over `nodes` nodes.
    pub fn fill_shares(rows: &mut [TimeseriesRow], drive: &DriveReport, nodes: usize) {
        for interval in &drive.totals.node_series {
            let row = rows
                .iter_mut()
                .find(|r| r.phase == interval.slot.phase.as_str() && r.interval_index == interval.slot.index);
            if let Some(row) = row {
                let shares = spread::shares(&interval.node_ops, nodes);
                row.backend_requests_share = (!shares.is_empty()).then(|| spread::describe(&shares));
            }
        }
    }
}

/// The columns of `events.csv` after the [`RunKey`]: one scheduled event of one run.
#[derive(Debug, Default, Serialize)]
pub struct EventRow {
    pub event_index: usize,
    pub event: String,
    pub trigger: String,
    pub fired_at_s: Option<f64>,
    pub apply_us: Option<u64>,
    pub status: String,
    pub message: Option<String>,
    pub nodes_before: Option<u32>,
    pub nodes_after: Option<u32>,
    pub keys_moved_fraction: Option<f64>,
    pub keys_moved_ideal_fraction: Option<f64>,
    pub keys_moved_ratio: Option<f64>,
    pub monotonicity_violations: Option<u64>,
    pub mapping_restored_fraction: Option<f64>,
    pub load_peak_to_mean: Option<f64>,
    pub load_min_to_mean: Option<f64>,
    pub load_cv: Option<f64>,
}

impl EventRow {
    /// The row for `event`.
    pub fn new(event: &FiredEvent) -> Self {
        let mut row = EventRow {
            event_index: event.index,
            event: event.event.action.label(),
            trigger: event.event.trigger.to_string(),
            fired_at_s: event.fired_at.map(|d| round3(d.as_secs_f64())),
            apply_us: event.apply_duration.map(|d| d.as_micros() as u64),
            status: event.report.status.as_str().to_string(),
            message: event.report.message.clone(),
            ..EventRow::default()
        };
        if let Some(resize) = &event.report.resize {
            row.nodes_before = Some(resize.nodes_before);
            row.nodes_after = Some(resize.nodes_after);
            row.keys_moved_fraction = Some(round6(resize.keys_moved_fraction));
            row.keys_moved_ideal_fraction = Some(round6(resize.keys_moved_ideal_fraction));
            row.keys_moved_ratio = Some(round6(resize.keys_moved_ratio()));
            row.monotonicity_violations = Some(resize.monotonicity_violations);
            row.mapping_restored_fraction = resize.mapping_restored_fraction.map(round6);
            row.load_peak_to_mean = Some(round6(resize.load.peak_to_mean));
            row.load_min_to_mean = Some(round6(resize.load.min_to_mean));
            row.load_cv = Some(round6(resize.load.cv));
        }
        row
    }
}

/// The columns of `nodes.csv` after the [`RunKey`]: one node's share of the key set at the
/// start of a run (hashing), or of the measured requests (balancing).
#[derive(Debug, Default, Serialize)]
pub struct NodeRow {
    pub node: u32,
    pub keys_share: Option<f64>,
    pub requests_share: Option<f64>,
}

impl NodeRow {
    /// The rows of every node: from the family's key shares, and from the driver's count of
    /// the requests each of the run's `nodes` nodes served.
    pub fn all(family: &FamilyMetrics, drive: Option<&DriveReport>, nodes: u32) -> Vec<NodeRow> {
        let keys = family.node_shares.iter().map(|(node, share)| NodeRow {
            node: *node,
            keys_share: Some(round6(*share)),
            requests_share: None,
        });
        let requests = drive.map(|d| spread::shares(&d.totals.node_ops, nodes as usize)).unwrap_or_default();
        let requests = requests.into_iter().enumerate().map(|(node, share)| NodeRow {
            node: node as u32,
            keys_share: None,
            requests_share: Some(share),
        });
        keys.chain(requests).collect()
    }
}
