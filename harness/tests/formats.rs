//! `--format`: what `stratbench run` prints on stdout is the table, every row as CSV or JSON
//! (the same columns as summary.csv, for scripts), or GitHub markdown.

mod common;

use common::{stratbench, text};

fn run(format: &str, dir: &std::path::Path) -> (String, String) {
    let out = dir.join(format);
    let output = stratbench(&[
        "run",
        "--family",
        "noop",
        "--duration",
        "200ms",
        "--warmup",
        "50ms",
        "--format",
        format,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", text(&output));
    let summary = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    (String::from_utf8(output.stdout).unwrap(), summary)
}

#[test]
fn csv_and_json_carry_every_column_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let (stdout, summary) = run("csv", dir.path());
    let mut printed = csv::Reader::from_reader(stdout.as_bytes());
    let mut written = csv::Reader::from_reader(summary.as_bytes());
    assert_eq!(printed.headers().unwrap(), written.headers().unwrap(), "the columns of summary.csv");
    assert_eq!(printed.records().count(), 1, "one row, no trailing text: {stdout}");

    let (stdout, summary) = run("json", dir.path());
    let rows: Vec<serde_json::Map<String, serde_json::Value>> = serde_json::from_str(&stdout).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["strategy"], "noop");
    let columns: Vec<String> =
        csv::Reader::from_reader(summary.as_bytes()).headers().unwrap().iter().map(String::from).collect();
    assert_eq!(rows[0].keys().cloned().collect::<std::collections::BTreeSet<_>>(), columns.into_iter().collect());
}

#[test]
fn markdown_is_a_github_table() {
    let dir = tempfile::tempdir().unwrap();
    let (stdout, _) = run("markdown", dir.path());
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].starts_with("| scenario | strategy |"), "{stdout}");
    assert!(lines[1].starts_with("| --- | --- |"), "{stdout}");
    assert!(lines[2].contains("| noop |"), "{stdout}");
    assert!(stdout.contains("results: "), "{stdout}");
}

#[test]
fn the_table_ends_with_a_verdict_and_a_piped_log_has_no_colour_codes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let output = stratbench(&[
        "run",
        "--family",
        "hashing",
        "--strategy",
        "modulo,jump",
        "--duration",
        "200ms",
        "--warmup",
        "50ms",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", text(&output));
    let stdout = String::from_utf8(output.stdout.clone()).unwrap();
    let verdicts: Vec<&str> = stdout.lines().filter(|l| l.starts_with("verdict ")).collect();
    assert_eq!(verdicts.len(), 1, "one verdict for the one scenario: {stdout}");
    assert!(verdicts[0].contains("modulo") && verdicts[0].contains("jump"), "{stdout}");
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(!stderr.is_empty(), "the run logs where its results are");
    assert!(!stderr.contains('\u{1b}'), "no ANSI escape codes when stderr is not a terminal: {stderr:?}");
}
