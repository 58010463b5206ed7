//! How a comparison is printed: a table, CSV, JSON, or markdown for a pull-request comment
//! (the lines that need a look first, the full table folded below).

use super::{Comparison, Line, Verdict};
use crate::output::format::{OutputFormat, csv_of, json_of, text_table};

const HEADER: [&str; 9] = ["run", "metric", "baseline", "current", "change", "threshold", "reps", "verdict", "note"];

/// The comparison in `format`.
pub fn render(comparison: &Comparison, format: OutputFormat) -> String {
    match format {
        OutputFormat::Csv => csv_of(&comparison.lines).unwrap_or_else(|e| format!("cannot write CSV: {e}\n")),
        OutputFormat::Json => json_of(comparison).unwrap_or_else(|e| format!("cannot write JSON: {e}\n")),
        OutputFormat::Table => {
            let mut out = notes(comparison, "note: ");
            out.push_str(&text_table(&HEADER, &cells(&comparison.lines), format));
            out.push_str(&summary(comparison));
            out.push('\n');
            out
        }
        OutputFormat::Markdown => markdown(comparison),
    }
}

fn markdown(comparison: &Comparison) -> String {
    let mut out = format!("### stratbench compare\n\n{}\n\n", summary(comparison));
    out.push_str(&notes(comparison, "> "));
    let attention: Vec<Line> =
        comparison.lines.iter().filter(|l| !matches!(l.verdict, Verdict::Ok | Verdict::Off)).cloned().collect();
    if !attention.is_empty() {
        out.push('\n');
        out.push_str(&text_table(&HEADER, &cells(&attention), OutputFormat::Markdown));
    }
    out.push_str(&format!("\n<details><summary>all {} lines</summary>\n\n", comparison.lines.len()));
    out.push_str(&text_table(&HEADER, &cells(&comparison.lines), OutputFormat::Markdown));
    out.push_str("\n</details>\n");
    out
}

fn notes(comparison: &Comparison, prefix: &str) -> String {
    comparison.notes.iter().map(|n| format!("{prefix}{n}\n")).collect()
}

/// One sentence: what was compared and what was found.
pub fn summary(comparison: &Comparison) -> String {
    let runs: std::collections::BTreeSet<&str> = comparison.lines.iter().map(|l| l.run.as_str()).collect();
    let missing: Vec<&str> = comparison
        .lines
        .iter()
        .filter(|l| l.verdict == Verdict::Missing && l.metric == "(run)")
        .map(|l| l.run.as_str())
        .collect();
    let regressions: std::collections::BTreeSet<&str> =
        comparison.lines.iter().filter(|l| l.verdict == Verdict::Regression).map(|l| l.run.as_str()).collect();
    let mut text = format!(
        "{} runs, {} metrics compared: {} regressions, {} improvements, {} beyond threshold within noise, {} missing",
        runs.len(),
        comparison.lines.len(),
        comparison.count(Verdict::Regression),
        comparison.count(Verdict::Improved),
        comparison.count(Verdict::Noise),
        comparison.count(Verdict::Missing),
    );
    if !regressions.is_empty() {
        text.push_str(&format!("; regressed: {}", regressions.into_iter().collect::<Vec<_>>().join("; ")));
    }
    if !missing.is_empty() {
        text.push_str(&format!("; runs missing from the current summary: {}", missing.join("; ")));
    }
    text
}

fn cells(lines: &[Line]) -> Vec<Vec<String>> {
    lines
        .iter()
        .map(|l| {
            vec![
                l.run.clone(),
                l.metric.clone(),
                number(l.baseline),
                number(l.current),
                l.change_percent.map_or_else(String::new, |c| format!("{c:+.1}%")),
                l.threshold.clone(),
                format!("{}/{}", l.baseline_repeats, l.current_repeats),
                l.verdict.as_str().to_string(),
                l.note.clone(),
            ]
        })
        .collect()
}

/// Four significant digits, without exponent for everyday magnitudes.
fn number(value: Option<f64>) -> String {
    let Some(v) = value else { return String::new() };
    if v == 0.0 {
        return "0".into();
    }
    if (1e-3..1e9).contains(&v.abs()) {
        let digits = (3 - v.abs().log10().floor() as i32).clamp(0, 6) as usize;
        format!("{v:.digits$}")
    } else {
        format!("{v:.3e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_four_significant_digits() {
        assert_eq!(number(Some(1234567.0)), "1234567");
        assert_eq!(number(Some(12.3456)), "12.35");
        assert_eq!(number(Some(1.00041)), "1.000");
        assert_eq!(number(Some(0.0)), "0");
        assert_eq!(number(None), "");
    }
}
