//! Scenario files: TOML that says which family and strategies to run, under which workload.
//!
//! A file holds one or more `[[scenario]]` tables and an optional `[defaults]` table whose
//! fields apply to every scenario in the file. Settings are layered, later layers winning:
//! built-in defaults, the file's `[defaults]`, the `[[scenario]]` itself, then the command
//! line (which builds a [`WorkloadSpec`] of its own and lays it on top with
//! [`WorkloadSpec::overlay`]).
//!
//! ```toml
//! description = "Key movement when a cluster grows and shrinks"
//! [defaults]
//! duration = "4s"
//! keys = 1_000_000
//!
//! [[scenario]]
//! name = "resize"
//! family = "hashing"
//! nodes = 10
//! [[scenario.events]]
//! at = "1s"
//! action = "add-node"
//! ```
//!
//! Errors say which file, scenario and field, and for syntax and type errors the line: the TOML
//! parser reports those, because field types such as [`HumanDuration`] check their values
//! while they are read.

use crate::events::{Event, EventSpec, Trigger};
use crate::keys::{DistributionName, KeyDistribution};
use crate::mix::OperationMix;
use crate::schedule::{Arrivals, LoadShape, RunLength};
use crate::sweep::SweepSpec;
use crate::units::{Fraction, HumanDuration, Positive, Rate};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

include!(concat!(env!("OUT_DIR"), "/presets.rs"));

/// Built-in defaults, used where neither the file nor the command line says otherwise.
pub mod defaults {
    use std::time::Duration;
    pub const DURATION: Duration = Duration::from_secs(10);
    pub const WARMUP: Duration = Duration::from_secs(2);
    pub const INTERVAL: Duration = Duration::from_secs(1);
    pub const CONCURRENCY: u32 = 1;
    pub const KEYS: u64 = 1_000_000;
    pub const VALUE_SIZE_BYTES: u64 = 100;
    pub const SEED: u64 = 42;
    pub const NODES: u32 = 10;
    /// Upper bound on any run's measured phase, so that an operation-count run is bounded in
    /// time too.
    pub const MAX_DURATION: Duration = Duration::from_secs(24 * 3600);
    /// Limits that keep a typo from allocating the machine away.
    pub const MAX_WORKERS: u64 = 10_000;
    pub const MAX_NODES: u64 = 1_000_000;
    pub const MAX_BATCH: u64 = 1_000_000;
    pub const MAX_REPEAT: u64 = 1_000;
}

/// Whether to run the in-process version, the networked version, or both.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    #[default]
    Inproc,
    Net,
    All,
}

impl Mode {
    /// The name as written in files and CSV rows.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Inproc => "inproc",
            Mode::Net => "net",
            Mode::All => "all",
        }
    }

    /// Whether a strategy version of mode `version` (inproc or net) belongs to this selection.
    pub fn includes(self, version: Mode) -> bool {
        self == Mode::All || self == version
    }
}

impl std::str::FromStr for Mode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "inproc" => Ok(Mode::Inproc),
            "net" => Ok(Mode::Net),
            "all" => Ok(Mode::All),
            other => Err(format!("unknown mode `{other}` (expected one of: inproc, net, all)")),
        }
    }
}

/// Why a scenario could not be loaded. Every variant names where the problem is.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ScenarioError {
    /// Syntax, unknown field or bad value, as the TOML parser reports it (with line and column).
    #[error("{origin}: {message}")]
    Toml { origin: String, message: String },
    /// A field whose value conflicts with another or is out of range.
    #[error("{origin}: scenario `{scenario}`: field `{field}`: {message}")]
    Field { origin: String, scenario: String, field: String, message: String },
    /// The file defines no scenario.
    #[error("{origin}: defines no [[scenario]]")]
    Empty { origin: String },
    /// Neither a readable file nor a preset name.
    #[error("no preset named `{name}` (presets: {known})")]
    UnknownPreset { name: String, known: String },
}

/// A scenario file as written.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// What the file is for, shown by `stratbench list`.
    pub description: Option<String>,
    /// Settings shared by every scenario in the file.
    #[serde(default)]
    pub defaults: WorkloadSpec,
    /// The scenarios.
    #[serde(default)]
    pub scenario: Vec<WorkloadSpec>,
}

/// Every setting of a workload, each optional so that layers can be laid on each other.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadSpec {
    /// The scenario's name (only in `[[scenario]]`).
    pub name: Option<String>,
    /// Family: `hashing`, `balancing`, `locks`, `commit`, `consensus`, or `noop`.
    pub family: Option<String>,
    /// Strategy names; empty or absent means every strategy of the family.
    pub strategies: Option<Vec<String>>,
    /// `inproc`, `net` or `all`.
    pub mode: Option<Mode>,
    /// Length of the measured phase.
    pub duration: Option<HumanDuration>,
    /// Length of the warm-up, measured separately and left out of the summary.
    pub warmup: Option<HumanDuration>,
    /// End the measured phase after this many operations (or at `duration`, if sooner).
    pub ops: Option<Positive>,
    /// Number of workers (closed loop: operations in flight; open loop: the most in flight).
    pub concurrency: Option<Positive>,
    /// Target rate in operations per second: makes the run open loop.
    pub rate: Option<Rate>,
    /// Spacing of open-loop arrivals: `constant` or `poisson`.
    pub arrivals: Option<Arrivals>,
    /// Size of the key space.
    pub keys: Option<Positive>,
    /// Key distribution.
    pub dist: Option<DistributionName>,
    /// Skew of `zipfian` and `latest` (0 < θ < 1; YCSB uses 0.99).
    pub zipf_theta: Option<f64>,
    /// `hotspot`: the fraction of keys that are hot.
    pub hot_data_fraction: Option<Fraction>,
    /// `hotspot`: the fraction of operations that go to hot keys.
    pub hot_op_fraction: Option<Fraction>,
    /// Size of values written, in bytes.
    pub value_size: Option<u64>,
    /// Operation mix.
    pub mix: Option<OperationMix>,
    /// Seed of every random choice.
    pub seed: Option<u64>,
    /// Number of repetitions of each run (each one keeps its own row).
    pub repeat: Option<Positive>,
    /// Length of a time-series interval.
    pub interval: Option<HumanDuration>,
    /// Number of nodes (servers, backends, replicas, participants) at the start.
    pub nodes: Option<Positive>,
    /// Operations timed together; operations of a few nanoseconds are timed in batches.
    pub batch: Option<Positive>,
    /// Closed loop: how long each worker waits after an operation before its next one (a
    /// user's think time), slept outside the timed span.
    pub think: Option<HumanDuration>,
    /// Events during the run.
    pub events: Option<Vec<EventSpec>>,
    /// Family- and strategy-specific parameters, checked by the family.
    pub params: Option<BTreeMap<String, toml::Value>>,
    /// `stratbench sweep`: the objective and the rates to search ([`crate::sweep`]).
    pub sweep: Option<SweepSpec>,
}

/// Lays `top` over `base` field by field: a field set in `top` wins. `params` tables merge
/// key by key.
macro_rules! overlay_fields {
    ($base:expr, $top:expr; $($field:ident),*) => {
        WorkloadSpec {
            $($field: $top.$field.clone().or_else(|| $base.$field.clone()),)*
            params: merge_params(&$base.params, &$top.params),
            sweep: match (&$base.sweep, &$top.sweep) {
                (Some(base), Some(top)) => Some(base.overlay(top)),
                (base, top) => top.clone().or_else(|| base.clone()),
            },
        }
    };
}

fn merge_params(
    base: &Option<BTreeMap<String, toml::Value>>,
    top: &Option<BTreeMap<String, toml::Value>>,
) -> Option<BTreeMap<String, toml::Value>> {
    match (base, top) {
        (None, None) => None,
        _ => {
            let mut merged = base.clone().unwrap_or_default();
            merged.extend(top.clone().unwrap_or_default());
            Some(merged)
        }
    }
}

impl WorkloadSpec {
    /// `top` laid over `self`.
    pub fn overlay(&self, top: &WorkloadSpec) -> WorkloadSpec {
        overlay_fields!(self, top; name, family, strategies, mode, duration, warmup, ops,
            concurrency, rate, arrivals, keys, dist, zipf_theta, hot_data_fraction,
            hot_op_fraction, value_size, mix, seed, repeat, interval, nodes, batch, think, events)
    }

    /// Checks every field and builds the concrete workload. `origin` (a file name or preset)
    /// goes into error messages.
    pub fn resolve(&self, origin: &str) -> Result<Workload, ScenarioError> {
        let scenario = self.name.clone().unwrap_or_else(|| "unnamed".into());
        let field_error = |field: &str, message: String| ScenarioError::Field {
            origin: origin.into(),
            scenario: scenario.clone(),
            field: field.into(),
            message,
        };
        let family = self.family.clone().ok_or_else(|| field_error("family", "is required".into()))?;
        let duration = self.duration.map_or(defaults::DURATION, |d| d.0);
        if duration.is_zero() {
            return Err(field_error("duration", "must be longer than zero".into()));
        }
        if duration > defaults::MAX_DURATION {
            return Err(field_error("duration", format!("must be at most {}", HumanDuration(defaults::MAX_DURATION))));
        }
        let interval = self.interval.map_or(defaults::INTERVAL, |d| d.0);
        if interval < Duration::from_millis(10) || interval > defaults::MAX_DURATION {
            return Err(field_error(
                "interval",
                format!("must be from 10ms to {}", HumanDuration(defaults::MAX_DURATION)),
            ));
        }
        if self.strategies.as_ref().is_some_and(Vec::is_empty) {
            return Err(field_error(
                "strategies",
                "is empty: list at least one strategy, or leave it out to run them all".into(),
            ));
        }
        let warmup = self.warmup.map_or(defaults::WARMUP, |d| d.0);
        if warmup > defaults::MAX_DURATION {
            return Err(field_error("warmup", format!("must be at most {}", HumanDuration(defaults::MAX_DURATION))));
        }
        if let Some(rate) = self.rate.filter(|r| !(MIN_RATE_OPS_S..=MAX_RATE_OPS_S).contains(&r.0)) {
            return Err(field_error(
                "rate",
                format!(
                    "must be from {MIN_RATE_OPS_S} to {MAX_RATE_OPS_S} operations per second (the most one driver can \
                     schedule; use several drivers and `merge` beyond it), got {}",
                    rate.0
                ),
            ));
        }
        let think = self.think.map_or(Duration::ZERO, |t| t.0);
        if think > defaults::MAX_DURATION {
            return Err(field_error("think", format!("must be at most {}", HumanDuration(defaults::MAX_DURATION))));
        }
        if !think.is_zero() && self.rate.is_some() {
            return Err(field_error(
                "think",
                "is the pause between a closed-loop worker's operations; an open loop (`rate`) has no think time"
                    .into(),
            ));
        }
        let workers =
            check_limit(self.concurrency.map_or(u64::from(defaults::CONCURRENCY), |c| c.0), defaults::MAX_WORKERS)
                .map_err(|m| field_error("concurrency", m))? as u32;
        let shape = match self.rate {
            Some(rate) => LoadShape::Open { rate_ops_s: rate.0, arrivals: self.arrivals.unwrap_or_default(), workers },
            None if self.arrivals.is_some() => {
                return Err(field_error("arrivals", "only applies to open-loop runs: set `rate` too".into()));
            }
            None => LoadShape::Closed { workers },
        };
        let mix = self.mix.unwrap_or_default();
        mix.validate().map_err(|m| field_error("mix", m))?;
        let events = self
            .events
            .iter()
            .flatten()
            .enumerate()
            .map(|(i, spec)| spec.resolve(&family).map_err(|m| field_error(&format!("events[{i}]"), m)))
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(i) = events.iter().position(|e| matches!(e.trigger, Trigger::At(at) if at > defaults::MAX_DURATION))
        {
            return Err(field_error(
                &format!("events[{i}].at"),
                format!("must be at most {}", HumanDuration(defaults::MAX_DURATION)),
            ));
        }
        Ok(Workload {
            origin: origin.to_string(),
            scenario: scenario.clone(),
            family,
            strategies: self.strategies.clone().unwrap_or_default(),
            mode: self.mode.unwrap_or_default(),
            length: RunLength { warmup, duration, ops: self.ops.map(|o| o.0) },
            shape,
            keys: self.keys.map_or(defaults::KEYS, |k| k.0),
            dist: self.distribution().map_err(|m| field_error("zipf_theta", m))?,
            value_size_bytes: self.value_size.unwrap_or(defaults::VALUE_SIZE_BYTES),
            mix,
            seed: self.seed.unwrap_or(defaults::SEED),
            repeat: check_limit(self.repeat.map_or(1, |r| r.0), defaults::MAX_REPEAT)
                .map_err(|m| field_error("repeat", m))? as u32,
            interval,
            nodes: check_limit(self.nodes.map_or(u64::from(defaults::NODES), |n| n.0), defaults::MAX_NODES)
                .map_err(|m| field_error("nodes", m))? as u32,
            batch: self
                .batch
                .map(|b| check_limit(b.0, defaults::MAX_BATCH).map(|b| b as u32))
                .transpose()
                .map_err(|m| field_error("batch", m))?,
            think,
            events,
            params: self.params.clone().unwrap_or_default(),
            sweep: self.sweep.clone(),
        })
    }

    fn distribution(&self) -> Result<KeyDistribution, String> {
        let name = self.dist.unwrap_or(DistributionName::Uniform);
        let mut dist = KeyDistribution::with_defaults(name);
        match &mut dist {
            KeyDistribution::Zipfian { theta } | KeyDistribution::Latest { theta } => {
                if let Some(value) = self.zipf_theta {
                    if !(value > 0.0 && value < 1.0) {
                        return Err(format!("must be between 0 and 1 (exclusive), got {value}"));
                    }
                    *theta = value;
                }
            }
            KeyDistribution::Hotspot { hot_data_fraction, hot_op_fraction } => {
                if let Some(f) = self.hot_data_fraction {
                    *hot_data_fraction = f.0;
                }
                if let Some(f) = self.hot_op_fraction {
                    *hot_op_fraction = f.0;
                }
            }
            KeyDistribution::Uniform | KeyDistribution::Sequential => {}
        }
        Ok(dist)
    }
}

/// The slowest open-loop rate: one operation every 1000 s.
const MIN_RATE_OPS_S: f64 = 0.001;
/// The fastest open-loop rate one driver accepts. The driver's closed loop against a target
/// that does nothing reaches about 7M operations per second per core on this project's 2-core
/// machines, and an open loop pays a timer and a shared schedule on top; beyond 10M/s no run
/// keeps its schedule, so such a rate is a typo or a job for several drivers.
pub const MAX_RATE_OPS_S: f64 = 10_000_000.0;

fn check_limit(value: u64, max: u64) -> Result<u64, String> {
    if value > max { Err(format!("must be at most {max}, got {value}")) } else { Ok(value) }
}

/// A fully resolved workload: what one scenario asks of one family.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Workload {
    /// Where the scenario came from (a file path, `preset <name>`, `command line`), for
    /// messages.
    pub origin: String,
    pub scenario: String,
    pub family: String,
    /// Empty means every strategy of the family.
    pub strategies: Vec<String>,
    pub mode: Mode,
    pub length: RunLength,
    pub shape: LoadShape,
    pub keys: u64,
    pub dist: KeyDistribution,
    pub value_size_bytes: u64,
    pub mix: OperationMix,
    pub seed: u64,
    pub repeat: u32,
    pub interval: Duration,
    pub nodes: u32,
    /// Operations per timed batch; `None` lets the family choose.
    pub batch: Option<u32>,
    /// Closed loop: each worker's pause between operations, outside the timed span (zero:
    /// none).
    pub think: Duration,
    pub events: Vec<Event>,
    pub params: BTreeMap<String, toml::Value>,
    /// `[scenario.sweep]` as written; `stratbench sweep` checks it (with its flags on top).
    pub sweep: Option<SweepSpec>,
}

impl Workload {
    /// The same workload, shrunk for a smoke test: at most 1 s measured after 200 ms of
    /// warm-up, at most 100,000 keys, one repetition. Event times shrink in proportion, so
    /// every event still happens inside the run.
    pub fn quick(&self) -> Workload {
        const QUICK_DURATION: Duration = Duration::from_secs(1);
        let mut quick = self.clone();
        let factor = (QUICK_DURATION.as_secs_f64() / self.length.duration.as_secs_f64()).min(1.0);
        quick.length.duration = self.length.duration.min(QUICK_DURATION);
        quick.length.warmup = self.length.warmup.min(Duration::from_millis(200));
        quick.length.ops = self.length.ops.map(|ops| ((ops as f64 * factor) as u64).max(1));
        quick.keys = self.keys.min(100_000);
        quick.repeat = 1;
        quick.interval = self.interval.min(Duration::from_millis(250));
        for event in &mut quick.events {
            event.trigger = match event.trigger {
                Trigger::At(at) => Trigger::At(at.mul_f64(factor)),
                Trigger::AfterOps(ops) => Trigger::AfterOps(((ops as f64 * factor) as u64).max(1)),
            };
        }
        quick
    }
}

impl ScenarioFile {
    /// Parses a scenario file; `origin` (a path or preset name) goes into error messages.
    pub fn parse(text: &str, origin: &str) -> Result<ScenarioFile, ScenarioError> {
        let file: ScenarioFile = toml::from_str(text)
            .map_err(|e| ScenarioError::Toml { origin: origin.into(), message: e.to_string().trim_end().into() })?;
        if file.defaults.name.is_some() {
            return Err(ScenarioError::Field {
                origin: origin.into(),
                scenario: "[defaults]".into(),
                field: "name".into(),
                message: "belongs in a [[scenario]] table".into(),
            });
        }
        if file.scenario.is_empty() {
            return Err(ScenarioError::Empty { origin: origin.into() });
        }
        Ok(file)
    }

    /// Each scenario's settings with the file's defaults laid under them and `overrides` (the
    /// command line) laid on top.
    pub fn specs(&self, overrides: &WorkloadSpec) -> Vec<WorkloadSpec> {
        self.scenario.iter().map(|s| self.defaults.overlay(s).overlay(overrides)).collect()
    }

    /// Every scenario resolved.
    pub fn workloads(&self, origin: &str, overrides: &WorkloadSpec) -> Result<Vec<Workload>, ScenarioError> {
        self.specs(overrides).iter().map(|spec| spec.resolve(origin)).collect()
    }
}

/// The text of a preset, by name.
pub fn preset(name: &str) -> Result<&'static str, ScenarioError> {
    PRESETS.iter().find(|(stem, _)| *stem == name).map(|(_, text)| *text).ok_or_else(|| ScenarioError::UnknownPreset {
        name: name.into(),
        known: PRESETS.iter().map(|(stem, _)| *stem).collect::<Vec<_>>().join(", "),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{EventAction, HashingAction};

    fn load(text: &str) -> Result<Vec<Workload>, ScenarioError> {
        ScenarioFile::parse(text, "test.toml")?.workloads("test.toml", &WorkloadSpec::default())
    }

    #[test]
    fn every_preset_loads() {
        assert!(!PRESETS.is_empty());
        for (name, text) in PRESETS {
            let workloads = load(text).unwrap_or_else(|e| panic!("preset {name}: {e}"));
            assert!(!workloads.is_empty(), "{name}");
        }
    }

    #[test]
    fn layers_file_defaults_scenario_and_overrides() {
        let text = r#"
            [defaults]
            duration = "3s"
            keys = 500
            [[scenario]]
            name = "a"
            family = "hashing"
            keys = 700
            [[scenario.events]]
            at = "1s"
            action = "add-node"
        "#;
        let file = ScenarioFile::parse(text, "t").unwrap();
        let overrides = WorkloadSpec { seed: Some(9), ..Default::default() };
        let workload = &file.workloads("t", &overrides).unwrap()[0];
        assert_eq!(workload.length.duration, Duration::from_secs(3));
        assert_eq!(workload.keys, 700);
        assert_eq!(workload.seed, 9);
        assert_eq!(workload.events[0].action, EventAction::Hashing(HashingAction::AddNode { node: None }));
        assert_eq!(workload.shape, LoadShape::Closed { workers: 1 });
    }

    #[test]
    fn rate_makes_the_run_open_loop() {
        let text = "[[scenario]]\nname='x'\nfamily='noop'\nrate=1000.0\nconcurrency=4\narrivals='poisson'";
        let workload = &load(text).unwrap()[0];
        assert_eq!(workload.shape, LoadShape::Open { rate_ops_s: 1000.0, arrivals: Arrivals::Poisson, workers: 4 });
    }

    #[test]
    fn toml_errors_name_the_field_and_line() {
        let cases = [
            ("[[scenario]]\nname='x'\nfamily='hashing'\nduration='10q'", "10q"),
            ("[[scenario]]\nname='x'\nfamily='hashing'\nnodes=0", "at least 1"),
            ("[[scenario]]\nname='x'\nfamily='hashing'\nrate=-5.0", "positive"),
            ("[[scenario]]\nname='x'\nfamily='hashing'\ndist='gaussian'", "gaussian"),
            ("[[scenario]]\nname='x'\nfamily='hashing'\ndurration='1s'", "durration"),
            ("[[scenario]\nname='x'", "line 1"),
        ];
        for (text, needle) in cases {
            let message = load(text).unwrap_err().to_string();
            assert!(message.contains(needle), "{text:?} gave {message}");
            assert!(message.contains("line"), "{text:?} gave {message}");
        }
    }

    #[test]
    fn field_errors_name_scenario_and_field() {
        let message = load("[[scenario]]\nname='x'\nfamily='hashing'\nduration='0s'").unwrap_err().to_string();
        assert!(message.contains("`duration`") && message.contains("`x`"), "{message}");
        let message = load("[[scenario]]\nname='x'").unwrap_err().to_string();
        assert!(message.contains("`family`"), "{message}");
        let message = load("[[scenario]]\nname='y'\nfamily='noop'\narrivals='poisson'").unwrap_err().to_string();
        assert!(message.contains("`arrivals`"), "{message}");
        let message = load("[[scenario]]\nname='y'\nfamily='noop'\n[[scenario.events]]\naction='add-node'")
            .unwrap_err()
            .to_string();
        assert!(message.contains("events[0]"), "{message}");
        assert!(matches!(load("description='nothing'"), Err(ScenarioError::Empty { .. })));
    }

    #[test]
    fn quick_keeps_events_inside_the_run() {
        let text = "[[scenario]]\nname='x'\nfamily='hashing'\nduration='10s'\n[[scenario.events]]\nat='8s'\naction='remove-last'";
        let quick = load(text).unwrap()[0].quick();
        assert_eq!(quick.length.duration, Duration::from_secs(1));
        assert_eq!(quick.events[0].trigger, Trigger::At(Duration::from_millis(800)));
    }

    #[test]
    fn unknown_preset_lists_the_known_ones() {
        let message = preset("nope").unwrap_err().to_string();
        assert!(message.contains("quick"), "{message}");
    }
}
