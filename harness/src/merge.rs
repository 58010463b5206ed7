//! `stratbench merge DIR...`: one run directory out of those written by several driver
//! machines (`stratbench run --driver-id ID --start-at EPOCH`) that loaded the same target
//! at the same time.
//!
//! Percentiles cannot be averaged: the p99 of two drivers is not the mean of their p99s. What
//! can be added is histograms. Each driver's `hlog/<run_id>.hlog` holds one HdrHistogram per
//! measured interval, stamped with its wall-clock start; the merge puts every interval on the
//! wall-clock grid of the earliest driver (interval length from the summary), adds the
//! histograms that fall in the same slot, and computes every percentile of the merged
//! summary and time series from those sums. Counts add (operations, errors, workers, the
//! target rate); the run's other columns come from the first driver that has it.
//!
//! Runs are matched by the columns that define a run, except the ones that add up across
//! drivers (`workers`, `target_rate_ops_s`), plus the repetition number. The merged time
//! series covers the measured phase (warm-up intervals have no histograms in the logs).

use crate::cli::MergeArgs;
use crate::commands::{Outcome, print_results_dir};
use crate::error::bad_input;
use crate::output::format::{OutputFormat, csv_of, json_of, text_table};
use crate::recorder::new_histogram;
use crate::rundir::{self, CsvTable, IDENTITY_COLUMNS, IntervalLog};
use anyhow::Context as _;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::V2DeflateSerializer;
use hdrhistogram::serialization::interval_log::IntervalLogWriterBuilder;
use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// Columns that add up across drivers rather than identify a run.
const ADDITIVE_IDENTITY: [&str; 2] = ["workers", "target_rate_ops_s"];

/// One driver's run directory.
struct Driver {
    dir: PathBuf,
    id: String,
    summary: CsvTable,
    timeseries: CsvTable,
    host: serde_json::Value,
}

impl Driver {
    fn load(dir: &Path, position: usize) -> anyhow::Result<Self> {
        let summary = rundir::read_summary(dir)?;
        if !dir.is_dir() {
            return Err(bad_input(format!("{}: merge needs run directories (with hlog/), not files", dir.display())));
        }
        let host: serde_json::Value = std::fs::read(dir.join("host.json"))
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or(serde_json::Value::Null);
        let id = host["driver_id"].as_str().map_or_else(|| format!("driver{}", position + 1), String::from);
        Ok(Driver {
            dir: dir.to_path_buf(),
            id,
            summary,
            timeseries: rundir::read_optional(dir, "timeseries.csv")?,
            host,
        })
    }

    /// The merge key of `row`: identity without the additive columns, plus the repetition.
    fn key(&self, row: &[String]) -> Vec<String> {
        let mut key: Vec<String> = IDENTITY_COLUMNS
            .iter()
            .filter(|c| !ADDITIVE_IDENTITY.contains(c))
            .map(|c| self.summary.get(row, c).to_string())
            .collect();
        key.push(self.summary.get(row, "repeat").to_string());
        key
    }
}

/// One run as measured by one driver.
struct Part<'a> {
    driver: &'a Driver,
    row: &'a [String],
    log: IntervalLog,
}

/// `stratbench merge`.
pub fn command(args: &MergeArgs) -> anyhow::Result<Outcome> {
    let drivers: Vec<Driver> =
        args.dirs.iter().enumerate().map(|(i, d)| Driver::load(d, i)).collect::<anyhow::Result<_>>()?;
    let out = args.out.clone().unwrap_or_else(|| crate::output::default_dir("merged"));
    let merged = merge(&drivers, &out)?;
    let text = match args.format {
        OutputFormat::Csv => csv_of(&merged.records())?,
        OutputFormat::Json => json_of(&merged.records())?,
        format => text_table(&TABLE_COLUMNS, &merged.cells(&TABLE_COLUMNS), format),
    };
    print!("{text}");
    print_results_dir(&out, args.format);
    Ok(Outcome::Ok)
}

const TABLE_COLUMNS: [&str; 9] = [
    "scenario",
    "strategy",
    "driver_id",
    "ops",
    "throughput_ops_s",
    "latency_us_p50",
    "latency_us_p99",
    "latency_us_p999",
    "op_cost_ns_p50",
];

/// The merged summary.
pub struct Merged {
    pub summary: CsvTable,
}

impl Merged {
    fn cells(&self, columns: &[&str]) -> Vec<Vec<String>> {
        self.summary
            .rows
            .iter()
            .map(|row| columns.iter().map(|c| self.summary.get(row, c).to_string()).collect())
            .collect()
    }

    fn records(&self) -> Vec<BTreeMap<String, String>> {
        self.summary
            .rows
            .iter()
            .map(|row| self.summary.header.iter().cloned().zip(row.iter().cloned()).collect())
            .collect()
    }
}

/// Merges the runs of `drivers` into the run directory `out`.
fn merge(drivers: &[Driver], out: &Path) -> anyhow::Result<Merged> {
    std::fs::create_dir_all(out.join("hlog")).with_context(|| format!("cannot create {}", out.display()))?;
    let first = &drivers[0];
    let mut summary = CsvTable::new(first.summary.header.clone());
    let mut timeseries = CsvTable::new(first.timeseries.header.clone());
    for key in run_keys(drivers) {
        let parts = parts_of(drivers, &key)?;
        let run = merge_run(&parts)?;
        let mut row = parts[0].row.to_vec();
        fill_summary(&summary, &mut row, &parts, &run);
        let run_id = summary.get(&row, "run_id").to_string();
        write_log(&out.join("hlog").join(format!("{run_id}.hlog")), &run, &parts)?;
        append_timeseries(&mut timeseries, &parts, &run, &row, &summary);
        summary.rows.push(row);
    }
    summary.write(&out.join("summary.csv"))?;
    timeseries.write(&out.join("timeseries.csv"))?;
    for name in ["events.csv", "nodes.csv"] {
        if first.dir.join(name).is_file() {
            std::fs::copy(first.dir.join(name), out.join(name)).with_context(|| format!("cannot copy {name}"))?;
        }
    }
    let merged_from: Vec<serde_json::Value> =
        drivers.iter().map(|d| serde_json::json!({"dir": d.dir.display().to_string(), "host": d.host})).collect();
    let host = serde_json::json!({
        "driver_id": drivers.iter().map(|d| d.id.as_str()).collect::<Vec<_>>().join("+"),
        "merged_from": merged_from,
        "command_line": std::env::args().collect::<Vec<_>>(),
        "stratbench_version": env!("CARGO_PKG_VERSION"),
    });
    std::fs::write(out.join("host.json"), serde_json::to_string_pretty(&host)? + "\n")
        .context("cannot write host.json")?;
    Ok(Merged { summary })
}

/// Every run key, in the order the drivers list them.
fn run_keys(drivers: &[Driver]) -> Vec<Vec<String>> {
    let mut keys: Vec<Vec<String>> = Vec::new();
    for driver in drivers {
        for row in &driver.summary.rows {
            let key = driver.key(row);
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
    }
    keys
}

fn parts_of<'a>(drivers: &'a [Driver], key: &[String]) -> anyhow::Result<Vec<Part<'a>>> {
    let mut parts = Vec::new();
    for driver in drivers {
        let Some(row) = driver.summary.rows.iter().find(|r| driver.key(r) == key) else { continue };
        let run_id = driver.summary.get(row, "run_id");
        let path = driver.dir.join("hlog").join(format!("{run_id}.hlog"));
        let log = if path.is_file() { IntervalLog::read(&path)? } else { IntervalLog::default() };
        parts.push(Part { driver, row, log });
    }
    Ok(parts)
}

/// A run's intervals from every driver, added slot by slot on a common wall-clock grid.
struct MergedRun {
    /// Wall-clock start of slot 0 (the earliest driver's measured phase).
    origin: Duration,
    interval: Duration,
    /// Slot index → (length, histogram).
    slots: BTreeMap<u64, (Duration, Histogram<u64>)>,
    /// Each part's slot offset: its interval `i` is merged slot `i + offset`.
    offsets: Vec<u64>,
    total: Histogram<u64>,
    warnings: Vec<String>,
}

fn merge_run(parts: &[Part<'_>]) -> anyhow::Result<MergedRun> {
    let interval_s = parts[0].driver.summary.num(parts[0].row, "interval_s").unwrap_or(1.0);
    if interval_s <= 0.0 {
        return Err(bad_input(format!("{}: interval_s must be positive", parts[0].driver.dir.display())));
    }
    for part in &parts[1..] {
        let other = part.driver.summary.num(part.row, "interval_s").unwrap_or(1.0);
        if (other - interval_s).abs() > 1e-9 {
            return Err(bad_input(format!(
                "{} and {}: the drivers used different intervals ({interval_s}s, {other}s); merge needs the same",
                parts[0].driver.dir.display(),
                part.driver.dir.display()
            )));
        }
    }
    let interval = Duration::from_secs_f64(interval_s);
    let starts: Vec<Option<Duration>> = parts.iter().map(|p| p.log.intervals.first().map(|i| i.start_epoch)).collect();
    let origin = starts.iter().flatten().min().copied().unwrap_or_default();
    let mut run = MergedRun {
        origin,
        interval,
        slots: BTreeMap::new(),
        offsets: Vec::new(),
        total: new_histogram(),
        warnings: Vec::new(),
    };
    for (part, start) in parts.iter().zip(&starts) {
        let offset = start.map_or(0, |s| slot_of(s - origin, interval));
        run.offsets.push(offset);
        let skew = start.map_or(Duration::ZERO, |s| (s - origin).abs_diff(times(interval, offset)));
        if skew > interval / 10 {
            run.warnings.push(format!(
                "driver {} started {:.3}s off the common interval grid",
                part.driver.id,
                skew.as_secs_f64()
            ));
        }
        for logged in &part.log.intervals {
            let slot = slot_of(logged.start_epoch.saturating_sub(origin), interval);
            let entry = run.slots.entry(slot).or_insert_with(|| (Duration::ZERO, new_histogram()));
            entry.0 = entry.0.max(logged.length);
            rundir::add(&mut entry.1, &logged.histogram);
            rundir::add(&mut run.total, &logged.histogram);
        }
    }
    Ok(run)
}

fn slot_of(since_origin: Duration, interval: Duration) -> u64 {
    (since_origin.as_secs_f64() / interval.as_secs_f64()).round() as u64
}

fn times(interval: Duration, count: u64) -> Duration {
    Duration::from_secs_f64(interval.as_secs_f64() * count as f64)
}

/// The percentile columns of a row's timing: latency in µs, or cost in ns per operation.
fn percentile_columns(table: &CsvTable, row: &[String]) -> &'static [(&'static str, f64)] {
    if table.get(row, "timing") == "batch" {
        &[("op_cost_ns_p50", 0.5), ("op_cost_ns_p99", 0.99), ("op_cost_ns_max", 1.0)]
    } else {
        &[
            ("latency_us_p50", 0.5),
            ("latency_us_p90", 0.9),
            ("latency_us_p99", 0.99),
            ("latency_us_p999", 0.999),
            ("latency_us_max", 1.0),
        ]
    }
}

fn sum(parts: &[Part<'_>], column: &str) -> Option<f64> {
    let values: Vec<f64> = parts.iter().filter_map(|p| p.driver.summary.num(p.row, column)).collect();
    (!values.is_empty()).then(|| values.iter().sum())
}

fn fill_summary(table: &CsvTable, row: &mut [String], parts: &[Part<'_>], run: &MergedRun) {
    let integer = |v: f64| format!("{}", v.round() as u64);
    for column in ["ops", "errors", "warmup_ops", "workers"] {
        if let Some(total) = sum(parts, column) {
            table.set(row, column, integer(total));
        }
    }
    for column in ["target_rate_ops_s", "driver_cpu_percent"] {
        if let Some(total) = sum(parts, column) {
            table.set(row, column, format!("{total}"));
        }
    }
    let peak = parts
        .iter()
        .filter_map(|p| p.driver.summary.num(p.row, "driver_rss_bytes_peak"))
        .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))));
    if let Some(peak) = peak {
        table.set(row, "driver_rss_bytes_peak", integer(peak));
    }
    let (ops, errors) = (sum(parts, "ops").unwrap_or(0.0), sum(parts, "errors").unwrap_or(0.0));
    table.set(row, "error_rate", if ops > 0.0 { format!("{}", errors / ops) } else { String::new() });
    table.set(row, "error_kinds", merge_error_kinds(parts));
    let span = merged_span(parts, run);
    if span > 0.0 {
        table.set(row, "duration_s", format!("{}", round3(span)));
        table.set(row, "throughput_ops_s", format!("{}", round3((ops - errors) / span)));
    }
    let timing_prefix = if table.get(row, "timing") == "batch" { "op_cost_ns" } else { "latency_us" };
    if !run.total.is_empty() {
        for (column, quantile) in percentile_columns(table, row) {
            table.set(row, column, run.total.value_at_quantile(*quantile).to_string());
        }
        table.set(row, &format!("{timing_prefix}_mean"), format!("{}", round3(run.total.mean())));
    }
    let started = parts.iter().map(|p| p.driver.summary.get(p.row, "started_at")).filter(|s| !s.is_empty()).min();
    table.set(row, "started_at", started.unwrap_or_default().to_string());
    table.set(row, "driver_id", parts.iter().map(|p| p.driver.id.as_str()).collect::<Vec<_>>().join("+"));
    if let Some(bad) = parts.iter().find(|p| p.driver.summary.get(p.row, "status") != "ok") {
        table.set(row, "status", bad.driver.summary.get(bad.row, "status").to_string());
    }
    let mut notes: Vec<String> = parts
        .iter()
        .filter_map(|p| {
            Some(p.driver.summary.get(p.row, "message"))
                .filter(|m| !m.is_empty())
                .map(|m| format!("{}: {m}", p.driver.id))
        })
        .collect();
    notes.push(format!("merged from {} drivers", parts.len()));
    notes.extend(run.warnings.iter().cloned());
    table.set(row, "message", notes.join("; "));
}

/// From the earliest driver's measured start to the latest driver's measured end.
fn merged_span(parts: &[Part<'_>], run: &MergedRun) -> f64 {
    parts
        .iter()
        .zip(&run.offsets)
        .filter_map(|(p, offset)| {
            p.driver.summary.num(p.row, "duration_s").map(|d| *offset as f64 * run.interval.as_secs_f64() + d)
        })
        .fold(0.0, f64::max)
}

fn merge_error_kinds(parts: &[Part<'_>]) -> String {
    let mut kinds: BTreeMap<String, u64> = BTreeMap::new();
    for part in parts {
        for item in part.driver.summary.get(part.row, "error_kinds").split(';').filter(|s| !s.is_empty()) {
            if let Some((kind, count)) = item.split_once('=') {
                *kinds.entry(kind.to_string()).or_default() += count.parse::<u64>().unwrap_or(0);
            }
        }
    }
    kinds.iter().map(|(k, c)| format!("{k}={c}")).collect::<Vec<_>>().join(";")
}

fn write_log(path: &Path, run: &MergedRun, parts: &[Part<'_>]) -> anyhow::Result<()> {
    let mut file = std::io::BufWriter::new(
        std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
    );
    let mut serializer = V2DeflateSerializer::new();
    let origin = SystemTime::UNIX_EPOCH + run.origin;
    let mut builder = IntervalLogWriterBuilder::new();
    for comment in parts[0].log.comments.iter().take(2) {
        builder.add_comment(comment);
    }
    let drivers: Vec<&str> = parts.iter().map(|p| p.driver.id.as_str()).collect();
    builder.add_comment(&format!(
        "merged by stratbench {} from drivers {}",
        env!("CARGO_PKG_VERSION"),
        drivers.join(", ")
    ));
    let mut writer =
        builder.with_start_time(origin).with_base_time(origin).begin_log_with(&mut file, &mut serializer)?;
    for (slot, (length, histogram)) in &run.slots {
        writer
            .write_histogram(histogram, times(run.interval, *slot), *length, None)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e:?}", path.display()))?;
    }
    drop(writer);
    file.flush().with_context(|| format!("cannot write {}", path.display()))
}

/// The measured intervals of the merged run: counts summed per slot, percentiles from the
/// slot's summed histogram.
fn append_timeseries(
    out: &mut CsvTable,
    parts: &[Part<'_>],
    run: &MergedRun,
    summary_row: &[String],
    summary: &CsvTable,
) {
    let mut counts: BTreeMap<u64, (f64, f64)> = BTreeMap::new();
    for (part, offset) in parts.iter().zip(&run.offsets) {
        let series = &part.driver.timeseries;
        let run_id = part.driver.summary.get(part.row, "run_id");
        for row in
            series.rows.iter().filter(|r| series.get(r, "run_id") == run_id && series.get(r, "phase") == "measure")
        {
            let Some(index) = series.num(row, "interval_index") else { continue };
            let entry = counts.entry(index as u64 + offset).or_default();
            entry.0 += series.num(row, "ops").unwrap_or(0.0);
            entry.1 += series.num(row, "errors").unwrap_or(0.0);
        }
    }
    let slots: std::collections::BTreeSet<u64> = counts.keys().chain(run.slots.keys()).copied().collect();
    for slot in slots {
        let (ops, errors) = counts.get(&slot).copied().unwrap_or_default();
        let length = run.slots.get(&slot).map_or(run.interval, |(l, _)| *l);
        let mut row = vec![String::new(); out.header.len()];
        for column in ["run_id", "scenario", "family", "strategy", "mode", "repeat"] {
            out.set(&mut row, column, summary.get(summary_row, column).to_string());
        }
        out.set(&mut row, "phase", "measure".into());
        out.set(&mut row, "interval_index", slot.to_string());
        out.set(&mut row, "interval_start_s", format!("{}", round3(times(run.interval, slot).as_secs_f64())));
        out.set(&mut row, "interval_s", format!("{}", round3(length.as_secs_f64())));
        out.set(&mut row, "ops", format!("{ops}"));
        out.set(&mut row, "errors", format!("{errors}"));
        let seconds = length.as_secs_f64();
        out.set(
            &mut row,
            "throughput_ops_s",
            format!("{}", if seconds > 0.0 { round3((ops - errors) / seconds) } else { 0.0 }),
        );
        if let Some((_, histogram)) = run.slots.get(&slot).filter(|(_, h)| !h.is_empty()) {
            for (column, quantile) in percentile_columns(summary, summary_row) {
                out.set(&mut row, column, histogram.value_at_quantile(*quantile).to_string());
            }
        }
        out.rows.push(row);
    }
}

fn round3(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}
