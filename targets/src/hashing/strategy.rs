//! The one list of hashing strategies: names, descriptions, and the static dispatch from a
//! name to the concrete type. Adding a strategy touches this file and its own.

use super::adapters::{CrateAnchorhash, CrateHashring, CrateJumphash, CrateMaglev, CrateMpchash};
use super::{
    Placement, anchor::Anchor, bounded_load::BoundedLoad, jump::Jump, maglev::Maglev, modulo::Modulo,
    multi_probe::MultiProbe, rendezvous::Rendezvous, ring::Ring,
};

/// Something to do with a concrete strategy type: how callers get static dispatch from a name.
pub trait StrategyVisitor {
    type Output;
    fn visit<P: Placement>(self, strategy: Strategy) -> Self::Output;
}

macro_rules! strategies {
    ($($variant:ident => $ty:ty, $name:literal, $about:literal;)*) => {
        /// A hashing strategy, by name.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Strategy { $($variant,)* }

        impl Strategy {
            /// Every strategy, ours first, then the crate adapters.
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
            pub fn visit<V: StrategyVisitor>(self, visitor: V) -> V::Output {
                match self { $(Strategy::$variant => visitor.visit::<$ty>(self),)* }
            }
        }
    };
}

strategies! {
    Modulo => Modulo, "modulo", "hash % N, the baseline";
    Ring => Ring, "ring", "ketama-style ring with virtual nodes (160 per node)";
    Jump => Jump, "jump", "jump consistent hash (Lamping & Veach)";
    Rendezvous => Rendezvous, "rendezvous", "highest random weight, weighted -w/ln h";
    Maglev => Maglev, "maglev", "Maglev lookup table (M = 65537)";
    MultiProbe => MultiProbe, "multi-probe", "multi-probe consistent hashing (21 probes)";
    BoundedLoad => BoundedLoad, "bounded-load", "ring with load cap ceil((1+eps) m/n), eps = 0.25";
    Anchor => Anchor, "anchor", "AnchorHash";
    CrateHashring => CrateHashring, "crate:hashring", "hashring 0.3 (ring)";
    CrateJumphash => CrateJumphash, "crate:jumphash", "jumphash 0.1 (jump)";
    CrateMaglev => CrateMaglev, "crate:maglev", "maglev 0.2 (Maglev)";
    CrateAnchorhash => CrateAnchorhash, "crate:anchorhash", "anchorhash 0.2 (AnchorHash)";
    CrateMpchash => CrateMpchash, "crate:mpchash", "mpchash 2 (multi-probe, 23 probes)";
}

impl Strategy {
    /// Looks a strategy up by name.
    pub fn from_name(name: &str) -> Option<Strategy> {
        Self::ALL.iter().copied().find(|s| s.name() == name)
    }

    /// Whether the strategy is an adapter over a third-party crate.
    pub fn is_crate_adapter(self) -> bool {
        self.name().starts_with("crate:")
    }
}
