//! Reading run directories back: `summary.csv` and the other CSV files as generic tables,
//! and `hlog/*.hlog` interval logs as histograms with wall-clock timestamps.
//!
//! `compare`, `merge` and `report` read what `run` wrote. They read CSV files by column name,
//! not into the row structs, so that files written by an older or newer stratbench (columns
//! are only ever added at the end) and files with columns of families this build does not
//! know still load: a missing column reads as empty.

use crate::error::bad_input;
use crate::recorder::{Histograms, record_value};
use anyhow::Context as _;
use base64::Engine as _;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::Deserializer;
use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The `summary.csv` columns that define a run: two rows with equal values here measured the
/// same thing (possibly as different repetitions, on different machines or commits).
pub const IDENTITY_COLUMNS: [&str; 15] = [
    "scenario",
    "family",
    "strategy",
    "mode",
    "loop",
    "workers",
    "target_rate_ops_s",
    "keys",
    "dist",
    "mix",
    "nodes",
    "params",
    "events",
    "timing",
    "batch_size_ops",
];

/// A CSV file held as text, read by column name.
#[derive(Clone, Debug, Default)]
pub struct CsvTable {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
    index: HashMap<String, usize>,
}

impl CsvTable {
    /// A table with `header` and no rows.
    pub fn new(header: Vec<String>) -> Self {
        let index = header.iter().enumerate().map(|(i, name)| (name.clone(), i)).collect();
        CsvTable { header, rows: Vec::new(), index }
    }

    /// Reads `path`; every row is padded or cut to the header's width.
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .from_path(path)
            .map_err(|e| bad_input(format!("cannot read {}: {e}", path.display())))?;
        let header: Vec<String> = reader
            .headers()
            .map_err(|e| bad_input(format!("{}: not a CSV file: {e}", path.display())))?
            .iter()
            .map(String::from)
            .collect();
        let mut table = CsvTable::new(header);
        for (line, record) in reader.records().enumerate() {
            let record = record.map_err(|e| bad_input(format!("{}: row {}: {e}", path.display(), line + 2)))?;
            let mut row: Vec<String> = record.iter().map(String::from).collect();
            row.resize(table.header.len(), String::new());
            table.rows.push(row);
        }
        Ok(table)
    }

    /// Writes the table to `path`.
    pub fn write(&self, path: &Path) -> anyhow::Result<()> {
        let file = std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
        self.write_to(file).with_context(|| format!("cannot write {}", path.display()))
    }

    /// The table as CSV text, the header first and the columns in their order.
    pub fn to_csv(&self) -> anyhow::Result<String> {
        let mut bytes = Vec::new();
        self.write_to(&mut bytes)?;
        Ok(String::from_utf8(bytes)?)
    }

    fn write_to(&self, output: impl std::io::Write) -> anyhow::Result<()> {
        let mut writer = csv::Writer::from_writer(output);
        writer.write_record(&self.header)?;
        for row in &self.rows {
            writer.write_record(row)?;
        }
        Ok(writer.flush()?)
    }

    /// Whether the table has column `name`.
    pub fn has(&self, name: &str) -> bool {
        self.index.contains_key(name)
    }

    /// The value of column `name` in `row`; empty when the table has no such column.
    pub fn get<'a>(&self, row: &'a [String], name: &str) -> &'a str {
        self.index.get(name).and_then(|i| row.get(*i)).map_or("", String::as_str)
    }

    /// The value of column `name` in `row` as a number, if it is one.
    pub fn num(&self, row: &[String], name: &str) -> Option<f64> {
        self.get(row, name).parse::<f64>().ok().filter(|v| v.is_finite())
    }

    /// Sets column `name` of `row` (ignored when the table has no such column).
    pub fn set(&self, row: &mut [String], name: &str, value: String) {
        if let Some(i) = self.index.get(name) {
            row[*i] = value;
        }
    }

    /// The values of the identity columns of `row`, numbers in one canonical spelling (a
    /// rate of `4000.0` and one of `4000` are the same run).
    pub fn identity(&self, row: &[String]) -> Vec<String> {
        IDENTITY_COLUMNS.iter().map(|c| canonical(self.get(row, c))).collect()
    }
}

fn canonical(value: &str) -> String {
    match value.parse::<f64>() {
        Ok(number) if number.is_finite() => format!("{number}"),
        _ => value.to_string(),
    }
}

/// The `summary.csv` of `path`, which is a run directory or the file itself.
pub fn summary_path(path: &Path) -> anyhow::Result<PathBuf> {
    let file = if path.is_dir() { path.join("summary.csv") } else { path.to_path_buf() };
    if file.is_file() {
        Ok(file)
    } else {
        Err(bad_input(format!("{}: no summary.csv there (give a run directory or a summary.csv)", path.display())))
    }
}

/// Reads the summary of `path` (a run directory or a summary.csv).
pub fn read_summary(path: &Path) -> anyhow::Result<CsvTable> {
    let table = CsvTable::read(&summary_path(path)?)?;
    for column in ["run_id", "scenario", "strategy", "status"] {
        if !table.has(column) {
            return Err(bad_input(format!("{}: not a stratbench summary (no `{column}` column)", path.display())));
        }
    }
    Ok(table)
}

/// Reads `dir/name` if it exists; an absent file is an empty table (older runs, other
/// families).
pub fn read_optional(dir: &Path, name: &str) -> anyhow::Result<CsvTable> {
    let path = dir.join(name);
    if path.is_file() { CsvTable::read(&path) } else { Ok(CsvTable::default()) }
}

/// One interval of an interval log: the untagged response times and, when the log has them,
/// the tagged histograms of the same interval ([`crate::output::HLOG_TAGS`]).
#[derive(Clone, Debug)]
pub struct LoggedInterval {
    /// Wall-clock start, as time since the UNIX epoch (millisecond resolution in the file).
    pub start_epoch: Duration,
    pub length: Duration,
    pub histograms: Histograms,
}

/// An interval log: its comment lines and its intervals in file order.
#[derive(Clone, Debug, Default)]
pub struct IntervalLog {
    pub comments: Vec<String>,
    pub intervals: Vec<LoggedInterval>,
}

/// The header comments of interval logs written before values were in nanoseconds (µs per
/// operation, or ns per operation of batches): their values are read × 1000.
const THOUSANDFOLD_COARSER: [&str; 2] = ["latency in microseconds per operation", "nanoseconds per operation, timed"];

impl IntervalLog {
    /// Reads an interval log written by `run` (or by `merge`). Interval timestamps are
    /// relative to the log's `BaseTime` (or `StartTime`), as HdrHistogram's tools read them.
    /// Histograms with the same start and length are one interval's, told apart by their tag;
    /// unknown tags are ignored.
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| bad_input(format!("cannot read {}: {e}", path.display())))?;
        let comments: Vec<String> = String::from_utf8_lossy(&bytes)
            .lines()
            .filter_map(|l| l.strip_prefix("#"))
            .filter(|l| !l.starts_with('['))
            .map(|l| l.trim().to_string())
            .collect();
        let scale =
            if comments.iter().any(|c| THOUSANDFOLD_COARSER.iter().any(|old| c.contains(old))) { 1000 } else { 1 };
        let mut log = IntervalLog { comments, intervals: Vec::new() };
        let (mut start, mut base) = (None, None);
        for entry in IntervalLogIterator::new(&bytes) {
            let entry = entry.map_err(|e| bad_input(format!("{}: bad interval log line: {e:?}", path.display())))?;
            match entry {
                LogEntry::StartTime(t) => start = Some(t),
                LogEntry::BaseTime(t) => base = Some(t),
                LogEntry::Interval(interval) => {
                    let origin = base.or(start).unwrap_or_default();
                    let histogram = decode_histogram(interval.encoded_histogram(), scale)
                        .with_context(|| format!("{}: bad histogram", path.display()))?;
                    let (start_epoch, length) = (origin + interval.start_timestamp(), interval.duration());
                    log.put(start_epoch, length, interval.tag().map(|t| t.as_str()), histogram);
                }
            }
        }
        Ok(log)
    }

    /// Files `histogram` under `tag` in the interval that starts at `start_epoch`.
    fn put(&mut self, start_epoch: Duration, length: Duration, tag: Option<&str>, histogram: Histogram<u64>) {
        let same = self.intervals.last().is_some_and(|i| i.start_epoch == start_epoch && i.length == length);
        if !same || tag.is_none() {
            let histograms = Histograms::default();
            self.intervals.push(LoggedInterval { start_epoch, length, histograms });
        }
        let histograms = &mut self.intervals.last_mut().expect("just pushed").histograms;
        let slot = match tag {
            None => {
                histograms.response = histogram;
                return;
            }
            Some("service") => &mut histograms.service,
            Some("lag") => &mut histograms.lag,
            Some("acquire") => &mut histograms.phase,
            Some("error") => &mut histograms.failed,
            Some(_) => return,
        };
        *slot = Some(histogram);
    }

    /// Every interval added together.
    pub fn total(&self) -> Histograms {
        let mut total = Histograms::default();
        for interval in &self.intervals {
            total.add(&interval.histograms);
        }
        total
    }
}

/// Adds `other` into `into`. Histograms of this harness auto-resize, so adding never fails;
/// a foreign histogram with narrower bounds is widened first.
pub fn add(into: &mut Histogram<u64>, other: &Histogram<u64>) {
    if into.add(other).is_err() {
        let mut wide = crate::recorder::new_histogram();
        wide.add(&*into).expect("an auto-resizing histogram takes any values");
        wide.add(other).expect("an auto-resizing histogram takes any values");
        *into = wide;
    }
}

/// Decodes a histogram into an auto-resizing one, each value multiplied by `scale`.
fn decode_histogram(encoded: &str, scale: u64) -> anyhow::Result<Histogram<u64>> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(encoded.trim())?;
    let histogram: Histogram<u64> =
        Deserializer::new().deserialize(&mut &bytes[..]).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let mut resizable = crate::recorder::new_histogram();
    if scale == 1 {
        resizable.add(&histogram).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    } else {
        for value in histogram.iter_recorded() {
            record_value(&mut resizable, value.value_iterated_to().saturating_mul(scale), value.count_at_value());
        }
    }
    Ok(resizable)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_columns_read_as_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("summary.csv");
        std::fs::write(&path, "run_id,scenario,strategy,status,x\n1,s,ring,ok,4.5\n2,s,jump,ok\n").unwrap();
        let table = read_summary(dir.path()).unwrap();
        assert_eq!(table.rows.len(), 2);
        assert_eq!(table.get(&table.rows[1], "x"), "", "a short row is padded");
        assert_eq!(table.num(&table.rows[0], "x"), Some(4.5));
        assert_eq!(table.get(&table.rows[0], "no_such_column"), "");
        assert_eq!(table.identity(&table.rows[0])[0], "s");
        assert_eq!(canonical("4000.0"), canonical("4000"));
        assert_eq!(canonical("zipfian(0.99)"), "zipfian(0.99)");
    }

    #[test]
    fn a_file_that_is_not_a_summary_is_bad_input() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("summary.csv"), "a,b\n1,2\n").unwrap();
        let error = read_summary(dir.path()).unwrap_err();
        assert!(error.chain().any(|c| c.is::<crate::error::BadInput>()), "{error:#}");
        assert!(read_summary(&dir.path().join("nothing")).is_err());
    }
}
