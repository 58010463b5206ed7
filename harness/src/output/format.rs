//! What goes to stdout, in the format a reader asks for (`--format`): a terminal table, CSV
//! or JSON for scripts, or GitHub markdown for a pull-request comment. One enum, dispatched
//! in one place per command; the CSV and JSON forms come from the same serde rows as the
//! files.

use clap::ValueEnum;
use comfy_table::{Table, presets};
use serde::Serialize;

/// The format of what a command prints.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// A table for the terminal.
    #[default]
    Table,
    /// CSV with a header line (every column).
    Csv,
    /// A JSON array of objects (every column).
    Json,
    /// A GitHub-flavoured markdown table.
    Markdown,
}

/// `rows` as CSV, header first.
pub fn csv_of<T: Serialize>(rows: &[T]) -> anyhow::Result<String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    for row in rows {
        writer.serialize(row)?;
    }
    let bytes = writer.into_inner().map_err(|e| anyhow::anyhow!("cannot write CSV: {e}"))?;
    Ok(String::from_utf8(bytes)?)
}

/// `value` as pretty JSON, with a final newline.
pub fn json_of<T: Serialize + ?Sized>(value: &T) -> anyhow::Result<String> {
    Ok(serde_json::to_string_pretty(value)? + "\n")
}

/// A table of text cells: a terminal table for [`OutputFormat::Table`], GitHub markdown
/// otherwise.
pub fn text_table(header: &[&str], rows: &[Vec<String>], format: OutputFormat) -> String {
    if format != OutputFormat::Markdown {
        let mut table = Table::new();
        table.load_preset(presets::ASCII_MARKDOWN);
        table.set_header(header.to_vec());
        for row in rows {
            table.add_row(row.clone());
        }
        return table.to_string() + "\n";
    }
    let line = |cells: Vec<String>| format!("| {} |\n", cells.join(" | "));
    let escape = |cell: &String| cell.replace('|', "\\|").replace('\n', " ");
    let mut out = line(header.iter().map(|h| h.to_string()).collect());
    out.push_str(&line(header.iter().map(|_| "---".to_string()).collect()));
    for row in rows {
        out.push_str(&line(row.iter().map(escape).collect()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Row {
        name: &'static str,
        value: Option<f64>,
    }

    #[test]
    fn every_format_carries_the_cells() {
        let rows = [Row { name: "a|b", value: Some(1.5) }, Row { name: "c", value: None }];
        assert_eq!(csv_of(&rows).unwrap(), "name,value\na|b,1.5\nc,\n");
        let json: serde_json::Value = serde_json::from_str(&json_of(&rows).unwrap()).unwrap();
        assert_eq!(json[1]["value"], serde_json::Value::Null);
        let cells = vec![vec!["a|b".to_string(), "1.5".to_string()]];
        let markdown = text_table(&["name", "value"], &cells, OutputFormat::Markdown);
        assert_eq!(markdown, "| name | value |\n| --- | --- |\n| a\\|b | 1.5 |\n");
        assert!(text_table(&["name", "value"], &cells, OutputFormat::Table).contains("| name"));
    }
}
