//! `stratbench merge DIR...`: one run directory out of those written by several driver
//! machines (`stratbench run --driver-id ID --start-at EPOCH`) that loaded the same target
//! at the same time.
//!
//! Percentiles cannot be averaged: the p99 of two drivers is not the mean of their p99s. What
//! can be added is histograms. Each driver's `hlog/<run_id>.hlog` holds, per measured
//! interval, the response-time histogram and the tagged ones beside it (service time, schedule
//! lag, time to the phase mark, failed operations), stamped with its wall-clock start; the
//! merge puts every interval on the wall-clock grid of the earliest driver (interval length
//! from the summary), adds the histograms that fall in the same slot, and computes every
//! histogram-derived column of the merged summary and time series from those sums, with the
//! same code that fills a run's own row ([`SummaryRow::fill_histograms`]). The drain (what
//! ended after the measured phase) stays one interval of its own. Counts add (operations,
//! errors, unfinished operations, workers, the target and achieved rates); a run's status is
//! the first driver's that is not `ok`; the phases of networked hashing are cut where any
//! driver's time series marks a migration.
//!
//! Runs are matched by the columns that define a run, except the ones that add up across
//! drivers (`workers`, `target_rate_ops_s`), plus the repetition number. The merge refuses the
//! same directory twice, an `--out` that is one of its inputs, and a driver (or an `ok` run)
//! without its interval logs unless `--allow-partial`: a merge that silently left a driver
//! out would report a share of the load as all of it.

use crate::cli::MergeArgs;
use crate::error::Outcome;
use crate::error::bad_input;
use crate::output::format::{OutputFormat, json_of, text_table};
use crate::output::outdir::print_results_dir;
use crate::output::rows::{HISTOGRAM_COLUMNS, RunKey, SummaryRow, TimeseriesRow, cells_of};
use crate::output::{hlog_header, write_hlog_interval};
use crate::recorder::{ErrorCounts, FlushedInterval, Histograms, Phase, Slot, Timing, times};
use crate::rundir::{self, CsvTable, IDENTITY_COLUMNS, IntervalLog};
use anyhow::Context as _;
use hdrhistogram::serialization::V2DeflateSerializer;
use hdrhistogram::serialization::interval_log::IntervalLogWriterBuilder;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};
use targets::columns::{FamilyColumns as _, RunFacts};
use targets::hashing::net::{PhaseFigures, PhaseStats};
use targets::target::Sample;

/// Columns that add up across drivers rather than identify a run.
const ADDITIVE_IDENTITY: [&str; 2] = ["workers", "target_rate_ops_s"];
/// Count columns that add up across drivers.
const SUMMED_COUNTS: [&str; 5] = ["ops", "errors", "warmup_ops", "workers", "ops_unfinished"];
/// Rate columns that add up across drivers.
const SUMMED_RATES: [&str; 3] = ["target_rate_ops_s", "achieved_rate_ops_s", "driver_cpu_percent"];

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

    /// The rows of this driver's time series that belong to `run_id`.
    fn series<'a>(&'a self, run_id: &'a str) -> impl Iterator<Item = &'a Vec<String>> + 'a {
        let series = &self.timeseries;
        series.rows.iter().filter(move |r| series.get(r, "run_id") == run_id)
    }
}

/// One run as measured by one driver.
struct Part<'a> {
    driver: &'a Driver,
    row: &'a [String],
    log: IntervalLog,
    /// Where this driver's drain starts, from the start of its measured phase, if it had one.
    drain_start: Option<Duration>,
}

/// `stratbench merge`.
pub fn command(args: &MergeArgs) -> anyhow::Result<Outcome> {
    let out = args.out.clone().unwrap_or_else(|| crate::output::default_dir("merged"));
    check_inputs(&args.dirs, &out)?;
    let drivers: Vec<Driver> =
        args.dirs.iter().enumerate().map(|(i, d)| Driver::load(d, i)).collect::<anyhow::Result<_>>()?;
    let merged = merge(&drivers, &out, args.allow_partial)?;
    let text = match args.format {
        OutputFormat::Csv => merged.summary.to_csv()?,
        OutputFormat::Json => json_of(&merged.records())?,
        format => text_table(&TABLE_COLUMNS, &merged.cells(&TABLE_COLUMNS), format),
    };
    print!("{text}");
    print_results_dir(&out, args.format);
    Ok(Outcome::Ok)
}

/// Refuses a directory given twice (its runs would count twice) and an `--out` that is one of
/// the inputs (the merge would overwrite what it reads).
fn check_inputs(dirs: &[PathBuf], out: &Path) -> anyhow::Result<()> {
    let canonical = |dir: &Path| dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    let mut seen = BTreeSet::new();
    for dir in dirs {
        if !seen.insert(canonical(dir)) {
            return Err(bad_input(format!("{} is given twice: its runs would be counted twice", dir.display())));
        }
    }
    if seen.contains(&canonical(out)) {
        return Err(bad_input(format!("--out {} is one of the inputs: give another directory", out.display())));
    }
    Ok(())
}

const TABLE_COLUMNS: [&str; 10] = [
    "scenario",
    "strategy",
    "driver_id",
    "status",
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
fn merge(drivers: &[Driver], out: &Path, allow_partial: bool) -> anyhow::Result<Merged> {
    check_logs(drivers, allow_partial)?;
    std::fs::create_dir_all(out.join("hlog")).with_context(|| format!("cannot create {}", out.display()))?;
    let first = &drivers[0];
    let mut summary = CsvTable::new(first.summary.header.clone());
    let mut timeseries = Vec::new();
    for key in run_keys(drivers) {
        let parts = parts_of(drivers, &key, allow_partial)?;
        let run = merge_run(&parts)?;
        let mut row = parts[0].row.to_vec();
        fill_summary(&summary, &mut row, &parts, &run)?;
        let run_id = summary.get(&row, "run_id").to_string();
        write_log(&out.join("hlog").join(format!("{run_id}.hlog")), &run, &parts)?;
        timeseries.extend(merged_series(&run, &summary, &row));
        summary.rows.push(row);
    }
    summary.write(&out.join("summary.csv"))?;
    write_series(&out.join("timeseries.csv"), &timeseries)?;
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

/// A driver without `hlog/` cannot be merged: its percentiles would be missing from the sums.
fn check_logs(drivers: &[Driver], allow_partial: bool) -> anyhow::Result<()> {
    let missing: Vec<String> = drivers
        .iter()
        .filter(|d| !d.dir.join("hlog").is_dir())
        .map(|d| format!("driver {} ({})", d.id, d.dir.display()))
        .collect();
    if missing.is_empty() || allow_partial {
        return Ok(());
    }
    Err(bad_input(format!(
        "{} has no hlog/ directory: its latencies cannot be merged (copy the whole run directory, or give \
         --allow-partial to merge its counts without its histograms)",
        missing.join(", ")
    )))
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

fn parts_of<'a>(drivers: &'a [Driver], key: &[String], allow_partial: bool) -> anyhow::Result<Vec<Part<'a>>> {
    let mut parts = Vec::new();
    for driver in drivers {
        let Some(row) = driver.summary.rows.iter().find(|r| driver.key(r) == key) else { continue };
        let run_id = driver.summary.get(row, "run_id");
        let path = driver.dir.join("hlog").join(format!("{run_id}.hlog"));
        let measured = matches!(driver.summary.get(row, "status"), "ok" | "overloaded" | "interrupted");
        let log = match path.is_file() {
            true => IntervalLog::read(&path)?,
            false if measured && !allow_partial => {
                return Err(bad_input(format!(
                    "driver {}: run {run_id} has no {} (give --allow-partial to merge it without its histograms)",
                    driver.id,
                    path.display()
                )));
            }
            false => IntervalLog::default(),
        };
        let drain_start = driver
            .series(run_id)
            .find(|r| driver.timeseries.get(r, "phase") == Phase::Drain.as_str())
            .and_then(|r| driver.timeseries.num(r, "interval_start_s"))
            .map(Duration::from_secs_f64);
        parts.push(Part { driver, row, log, drain_start });
    }
    Ok(parts)
}

/// One slot of the merged run: histograms and counts added over the drivers.
#[derive(Default)]
struct MergedSlot {
    length: Duration,
    histograms: Histograms,
    ops: u64,
    errors: u64,
    unfinished: u64,
    /// Networked hashing: whether any driver marked the slot as migrating (`None` for
    /// families without migrations).
    migrating: Option<bool>,
}

impl MergedSlot {
    fn migrating(&self) -> bool {
        self.migrating == Some(true)
    }
}

/// A run's intervals from every driver, added slot by slot on a common wall-clock grid.
struct MergedRun {
    /// Wall-clock start of slot 0 (the earliest driver's measured phase).
    origin: Duration,
    interval: Duration,
    timing: Timing,
    slots: BTreeMap<u64, MergedSlot>,
    drain: Option<MergedSlot>,
    /// Each part's slot offset: its interval `i` is merged slot `i + offset`.
    offsets: Vec<u64>,
    total: Histograms,
    warnings: Vec<String>,
}

fn merge_run(parts: &[Part<'_>]) -> anyhow::Result<MergedRun> {
    let interval = common_interval(parts)?;
    let starts: Vec<Option<Duration>> = parts.iter().map(|p| p.log.intervals.first().map(|i| i.start_epoch)).collect();
    let origin = starts.iter().flatten().min().copied().unwrap_or_default();
    let first = parts[0].row;
    let timing = match parts[0].driver.summary.get(first, "timing") {
        "batch" => Timing::Batch(parts[0].driver.summary.num(first, "batch_size_ops").unwrap_or(1.0) as u32),
        _ => Timing::PerOp,
    };
    let mut run = MergedRun {
        origin,
        interval,
        timing,
        slots: BTreeMap::new(),
        drain: None,
        offsets: Vec::new(),
        total: Histograms::default(),
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
        add_part(&mut run, part, offset, start.unwrap_or_default());
    }
    Ok(run)
}

/// The drivers' common interval length: merge needs the same on every driver.
fn common_interval(parts: &[Part<'_>]) -> anyhow::Result<Duration> {
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
    Ok(Duration::from_secs_f64(interval_s))
}

/// Adds one driver's intervals (histograms from its log, counts from its time series) into
/// the merged slots; `measure_start` is the wall-clock start of its measured phase.
fn add_part(run: &mut MergedRun, part: &Part<'_>, offset: u64, measure_start: Duration) {
    for logged in &part.log.intervals {
        let since_start = logged.start_epoch.saturating_sub(measure_start);
        let slot = match part.drain_start {
            Some(drain) if since_start + Duration::from_millis(1) >= drain => {
                run.drain.get_or_insert_with(Default::default)
            }
            _ => run.slots.entry(slot_of(logged.start_epoch.saturating_sub(run.origin), run.interval)).or_default(),
        };
        slot.length = slot.length.max(logged.length);
        slot.histograms.add(&logged.histograms);
        run.total.add(&logged.histograms);
    }
    let series = &part.driver.timeseries;
    let run_id = part.driver.summary.get(part.row, "run_id");
    for row in part.driver.series(run_id) {
        let slot = match series.get(row, "phase") {
            "measure" => {
                let Some(index) = series.num(row, "interval_index") else { continue };
                let slot = run.slots.entry(index as u64 + offset).or_default();
                slot.length = slot.length.max(Duration::from_secs_f64(series.num(row, "interval_s").unwrap_or(0.0)));
                slot
            }
            "drain" => run.drain.get_or_insert_with(Default::default),
            _ => continue,
        };
        let count = |column: &str| series.num(row, column).unwrap_or(0.0) as u64;
        slot.ops += count("ops");
        slot.errors += count("errors");
        slot.unfinished += count("ops_unfinished");
        match series.get(row, "migrating") {
            "" => {}
            marked => slot.migrating = Some(slot.migrating() || marked == "true"),
        }
    }
}

fn slot_of(since_origin: Duration, interval: Duration) -> u64 {
    (since_origin.as_secs_f64() / interval.as_secs_f64()).round() as u64
}

fn sum(parts: &[Part<'_>], column: &str) -> Option<f64> {
    let values: Vec<f64> = parts.iter().filter_map(|p| p.driver.summary.num(p.row, column)).collect();
    (!values.is_empty()).then(|| values.iter().sum())
}

fn fill_summary(table: &CsvTable, row: &mut [String], parts: &[Part<'_>], run: &MergedRun) -> anyhow::Result<()> {
    let integer = |v: f64| format!("{}", v.round() as u64);
    for column in SUMMED_COUNTS {
        if let Some(total) = sum(parts, column) {
            table.set(row, column, integer(total));
        }
    }
    for column in SUMMED_RATES {
        if let Some(total) = sum(parts, column) {
            table.set(row, column, format!("{}", round3(total)));
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
    table.set(row, "error_rate", if ops > 0.0 { format!("{}", round6(errors / ops)) } else { String::new() });
    table.set(row, "error_kinds", merge_error_kinds(parts));
    let span = merged_span(parts, run);
    if span > 0.0 {
        table.set(row, "duration_s", format!("{}", round6(span)));
        table.set(row, "throughput_ops_s", format!("{}", round3((ops - errors) / span)));
    }
    fill_from_histograms(table, row, run)?;
    let started = parts.iter().map(|p| p.driver.summary.get(p.row, "started_at")).filter(|s| !s.is_empty()).min();
    table.set(row, "started_at", started.unwrap_or_default().to_string());
    table.set(row, "driver_id", parts.iter().map(|p| p.driver.id.as_str()).collect::<Vec<_>>().join("+"));
    if let Some(bad) = parts.iter().find(|p| p.driver.summary.get(p.row, "status") != "ok") {
        table.set(row, "status", bad.driver.summary.get(bad.row, "status").to_string());
    }
    table.set(row, "message", merged_message(parts, run));
    Ok(())
}

/// Every histogram-derived column (and the phases of networked hashing), from the summed
/// histograms, with the code that fills a run's own row. Columns a driver filled but the sums
/// do not (a histogram missing from a log) are left empty rather than copied.
fn fill_from_histograms(table: &CsvTable, row: &mut [String], run: &MergedRun) -> anyhow::Result<()> {
    let mut merged = SummaryRow::default();
    if !run.total.is_empty() {
        merged.fill_histograms(&run.total, run.timing);
    }
    let phases = merged_phases(run);
    let mut columns: Vec<&str> = HISTOGRAM_COLUMNS.to_vec();
    if let Some(phases) = phases {
        let facts = RunFacts { measured: None, per_op: run.timing == Timing::PerOp, safety_promised: false };
        phases.write(&facts, &mut merged.family_columns);
        columns.extend(PhaseFigures::COLUMNS);
    }
    for (column, value) in cells_of(&merged, &columns)? {
        table.set(row, &column, value);
    }
    Ok(())
}

/// Throughput and p99 before the first slot any driver marked migrating, over the marked
/// slots, and after the last; `None` if no driver marked one.
fn merged_phases(run: &MergedRun) -> Option<PhaseFigures> {
    let first = run.slots.iter().find(|(_, s)| s.migrating()).map(|(i, _)| *i)?;
    let last = run.slots.iter().rev().find(|(_, s)| s.migrating()).map(|(i, _)| *i)?;
    let phase = |filter: &dyn Fn(u64, &MergedSlot) -> bool| {
        let mut histograms = Histograms::default();
        let (mut ops, mut seconds) = (0u64, 0.0);
        for slot in run.slots.iter().filter(|(i, s)| filter(**i, s)).map(|(_, s)| s) {
            histograms.add(&slot.histograms);
            ops += slot.ops.saturating_sub(slot.errors);
            seconds += slot.length.as_secs_f64();
        }
        (seconds > 0.0).then(|| PhaseStats {
            throughput_ops_s: ops as f64 / seconds,
            p99: (!histograms.response.is_empty()).then(|| histograms.response.value_at_quantile(0.99)),
        })
    };
    Some(PhaseFigures {
        before: phase(&|i, _| i < first),
        during: phase(&|_, s| s.migrating()),
        after: phase(&|i, _| i > last),
    })
}

fn merged_message(parts: &[Part<'_>], run: &MergedRun) -> String {
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
    notes.join("; ")
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
    let run_id = parts[0].driver.summary.get(parts[0].row, "run_id");
    for comment in hlog_header(run_id, run.timing) {
        builder.add_comment(&comment);
    }
    let drivers: Vec<&str> = parts.iter().map(|p| p.driver.id.as_str()).collect();
    builder.add_comment(&format!(
        "merged by stratbench {} from drivers {}",
        env!("CARGO_PKG_VERSION"),
        drivers.join(", ")
    ));
    builder
        .with_start_time(origin)
        .with_base_time(origin)
        .with_max_value_divisor(1000.0)
        .begin_log_with(&mut file, &mut serializer)?;
    for (start, slot) in logged_slots(run) {
        write_hlog_interval(&mut file, &mut serializer, &slot.histograms, start, slot.length)?;
    }
    file.flush().with_context(|| format!("cannot write {}", path.display()))
}

/// The merged slots that hold histograms, with their start from the origin: the measured
/// ones on the grid, then the drain after the last.
fn logged_slots(run: &MergedRun) -> impl Iterator<Item = (Duration, &MergedSlot)> {
    let measured_end = run.slots.iter().next_back().map_or(Duration::ZERO, |(i, s)| times(run.interval, *i) + s.length);
    let measured = run.slots.iter().map(|(i, slot)| (times(run.interval, *i), slot));
    measured.chain(run.drain.iter().map(move |slot| (measured_end, slot))).filter(|(_, s)| !s.histograms.is_empty())
}

/// The merged run's time series: one row per slot (and the drain), counts summed and every
/// percentile from the slot's summed histograms, by the code that writes a run's own rows.
fn merged_series(run: &MergedRun, summary: &CsvTable, row: &[String]) -> Vec<(RunKey, TimeseriesRow)> {
    let key = RunKey {
        run_id: summary.get(row, "run_id").to_string(),
        scenario: summary.get(row, "scenario").to_string(),
        family: summary.get(row, "family").to_string(),
        strategy: summary.get(row, "strategy").to_string(),
        mode: summary.get(row, "mode").to_string(),
        repeat: summary.num(row, "repeat").unwrap_or(0.0) as u32,
    };
    let measured_end = run.slots.iter().next_back().map_or(Duration::ZERO, |(i, s)| times(run.interval, *i) + s.length);
    let measured =
        run.slots.iter().map(|(i, s)| (Slot { phase: Phase::Measure, index: *i }, times(run.interval, *i), s));
    let drain = run.drain.iter().map(|s| (Slot::DRAIN, measured_end, s));
    measured
        .chain(drain)
        .map(|(slot, start, merged)| {
            let mut errors = ErrorCounts::default();
            errors.add_count("merged", merged.errors, None);
            let interval = FlushedInterval {
                slot,
                start_offset_s: start.as_secs_f64(),
                length: merged.length,
                histograms: merged.histograms.clone(),
                ops: merged.ops,
                errors,
                unfinished: merged.unfinished,
                driver_rss_bytes: None,
                sample: Sample::default(),
            };
            let mut series_row = TimeseriesRow::new(&interval, run.timing, run.interval);
            series_row.family_columns.put_some("migrating", merged.migrating);
            (key.clone(), series_row)
        })
        .collect()
}

fn write_series(path: &Path, rows: &[(RunKey, TimeseriesRow)]) -> anyhow::Result<()> {
    let mut file = crate::output::CsvFile::create::<(RunKey, TimeseriesRow)>(path)?;
    for row in rows {
        file.append(row)?;
    }
    Ok(())
}

fn round3(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

fn round6(value: f64) -> f64 {
    (value * 1e6).round() / 1e6
}
