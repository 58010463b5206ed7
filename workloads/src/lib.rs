//! Pure, seeded workload generation for stratbench.
//!
//! Everything a run needs to decide *what* to do and *when* lives here, and nothing here does
//! I/O or reads a clock: key distributions ([`keys`]), operation mixes ([`mix`]), each
//! worker's stream of operations ([`ops`]), arrival schedules ([`schedule`]), event schedules
//! such as resizes and faults ([`events`]), and the scenario files that put them together
//! ([`scenario`]). Keeping this crate pure is what makes the promise "same seed, same
//! workload" checkable: a key sequence or an event time is a function of the scenario and
//! the seed alone, never of the machine or of how fast the target under test answers.

pub mod events;
pub mod keys;
pub mod mix;
pub mod ops;
pub mod rng;
pub mod scenario;
pub mod schedule;
pub mod sweep;
pub mod units;
pub mod zipf;

pub use events::{Event, EventAction, Fault, Trigger};
pub use keys::{KeyDistribution, KeyGenerator};
pub use mix::{OpKind, OperationMix};
pub use rng::WorkloadRng;
pub use scenario::{ScenarioError, ScenarioFile, Workload};
pub use schedule::{ArrivalSchedule, Arrivals, LoadShape, RunLength};
