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

macro_rules! strategies {
    ($($variant:ident => $ty:ty, $name:literal, $about:literal;)*) => {
        /// A balancing strategy, by name.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Strategy { $($variant,)* }

        impl Strategy {
            /// Every strategy.
            pub const ALL: &'static [Strategy] = &[$(Strategy::$variant,)*];

            /// The name used on the command line and in CSV rows.
            pub fn name(self) -> &'static str {
                match self { $(Strategy::$variant => $name,)* }
            }

            /// One line on what it is.
            pub fn about(self) -> &'static str {
                match self { $(Strategy::$variant => $about,)* }
            }

            /// Calls `visitor` with the strategy's concrete type.
            pub fn visit<V: SelectorVisitor>(self, visitor: V) -> V::Output {
                match self { $(Strategy::$variant => visitor.visit::<$ty>(self),)* }
            }
        }
    };
}

strategies! {
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
    /// Looks a strategy up by name.
    pub fn from_name(name: &str) -> Option<Strategy> {
        Self::ALL.iter().copied().find(|s| s.name() == name)
    }

    /// Every name, for messages.
    pub fn names() -> String {
        Self::ALL.iter().map(|s| s.name()).collect::<Vec<_>>().join(", ")
    }
}
