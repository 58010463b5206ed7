//! The summary columns a family owns.
//!
//! Each family's metrics type (its locks, commit, consensus, sharding or failure figures)
//! implements [`FamilyColumns`]: it writes its cells by column name into a [`ColumnWriter`],
//! reading what it needs of the driver's measurement from [`RunFacts`]. The harness places
//! the cells at their columns in `summary.csv` (whose order is the schema documented in
//! `results/README.md`) without knowing any family's types, so a new column of one family
//! touches that family's files and the schema only.

use serde::{Serialize, Serializer};
use std::fmt::Debug;

/// One value of a summary column, written as its type is (`12`, `0.5`, `true`, text).
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    U64(u64),
    F64(f64),
    Bool(bool),
    Text(String),
}

impl From<u64> for Cell {
    fn from(value: u64) -> Self {
        Cell::U64(value)
    }
}

impl From<f64> for Cell {
    fn from(value: f64) -> Self {
        Cell::F64(value)
    }
}

impl From<bool> for Cell {
    fn from(value: bool) -> Self {
        Cell::Bool(value)
    }
}

impl From<String> for Cell {
    fn from(value: String) -> Self {
        Cell::Text(value)
    }
}

impl From<&str> for Cell {
    fn from(value: &str) -> Self {
        Cell::Text(value.to_string())
    }
}

impl Serialize for Cell {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Cell::U64(value) => serializer.serialize_u64(*value),
            Cell::F64(value) => serializer.serialize_f64(*value),
            Cell::Bool(value) => serializer.serialize_bool(*value),
            Cell::Text(value) => serializer.serialize_str(value),
        }
    }
}

/// The cells a family wrote, by column name; a column written twice keeps its last value.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ColumnWriter {
    cells: Vec<(&'static str, Cell)>,
}

impl ColumnWriter {
    /// Writes `value` into `column`.
    pub fn put(&mut self, column: &'static str, value: impl Into<Cell>) {
        let value = value.into();
        match self.cells.iter_mut().find(|(name, _)| *name == column) {
            Some(cell) => cell.1 = value,
            None => self.cells.push((column, value)),
        }
    }

    /// Writes `value` into `column` if there is one; `None` leaves the column empty.
    pub fn put_some<T: Into<Cell>>(&mut self, column: &'static str, value: Option<T>) {
        if let Some(value) = value {
            self.put(column, value);
        }
    }

    /// The value written into `column`.
    pub fn get(&self, column: &str) -> Option<&Cell> {
        self.cells.iter().find(|(name, _)| *name == column).map(|(_, cell)| cell)
    }

    /// Every cell, in the order first written.
    pub fn cells(&self) -> &[(&'static str, Cell)] {
        &self.cells
    }
}

/// What a family's columns may read of the driver's measurement of the run.
#[derive(Clone, Copy)]
pub struct RunFacts<'a> {
    /// The measured phase's operations and failures by kind; `None` when the driver did not
    /// run (the run failed before it).
    pub measured: Option<Measured<'a>>,
    /// Whether each operation was timed alone (latency columns), not in batches.
    pub per_op: bool,
    /// Whether the strategy promises safety under the run's faults (the family's
    /// [`FamilyMetrics::safety_promised`](crate::target::FamilyMetrics::safety_promised)).
    pub safety_promised: bool,
}

/// The driver's counts over the measured phase.
#[derive(Clone, Copy)]
pub struct Measured<'a> {
    pub ops: u64,
    /// Failed operations of one kind (`timeout`, `miss`, `conflict`...).
    pub errors_of_kind: &'a dyn Fn(&str) -> u64,
}

/// A family's own summary columns.
pub trait FamilyColumns: Debug + Send + Sync {
    /// Writes this family's cells for one run.
    fn write(&self, facts: &RunFacts<'_>, out: &mut ColumnWriter);
}

/// Columns that may be missing write nothing when they are.
impl<T: FamilyColumns> FamilyColumns for Option<T> {
    fn write(&self, facts: &RunFacts<'_>, out: &mut ColumnWriter) {
        if let Some(columns) = self {
            columns.write(facts, out);
        }
    }
}

/// A value rounded to 3 decimals (milliseconds, ratios of counts), as the columns print them.
pub fn round3(value: f64) -> f64 {
    (value * 1e3).round() / 1e3
}

/// A value rounded to 6 decimals (fractions), as the columns print them.
pub fn round6(value: f64) -> f64 {
    (value * 1e6).round() / 1e6
}

/// Nanoseconds in the `_us` columns' unit: microseconds with the nanoseconds as decimals.
pub fn us_of_ns(ns: u64) -> f64 {
    ns as f64 / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_column_written_twice_keeps_its_last_value_once() {
        let mut out = ColumnWriter::default();
        out.put("txns", 3u64);
        out.put_some::<u64>("misses", None);
        out.put("txns", 4u64);
        assert_eq!(out.cells(), &[("txns", Cell::U64(4))]);
        assert_eq!(out.get("misses"), None);
    }
}
