//! Failures counted by kind, with the first detail seen for each kind.

use targets::target::OpError;

/// Failures counted by kind, with the first detail seen for each kind. A handful of kinds at
/// most, so a vector beats a map.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ErrorCounts {
    kinds: Vec<(&'static str, u64, Option<String>)>,
}

impl ErrorCounts {
    /// Counts one failure.
    pub fn add(&mut self, error: OpError) {
        self.add_count(error.kind, 1, error.detail);
    }

    /// Counts `count` failures of `kind`.
    pub fn add_count(&mut self, kind: &'static str, count: u64, detail: Option<String>) {
        match self.kinds.iter_mut().find(|(k, _, _)| *k == kind) {
            Some(entry) => {
                entry.1 += count;
                if entry.2.is_none() {
                    entry.2 = detail;
                }
            }
            None => self.kinds.push((kind, count, detail)),
        }
    }

    /// Adds every count of `other`.
    pub fn merge(&mut self, other: &ErrorCounts) {
        for (kind, count, detail) in &other.kinds {
            self.add_count(kind, *count, detail.clone());
        }
    }

    /// Failures of `kind`.
    pub fn count(&self, kind: &str) -> u64 {
        self.kinds.iter().filter(|(k, _, _)| *k == kind).map(|(_, c, _)| c).sum()
    }

    /// Total failures.
    pub fn total(&self) -> u64 {
        self.kinds.iter().map(|(_, c, _)| c).sum()
    }

    /// `kind=count;...`, sorted by kind, for CSV rows.
    pub fn describe(&self) -> String {
        let mut kinds: Vec<_> = self.kinds.iter().map(|(k, c, _)| format!("{k}={c}")).collect();
        kinds.sort();
        kinds.join(";")
    }

    /// The first detail message of each kind, for the row's message.
    pub fn details(&self) -> Vec<String> {
        self.kinds.iter().filter_map(|(k, _, d)| d.as_ref().map(|d| format!("{k}: {d}"))).collect()
    }
}
