//! Operation mixes: what fraction of operations are reads, updates, inserts, scans or
//! read-modify-writes, in the YCSB sense. Each family interprets the kinds: a lookup family
//! treats every kind as a lookup, a key-value family maps them to GET/SET, a lock family to
//! acquire/release cycles.

use rand::Rng;
use serde::{Deserialize, Serialize};

/// The kind of one operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OpKind {
    Read,
    Update,
    Insert,
    Scan,
    ReadModifyWrite,
}

impl OpKind {
    /// Every kind, in the order weights are listed.
    pub const ALL: [OpKind; 5] = [OpKind::Read, OpKind::Update, OpKind::Insert, OpKind::Scan, OpKind::ReadModifyWrite];

    /// The kind's name as written in scenario files.
    pub fn as_str(self) -> &'static str {
        match self {
            OpKind::Read => "read",
            OpKind::Update => "update",
            OpKind::Insert => "insert",
            OpKind::Scan => "scan",
            OpKind::ReadModifyWrite => "read-modify-write",
        }
    }
}

/// Proportions of each operation kind, as written in a scenario's `[mix]` table. The weights
/// need not sum to one; they are normalised.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct OperationMix {
    #[serde(default)]
    pub read: f64,
    #[serde(default)]
    pub update: f64,
    #[serde(default)]
    pub insert: f64,
    #[serde(default)]
    pub scan: f64,
    #[serde(default)]
    pub read_modify_write: f64,
}

impl Default for OperationMix {
    /// Reads only (YCSB workload C).
    fn default() -> Self {
        OperationMix { read: 1.0, update: 0.0, insert: 0.0, scan: 0.0, read_modify_write: 0.0 }
    }
}

impl OperationMix {
    fn weights(&self) -> [f64; 5] {
        [self.read, self.update, self.insert, self.scan, self.read_modify_write]
    }

    /// Checks that every weight is finite and non-negative and that one is positive.
    pub fn validate(&self) -> Result<(), String> {
        for (kind, weight) in OpKind::ALL.iter().zip(self.weights()) {
            if !weight.is_finite() || weight < 0.0 {
                return Err(format!("mix weight `{}` must be a non-negative number, got {weight}", kind.as_str()));
            }
        }
        if self.weights().iter().sum::<f64>() <= 0.0 {
            return Err("mix weights are all zero: at least one operation kind needs a positive weight".into());
        }
        Ok(())
    }

    /// The normalised share of `kind`.
    pub fn share(&self, kind: OpKind) -> f64 {
        let weights = self.weights();
        let total: f64 = weights.iter().sum();
        let index = OpKind::ALL.iter().position(|k| *k == kind).unwrap_or(0);
        weights[index] / total
    }

    /// A compact description for CSV rows, listing the non-zero kinds (`read=0.95;update=0.05`).
    pub fn describe(&self) -> String {
        OpKind::ALL
            .iter()
            .filter(|k| self.share(**k) > 0.0)
            .map(|k| format!("{}={}", k.as_str(), (self.share(*k) * 1e6).round() / 1e6))
            .collect::<Vec<_>>()
            .join(";")
    }

    /// A sampler for this mix. Panics if the mix is invalid; call [`Self::validate`] first.
    pub fn sampler(&self) -> MixSampler {
        assert!(self.validate().is_ok(), "invalid mix {self:?}");
        let weights = self.weights();
        let total: f64 = weights.iter().sum();
        let mut cumulative = [0.0; 5];
        let mut running = 0.0;
        for (slot, weight) in cumulative.iter_mut().zip(weights) {
            running += weight / total;
            *slot = running;
        }
        let only = OpKind::ALL.iter().zip(weights).filter(|(_, w)| *w > 0.0).map(|(k, _)| *k).collect::<Vec<_>>();
        MixSampler { cumulative, single: (only.len() == 1).then(|| only[0]) }
    }
}

/// Draws operation kinds in proportion to a mix.
#[derive(Clone, Debug)]
pub struct MixSampler {
    cumulative: [f64; 5],
    /// Set when only one kind has weight: no random draw is spent on it.
    single: Option<OpKind>,
}

impl MixSampler {
    /// Draws one operation kind.
    #[inline]
    pub fn next_kind<R: Rng + ?Sized>(&self, rng: &mut R) -> OpKind {
        if let Some(kind) = self.single {
            return kind;
        }
        let u: f64 = rng.random();
        let index = self.cumulative.iter().position(|&c| u < c).unwrap_or(4);
        OpKind::ALL[index]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Stream, stream_rng};

    #[test]
    fn draws_follow_the_weights() {
        let mix = OperationMix { read: 0.95, update: 0.05, ..OperationMix { read: 0.0, ..Default::default() } };
        let sampler = mix.sampler();
        let mut rng = stream_rng(1, Stream::Keys, 0);
        let updates = (0..100_000).filter(|_| sampler.next_kind(&mut rng) == OpKind::Update).count();
        assert!((4_500..5_500).contains(&updates), "{updates} updates of 100000");
    }

    #[test]
    fn rejects_negative_and_all_zero_weights() {
        let negative = OperationMix { read: -1.0, ..Default::default() };
        assert!(negative.validate().unwrap_err().contains("read"));
        let zero = OperationMix { read: 0.0, ..Default::default() };
        assert!(zero.validate().unwrap_err().contains("all zero"));
    }

    #[test]
    fn describes_non_zero_shares() {
        let mix = OperationMix { read: 1.0, update: 1.0, ..Default::default() };
        assert_eq!(mix.describe(), "read=0.5;update=0.5");
    }
}
