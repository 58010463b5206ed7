//! `maglev`: the lookup table of Google's Maglev load balancer (Eisenbud et al., NSDI 2016).
//! Each node walks its own permutation of the M table slots (offset and skip from two hashes
//! of its name) and the nodes take turns claiming their next free slot until the table is
//! full, so every node owns ⌊M/N⌋ or ⌈M/N⌉ slots. A lookup is one table read. M must be prime
//! (65537 by default) so that every skip generates a full permutation; balance is within 1%
//! once M > 100·N. On a resize the table is rebuilt, and most — not all — slots keep their
//! owner.

use super::{
    HashingError, HashingParams, NodeId, NodeSet, Placement, fast_range, node_set_bytes, require_uniform, vec_bytes,
};
use xxhash_rust::xxh3::xxh3_64_with_seed;

const OFFSET_SEED: u64 = 0xDEAD_BABE;
const SKIP_SEED: u64 = 0xDEAD_BEEF;

/// Maglev hashing.
#[derive(Clone, Debug)]
pub struct Maglev {
    nodes: NodeSet,
    params: HashingParams,
    table: Vec<NodeId>,
}

/// Whether `n` is prime (trial division; table sizes are at most a few million).
pub fn is_prime(n: u64) -> bool {
    if n < 2 {
        return false;
    }
    let mut d = 2;
    while d * d <= n {
        if n.is_multiple_of(d) {
            return false;
        }
        d += 1;
    }
    true
}

/// Fills a table of size `m` (prime) for `ids` by Maglev's round-robin claim of preferred slots.
pub fn populate(ids: &[NodeId], m: u64) -> Vec<NodeId> {
    assert!(!ids.is_empty() && is_prime(m), "maglev needs nodes and a prime table size");
    let permutations: Vec<(u64, u64)> = ids
        .iter()
        .map(|id| {
            let name = id.name();
            let offset = xxh3_64_with_seed(name.as_bytes(), OFFSET_SEED) % m;
            let skip = xxh3_64_with_seed(name.as_bytes(), SKIP_SEED) % (m - 1) + 1;
            (offset, skip)
        })
        .collect();
    let mut next = vec![0u64; ids.len()];
    let mut table: Vec<Option<NodeId>> = vec![None; m as usize];
    let mut filled = 0u64;
    'fill: loop {
        for (i, &(offset, skip)) in permutations.iter().enumerate() {
            let mut slot = (offset + next[i] * skip) % m;
            while table[slot as usize].is_some() {
                next[i] += 1;
                slot = (offset + next[i] * skip) % m;
            }
            table[slot as usize] = Some(ids[i]);
            next[i] += 1;
            filled += 1;
            if filled == m {
                break 'fill;
            }
        }
    }
    table.into_iter().map(|slot| slot.expect("every slot is filled")).collect()
}

impl Placement for Maglev {
    fn build(nodes: NodeSet, params: &HashingParams) -> Result<Self, HashingError> {
        require_uniform(&nodes, "maglev")?;
        let ids: Vec<NodeId> = nodes.nodes().iter().map(|n| n.id).collect();
        if ids.len() as u64 > params.maglev_table {
            return Err(HashingError::InvalidParam {
                param: "maglev_table",
                message: format!("{} slots cannot hold {} nodes", params.maglev_table, ids.len()),
            });
        }
        let table = populate(&ids, params.maglev_table);
        Ok(Maglev { nodes, params: params.clone(), table })
    }

    #[inline]
    fn locate(&self, key_hash: u64) -> NodeId {
        self.table[fast_range(key_hash, self.table.len() as u64) as usize]
    }

    fn nodes(&self) -> &NodeSet {
        &self.nodes
    }

    fn params(&self) -> &HashingParams {
        &self.params
    }

    fn memory_bytes(&self) -> usize {
        std::mem::size_of::<Self>() + vec_bytes(&self.table) + node_set_bytes(&self.nodes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primes() {
        assert!(is_prime(65_537) && is_prime(2) && is_prime(251));
        assert!(!is_prime(65_536) && !is_prime(1) && !is_prime(0) && !is_prime(91));
    }

    #[test]
    fn every_node_owns_its_share_of_slots() {
        for n in [1u32, 3, 10, 100] {
            let ids: Vec<_> = (0..n).map(NodeId).collect();
            let table = populate(&ids, 65_537);
            let mut counts = vec![0u64; n as usize];
            for id in &table {
                counts[id.0 as usize] += 1;
            }
            let floor = 65_537 / u64::from(n);
            assert!(counts.iter().all(|&c| c == floor || c == floor + 1), "n={n}: {counts:?}");
        }
    }
}
