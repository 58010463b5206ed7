//! The `stratbench` harness: command line, run plan, driver, recorder and reports.
//!
//! The flow of `stratbench run` is: [`cli`] parses flags; [`plan`] loads scenario files and
//! presets, lays the flags over them and expands them into one [`run::RunSpec`] per
//! (scenario, strategy, mode, repetition), rejecting bad input with exit code 2; [`families`]
//! builds each strategy's system under test and hands it to the [`driver`], which runs the
//! schedule, takes every timestamp and records latencies into HdrHistograms through the
//! [`recorder`]; [`output`] writes `summary.csv`, `timeseries.csv`, `events.csv`, `hlog/` and
//! `host.json` as each run ends, so an interrupted session still leaves valid files.
//! [`serve`] runs one networked node as its own process (`stratbench serve ROLE`: a
//! two-phase-commit participant or coordinator, an HTTP backend or proxy).

pub mod analysis;
pub mod cli;
pub mod commands;
pub mod compare;
pub mod driver;
pub mod error;
pub mod families;
pub mod interrupt;
pub mod logging;
pub mod merge;
pub mod output;
pub mod plan;
pub mod recorder;
pub mod report;
pub mod run;
pub mod rundir;
pub mod runner;
pub mod serve;
pub mod sweep;

pub use commands::run;
pub use error::Outcome;
