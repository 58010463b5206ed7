//! The files of a run directory, written as each run ends so that an interrupted session
//! still leaves valid CSV for everything measured:
//!
//! - `summary.csv`: one row per run ([`rows::SummaryRow`]);
//! - `timeseries.csv`: one row per run per interval, warm-up included ([`rows::TimeseriesRow`]);
//! - `events.csv`: one row per scheduled event ([`rows::EventRow`]);
//! - `nodes.csv`: one row per node per run, each node's share of the key set ([`rows::NodeRow`]);
//! - `hlog/<run_id>.hlog`: HdrHistogram interval logs of the measured phase, which merge
//!   losslessly across runs and machines;
//! - `host.json`: the machine and build ([`host::HostInfo`]).
//!
//! Every CSV file gets its header when it is created, so even a session stopped before its
//! first row leaves files a spreadsheet opens.

pub mod format;
pub mod host;
pub mod live;
pub mod outdir;
pub mod rows;
pub mod schema;
pub mod spread;
pub mod table;
pub mod verdict;

use crate::driver::IntervalSink;
use crate::recorder::{FlushedInterval, Histograms, Timing};
use crate::run::{RunRecord, RunSpec};
use anyhow::Context as _;
use hdrhistogram::serialization::V2DeflateSerializer;
use hdrhistogram::serialization::interval_log::{IntervalLogWriterBuilder, Tag};
use host::HostInfo;
use rows::{EventRow, NodeRow, RunKey, SummaryRow, TimeseriesRow};
use serde::Serialize;
use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};
use targets::target::Sample;

/// A CSV file whose header is written on creation and whose rows are flushed one by one.
pub struct CsvFile {
    path: PathBuf,
    writer: csv::Writer<File>,
}

impl CsvFile {
    /// Creates `path` with the header of row type `T`.
    pub fn create<T: Serialize + Default>(path: &Path) -> anyhow::Result<Self> {
        let mut file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
        file.write_all(&header_of::<T>()?)?;
        let writer = csv::WriterBuilder::new().has_headers(false).from_writer(file);
        Ok(CsvFile { path: path.to_path_buf(), writer })
    }

    /// Replaces the file's rows with `rows` (header first): written beside it and renamed over
    /// it, so a reader (or Ctrl-C) never sees a half-written file; appends then go on at the
    /// new file's end.
    pub fn rewrite<T: Serialize + Default>(&mut self, rows: &[T]) -> anyhow::Result<()> {
        let temporary = self.path.with_extension("csv.tmp");
        let mut fresh = CsvFile::create::<T>(&temporary)?;
        for row in rows {
            fresh.writer.serialize(row).with_context(|| format!("cannot write to {}", temporary.display()))?;
        }
        fresh.writer.flush().with_context(|| format!("cannot write to {}", temporary.display()))?;
        std::fs::rename(&temporary, &self.path).with_context(|| format!("cannot replace {}", self.path.display()))?;
        let file = std::fs::OpenOptions::new()
            .append(true)
            .open(&self.path)
            .with_context(|| format!("cannot open {}", self.path.display()))?;
        self.writer = csv::WriterBuilder::new().has_headers(false).from_writer(file);
        Ok(())
    }

    /// Appends one row and flushes it to the file.
    pub fn append<T: Serialize>(&mut self, row: &T) -> anyhow::Result<()> {
        self.writer.serialize(row).with_context(|| format!("cannot write to {}", self.path.display()))?;
        self.writer.flush().with_context(|| format!("cannot write to {}", self.path.display()))
    }
}

/// The header line of row type `T`, from its serde field names.
pub fn header_of<T: Serialize + Default>() -> anyhow::Result<Vec<u8>> {
    let mut scratch = csv::Writer::from_writer(Vec::new());
    scratch.serialize(T::default())?;
    let bytes = scratch.into_inner().map_err(|e| anyhow::anyhow!("cannot build a CSV header: {e}"))?;
    let end = bytes.iter().position(|&b| b == b'\n').map_or(bytes.len(), |i| i + 1);
    Ok(bytes[..end].to_vec())
}

/// Locks `dir` for one session; another session already writing there is bad input.
fn lock_dir(dir: &Path) -> anyhow::Result<File> {
    let path = dir.join(".lock");
    let file = File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(crate::error::bad_input(format!(
            "--out {}: another stratbench run is writing there; give another directory",
            dir.display()
        ))),
        Err(std::fs::TryLockError::Error(error)) => {
            Err(anyhow::Error::new(error).context(format!("cannot lock {}", path.display())))
        }
    }
}

/// The output files of one session.
pub struct Session {
    dir: PathBuf,
    host: HostInfo,
    summary: CsvFile,
    timeseries: CsvFile,
    events: CsvFile,
    nodes: CsvFile,
    rows: Vec<SummaryRow>,
    start_at: Option<SystemTime>,
    /// The current run's time series, written when the run ends (its backend shares are
    /// complete only then).
    pending_intervals: Vec<TimeseriesRow>,
    /// Where intervals are also published live (`--metrics-listen`).
    live: Option<std::sync::Arc<live::LiveMetrics>>,
    /// An exclusive lock on `dir/.lock`, held while the session lives: two sessions writing
    /// the same directory would overwrite each other's files and nodes' data.
    _lock: File,
}

impl Session {
    /// Creates `dir` (and `dir/hlog`), locks it, writes `host.json` and the CSV headers.
    pub fn create(dir: &Path, host: HostInfo) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir.join("hlog"))
            .with_context(|| format!("cannot create the results directory {}", dir.display()))?;
        let lock = lock_dir(dir)?;
        let host_json = serde_json::to_string_pretty(&host)?;
        std::fs::write(dir.join("host.json"), host_json + "\n").context("cannot write host.json")?;
        Ok(Session {
            dir: dir.to_path_buf(),
            host,
            summary: CsvFile::create::<SummaryRow>(&dir.join("summary.csv"))?,
            timeseries: CsvFile::create::<(RunKey, TimeseriesRow)>(&dir.join("timeseries.csv"))?,
            events: CsvFile::create::<(RunKey, EventRow)>(&dir.join("events.csv"))?,
            nodes: CsvFile::create::<(RunKey, NodeRow)>(&dir.join("nodes.csv"))?,
            rows: Vec::new(),
            start_at: None,
            pending_intervals: Vec::new(),
            live: None,
            _lock: lock,
        })
    }

    /// Publishes every later interval to `live` as well (`--metrics-listen`).
    pub fn publish_to(&mut self, live: std::sync::Arc<live::LiveMetrics>) {
        self.live = Some(live);
    }

    /// Makes the session's next run start at the wall-clock instant `at` (`--start-at`).
    pub fn start_next_run_at(&mut self, at: SystemTime) {
        self.start_at = Some(at);
    }

    /// The start instant set for the next run, if any, once.
    pub fn take_start_at(&mut self) -> Option<SystemTime> {
        self.start_at.take()
    }

    /// The run directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The summary rows written so far.
    pub fn rows(&self) -> &[SummaryRow] {
        &self.rows
    }

    /// Checks, before run `spec` starts, that its interval log can be created: a results
    /// directory that cannot take it (unwritable, a file name too long) fails the session
    /// (exit 1) instead of turning every run into an error row.
    pub fn check_writable(&self, spec: &RunSpec) -> anyhow::Result<()> {
        let path = self.dir.join("hlog").join(format!("{}.hlog", spec.run_id));
        File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
        Ok(())
    }

    /// Changes the summary rows written so far with `amend` (a sweep's capacity columns are
    /// known only after its last step) and rewrites `summary.csv`.
    pub fn amend_rows(&mut self, amend: impl FnMut(&mut SummaryRow)) -> anyhow::Result<()> {
        self.rows.iter_mut().for_each(amend);
        self.summary.rewrite(&self.rows)
    }

    /// The sink for the intervals of run `spec`.
    pub fn interval_sink(&mut self, spec: &RunSpec, timing: Timing) -> anyhow::Result<RunSink<'_>> {
        let path = self.dir.join("hlog").join(format!("{}.hlog", spec.run_id));
        let file = BufWriter::new(File::create(&path).with_context(|| format!("cannot create {}", path.display()))?);
        self.pending_intervals.clear();
        Ok(RunSink {
            key: RunKey::of(spec),
            timing,
            interval_length: spec.workload.interval,
            intervals: &mut self.pending_intervals,
            hlog: file,
            serializer: V2DeflateSerializer::new(),
            last_sample: Sample::default(),
            live: self.live.clone(),
        })
    }

    /// Writes the summary, event and node rows of a finished run.
    pub fn record(&mut self, record: &RunRecord<'_>) -> anyhow::Result<()> {
        let key = RunKey::of(record.spec);
        if let Some(drive) = &record.drive {
            TimeseriesRow::fill_shares(&mut self.pending_intervals, drive, record.spec.workload.nodes as usize);
        }
        for interval in &self.pending_intervals {
            self.timeseries.append(&(&key, interval))?;
        }
        if let Some(drive) = &record.drive {
            for event in &drive.events {
                self.events.append(&(&key, EventRow::new(event)))?;
            }
        }
        for node in NodeRow::all(&record.family, record.drive.as_ref(), record.spec.workload.nodes) {
            self.nodes.append(&(&key, node))?;
        }
        let mut row = SummaryRow::new(record, &self.host);
        row.fill_stationarity(&self.pending_intervals, record.spec.workload.interval);
        if record.spec.repeat == record.spec.workload.repeat {
            row.fill_repetitions(&self.rows);
        }
        self.pending_intervals.clear();
        self.summary.append(&row)?;
        self.rows.push(row);
        Ok(())
    }
}

/// Takes one run's intervals: every interval for `timeseries.csv` (written with the run's
/// summary row), measured ones (and the drain) straight to the run's interval log.
pub struct RunSink<'a> {
    key: RunKey,
    timing: Timing,
    interval_length: Duration,
    intervals: &'a mut Vec<TimeseriesRow>,
    hlog: BufWriter<File>,
    serializer: V2DeflateSerializer,
    /// The system's counters as of the previous interval.
    last_sample: Sample,
    /// Where intervals are published live, if anywhere.
    live: Option<std::sync::Arc<live::LiveMetrics>>,
}

/// The tags of the histograms an interval log holds besides the untagged response times.
pub const HLOG_TAGS: [&str; 4] = ["service", "lag", "acquire", "error"];

/// `histograms`' tagged histograms, by tag, as [`HLOG_TAGS`] name them.
pub fn tagged(histograms: &Histograms) -> [(&'static str, Option<&hdrhistogram::Histogram<u64>>); 4] {
    [
        ("service", histograms.service.as_ref()),
        ("lag", histograms.lag.as_ref()),
        ("acquire", histograms.phase.as_ref()),
        ("error", histograms.failed.as_ref()),
    ]
}

/// The comments that open a run's interval log: what the values are and what each tag holds.
pub fn hlog_header(run_id: &str, timing: Timing) -> Vec<String> {
    let unit = match timing {
        Timing::PerOp => "values in nanoseconds".to_string(),
        Timing::Batch(n) => {
            format!("values in picoseconds per operation (timed in batches of {n}, each batch recorded {n} times)")
        }
    };
    vec![
        format!("stratbench {} run {run_id}: {unit}; Interval_Max divided by 1000", env!("CARGO_PKG_VERSION")),
        "untagged: response time from the intended start (unfinished operations at the time they had waited); \
         Tag=service: actual start to end; Tag=lag: actual minus intended start; Tag=acquire: time to the phase \
         mark; Tag=error: failed operations"
            .to_string(),
    ]
}

/// Writes one interval's histograms (untagged response times, then the tagged ones recorded)
/// into an interval log whose base time is the start of the measured phase.
pub fn write_hlog_interval<W: std::io::Write>(
    out: &mut W,
    serializer: &mut V2DeflateSerializer,
    histograms: &Histograms,
    start: Duration,
    length: Duration,
) -> anyhow::Result<()> {
    let mut writer = IntervalLogWriterBuilder::new().with_max_value_divisor(1000.0).begin_log_with(out, serializer)?;
    let untagged = std::iter::once((None, Some(&histograms.response)));
    let tagged = tagged(histograms).into_iter().map(|(tag, h)| (Tag::new(tag), h));
    for (tag, histogram) in untagged.chain(tagged) {
        if let Some(histogram) = histogram {
            writer
                .write_histogram(histogram, start, length, tag)
                .map_err(|e| anyhow::anyhow!("cannot write the interval log: {e:?}"))?;
        }
    }
    Ok(())
}

impl IntervalSink for RunSink<'_> {
    fn begin(&mut self, measure_start: SystemTime) -> anyhow::Result<()> {
        let mut builder = IntervalLogWriterBuilder::new();
        for comment in hlog_header(&self.key.run_id, self.timing) {
            builder.add_comment(&comment);
        }
        builder
            .add_comment(&format!(
                "scenario={} family={} strategy={} mode={}",
                self.key.scenario, self.key.family, self.key.strategy, self.key.mode
            ))
            .with_start_time(measure_start)
            .with_base_time(measure_start)
            .with_max_value_divisor(1000.0)
            .begin_log_with(&mut self.hlog, &mut self.serializer)?;
        writeln!(
            self.hlog,
            "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\""
        )?;
        Ok(())
    }

    fn interval(&mut self, interval: &FlushedInterval) -> anyhow::Result<()> {
        let mut row = TimeseriesRow::new(interval, self.timing, self.interval_length);
        if let Some(now) = &interval.sample.0 {
            now.write_change(self.last_sample.0.as_deref(), &mut row.family_columns);
        }
        self.last_sample = interval.sample.clone();
        if let Some(live) = &self.live {
            live.publish(&self.key, &row);
        }
        self.intervals.push(row);
        if interval.slot.phase.is_measured() {
            let start = Duration::from_secs_f64(interval.start_offset_s.max(0.0));
            write_hlog_interval(&mut self.hlog, &mut self.serializer, &interval.histograms, start, interval.length)?;
            self.hlog.flush()?;
        }
        Ok(())
    }
}

/// The default run directory: `results/<UTC timestamp>-<label>`, made unique if it exists.
pub fn default_dir(label: &str) -> PathBuf {
    let stamp = chrono::Utc::now().format("%Y%m%d-%H%M%S");
    let clean: String =
        label.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect();
    let base = PathBuf::from("results").join(format!("{stamp}-{clean}"));
    (1..)
        .map(|n| if n == 1 { base.clone() } else { PathBuf::from(format!("{}-{n}", base.display())) })
        .find(|p| !p.exists())
        .unwrap_or(base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_come_from_the_row_types() {
        let header = String::from_utf8(header_of::<(RunKey, NodeRow)>().unwrap()).unwrap();
        assert_eq!(header, "run_id,scenario,family,strategy,mode,repeat,node,keys_share,requests_share\n");
        let summary = String::from_utf8(header_of::<SummaryRow>().unwrap()).unwrap();
        assert!(summary.starts_with("run_id,started_at,scenario,family,strategy,mode,status,message,"));
        assert!(summary.contains(",loop,"), "raw identifiers lose their prefix: {summary}");
    }
}
