//! Reading `compare`'s two inputs strictly: a summary that cannot be compared is bad input
//! (exit 2) naming the file, the row (its line in the file) and the column, never a silent
//! "missing" or a pass. Checked: the header (a stratbench summary), at least one run, every row
//! as wide as the header, every metric cell empty or a number, every run id once.

use super::metrics::METRICS;
use crate::error::bad_input;
use crate::rundir::{CsvTable, read_summary, summary_path};
use std::collections::HashMap;
use std::path::Path;

/// Reads and checks the summary of `path` (a run directory or a summary.csv).
pub fn read(path: &Path) -> anyhow::Result<CsvTable> {
    let table = read_summary(path)?;
    let file = summary_path(path)?;
    let at = |line: usize, message: String| bad_input(format!("{}: row {line}: {message}", file.display()));
    check_widths(&file, table.header.len())?;
    if table.rows.is_empty() {
        return Err(bad_input(format!("{}: no runs (only a header): nothing to compare", file.display())));
    }
    let mut first_seen: HashMap<&str, usize> = HashMap::new();
    for (index, row) in table.rows.iter().enumerate() {
        let line = index + 2;
        let run_id = table.get(row, "run_id");
        if run_id.is_empty() {
            return Err(at(line, "column `run_id` is empty".into()));
        }
        if let Some(first) = first_seen.insert(run_id, line) {
            return Err(at(
                line,
                format!("column `run_id`: `{run_id}` again (first on row {first}): run ids must be unique"),
            ));
        }
        for metric in METRICS {
            let cell = table.get(row, metric.name);
            if !cell.is_empty() && !cell.parse::<f64>().is_ok_and(f64::is_finite) {
                return Err(at(line, format!("column `{}`: `{cell}` is not a number", metric.name)));
            }
        }
    }
    Ok(table)
}

/// Every row of `file` has exactly `width` cells.
fn check_widths(file: &Path, width: usize) -> anyhow::Result<()> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(file)
        .map_err(|e| bad_input(format!("cannot read {}: {e}", file.display())))?;
    for (index, record) in reader.records().enumerate() {
        let record = record.map_err(|e| bad_input(format!("{}: row {}: {e}", file.display(), index + 2)))?;
        if record.len() != width {
            return Err(bad_input(format!(
                "{}: row {}: {} columns, the header has {width} (column {} onwards is missing or extra)",
                file.display(),
                index + 2,
                record.len(),
                record.len().min(width) + 1
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "run_id,scenario,strategy,status,throughput_ops_s,latency_us_p99";

    fn message(text: &str) -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("summary.csv");
        std::fs::write(&path, text).unwrap();
        let error = read(&path).unwrap_err();
        assert!(crate::error::is_bad_input(&error), "{error:#}");
        format!("{error:#}")
    }

    #[test]
    fn a_header_without_runs_is_refused() {
        assert!(message(&format!("{HEADER}\n")).contains("no runs"));
    }

    #[test]
    fn a_short_row_is_refused_naming_its_row() {
        let error = message(&format!("{HEADER}\na,s,ring,ok,1\n"));
        assert!(error.contains("row 2") && error.contains("5 columns"), "{error}");
    }

    #[test]
    fn a_non_numeric_metric_is_refused_naming_row_and_column() {
        let error = message(&format!("{HEADER}\na,s,ring,ok,1,2\nb,s,ring,ok,fast,2\n"));
        assert!(error.contains("row 3") && error.contains("throughput_ops_s") && error.contains("fast"), "{error}");
    }

    #[test]
    fn a_repeated_run_id_is_refused() {
        let error = message(&format!("{HEADER}\na,s,ring,ok,1,2\na,s,ring,ok,1,2\n"));
        assert!(error.contains("row 3") && error.contains("first on row 2"), "{error}");
    }

    #[test]
    fn a_valid_summary_with_empty_cells_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("summary.csv");
        std::fs::write(&path, format!("{HEADER}\na,s,ring,ok,1,\nb,s,ring,error,,\n")).unwrap();
        assert_eq!(read(&path).unwrap().rows.len(), 2);
    }
}
