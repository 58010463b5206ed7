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

crate::registry::strategy_registry! {
    StrategyVisitor;
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
    /// Whether the strategy is an adapter over a third-party crate.
    pub fn is_crate_adapter(self) -> bool {
        self.name().starts_with("crate:")
    }
}
