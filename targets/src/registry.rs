//! The strategy registry shared by the families: one macro that turns a table of
//! `Variant => Type, "name", "about";` lines into a `Strategy` enum with its names, its
//! descriptions, a lookup by name, and static dispatch from a value to the concrete type
//! through the family's visitor trait. Adding a strategy is one line in the family's table.

/// Defines `pub enum Strategy` for a family whose visitor trait is `$visitor` (a trait with
/// `type Output` and `fn visit<T: Bound>(self, strategy: Strategy) -> Self::Output`).
macro_rules! strategy_registry {
    ($visitor:ident; $($variant:ident => $ty:ty, $name:literal, $about:literal;)*) => {
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

            /// Calls `visitor` with the strategy's concrete type.
            pub fn visit<V: $visitor>(self, visitor: V) -> V::Output {
                match self { $(Strategy::$variant => visitor.visit::<$ty>(self),)* }
            }
        }
    };
}

pub(crate) use strategy_registry;
