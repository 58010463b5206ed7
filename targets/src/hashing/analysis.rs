//! Measurements of a placement over a key set: how evenly keys spread, and how many move when
//! the node set changes. Pure functions over owner vectors, so the same code checks every
//! strategy and the property tests can call it directly.

use super::{NodeId, NodeSet, Placement};
use crate::target::LoadStats;

/// The owner of each key.
pub fn owners<P: Placement>(placement: &P, key_hashes: &[u64]) -> Vec<NodeId> {
    key_hashes.iter().map(|&h| placement.locate(h)).collect()
}

/// Keys per node, in node-set order.
pub fn loads(owners: &[NodeId], nodes: &NodeSet) -> Vec<u64> {
    let mut counts = vec![0u64; nodes.len()];
    for owner in owners {
        let slot = nodes.nodes().binary_search_by_key(owner, |n| n.id).expect("owners are nodes of the set");
        counts[slot] += 1;
    }
    counts
}

/// Each node's share of the keys: (node id, fraction).
pub fn shares(owners: &[NodeId], nodes: &NodeSet) -> Vec<(u32, f64)> {
    let total = owners.len().max(1) as f64;
    nodes.nodes().iter().zip(loads(owners, nodes)).map(|(n, count)| (n.id.0, count as f64 / total)).collect()
}

/// Balance of `owners` over `nodes`. Each node's load is compared with its fair share (its
/// weight's fraction of the keys), so weighted nodes that get what they should score 1.0.
pub fn load_stats(owners: &[NodeId], nodes: &NodeSet) -> LoadStats {
    let total_weight = nodes.total_weight();
    let keys = owners.len() as f64;
    let relative: Vec<f64> = nodes
        .nodes()
        .iter()
        .zip(loads(owners, nodes))
        .map(|(node, count)| count as f64 / (keys * node.weight / total_weight))
        .collect();
    let mean = relative.iter().sum::<f64>() / relative.len() as f64;
    let variance = relative.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / relative.len() as f64;
    LoadStats {
        peak_to_mean: relative.iter().copied().fold(f64::MIN, f64::max) / mean,
        min_to_mean: relative.iter().copied().fold(f64::MAX, f64::min) / mean,
        cv: variance.sqrt() / mean,
    }
}

/// How the node set changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    Added(NodeId),
    Removed(NodeId),
}

/// Keys whose owner changed, and among them those that broke monotonicity: on an add, keys
/// that moved anywhere but to the new node; on a remove, keys that moved but were not on the
/// removed node.
pub fn movement(before: &[NodeId], after: &[NodeId], change: Change) -> (u64, u64) {
    assert_eq!(before.len(), after.len(), "owner vectors cover the same keys");
    let mut moved = 0;
    let mut violations = 0;
    for (old, new) in before.iter().zip(after) {
        if old == new {
            continue;
        }
        moved += 1;
        let allowed = match change {
            Change::Added(id) => *new == id,
            Change::Removed(id) => *old == id,
        };
        violations += u64::from(!allowed);
    }
    (moved, violations)
}

/// Fraction of keys whose owner is the same in both vectors.
pub fn agreement(a: &[NodeId], b: &[NodeId]) -> f64 {
    let same = a.iter().zip(b).filter(|(x, y)| x == y).count();
    same as f64 / a.len().max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn movement_counts_violations_by_direction() {
        let ids = |v: &[u32]| v.iter().map(|&i| NodeId(i)).collect::<Vec<_>>();
        let before = ids(&[0, 1, 2, 0]);
        let after_add = ids(&[3, 1, 0, 0]);
        assert_eq!(movement(&before, &after_add, Change::Added(NodeId(3))), (2, 1));
        let after_remove = ids(&[0, 0, 2, 2]);
        assert_eq!(movement(&before, &after_remove, Change::Removed(NodeId(1))), (2, 1));
    }

    #[test]
    fn perfect_balance_scores_one() {
        let nodes = NodeSet::uniform(2);
        let owners = vec![NodeId(0), NodeId(1), NodeId(0), NodeId(1)];
        let stats = load_stats(&owners, &nodes);
        assert_eq!((stats.peak_to_mean, stats.min_to_mean, stats.cv), (1.0, 1.0, 0.0));
    }
}
