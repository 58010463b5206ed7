//! Partitioning strategies: which node owns a key, and how many keys move when nodes come and
//! go.
//!
//! Every strategy implements [`Placement`] and lives in its own file:
//!
//! | name | file | idea |
//! |---|---|---|
//! | `modulo` | [`modulo`] | `hash % N`: the baseline that moves almost every key on resize |
//! | `ring` | [`ring`] | ketama-style ring, 160 virtual nodes per node (weights scale the count) |
//! | `jump` | [`jump`] | Lamping & Veach's jump consistent hash; only the last node can leave |
//! | `rendezvous` | [`rendezvous`] | highest random weight, weighted with −w/ln h |
//! | `maglev` | [`maglev`] | Google's Maglev lookup table (prime size, 65537 by default) |
//! | `multi-probe` | [`multi_probe`] | one point per node, 21 probes per key (Appleton & O'Reilly) |
//! | `bounded-load` | [`bounded_load`] | a ring whose nodes take at most ⌈(1+ε)·m/n⌉ keys (Mirrokni et al.) |
//! | `anchor` | [`anchor`] | AnchorHash (Mendelson et al.), fixed capacity, any node can leave |
//!
//! and [`adapters`] wraps crates that implement the same algorithms (`crate:hashring`,
//! `crate:jumphash`, `crate:maglev`, `crate:anchorhash`, `crate:mpchash`) so that a user sees
//! ours beside what they would otherwise pick. [`system`] measures them in-process; [`net`]
//! runs the same strategies as client-side sharding over real Redis servers, with live
//! resizes that migrate the keys that move.
//!
//! All strategies place a *key hash*: xxh3-64 of the key's bytes ([`key_hash`]), computed
//! once by the caller. Nodes are identified by a stable [`NodeId`] and named `node-<id>` where
//! a strategy hashes node names, so a mapping can be compared across resizes.
//!
//! ```
//! use targets::hashing::{HashingParams, NodeSet, Placement, key_hash, ring::Ring};
//! let ring = Ring::build(NodeSet::uniform(4), &HashingParams::default()).unwrap();
//! let owner = ring.locate(key_hash(b"user:42"));
//! assert!(owner.0 < 4);
//! ```

pub mod adapters;
pub mod analysis;
pub mod anchor;
pub mod any;
pub mod bounded_load;
pub mod build;
pub mod jump;
pub mod maglev;
pub mod modulo;
pub mod multi_probe;
pub mod net;
pub mod rendezvous;
pub mod ring;
mod strategy;
pub mod system;

pub use strategy::{Strategy, StrategyVisitor};

use std::collections::BTreeMap;
use xxhash_rust::xxh3::xxh3_64;

/// A node's stable identity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub u32);

impl NodeId {
    /// The name strategies hash to place this node: `node-<id>`.
    pub fn name(self) -> String {
        format!("node-{}", self.0)
    }
}

/// A node and its weight (1.0 unless the scenario gives `weights`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Node {
    pub id: NodeId,
    pub weight: f64,
}

/// The set of nodes, kept sorted by id so that a set's placement does not depend on the order
/// nodes joined in.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct NodeSet {
    nodes: Vec<Node>,
}

impl NodeSet {
    /// Nodes `0..count`, all of weight 1.
    pub fn uniform(count: u32) -> Self {
        NodeSet { nodes: (0..count).map(|id| Node { id: NodeId(id), weight: 1.0 }).collect() }
    }

    /// Nodes `0..weights.len()` with the given weights.
    pub fn weighted(weights: &[f64]) -> Result<Self, HashingError> {
        if let Some(bad) = weights.iter().find(|w| !(w.is_finite() && **w > 0.0)) {
            return Err(HashingError::InvalidParam {
                param: "weights",
                message: format!("weights must be positive, got {bad}"),
            });
        }
        Ok(NodeSet {
            nodes: weights.iter().enumerate().map(|(i, w)| Node { id: NodeId(i as u32), weight: *w }).collect(),
        })
    }

    /// The nodes, sorted by id.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether there are no nodes.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Whether every node has the same weight.
    pub fn is_uniform(&self) -> bool {
        self.nodes.windows(2).all(|w| w[0].weight == w[1].weight)
    }

    /// The weight of `id`, if present.
    pub fn weight(&self, id: NodeId) -> Option<f64> {
        self.nodes.iter().find(|n| n.id == id).map(|n| n.weight)
    }

    /// The sum of the weights.
    pub fn total_weight(&self) -> f64 {
        self.nodes.iter().map(|n| n.weight).sum()
    }

    /// The highest id present.
    pub fn last(&self) -> Option<NodeId> {
        self.nodes.last().map(|n| n.id)
    }

    /// The lowest id not in use.
    pub fn next_free_id(&self) -> NodeId {
        NodeId(self.nodes.iter().map(|n| n.id.0 + 1).max().unwrap_or(0))
    }

    /// Adds a node; fails if its id is taken.
    pub fn insert(&mut self, node: Node) -> Result<(), HashingError> {
        match self.nodes.binary_search_by_key(&node.id, |n| n.id) {
            Ok(_) => Err(HashingError::DuplicateNode(node.id)),
            Err(at) => {
                self.nodes.insert(at, node);
                Ok(())
            }
        }
    }

    /// Removes a node; fails if it is absent or the last one.
    pub fn remove(&mut self, id: NodeId) -> Result<Node, HashingError> {
        let at = self.nodes.binary_search_by_key(&id, |n| n.id).map_err(|_| HashingError::UnknownNode(id))?;
        if self.nodes.len() == 1 {
            return Err(HashingError::EmptyCluster);
        }
        Ok(self.nodes.remove(at))
    }
}

/// Why a placement could not be built or changed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum HashingError {
    #[error("{0}")]
    Unsupported(String),
    #[error("node {} is already present", .0.0)]
    DuplicateNode(NodeId),
    #[error("node {} is not present", .0.0)]
    UnknownNode(NodeId),
    #[error("cannot remove the last node")]
    EmptyCluster,
    #[error("parameter `{param}`: {message}")]
    InvalidParam { param: &'static str, message: String },
}

/// Parameters of the strategies, read from a scenario's `[params]` table.
#[derive(Clone, Debug, PartialEq)]
pub struct HashingParams {
    /// Virtual nodes per node of weight 1 (`ring`, `bounded-load`, `crate:hashring`).
    pub vnodes: u32,
    /// Maglev lookup table size; must be prime.
    pub maglev_table: u64,
    /// Probes per key (`multi-probe`).
    pub probes: u32,
    /// Load slack ε of `bounded-load`: capacity ⌈(1+ε)·m/n⌉.
    pub epsilon: f64,
    /// Bucket capacity of `anchor` (the most nodes it can ever hold); `None` = max(2N, 16).
    pub anchor_capacity: Option<u32>,
    /// Node weights, one per initial node; `None` = all 1.
    pub weights: Option<Vec<f64>>,
}

impl Default for HashingParams {
    fn default() -> Self {
        HashingParams {
            vnodes: 160,
            maglev_table: 65_537,
            probes: 21,
            epsilon: 0.25,
            anchor_capacity: None,
            weights: None,
        }
    }
}

impl HashingParams {
    /// The parameter names this family knows.
    pub const NAMES: [&'static str; 6] = ["vnodes", "maglev_table", "probes", "epsilon", "anchor_capacity", "weights"];

    /// Reads parameters from a scenario's `[params]` table; unknown names and bad values are
    /// errors that name the parameter.
    pub fn from_table(table: &BTreeMap<String, toml::Value>) -> Result<Self, HashingError> {
        let mut params = HashingParams::default();
        for (name, value) in table {
            match name.as_str() {
                "vnodes" => params.vnodes = positive_int(value, "vnodes", 1 << 16)? as u32,
                "maglev_table" => params.maglev_table = positive_int(value, "maglev_table", 1 << 26)?,
                "probes" => params.probes = positive_int(value, "probes", 1024)? as u32,
                "anchor_capacity" => {
                    params.anchor_capacity = Some(positive_int(value, "anchor_capacity", 65_535)? as u32)
                }
                "epsilon" => params.epsilon = positive_float(value, "epsilon")?,
                "weights" => params.weights = Some(float_list(value, "weights")?),
                other => {
                    return Err(HashingError::InvalidParam {
                        param: "params",
                        message: format!("unknown parameter `{other}` (known: {})", Self::NAMES.join(", ")),
                    });
                }
            }
        }
        if !maglev::is_prime(params.maglev_table) {
            return Err(HashingError::InvalidParam {
                param: "maglev_table",
                message: format!("must be prime, got {}", params.maglev_table),
            });
        }
        Ok(params)
    }

    /// The initial node set for `count` nodes.
    pub fn node_set(&self, count: u32) -> Result<NodeSet, HashingError> {
        match &self.weights {
            None => Ok(NodeSet::uniform(count)),
            Some(weights) if weights.len() == count as usize => NodeSet::weighted(weights),
            Some(weights) => Err(HashingError::InvalidParam {
                param: "weights",
                message: format!("has {} entries but there are {count} nodes", weights.len()),
            }),
        }
    }
}

fn positive_int(value: &toml::Value, param: &'static str, max: u64) -> Result<u64, HashingError> {
    match value.as_integer() {
        Some(v) if v >= 1 && v as u64 <= max => Ok(v as u64),
        _ => Err(HashingError::InvalidParam {
            param,
            message: format!("must be a whole number from 1 to {max}, got {value}"),
        }),
    }
}

fn positive_float(value: &toml::Value, param: &'static str) -> Result<f64, HashingError> {
    match value.as_float().or_else(|| value.as_integer().map(|i| i as f64)) {
        Some(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(HashingError::InvalidParam { param, message: format!("must be a positive number, got {value}") }),
    }
}

fn float_list(value: &toml::Value, param: &'static str) -> Result<Vec<f64>, HashingError> {
    let items = value.as_array().ok_or_else(|| HashingError::InvalidParam {
        param,
        message: format!("must be a list of numbers, got {value}"),
    })?;
    items.iter().map(|item| positive_float(item, param)).collect()
}

/// A partitioning strategy: a placement structure over a set of nodes.
///
/// The default `add_node` and `remove_node` rebuild the structure from the changed node set,
/// which is right for every strategy whose placement is a function of the set (ring,
/// rendezvous, maglev, multi-probe, modulo); stateful ones (jump, anchor) override them.
pub trait Placement: Clone + Send + Sync + 'static {
    /// Builds the structure over `nodes`.
    fn build(nodes: NodeSet, params: &HashingParams) -> Result<Self, HashingError>;

    /// The node that owns the key whose hash is `key_hash`.
    fn locate(&self, key_hash: u64) -> NodeId;

    /// The current nodes.
    fn nodes(&self) -> &NodeSet;

    /// The parameters it was built with.
    fn params(&self) -> &HashingParams;

    /// Bytes of memory the structure holds (heap included).
    fn memory_bytes(&self) -> usize;

    /// Adds a node.
    fn add_node(&mut self, node: Node) -> Result<(), HashingError> {
        let mut nodes = self.nodes().clone();
        nodes.insert(node)?;
        *self = Self::build(nodes, self.params())?;
        Ok(())
    }

    /// Removes a node.
    fn remove_node(&mut self, id: NodeId) -> Result<(), HashingError> {
        let mut nodes = self.nodes().clone();
        nodes.remove(id)?;
        *self = Self::build(nodes, self.params())?;
        Ok(())
    }

    /// Strategies whose placement depends on the set of keys (bounded-load) place the run's
    /// keys here, in order; the rest ignore it.
    fn place_keys(&mut self, _key_hashes: &[u64]) {}
}

/// The key hash every strategy places: xxh3-64 of the key's bytes.
#[inline]
pub fn key_hash(key: &[u8]) -> u64 {
    xxh3_64(key)
}

/// The hash of a workload key (an integer): xxh3-64 of its eight little-endian bytes.
#[inline]
pub fn workload_key_hash(key: u64) -> u64 {
    xxh3_64(&key.to_le_bytes())
}

/// A fast, bijective 64-bit mixer (the murmur3 finalizer) for deriving further hashes from a
/// key hash: probes, per-node scores, seeded rehashes.
#[inline]
pub fn mix64(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    x ^= x >> 33;
    x = x.wrapping_mul(0xC4CE_B9FE_1A85_EC53);
    x ^ (x >> 33)
}

/// Maps a uniform 64-bit hash onto `[0, n)` by multiply-shift (Lemire's fast range), which
/// avoids a division and is as uniform as `%` for random input.
#[inline]
pub fn fast_range(hash: u64, n: u64) -> u64 {
    ((u128::from(hash) * u128::from(n)) >> 64) as u64
}

/// Heap bytes of a vector.
pub(crate) fn vec_bytes<T>(v: &Vec<T>) -> usize {
    v.capacity() * std::mem::size_of::<T>()
}

/// Memory of a node set.
pub(crate) fn node_set_bytes(nodes: &NodeSet) -> usize {
    vec_bytes(&nodes.nodes)
}

/// Rejects non-uniform weights for strategies that have no notion of weight.
pub(crate) fn require_uniform(nodes: &NodeSet, strategy: &str) -> Result<(), HashingError> {
    if nodes.is_uniform() {
        Ok(())
    } else {
        Err(HashingError::Unsupported(format!("{strategy} does not support node weights")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_set_stays_sorted_and_rejects_bad_changes() {
        let mut nodes = NodeSet::uniform(3);
        nodes.remove(NodeId(1)).unwrap();
        nodes.insert(Node { id: NodeId(1), weight: 1.0 }).unwrap();
        let ids: Vec<_> = nodes.nodes().iter().map(|n| n.id.0).collect();
        assert_eq!(ids, vec![0, 1, 2]);
        assert_eq!(nodes.insert(Node { id: NodeId(2), weight: 1.0 }), Err(HashingError::DuplicateNode(NodeId(2))));
        assert_eq!(nodes.remove(NodeId(9)), Err(HashingError::UnknownNode(NodeId(9))));
        assert_eq!(nodes.next_free_id(), NodeId(3));
    }

    #[test]
    fn params_reject_unknown_names_and_bad_values() {
        let table = |text: &str| -> BTreeMap<String, toml::Value> { toml::from_str(text).unwrap() };
        assert_eq!(HashingParams::from_table(&table("vnodes = 40")).unwrap().vnodes, 40);
        let err = HashingParams::from_table(&table("vnode = 40")).unwrap_err().to_string();
        assert!(err.contains("vnode"), "{err}");
        let err = HashingParams::from_table(&table("vnodes = 0")).unwrap_err().to_string();
        assert!(err.contains("vnodes"), "{err}");
        let err = HashingParams::from_table(&table("maglev_table = 65536")).unwrap_err().to_string();
        assert!(err.contains("prime"), "{err}");
        let err = HashingParams::from_table(&table("weights = [1, -2]")).unwrap_err().to_string();
        assert!(err.contains("weights"), "{err}");
    }

    #[test]
    fn fast_range_covers_the_range() {
        assert_eq!(fast_range(0, 10), 0);
        assert_eq!(fast_range(u64::MAX, 10), 9);
    }
}
