//! The results directory of a new session: a directory that already holds a run is refused
//! (exit 2), so that a second run never truncates the first one's summary and leaves its
//! `.hlog` files beside its own; `--force` clears what the previous run wrote first. A directory
//! holding anything stratbench does not write is refused even with `--force`: it may be the
//! user's. Once a command has written its files, [`print_results_dir`] says where they are.

use super::format::OutputFormat;
use crate::error::bad_input;
use anyhow::Context as _;
use std::path::Path;

/// What `stratbench run`, `sweep` (and `report`) write into a run directory.
pub const RUN_DIR_ENTRIES: [&str; 11] = [
    "summary.csv",
    "timeseries.csv",
    "events.csv",
    "nodes.csv",
    "host.json",
    "hlog",
    "net",
    "data",
    "report.html",
    "sweep.csv",
    ".lock",
];

/// Makes `dir` ready for a new session: absent or empty is fine; a previous run's files are
/// bad input unless `force`, which removes them.
pub fn prepare(dir: &Path, force: bool) -> anyhow::Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Ok(()) };
    let names: Vec<String> =
        entries.filter_map(Result::ok).map(|entry| entry.file_name().to_string_lossy().into_owned()).collect();
    if names.is_empty() {
        return Ok(());
    }
    let foreign: Vec<&String> = names.iter().filter(|name| !RUN_DIR_ENTRIES.contains(&name.as_str())).collect();
    if !foreign.is_empty() {
        return Err(bad_input(format!(
            "--out {}: the directory holds files stratbench did not write ({}); give another directory",
            dir.display(),
            foreign.iter().take(5).map(|n| n.as_str()).collect::<Vec<_>>().join(", ")
        )));
    }
    // A live session is named as such, with or without --force: its files are not ours.
    refuse_if_locked(dir)?;
    if !force {
        return Err(bad_input(format!(
            "--out {}: the directory already holds a run; give another directory, or --force to replace it",
            dir.display()
        )));
    }
    for name in &names {
        let path = dir.join(name);
        let removed = if path.is_dir() { std::fs::remove_dir_all(&path) } else { std::fs::remove_file(&path) };
        removed.with_context(|| format!("--force: cannot remove {}", path.display()))?;
    }
    Ok(())
}

/// A session still writing into `dir` holds its lock: its files are not ours to remove.
fn refuse_if_locked(dir: &Path) -> anyhow::Result<()> {
    let Ok(file) = std::fs::File::open(dir.join(".lock")) else { return Ok(()) };
    match file.try_lock() {
        Ok(()) => Ok(()),
        Err(_) => Err(bad_input(format!(
            "--out {}: another stratbench run is writing there; give another directory",
            dir.display()
        ))),
    }
}

/// Prints where the results are: on stdout after a table, on stderr when stdout carries data
/// for a script (CSV, JSON).
pub fn print_results_dir(dir: &std::path::Path, format: OutputFormat) {
    match format {
        OutputFormat::Table | OutputFormat::Markdown => println!("results: {}", dir.display()),
        OutputFormat::Csv | OutputFormat::Json => eprintln!("results: {}", dir.display()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_previous_run_is_refused_unless_forced_and_then_cleared() {
        let dir = tempfile::tempdir().unwrap();
        prepare(dir.path(), false).unwrap();
        std::fs::write(dir.path().join("summary.csv"), "old").unwrap();
        std::fs::create_dir(dir.path().join("hlog")).unwrap();
        std::fs::write(dir.path().join("hlog").join("old.hlog"), "old").unwrap();
        let error = prepare(dir.path(), false).unwrap_err();
        assert!(crate::error::is_bad_input(&error), "{error:#}");
        assert!(format!("{error:#}").contains("--force"), "{error:#}");
        prepare(dir.path(), true).unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "--force clears the previous run");
    }

    #[test]
    fn a_directory_with_foreign_files_is_refused_even_with_force() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("thesis.tex"), "mine").unwrap();
        let error = prepare(dir.path(), true).unwrap_err();
        assert!(format!("{error:#}").contains("thesis.tex"), "{error:#}");
        assert!(dir.path().join("thesis.tex").exists());
    }
}
