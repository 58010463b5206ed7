//! Properties every partitioning strategy must keep, checked over random cluster sizes and
//! key sets: minimal movement on add and remove (only the keys that must move do), Maglev's
//! table share, bounded-load's capacity, and agreement with reference implementations.

use proptest::prelude::*;
use targets::hashing::analysis::{self, Change};
use targets::hashing::anchor::Anchor;
use targets::hashing::bounded_load::BoundedLoad;
use targets::hashing::jump::Jump;
use targets::hashing::maglev::Maglev;
use targets::hashing::rendezvous::Rendezvous;
use targets::hashing::ring::Ring;
use targets::hashing::{
    HashingError, HashingParams, Node, NodeId, NodeSet, Placement, Strategy, StrategyVisitor, fast_range, mix64,
};

fn keys(count: usize, salt: u64) -> Vec<u64> {
    (0..count as u64).map(|k| mix64(k ^ salt.wrapping_mul(0x9E37_79B9_7F4A_7C15))).collect()
}

fn built<P: Placement>(nodes: u32) -> P {
    P::build(NodeSet::uniform(nodes), &HashingParams::default()).unwrap()
}

/// Adds a node and checks that every key that moved went to it.
fn add_moves_only_to_the_new_node<P: Placement>(nodes: u32, key_hashes: &[u64]) -> Result<(), TestCaseError> {
    let mut placement: P = built(nodes);
    let before = analysis::owners(&placement, key_hashes);
    let new = NodeId(nodes);
    placement.add_node(Node { id: new, weight: 1.0 }).unwrap();
    let after = analysis::owners(&placement, key_hashes);
    let (_, violations) = analysis::movement(&before, &after, Change::Added(new));
    prop_assert_eq!(violations, 0);
    Ok(())
}

/// Removes `victim` and checks that only its keys moved.
fn remove_moves_only_its_keys<P: Placement>(nodes: u32, victim: u32, key_hashes: &[u64]) -> Result<(), TestCaseError> {
    let mut placement: P = built(nodes);
    let before = analysis::owners(&placement, key_hashes);
    placement.remove_node(NodeId(victim)).unwrap();
    let after = analysis::owners(&placement, key_hashes);
    let (moved, violations) = analysis::movement(&before, &after, Change::Removed(NodeId(victim)));
    prop_assert_eq!(violations, 0);
    prop_assert_eq!(moved as usize, before.iter().filter(|o| **o == NodeId(victim)).count());
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn ring_moves_only_what_it_must(nodes in 1u32..40, victim in 0u32..40, salt: u64) {
        let key_hashes = keys(3000, salt);
        add_moves_only_to_the_new_node::<Ring>(nodes, &key_hashes)?;
        if nodes > 1 {
            remove_moves_only_its_keys::<Ring>(nodes, victim % nodes, &key_hashes)?;
        }
    }

    #[test]
    fn rendezvous_moves_only_what_it_must(nodes in 1u32..40, victim in 0u32..40, salt: u64) {
        let key_hashes = keys(3000, salt);
        add_moves_only_to_the_new_node::<Rendezvous>(nodes, &key_hashes)?;
        if nodes > 1 {
            remove_moves_only_its_keys::<Rendezvous>(nodes, victim % nodes, &key_hashes)?;
        }
    }

    #[test]
    fn anchor_moves_only_what_it_must(nodes in 1u32..40, victim in 0u32..40, salt: u64) {
        let key_hashes = keys(3000, salt);
        add_moves_only_to_the_new_node::<Anchor>(nodes, &key_hashes)?;
        if nodes > 1 {
            remove_moves_only_its_keys::<Anchor>(nodes, victim % nodes, &key_hashes)?;
        }
    }

    #[test]
    fn jump_moves_only_what_it_must_and_refuses_middle_removals(nodes in 2u32..40, victim in 0u32..39, salt: u64) {
        let key_hashes = keys(3000, salt);
        add_moves_only_to_the_new_node::<Jump>(nodes, &key_hashes)?;
        remove_moves_only_its_keys::<Jump>(nodes, nodes - 1, &key_hashes)?;
        let victim = victim % (nodes - 1);
        let mut jump: Jump = built(nodes);
        prop_assert!(matches!(jump.remove_node(NodeId(victim)), Err(HashingError::Unsupported(_))));
    }

    /// Removing a node and adding it back restores every key's owner for the strategies whose
    /// placement is a function of the node set, and for anchor, which reuses the bucket.
    #[test]
    fn remove_then_readd_restores_the_mapping(nodes in 2u32..30, victim in 0u32..30, salt: u64) {
        let key_hashes = keys(2000, salt);
        let victim = NodeId(victim % nodes);
        for_each_restoring_strategy(nodes, victim, &key_hashes)?;
    }

    /// Every node owns its share of Maglev's table within 1% once M > 100·N.
    #[test]
    fn maglev_gives_every_node_its_share(nodes in 1u32..=600) {
        let table = 65_537u64;
        prop_assume!(table > 100 * u64::from(nodes));
        let maglev: Maglev = built(nodes);
        // One hash per table slot: fast_range maps slot_hash(i) to slot i.
        let slot_hashes: Vec<u64> = (0..table).map(|i| ((u128::from(i) << 64).div_ceil(u128::from(table))) as u64).collect();
        prop_assert!(slot_hashes.iter().enumerate().all(|(i, h)| fast_range(*h, table) == i as u64));
        let owners = analysis::owners(&maglev, &slot_hashes);
        let fair = table as f64 / f64::from(nodes);
        for load in analysis::loads(&owners, maglev.nodes()) {
            prop_assert!((load as f64 - fair).abs() / fair < 0.01, "load {} vs fair share {}", load, fair);
        }
    }

    /// No node ever holds more than ⌈(1+ε)·m/n⌉ keys, before or after resizes.
    #[test]
    fn bounded_load_never_exceeds_capacity(nodes in 2u32..30, key_count in 1usize..4000, epsilon in 0.01f64..1.0, salt: u64) {
        let params = HashingParams { epsilon, ..HashingParams::default() };
        let key_hashes = keys(key_count, salt);
        let mut placement = BoundedLoad::build(NodeSet::uniform(nodes), &params).unwrap();
        placement.place_keys(&key_hashes);
        check_capacity(&placement, &key_hashes)?;
        placement.add_node(Node { id: NodeId(nodes), weight: 1.0 }).unwrap();
        check_capacity(&placement, &key_hashes)?;
        placement.remove_node(NodeId(0)).unwrap();
        check_capacity(&placement, &key_hashes)?;
    }
}

fn check_capacity(placement: &BoundedLoad, key_hashes: &[u64]) -> Result<(), TestCaseError> {
    let owners = analysis::owners(placement, key_hashes);
    let loads = analysis::loads(&owners, placement.nodes());
    for (load, capacity) in loads.iter().zip(placement.capacities(key_hashes.len())) {
        prop_assert!(*load <= capacity, "load {} over capacity {}", load, capacity);
    }
    Ok(())
}

struct Restores<'a> {
    nodes: u32,
    victim: NodeId,
    key_hashes: &'a [u64],
}

impl StrategyVisitor for Restores<'_> {
    type Output = Result<(), TestCaseError>;
    fn visit<P: Placement>(self, strategy: Strategy) -> Self::Output {
        let mut placement: P = built(self.nodes);
        let before = analysis::owners(&placement, self.key_hashes);
        match placement.remove_node(self.victim) {
            Ok(()) => {}
            Err(HashingError::Unsupported(_)) => return Ok(()),
            Err(other) => return Err(TestCaseError::fail(format!("{}: {other}", strategy.name()))),
        }
        placement.add_node(Node { id: self.victim, weight: 1.0 }).unwrap();
        let after = analysis::owners(&placement, self.key_hashes);
        prop_assert_eq!(analysis::agreement(&before, &after), 1.0, "{}", strategy.name());
        Ok(())
    }
}

fn for_each_restoring_strategy(nodes: u32, victim: NodeId, key_hashes: &[u64]) -> Result<(), TestCaseError> {
    use Strategy::*;
    for strategy in
        [Modulo, Ring, Jump, Rendezvous, Maglev, MultiProbe, Anchor, CrateHashring, CrateMaglev, CrateMpchash]
    {
        strategy.visit(Restores { nodes, victim, key_hashes })?;
    }
    Ok(())
}

/// Key movement on add is within 2% of the ideal 1/(N+1) for ring, jump, rendezvous and
/// anchor, over 400,000 keys (sampling noise ≈ √(N/keys) ≈ 0.5% of the moved count here).
#[test]
fn movement_on_add_is_close_to_ideal() {
    struct AddRatio<'a>(&'a [u64]);
    impl StrategyVisitor for AddRatio<'_> {
        type Output = f64;
        fn visit<P: Placement>(self, _: Strategy) -> f64 {
            let mut placement: P = built(10);
            let before = analysis::owners(&placement, self.0);
            placement.add_node(Node { id: NodeId(10), weight: 1.0 }).unwrap();
            let after = analysis::owners(&placement, self.0);
            let (moved, _) = analysis::movement(&before, &after, Change::Added(NodeId(10)));
            (moved as f64 / self.0.len() as f64) / (1.0 / 11.0)
        }
    }
    let key_hashes = keys(400_000, 7);
    for strategy in [Strategy::Ring, Strategy::Jump, Strategy::Rendezvous, Strategy::Anchor] {
        let ratio = strategy.visit(AddRatio(&key_hashes));
        // The ring's share for one node varies with its virtual-node positions (±~8% at 160
        // vnodes), so its tolerance is that spread, not the sampling noise.
        let tolerance = if strategy == Strategy::Ring { 0.10 } else { 0.02 };
        assert!((ratio - 1.0).abs() < tolerance, "{}: moved/ideal {ratio}", strategy.name());
    }
}

/// Weighted rendezvous gives each node a share proportional to its weight.
#[test]
fn weighted_rendezvous_follows_weights() {
    let nodes = NodeSet::weighted(&[1.0, 2.0, 4.0]).unwrap();
    let placement = Rendezvous::build(nodes.clone(), &HashingParams::default()).unwrap();
    let key_hashes = keys(300_000, 3);
    let shares = analysis::shares(&analysis::owners(&placement, &key_hashes), &nodes);
    for ((_, share), expected) in shares.iter().zip([1.0 / 7.0, 2.0 / 7.0, 4.0 / 7.0]) {
        assert!((share - expected).abs() < 0.01, "share {share} vs {expected}");
    }
}

/// Strategies without a notion of weight refuse weighted nodes instead of ignoring them.
#[test]
fn unweighted_strategies_refuse_weights() {
    let nodes = NodeSet::weighted(&[1.0, 3.0]).unwrap();
    assert!(matches!(Jump::build(nodes.clone(), &HashingParams::default()), Err(HashingError::Unsupported(_))));
    assert!(matches!(Maglev::build(nodes, &HashingParams::default()), Err(HashingError::Unsupported(_))));
}
