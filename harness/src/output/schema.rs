//! The column order of the CSV files, and rows that put each cell in its column.
//!
//! The order is the schema documented in `results/README.md` (each file's section lists its
//! columns, in order, as `` | `name` | ``), read from the document at build time: the
//! document is the contract, so a column cannot be written undocumented or out of place.
//! A [`Row`] joins the columns every run has (a serde struct, `C`) with those a family wrote
//! ([`ColumnWriter`]), and serializes them in schema order; a cell whose column the schema
//! does not list is an error, not a silent drop.

use serde::ser::{Error as _, SerializeStruct as _};
use serde::{Serialize, Serializer};
use std::collections::HashMap;
use std::ops::{Deref, DerefMut};
use std::sync::LazyLock;
use targets::columns::ColumnWriter;

/// The schema document.
const SCHEMA: &str = include_str!("../../../results/README.md");

/// The columns of `file`'s section of the schema, in order.
pub fn documented_columns(file: &str) -> Vec<&'static str> {
    let Some(section) = SCHEMA.split(&format!("## {file}\n")).nth(1) else { return Vec::new() };
    let section = section.split("\n## ").next().unwrap_or_default();
    section.lines().filter_map(|line| line.strip_prefix("| `")).filter_map(|rest| rest.split('`').next()).collect()
}

/// The columns a row type's file has, in order.
pub trait Schema: Serialize {
    /// Every column of the file, in order (its shared columns and every family's).
    fn columns() -> &'static [&'static str];
}

/// The columns of `summary.csv`, in order.
pub fn summary_columns() -> &'static [&'static str] {
    static COLUMNS: LazyLock<Vec<&'static str>> = LazyLock::new(|| documented_columns("summary.csv"));
    &COLUMNS
}

/// The columns of `timeseries.csv` after the run key, in order.
pub fn timeseries_columns() -> &'static [&'static str] {
    static COLUMNS: LazyLock<Vec<&'static str>> =
        LazyLock::new(|| documented_columns("timeseries.csv").into_iter().skip_while(|c| *c != "phase").collect());
    &COLUMNS
}

/// A row of a CSV file: the columns every run has (`core`, reached through `Deref`) and the
/// family's own (`family_columns`), written in the order of `C`'s schema.
#[derive(Clone, Debug, Default)]
pub struct Row<C> {
    pub core: C,
    pub family_columns: ColumnWriter,
}

impl<C> Deref for Row<C> {
    type Target = C;

    fn deref(&self) -> &C {
        &self.core
    }
}

impl<C> DerefMut for Row<C> {
    fn deref_mut(&mut self) -> &mut C {
        &mut self.core
    }
}

impl<C> From<C> for Row<C> {
    fn from(core: C) -> Self {
        Row { core, family_columns: ColumnWriter::default() }
    }
}

impl<C: Schema> Serialize for Row<C> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let core: HashMap<String, String> = text_cells(&self.core).map_err(S::Error::custom)?.into_iter().collect();
        let columns = C::columns();
        let undocumented =
            core.keys().map(String::as_str).chain(self.family_columns.cells().iter().map(|(name, _)| *name));
        if let Some(name) = undocumented.into_iter().find(|name| !columns.contains(name)) {
            return Err(S::Error::custom(format!("column {name} is not in results/README.md's schema")));
        }
        let mut row = serializer.serialize_struct("Row", columns.len())?;
        for name in columns {
            match (self.family_columns.get(name), core.get(*name)) {
                (Some(cell), _) => row.serialize_field(name, cell)?,
                (None, Some(text)) => row.serialize_field(name, text.as_str())?,
                (None, None) => row.serialize_field(name, &None::<u8>)?,
            }
        }
        row.end()
    }
}

/// The cells of `value` (a serde struct of scalars, or a [`Row`]) by column name, in order, as
/// CSV writes them.
pub fn text_cells<T: Serialize>(value: &T) -> anyhow::Result<Vec<(String, String)>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.serialize(value)?;
    let bytes = writer.into_inner().map_err(|e| anyhow::anyhow!("cannot write CSV: {e}"))?;
    let mut reader = csv::Reader::from_reader(&bytes[..]);
    let header = reader.headers()?.clone();
    let record = reader.records().next().ok_or_else(|| anyhow::anyhow!("no row written"))??;
    Ok(header.iter().zip(record.iter()).map(|(name, text)| (name.to_string(), text.to_string())).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_lists_the_summary_and_timeseries_columns() {
        let summary = summary_columns();
        assert_eq!(summary.first(), Some(&"run_id"));
        assert!(summary.contains(&"acquire_timeouts") && summary.contains(&"capacity_ops_s_hi"));
        assert_eq!(timeseries_columns().first(), Some(&"phase"));
    }

    #[derive(Default, Serialize)]
    struct Core {
        run_id: String,
    }

    impl Schema for Core {
        fn columns() -> &'static [&'static str] {
            summary_columns()
        }
    }

    #[test]
    fn a_family_column_missing_from_the_schema_is_an_error_not_a_silent_drop() {
        let mut row = Row::from(Core { run_id: "1".into() });
        row.family_columns.put("txns", 3u64);
        assert!(csv::Writer::from_writer(Vec::new()).serialize(&row).is_ok());
        row.family_columns.put("not_a_column", 1u64);
        let error = csv::Writer::from_writer(Vec::new()).serialize(&row).unwrap_err();
        assert!(error.to_string().contains("not_a_column is not in results/README.md"), "{error}");
    }
}
