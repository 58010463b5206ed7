//! From flags to a run plan: scenario files and presets are loaded, the flags laid over them,
//! and every scenario expanded into one [`RunSpec`] per strategy, mode and repetition. All
//! input checking happens here, before anything runs, and every problem is a
//! [`BadInput`](crate::error::BadInput) that names the field, flag or file.

use crate::cli::RunArgs;
use crate::error::bad_input;
use crate::run::{Family, GivenServers, RunSpec};
use anyhow::Context as _;
use std::path::{Path, PathBuf};
use workloads::scenario::{self, Mode, ScenarioFile, WorkloadSpec};
use workloads::{LoadShape, Workload};

/// The preset run by `stratbench run` with no scenario and no family.
pub const DEFAULT_PRESET: &str = "quick";

/// The addresses of running servers given on the command line, each checked to be a `host:port` (as a URL or plain): a malformed
/// one is bad input, found before anything starts.
fn given_servers(args: &RunArgs) -> anyhow::Result<GivenServers> {
    let clean = |flag: &str, list: &[String]| {
        let given: Vec<String> = list.iter().map(|a| a.trim().to_string()).filter(|a| !a.is_empty()).collect();
        for address in &given {
            targets::servers::socket_addr(address).map_err(|e| bad_input(format!("{flag}: {e}")))?;
        }
        Ok::<_, anyhow::Error>(given)
    };
    Ok(GivenServers {
        redis: clean("--redis", &args.redis)?,
        zookeeper: clean("--zookeeper", &args.zookeeper)?,
        etcd: clean("--etcd", &args.etcd)?,
    })
}

/// Every run of a session, in order.
#[derive(Debug)]
pub struct RunPlan {
    pub runs: Vec<RunSpec>,
    /// A label for the default results directory.
    pub label: String,
    pub out_dir: Option<PathBuf>,
}

/// Builds the plan for `stratbench run`.
pub fn plan(args: &RunArgs) -> anyhow::Result<RunPlan> {
    let overrides = overrides(args);
    let workloads = load_workloads(args, &overrides)?;
    let strategy_filter = StrategyFilter::new(&args.strategies)?;
    let servers = given_servers(args)?;
    let mut runs = Vec::new();
    for workload in workloads {
        let workload = if args.quick { workload.quick() } else { workload };
        let family = Family::from_name(&workload.family).ok_or_else(|| {
            bad_input(format!(
                "{}: scenario `{}`: unknown family `{}` (families: {})",
                workload.origin,
                workload.scenario,
                workload.family,
                Family::names()
            ))
        })?;
        if args.family.as_deref().is_some_and(|f| f != family.name()) {
            continue;
        }
        check_workload(&workload, family)?;
        for (strategy, mode) in select_strategies(&workload, family, &strategy_filter)? {
            for repeat in 1..=workload.repeat {
                let index = runs.len();
                let run_id = format!("{index:04}-{}-{}-{}-r{repeat}", workload.scenario, strategy, mode.as_str())
                    .replace(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'), "_");
                runs.push(RunSpec {
                    index,
                    run_id,
                    family,
                    strategy: strategy.clone(),
                    mode,
                    workload: workload.clone(),
                    repeat,
                    servers: servers.clone(),
                });
            }
        }
    }
    strategy_filter.check_all_used()?;
    if runs.is_empty() {
        return Err(bad_input(nothing_to_run(args)));
    }
    let label = if args.scenarios.is_empty() {
        args.family.clone().unwrap_or_else(|| DEFAULT_PRESET.into())
    } else {
        stem(&args.scenarios[0])
    };
    Ok(RunPlan { runs, label, out_dir: args.out.clone() })
}

/// The workload flags, as a layer to lay over the scenario files.
fn overrides(args: &RunArgs) -> WorkloadSpec {
    WorkloadSpec {
        mode: args.mode,
        duration: args.duration,
        warmup: args.warmup,
        ops: args.ops,
        concurrency: args.concurrency,
        rate: args.rate,
        arrivals: args.arrivals.map(Into::into),
        keys: args.keys,
        dist: args.dist,
        seed: args.seed,
        repeat: args.repeat,
        interval: args.interval,
        nodes: args.nodes,
        mix: args.mix,
        batch: args.batch,
        think: args.think,
        params: (!args.params.is_empty()).then(|| args.params.iter().cloned().collect()),
        ..WorkloadSpec::default()
    }
}

/// The scenarios named on the command line, or the default suite, or a scenario made from the
/// flags alone when only `--family` is given.
fn load_workloads(args: &RunArgs, overrides: &WorkloadSpec) -> anyhow::Result<Vec<Workload>> {
    if args.scenarios.is_empty() {
        if let Some(family) = &args.family {
            let spec =
                WorkloadSpec { name: Some(family.clone()), family: Some(family.clone()), ..WorkloadSpec::default() };
            return Ok(vec![spec.overlay(overrides).resolve("command line")?]);
        }
        let file = ScenarioFile::parse(scenario::preset(DEFAULT_PRESET)?, DEFAULT_PRESET)?;
        return Ok(file.workloads(DEFAULT_PRESET, overrides)?);
    }
    let mut workloads = Vec::new();
    for name in &args.scenarios {
        let (text, origin) = read_scenario(name)?;
        let file = ScenarioFile::parse(&text, &origin)?;
        workloads.extend(file.workloads(&origin, overrides)?);
    }
    Ok(workloads)
}

/// A scenario's text: a file if `name` looks like a path or exists, else a preset.
fn read_scenario(name: &str) -> anyhow::Result<(String, String)> {
    let path = Path::new(name);
    if path.exists() || name.ends_with(".toml") || name.contains('/') {
        let text = std::fs::read_to_string(path)
            .map_err(|e| bad_input(format!("cannot read scenario file {name}: {e}")))
            .with_context(|| format!("scenario {name}"))?;
        return Ok((text, name.to_string()));
    }
    Ok((scenario::preset(name)?.to_string(), format!("preset {name}")))
}

fn stem(name: &str) -> String {
    Path::new(name).file_stem().map_or_else(|| name.to_string(), |s| s.to_string_lossy().into_owned())
}

/// Checks what the scenario files cannot: the family's own parameters, and combinations that
/// make no sense.
fn check_workload(workload: &Workload, family: Family) -> anyhow::Result<()> {
    let at = |field: &str, message: String| {
        bad_input(format!("{}: scenario `{}`: field `{field}`: {message}", workload.origin, workload.scenario))
    };
    if matches!(workload.shape, LoadShape::Open { .. }) && workload.batch.is_some_and(|b| b > 1) {
        return Err(at("batch", "batches apply to closed-loop runs only; an open loop times each operation".into()));
    }
    family.check(workload).map_err(|error| at(&error.field, error.message))
}

/// `--strategy`: a filter applied to each family. A name no family knows is an error.
struct StrategyFilter {
    names: Vec<String>,
    used: std::cell::RefCell<Vec<bool>>,
}

impl StrategyFilter {
    fn new(names: &[String]) -> anyhow::Result<Self> {
        let names: Vec<String> = names.iter().map(|n| n.trim().to_string()).filter(|n| !n.is_empty()).collect();
        for name in &names {
            if !Family::ALL.iter().any(|f| f.strategy(name).is_some()) {
                return Err(bad_input(format!("unknown strategy `{name}` (see `stratbench list`)")));
            }
        }
        let used = std::cell::RefCell::new(vec![false; names.len()]);
        Ok(StrategyFilter { names, used })
    }

    fn allows(&self, name: &str) -> bool {
        if self.names.is_empty() {
            return true;
        }
        match self.names.iter().position(|n| n == name) {
            Some(i) => {
                self.used.borrow_mut()[i] = true;
                true
            }
            None => false,
        }
    }

    /// Whether some given name matched nothing in the scenarios that ran.
    fn check_all_used(&self) -> anyhow::Result<()> {
        match self.names.iter().zip(self.used.borrow().iter()).find(|(_, used)| !**used) {
            Some((name, _)) => Err(bad_input(format!("strategy `{name}` is not in any selected scenario's family"))),
            None => Ok(()),
        }
    }
}

/// The (strategy, mode) pairs a workload runs.
fn select_strategies(
    workload: &Workload,
    family: Family,
    filter: &StrategyFilter,
) -> anyhow::Result<Vec<(String, Mode)>> {
    for name in &workload.strategies {
        if family.strategy(name).is_none() {
            return Err(bad_input(format!(
                "{}: scenario `{}`: unknown strategy `{name}` for family `{}` (strategies: {})",
                workload.origin,
                workload.scenario,
                family.name(),
                family.strategies().iter().map(|s| s.name).collect::<Vec<_>>().join(", ")
            )));
        }
    }
    let mut selected = Vec::new();
    for info in family.strategies() {
        let listed = workload.strategies.is_empty() || workload.strategies.iter().any(|s| s == info.name);
        if !listed || !filter.allows(info.name) {
            continue;
        }
        for mode in info.modes {
            if workload.mode.includes(*mode) {
                selected.push((info.name.to_string(), *mode));
            }
        }
    }
    Ok(selected)
}

fn nothing_to_run(args: &RunArgs) -> String {
    let mut message = String::from("nothing to run: no strategy matches");
    if let Some(mode) = args.mode {
        message.push_str(&format!(" mode `{}`", mode.as_str()));
    }
    if let Some(family) = &args.family {
        message.push_str(&format!(" in family `{family}`"));
    }
    message + " (`stratbench list` shows each strategy's modes)"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(build: impl FnOnce(&mut RunArgs)) -> RunArgs {
        let mut args = RunArgs::default();
        build(&mut args);
        args
    }

    #[test]
    fn no_arguments_plan_the_default_suite() {
        let plan = plan(&RunArgs::default()).unwrap();
        assert!(plan.runs.iter().any(|r| r.family == Family::Hashing));
        assert!(plan.runs.iter().all(|r| r.mode == Mode::Inproc));
        assert_eq!(plan.label, "quick");
    }

    #[test]
    fn strategy_filter_keeps_only_named_strategies() {
        let plan = plan(&args(|a| a.strategies = vec!["ring".into(), "jump".into()])).unwrap();
        let names: Vec<_> = plan.runs.iter().map(|r| r.strategy.as_str()).collect();
        assert!(names.contains(&"ring") && names.contains(&"jump"));
        assert!(names.iter().all(|n| *n == "ring" || *n == "jump"));
    }

    #[test]
    fn bad_input_is_named() {
        let message = |a: RunArgs| format!("{:#}", plan(&a).unwrap_err());
        assert!(message(args(|a| a.strategies = vec!["ringg".into()])).contains("ringg"));
        assert!(message(args(|a| a.family = Some("hashingg".into()))).contains("hashingg"));
        assert!(message(args(|a| a.scenarios = vec!["no-such-preset".into()])).contains("no-such-preset"));
        assert!(message(args(|a| a.scenarios = vec!["/nonexistent/x.toml".into()])).contains("/nonexistent/x.toml"));
        let bad_param = args(|a| {
            a.family = Some("hashing".into());
            a.params = vec![("vnodez".into(), toml::Value::Integer(3))];
        });
        assert!(message(bad_param).contains("vnodez"));
    }

    #[test]
    fn an_unknown_parameter_names_the_params_table_in_every_family() {
        for (family, name) in [("hashing", "vnodez"), ("locks", "ttll"), ("balancing", "retriez")] {
            let bad = args(|a| {
                a.family = Some(family.into());
                a.params = vec![(name.into(), toml::Value::Integer(3))];
            });
            let message = format!("{:#}", plan(&bad).unwrap_err());
            assert!(message.contains("field `params`: unknown parameter"), "{family}: {message}");
        }
    }

    #[test]
    fn repeats_and_run_ids_are_unique() {
        let plan = plan(&args(|a| {
            a.family = Some("hashing".into());
            a.strategies = vec!["crate:maglev".into()];
            a.repeat = Some(workloads::units::Positive(3));
        }))
        .unwrap();
        let ids: Vec<_> = plan.runs.iter().map(|r| r.run_id.clone()).collect();
        assert_eq!(ids.len(), 3);
        assert!(ids[0].contains("crate_maglev") && ids[2].ends_with("-r3"), "{ids:?}");
    }
}
