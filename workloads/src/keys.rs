//! Key distributions, as YCSB defines them.
//!
//! Keys are integers in `[0, keys)`; a target turns a key into whatever it needs (bytes to
//! hash, a Redis key, a lock name). The distributions:
//!
//! - `uniform`: every key equally likely.
//! - `zipfian`: YCSB's *scrambled* zipfian: ranks drawn with skew θ (0.99 by default) over
//!   10¹⁰ items, as YCSB does, then folded onto the key space with FNV-1a, so that popular
//!   keys are spread over the key space rather than clustered at its start.
//! - `hotspot`: a fraction of the keys (the hot set, at the start of the key space) receives a
//!   fraction of the operations; the rest is uniform over the cold keys.
//! - `sequential`: each worker walks the key space in order from its own starting point.
//! - `latest`: skewed toward the most recently inserted key (YCSB's `SkewedLatestGenerator`);
//!   inserts advance "latest" and wrap around the key space, which stays fixed in size.

use crate::zipf::{ZIPFIAN_CONSTANT, Zipfian, fnv1a64};
use rand::Rng;
use serde::{Deserialize, Serialize};

/// YCSB draws scrambled-zipfian ranks over this many items, whatever the key count.
const YCSB_SCRAMBLED_ITEMS: u64 = 10_000_000_000;
/// zeta(10¹⁰, 0.99), the constant YCSB hard-codes rather than summing ten billion terms.
const YCSB_SCRAMBLED_ZETAN: f64 = 26.469_028_201_783_02;

/// The name of a key distribution, as written in scenario files and on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DistributionName {
    Uniform,
    Zipfian,
    Hotspot,
    Sequential,
    Latest,
}

impl DistributionName {
    /// Every distribution, for `stratbench list` and error messages.
    pub const ALL: [DistributionName; 5] = [
        DistributionName::Uniform,
        DistributionName::Zipfian,
        DistributionName::Hotspot,
        DistributionName::Sequential,
        DistributionName::Latest,
    ];

    /// The name as written in files.
    pub fn as_str(self) -> &'static str {
        match self {
            DistributionName::Uniform => "uniform",
            DistributionName::Zipfian => "zipfian",
            DistributionName::Hotspot => "hotspot",
            DistributionName::Sequential => "sequential",
            DistributionName::Latest => "latest",
        }
    }
}

impl std::str::FromStr for DistributionName {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL.into_iter().find(|d| d.as_str() == s).ok_or_else(|| {
            let names: Vec<_> = Self::ALL.iter().map(|d| d.as_str()).collect();
            format!("unknown distribution `{s}` (expected one of: {})", names.join(", "))
        })
    }
}

impl std::fmt::Display for DistributionName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A fully specified key distribution over `keys` keys.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(tag = "dist", rename_all = "kebab-case")]
pub enum KeyDistribution {
    Uniform,
    Zipfian { theta: f64 },
    Hotspot { hot_data_fraction: f64, hot_op_fraction: f64 },
    Sequential,
    Latest { theta: f64 },
}

impl KeyDistribution {
    /// The distribution's name.
    pub fn name(&self) -> DistributionName {
        match self {
            KeyDistribution::Uniform => DistributionName::Uniform,
            KeyDistribution::Zipfian { .. } => DistributionName::Zipfian,
            KeyDistribution::Hotspot { .. } => DistributionName::Hotspot,
            KeyDistribution::Sequential => DistributionName::Sequential,
            KeyDistribution::Latest { .. } => DistributionName::Latest,
        }
    }

    /// The default parameters for a named distribution.
    pub fn with_defaults(name: DistributionName) -> Self {
        match name {
            DistributionName::Uniform => KeyDistribution::Uniform,
            DistributionName::Zipfian => KeyDistribution::Zipfian { theta: ZIPFIAN_CONSTANT },
            DistributionName::Hotspot => KeyDistribution::Hotspot { hot_data_fraction: 0.2, hot_op_fraction: 0.8 },
            DistributionName::Sequential => KeyDistribution::Sequential,
            DistributionName::Latest => KeyDistribution::Latest { theta: ZIPFIAN_CONSTANT },
        }
    }

    /// A compact description with parameters, for CSV rows (`zipfian(0.99)`).
    pub fn describe(&self) -> String {
        match self {
            KeyDistribution::Zipfian { theta } | KeyDistribution::Latest { theta } => {
                format!("{}({theta})", self.name())
            }
            KeyDistribution::Hotspot { hot_data_fraction, hot_op_fraction } => {
                format!("hotspot({hot_data_fraction},{hot_op_fraction})")
            }
            _ => self.name().to_string(),
        }
    }
}

/// Draws keys in `[0, keys)` for one worker.
#[derive(Clone, Debug)]
pub struct KeyGenerator {
    keys: u64,
    state: GeneratorState,
}

#[derive(Clone, Debug)]
enum GeneratorState {
    Uniform,
    Zipfian(Zipfian),
    Hotspot { hot_keys: u64, hot_op_fraction: f64 },
    Sequential { next: u64 },
    Latest { zipfian: Zipfian, latest: u64 },
}

impl KeyGenerator {
    /// A generator for worker `worker` of `workers` (only `sequential` uses the position: each
    /// worker starts at its own offset so that workers do not walk in lockstep).
    pub fn new(dist: KeyDistribution, keys: u64, worker: u64, workers: u64) -> Self {
        assert!(keys > 0, "the key space must not be empty");
        let state = match dist {
            KeyDistribution::Uniform => GeneratorState::Uniform,
            KeyDistribution::Zipfian { theta } => GeneratorState::Zipfian(scrambled_base(theta, keys)),
            KeyDistribution::Hotspot { hot_data_fraction, hot_op_fraction } => {
                let hot_keys = ((keys as f64 * hot_data_fraction) as u64).clamp(1, keys);
                GeneratorState::Hotspot { hot_keys, hot_op_fraction }
            }
            KeyDistribution::Sequential => {
                let start = (u128::from(keys) * u128::from(worker) / u128::from(workers.max(1))) as u64;
                GeneratorState::Sequential { next: start }
            }
            KeyDistribution::Latest { theta } => {
                GeneratorState::Latest { zipfian: Zipfian::new(keys, theta), latest: keys - 1 }
            }
        };
        KeyGenerator { keys, state }
    }

    /// The size of the key space.
    pub fn keys(&self) -> u64 {
        self.keys
    }

    /// Draws the next key.
    #[inline]
    pub fn next_key<R: Rng + ?Sized>(&mut self, rng: &mut R) -> u64 {
        let keys = self.keys;
        match &mut self.state {
            GeneratorState::Uniform => rng.random_range(0..keys),
            GeneratorState::Zipfian(zipf) => scramble(zipf.sample(rng), keys),
            GeneratorState::Hotspot { hot_keys, hot_op_fraction } => {
                let cold_keys = keys - *hot_keys;
                if cold_keys == 0 || rng.random::<f64>() < *hot_op_fraction {
                    rng.random_range(0..*hot_keys)
                } else {
                    *hot_keys + rng.random_range(0..cold_keys)
                }
            }
            GeneratorState::Sequential { next } => {
                let key = *next;
                *next = (key + 1) % keys;
                key
            }
            GeneratorState::Latest { zipfian, latest } => (*latest + keys - zipfian.sample(rng)) % keys,
        }
    }

    /// Tells `latest` that a key was inserted; the newest key moves forward (wrapping).
    pub fn note_insert(&mut self) {
        if let GeneratorState::Latest { latest, .. } = &mut self.state {
            *latest = (*latest + 1) % self.keys;
        }
    }
}

/// The rank generator behind scrambled zipfian: YCSB's 10¹⁰ items when θ is YCSB's constant
/// (whose zeta YCSB precomputed), otherwise one rank per key.
fn scrambled_base(theta: f64, keys: u64) -> Zipfian {
    if (theta - ZIPFIAN_CONSTANT).abs() < 1e-12 {
        Zipfian::with_zetan(YCSB_SCRAMBLED_ITEMS, theta, YCSB_SCRAMBLED_ZETAN)
    } else {
        Zipfian::new(keys, theta)
    }
}

/// Folds a rank onto the key space as YCSB does: `abs(fnvhash64(rank)) % keys`.
#[inline]
fn scramble(rank: u64, keys: u64) -> u64 {
    (fnv1a64(rank) as i64).unsigned_abs() % keys
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Stream, stream_rng};

    fn draw(dist: KeyDistribution, keys: u64, n: usize, seed: u64) -> Vec<u64> {
        let mut generator = KeyGenerator::new(dist, keys, 0, 1);
        let mut rng = stream_rng(seed, Stream::Keys, 0);
        (0..n).map(|_| generator.next_key(&mut rng)).collect()
    }

    #[test]
    fn every_distribution_stays_in_the_key_space() {
        for name in DistributionName::ALL {
            let keys = draw(KeyDistribution::with_defaults(name), 1000, 10_000, 3);
            assert!(keys.iter().all(|&k| k < 1000), "{name}");
        }
    }

    #[test]
    fn same_seed_gives_the_same_keys() {
        for name in DistributionName::ALL {
            let dist = KeyDistribution::with_defaults(name);
            assert_eq!(draw(dist, 100_000, 1000, 9), draw(dist, 100_000, 1000, 9), "{name}");
        }
        let dist = KeyDistribution::with_defaults(DistributionName::Uniform);
        assert_ne!(draw(dist, 100_000, 1000, 9), draw(dist, 100_000, 1000, 10));
    }

    #[test]
    fn hotspot_sends_the_hot_fraction_to_the_hot_set() {
        let dist = KeyDistribution::Hotspot { hot_data_fraction: 0.1, hot_op_fraction: 0.9 };
        let keys = draw(dist, 10_000, 100_000, 5);
        let hot = keys.iter().filter(|&&k| k < 1000).count() as f64 / keys.len() as f64;
        assert!((hot - 0.9).abs() < 0.01, "hot share {hot}");
    }

    #[test]
    fn scrambled_zipfian_is_skewed_and_spread() {
        let dist = KeyDistribution::with_defaults(DistributionName::Zipfian);
        let keys = draw(dist, 100_000, 200_000, 5);
        let mut counts = std::collections::HashMap::new();
        for k in &keys {
            *counts.entry(*k).or_insert(0u64) += 1;
        }
        let top = counts.values().max().copied().unwrap_or(0) as f64 / keys.len() as f64;
        // Rank 0 carries 1/zeta(10^10) ≈ 3.8% of draws under θ = 0.99.
        assert!((top - 0.0378).abs() < 0.005, "top key share {top}");
        // The popular keys are not bunched at the start of the key space.
        let low_half = keys.iter().filter(|&&k| k < 50_000).count() as f64 / keys.len() as f64;
        assert!((0.3..0.7).contains(&low_half), "low half share {low_half}");
    }

    #[test]
    fn latest_favours_the_newest_key_and_follows_inserts() {
        let dist = KeyDistribution::with_defaults(DistributionName::Latest);
        let mut generator = KeyGenerator::new(dist, 1000, 0, 1);
        let mut rng = stream_rng(1, Stream::Keys, 0);
        let newest = (0..1000).filter(|_| generator.next_key(&mut rng) == 999).count();
        assert!(newest > 100, "newest key drawn {newest} times of 1000");
        generator.note_insert();
        let newest = (0..1000).filter(|_| generator.next_key(&mut rng) == 0).count();
        assert!(newest > 100, "after an insert the newest key is 0; drawn {newest} times");
    }

    #[test]
    fn sequential_workers_start_apart() {
        let dist = KeyDistribution::Sequential;
        let mut rng = stream_rng(1, Stream::Keys, 0);
        let mut first = KeyGenerator::new(dist, 100, 0, 4);
        let mut third = KeyGenerator::new(dist, 100, 2, 4);
        assert_eq!(first.next_key(&mut rng), 0);
        assert_eq!(third.next_key(&mut rng), 50);
        assert_eq!(third.next_key(&mut rng), 51);
    }
}
