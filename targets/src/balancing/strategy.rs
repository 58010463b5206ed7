//! The one list of balancing strategies: names, descriptions, and the static dispatch from a
//! name to the concrete type. Adding a strategy touches this file and its own.

use super::{
    Selector, bounded_load::BoundedLoad, consistent_hash::ConsistentHash, least_outstanding::LeastOutstanding,
    p2c::P2c, p2c_ewma::P2cEwma, random::Random, round_robin::RoundRobin, weighted_random::WeightedRandom,
    weighted_round_robin::WeightedRoundRobin,
};

/// Something to do with a concrete strategy type: how callers get static dispatch from a name.
pub trait SelectorVisitor {
    type Output;
    fn visit<S: Selector>(self, strategy: Strategy) -> Self::Output;
}

crate::registry::strategy_registry! {
    SelectorVisitor;
    RoundRobin => RoundRobin, "round-robin", "each backend in turn";
    Random => Random, "random", "a uniformly random backend";
    WeightedRoundRobin => WeightedRoundRobin, "weighted-round-robin", "nginx's smooth weighted round robin";
    WeightedRandom => WeightedRandom, "weighted-random", "random, proportional to weight";
    LeastOutstanding => LeastOutstanding, "least-outstanding", "fewest requests in flight (full scan)";
    P2c => P2c, "p2c", "less loaded of two random backends";
    P2cEwma => P2cEwma, "p2c-ewma", "two random, lower peak-EWMA latency x (outstanding+1)";
    ConsistentHash => ConsistentHash, "consistent-hash", "request key on a ring (160 vnodes)";
    BoundedLoad => BoundedLoad, "bounded-load", "consistent hash with load cap (1+eps), eps = 0.25";
}

impl Strategy {
    /// Every name, for messages.
    pub fn names() -> String {
        Self::ALL.iter().map(|s| s.name()).collect::<Vec<_>>().join(", ")
    }
}
