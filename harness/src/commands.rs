//! The subcommands: `run`, `list`, `locate`, the readers of run directories `compare`,
//! `merge` and `report`, and `serve` (in [`crate::serve`]).

use crate::cli::{Cli, Command, KeyFormat, LocateArgs, RunArgs};
use crate::error::{Outcome, bad_input};
use crate::output::outdir::print_results_dir;
use crate::output::{default_dir, table};
use crate::plan::{self, RunPlan};
use crate::run::{Family, RunRecord, RunStatus};
use crate::runner::{Precision, open_session, progress_bar, run_and_record};
use targets::hashing::{HashingParams, Placement, Strategy, StrategyVisitor, key_hash};
use workloads::keys::DistributionName;
use workloads::scenario::{self, ScenarioFile};

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<Outcome> {
    match cli.command {
        Command::Run(args) => run_command(&args),
        Command::List => {
            print!("{}", list());
            Ok(Outcome::Ok)
        }
        Command::Locate(args) => {
            print!("{}", locate(&args)?);
            Ok(Outcome::Ok)
        }
        Command::LockClient(args) => crate::serve::lock_client::serve(&args),
        Command::Serve(args) => crate::serve::serve(&args),
        Command::Supervise(args) => {
            let user = args.uid.zip(args.gid);
            let code = targets::process::supervise(
                std::path::Path::new(&args.command[0]),
                &args.command[1..],
                user,
                args.remove_dir.as_deref(),
            );
            std::process::exit(code)
        }
        Command::Compare(args) => crate::compare::command(&args),
        Command::Merge(args) => crate::merge::command(&args),
        Command::Report(args) => crate::report::command(&args),
        Command::Sweep(args) => crate::sweep::command(&args),
    }
}

/// `stratbench run`: plans, runs every run in order, writes each one's rows as it ends.
fn run_command(args: &RunArgs) -> anyhow::Result<Outcome> {
    let RunPlan { runs, label, out_dir } = plan::plan(args)?;
    let dir = out_dir.unwrap_or_else(|| default_dir(&label));
    let mut session = open_session(args, &dir)?;
    tracing::info!("{} runs; results in {}", runs.len(), dir.display());
    let mut outcome = Outcome::Ok;
    for spec in &runs {
        if crate::interrupt::interrupted() {
            outcome = Outcome::Interrupted;
            break;
        }
        session.check_writable(spec)?;
        let progress = progress_bar(spec, runs.len());
        let checks = run_and_record(spec, Precision::of(args), &mut session, &progress, |record| {
            log_record(record);
            (record.status, safety_check_failed(&record.family))
        })?;
        progress.finish_and_clear();
        outcome = match checks {
            (RunStatus::Interrupted, _) => Outcome::Interrupted,
            (_, true) if outcome == Outcome::Ok => Outcome::ChecksFailed,
            _ => outcome,
        };
    }
    crate::interrupt::finished();
    print!("{}", table::render(session.rows(), args.format)?);
    print_results_dir(session.dir(), args.format);
    Ok(outcome)
}

/// Warns about a run that failed or found safety violations.
pub fn log_record(record: &RunRecord<'_>) {
    let spec = record.spec;
    if matches!(record.status, RunStatus::Error | RunStatus::Unsupported) {
        tracing::warn!("{}: {}: {}", spec.run_id, record.status.as_str(), record.message.as_deref().unwrap_or(""));
    }
    if let Some(violations) = record.family.violations.filter(|v| *v > 0) {
        let failed = safety_check_failed(&record.family);
        tracing::warn!(
            "{}: {violations} safety violations ({})",
            spec.run_id,
            if failed { "the strategy promises safety here: check failed" } else { "expected: no promise here" }
        );
    }
}

/// Whether a run broke a safety promise: violations where the strategy promises none.
pub fn safety_check_failed(family: &targets::target::FamilyMetrics) -> bool {
    family.safety_promised && family.violations.is_some_and(|v| v > 0)
}

/// `stratbench list`.
pub fn list() -> String {
    let mut out = String::from("families and strategies (modes):\n");
    for family in Family::ALL {
        out.push_str(&format!("  {:<10} {}\n", family.name(), family.about()));
        for strategy in family.strategies() {
            let modes: Vec<_> = strategy.modes.iter().map(|m| m.as_str()).collect();
            out.push_str(&format!("    {:<18} ({}) {}\n", strategy.name, modes.join(","), strategy.about));
        }
    }
    out.push_str("modes: inproc, net, all\n");
    let dists: Vec<_> = DistributionName::ALL.iter().map(|d| d.as_str()).collect();
    out.push_str(&format!("distributions: {}\n", dists.join(", ")));
    out.push_str("presets:\n");
    for (name, text) in scenario::PRESETS {
        let about = ScenarioFile::parse(text, name).ok().and_then(|f| f.description).unwrap_or_default();
        out.push_str(&format!("  {name:<12} {about}\n"));
    }
    out
}

/// `stratbench locate`: each key and its owner, one per line.
pub fn locate(args: &LocateArgs) -> anyhow::Result<String> {
    let strategy = Strategy::from_name(&args.strategy).ok_or_else(|| {
        let names: Vec<_> = Strategy::ALL.iter().map(|s| s.name()).collect();
        bad_input(format!("unknown hashing strategy `{}` (strategies: {})", args.strategy, names.join(", ")))
    })?;
    let table = args.params.iter().cloned().collect();
    let params = HashingParams::from_table(&table).map_err(|e| bad_input(e.to_string()))?;
    let nodes = u32::try_from(args.nodes.0).map_err(|_| bad_input(format!("--nodes {} is too many", args.nodes.0)))?;
    let hashes = args
        .keys
        .iter()
        .map(|key| match args.key_format {
            KeyFormat::Str => Ok(key_hash(key.as_bytes())),
            KeyFormat::U64 => key
                .parse::<u64>()
                .map_err(|_| bad_input(format!("key `{key}` is not an unsigned 64-bit integer (--key-format u64)"))),
        })
        .collect::<anyhow::Result<Vec<u64>>>()?;
    let owners = strategy.visit(Locate { params, nodes, hashes: &hashes })?;
    Ok(args.keys.iter().zip(owners).map(|(key, owner)| format!("{key}\t{owner}\n")).collect())
}

struct Locate<'a> {
    params: HashingParams,
    nodes: u32,
    hashes: &'a [u64],
}

impl StrategyVisitor for Locate<'_> {
    type Output = anyhow::Result<Vec<u32>>;

    fn visit<P: Placement>(self, _strategy: Strategy) -> anyhow::Result<Vec<u32>> {
        let nodes = self.params.node_set(self.nodes).map_err(|e| bad_input(e.to_string()))?;
        let placement = P::build(nodes, &self.params).map_err(|e| bad_input(e.to_string()))?;
        Ok(self.hashes.iter().map(|h| placement.locate(*h).0).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use targets::target::FamilyMetrics;

    #[test]
    fn only_a_promised_violation_fails_the_check() {
        let metrics = |violations, safety_promised| FamilyMetrics { violations, safety_promised, ..Default::default() };
        assert!(safety_check_failed(&metrics(Some(1), true)));
        assert!(!safety_check_failed(&metrics(Some(1), false)), "an expected violation is data");
        assert!(!safety_check_failed(&metrics(Some(0), true)));
        assert!(!safety_check_failed(&metrics(None, true)));
    }
}
