//! The strategy registry shared by the families: one macro that turns a table of
//! `Variant => Type, "name", "about";` lines into a `Strategy` enum with its names, its
//! descriptions, a lookup by name, and static dispatch from a value to the concrete type
//! through the family's visitor trait. Adding a strategy is one line in the family's table.
//!
//! A family whose strategies are not one type each (2PC with three logs and an engine row;
//! Multi-Paxos and Paxos, one replica type in two modes, and etcd) writes its table without
//! types, `Variant, "name", "about";`, and gets the same enum, names and lookup without
//! `visit`: it matches on the enum where it builds its system, so a name is still looked up
//! in one place and every strategy is handled (the match is checked to be exhaustive).

/// Defines `pub enum Strategy` for a family whose visitor trait is `$visitor` (a trait with
/// `type Output` and `fn visit<T: Bound>(self, strategy: Strategy) -> Self::Output`), or,
/// without a visitor and types, just the enum and its names.
macro_rules! strategy_registry {
    (@names $($variant:ident, $name:literal, $about:literal;)*) => {
        /// A strategy of this family, by name.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Strategy { $($variant,)* }

        impl Strategy {
            /// Every strategy, in table order.
            pub const ALL: &'static [Strategy] = &[$(Strategy::$variant,)*];

            /// The name used on the command line and in CSV rows.
            pub fn name(self) -> &'static str {
                match self { $(Strategy::$variant => $name,)* }
            }

            /// One line on what it is.
            pub fn about(self) -> &'static str {
                match self { $(Strategy::$variant => $about,)* }
            }

            /// Looks a strategy up by name.
            pub fn from_name(name: &str) -> Option<Strategy> {
                Self::ALL.iter().copied().find(|s| s.name() == name)
            }
        }
    };
    ($visitor:ident; $($variant:ident => $ty:ty, $name:literal, $about:literal;)*) => {
        $crate::registry::strategy_registry!(@names $($variant, $name, $about;)*);

        impl Strategy {
            /// Calls `visitor` with the strategy's concrete type.
            pub fn visit<V: $visitor>(self, visitor: V) -> V::Output {
                match self { $(Strategy::$variant => visitor.visit::<$ty>(self),)* }
            }
        }
    };
    ($($variant:ident, $name:literal, $about:literal;)*) => {
        $crate::registry::strategy_registry!(@names $($variant, $name, $about;)*);
    };
}

pub(crate) use strategy_registry;
