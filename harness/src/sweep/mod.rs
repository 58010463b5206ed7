//! `stratbench sweep`: each strategy's capacity at a latency objective.
//!
//! For every (scenario, strategy, mode) of the plan, open-loop runs at rising rates
//! ([`search`]) until the objective breaks or the run is `overloaded`. A step *holds* the
//! objective when the upper end of the percentile's 95% interval is within the bound, the
//! error rate within its bound, and the run kept its schedule (`ok`); it *breaks* it when the
//! interval reaches past the bound, errors exceed theirs, or the run was overloaded. The
//! capacity is the highest rate that held (`capacity_ops_s`, also `capacity_ops_s_lo`); the
//! lowest rate above it that broke is `capacity_ops_s_hi`: the knee lies between them.
//!
//! Every step is a run like any other in `summary.csv` (its `run_id` ends in `-sNN`, its
//! `slo` column names the objective), with its time series and interval log; the capacity
//! columns are on the row of the step that defines the capacity (the highest that held, or
//! the first that broke when none held). `sweep.csv` lists every step with its verdict, and
//! `knee = true` on the capacity step; `stratbench report` plots its latency–throughput curves.

pub mod search;

use crate::analysis::quantile_ci;
use crate::cli::SweepArgs;
use crate::error::Outcome;
use crate::error::bad_input;
use crate::interrupt::interrupted;
use crate::output::format::{OutputFormat, csv_of, json_of, text_table};
use crate::output::outdir::print_results_dir;
use crate::output::rows::SummaryRow;
use crate::output::table::{human_duration, human_rate};
use crate::output::{CsvFile, Session, default_dir};
use crate::plan::{self, RunPlan};
use crate::run::{RunRecord, RunSpec, RunStatus};
use crate::runner::{Precision, open_session, progress_bar, run_and_record};
use search::{Bracket, Stage, Step, Verdict};
use serde::Serialize;
use workloads::sweep::{Objective, Sweep, SweepSpec};
use workloads::{LoadShape, scenario::MAX_RATE_OPS_S};

/// `stratbench sweep`.
pub fn command(args: &SweepArgs) -> anyhow::Result<Outcome> {
    let RunPlan { runs, label, out_dir } = plan::plan(&args.run)?;
    let flags = SweepSpec {
        slo: args.slo.clone(),
        start: args.start,
        factor: args.factor,
        max_rate: args.max_rate,
        max_steps: args.max_steps,
        resolution: None,
    };
    let targets = targets(&runs, &flags)?;
    let dir = out_dir.unwrap_or_else(|| default_dir(&format!("sweep-{label}")));
    let mut session = open_session(&args.run, &dir)?;
    let mut steps = StepsFile { file: CsvFile::create::<SweepRow>(&dir.join("sweep.csv"))?, rows: Vec::new() };
    let mut lines = Vec::new();
    let mut outcome = Outcome::Ok;
    for (spec, sweep) in &targets {
        if interrupted() {
            outcome = Outcome::Interrupted;
            break;
        }
        let line = sweep_one(spec, sweep, Precision::of(&args.run), &mut session, &mut steps)?;
        if line.stopped.as_deref() == Some(INTERRUPTED) {
            outcome = Outcome::Interrupted;
        }
        lines.push(line);
    }
    crate::interrupt::finished();
    print!("{}", render(&lines, args.run.format)?);
    print_results_dir(session.dir(), args.run.format);
    Ok(outcome)
}

const INTERRUPTED: &str = "interrupted by Ctrl-C";

/// The runs to sweep (the first repetition of each: a sweep's steps are its repetitions)
/// and their checked settings; bad settings are bad input, before anything runs.
fn targets<'a>(runs: &'a [RunSpec], flags: &SweepSpec) -> anyhow::Result<Vec<(&'a RunSpec, Sweep)>> {
    runs.iter()
        .filter(|spec| spec.repeat == 1)
        .map(|spec| {
            let workload = &spec.workload;
            let at = |field: &str, message: &str| {
                bad_input(format!("{}: scenario `{}`: {field}: {message}", workload.origin, workload.scenario))
            };
            if workload.batch.is_some_and(|b| b > 1) {
                return Err(at("batch", "a sweep runs open loop, which times each operation; remove `batch`"));
            }
            let rate = match workload.shape {
                LoadShape::Open { rate_ops_s, .. } => Some(rate_ops_s),
                LoadShape::Closed { .. } => None,
            };
            let spec_sweep = workload.sweep.clone().unwrap_or_default().overlay(flags);
            let sweep = spec_sweep.resolve(rate, MAX_RATE_OPS_S).map_err(|(field, message)| {
                let hint = if field == "sweep.slo" { " (or give --slo)" } else { "" };
                at(&field, &format!("{message}{hint}"))
            })?;
            Ok((spec, sweep))
        })
        .collect()
}

/// `spec` as a step of its sweep: open loop at `step`'s rate, its run id marked.
fn at_rate(spec: &RunSpec, step: Step) -> RunSpec {
    let mut at = spec.clone();
    let arrivals = match spec.workload.shape {
        LoadShape::Open { arrivals, .. } => arrivals,
        LoadShape::Closed { .. } => workloads::Arrivals::default(),
    };
    at.workload.shape =
        LoadShape::Open { rate_ops_s: step.rate_ops_s, arrivals, workers: spec.workload.shape.workers() };
    at.run_id = format!("{}-s{:02}", spec.run_id, step.number);
    at
}

/// `sweep.csv` as written so far, kept to mark the knee once a strategy's sweep ends.
struct StepsFile {
    file: CsvFile,
    rows: Vec<SweepRow>,
}

/// Sweeps one strategy, and returns its line of the final table.
fn sweep_one(
    spec: &RunSpec,
    sweep: &Sweep,
    precision: Option<Precision>,
    session: &mut Session,
    steps: &mut StepsFile,
) -> anyhow::Result<CapacityLine> {
    let first_row = steps.rows.len();
    let bracket = search::search(sweep, |step, stage| {
        if interrupted() {
            return Ok(Verdict::Stopped(INTERRUPTED.into()));
        }
        let step_spec = at_rate(spec, step);
        let progress = progress_bar(&step_spec, sweep.max_steps as usize);
        let judged = run_and_record(&step_spec, precision, session, &progress, |r| judge(r, &sweep.objective))?;
        progress.finish_and_clear();
        let summary = session.rows().last().expect("the step was just recorded");
        let row = SweepRow::new(summary, step, stage, &judged, &sweep.objective);
        steps.file.append(&row)?;
        steps.rows.push(row);
        Ok(judged.verdict)
    })?;
    let capacity = Capacity::of(&bracket, &sweep.objective, &steps.rows[first_row..]);
    let ids: Vec<String> = steps.rows[first_row..].iter().map(|r| r.run_id.clone()).collect();
    let slo = sweep.objective.to_string();
    session.amend_rows(|row| {
        if ids.contains(&row.run_id) {
            row.slo = Some(slo.clone());
        }
        if capacity.run_id.as_deref() == Some(row.run_id.as_str()) {
            capacity.fill(row);
        }
    })?;
    for row in &mut steps.rows[first_row..] {
        row.knee = bracket.holds.is_some_and(|s| s.number == row.step);
    }
    steps.file.rewrite(&steps.rows)?;
    Ok(CapacityLine::new(spec, &slo, &capacity, bracket.steps, bracket.stopped))
}

/// What a step's record says about the objective.
pub struct Judged {
    pub verdict: Verdict,
    /// The objective's percentile in µs, with its 95% interval when there is one.
    pub percentile_us: Option<(f64, Option<(f64, f64)>)>,
}

/// Judges a step's record against `objective` (see the module doc).
pub fn judge(record: &RunRecord<'_>, objective: &Objective) -> Judged {
    let stopped = |why: String| Judged { verdict: Verdict::Stopped(why), percentile_us: None };
    let message = || record.message.clone().unwrap_or_default();
    let Some(drive) = record.drive.as_ref() else {
        return stopped(format!("{}: {}", record.status.as_str(), message()));
    };
    match record.status {
        RunStatus::Ok | RunStatus::Overloaded => {}
        status => return stopped(format!("{}: {}", status.as_str(), message())),
    }
    let histogram = &drive.totals.measured.response;
    let q = objective.quantile;
    let name = objective.percentile_name();
    let us = |ns: u64| ns as f64 / 1000.0;
    let percentile_us = (!histogram.is_empty()).then(|| {
        let bounds = quantile_ci::interval(histogram, q).ok().map(|b| (us(b.lo), us(b.hi)));
        (us(histogram.value_at_quantile(q)), bounds)
    });
    let verdict = step_verdict(record, drive, objective, &name, percentile_us);
    Judged { verdict, percentile_us }
}

fn step_verdict(
    record: &RunRecord<'_>,
    drive: &crate::driver::DriveReport,
    objective: &Objective,
    name: &str,
    percentile_us: Option<(f64, Option<(f64, f64)>)>,
) -> Verdict {
    if record.status == RunStatus::Overloaded {
        return Verdict::Breaks(record.message.clone().unwrap_or_else(|| "overloaded".into()));
    }
    let ops = drive.totals.measured_ops;
    let errors = drive.totals.measured_errors.total();
    if let Some(max) = objective.error_rate_max
        && ops > 0
        && errors as f64 / ops as f64 > max
    {
        return Verdict::Breaks(format!("error rate {:.3}% over {}%", 100.0 * errors as f64 / ops as f64, max * 100.0));
    }
    let bound_us = objective.bound.as_secs_f64() * 1e6;
    let show = |us: f64| human_duration(us * 1e-6);
    match percentile_us {
        None => Verdict::Inconclusive("no operation completed".into()),
        Some((point, None)) => {
            let needed = quantile_ci::min_samples(objective.quantile);
            Verdict::Inconclusive(format!(
                "{name} = {} from {ops} operations, too few to bound it ({needed} needed): lengthen `duration`",
                show(point)
            ))
        }
        Some((point, Some((_, hi)))) if hi <= bound_us => {
            let _ = point;
            Verdict::Holds
        }
        Some((point, Some((lo, hi)))) => Verdict::Breaks(format!(
            "{name} = {} (95% interval {}..{}) is not within {}",
            show(point),
            show(lo),
            show(hi),
            show(bound_us)
        )),
    }
}

/// A strategy's capacity, read from the bracket the search ended with.
struct Capacity {
    value_ops_s: Option<f64>,
    lo_ops_s: Option<f64>,
    hi_ops_s: Option<f64>,
    note: String,
    /// The step whose summary row carries the capacity columns.
    run_id: Option<String>,
}

impl Capacity {
    fn of(bracket: &Bracket, objective: &Objective, rows: &[SweepRow]) -> Self {
        let row_of = |step: Option<Step>| step.and_then(|s| rows.iter().find(|r| r.step == s.number));
        let rate = |s: Step| human_rate(s.rate_ops_s);
        let reason = |s: Step| row_of(Some(s)).and_then(|r| r.reason.clone()).unwrap_or_default();
        let mut capacity = match (bracket.holds, bracket.breaks) {
            (Some(holds), Some(breaks)) => Capacity {
                value_ops_s: Some(holds.rate_ops_s),
                lo_ops_s: Some(holds.rate_ops_s),
                hi_ops_s: Some(breaks.rate_ops_s),
                note: format!(
                    "capacity at {objective}: {} ops/s; broken at {} ops/s ({})",
                    rate(holds),
                    rate(breaks),
                    reason(breaks)
                ),
                run_id: row_of(Some(holds)).map(|r| r.run_id.clone()),
            },
            (Some(holds), None) => Capacity {
                value_ops_s: None,
                lo_ops_s: Some(holds.rate_ops_s),
                hi_ops_s: None,
                note: format!(
                    "{objective} held at every rate tried, up to {} ops/s: the capacity is above it (raise \
                     sweep.max_rate or max_steps)",
                    rate(holds)
                ),
                run_id: row_of(Some(holds)).map(|r| r.run_id.clone()),
            },
            (None, Some(breaks)) => Capacity {
                value_ops_s: None,
                lo_ops_s: None,
                hi_ops_s: Some(breaks.rate_ops_s),
                note: format!(
                    "{objective} broken at the lowest rate tried, {} ops/s ({}): the capacity is below it (lower \
                     sweep.start)",
                    rate(breaks),
                    reason(breaks)
                ),
                run_id: row_of(Some(breaks)).map(|r| r.run_id.clone()),
            },
            (None, None) => Capacity {
                value_ops_s: None,
                lo_ops_s: None,
                hi_ops_s: None,
                note: format!(
                    "no capacity at {objective}: {}",
                    rows.last().and_then(|r| r.reason.clone()).unwrap_or_else(|| "no step ran".into())
                ),
                run_id: rows.last().map(|r| r.run_id.clone()),
            },
        };
        if let Some(why) = bracket.stopped.as_ref().filter(|why| !capacity.note.contains(why.as_str())) {
            capacity.note = format!("{}; sweep stopped: {why}", capacity.note);
        }
        capacity
    }

    fn fill(&self, row: &mut SummaryRow) {
        row.capacity_ops_s = self.value_ops_s;
        row.capacity_ops_s_lo = self.lo_ops_s;
        row.capacity_ops_s_hi = self.hi_ops_s;
        // The row's own message is kept unless the note already quotes it (a failed step).
        let own = row.message.take().filter(|m| !self.note.contains(m.as_str()));
        row.message = Some(own.map_or(self.note.clone(), |m| format!("{}; {m}", self.note)));
    }
}

/// One row of `sweep.csv`: one step of one strategy's sweep.
#[derive(Debug, Default, Serialize)]
pub struct SweepRow {
    pub run_id: String,
    pub scenario: String,
    pub family: String,
    pub strategy: String,
    pub mode: String,
    pub slo: String,
    pub step: u32,
    pub search: String,
    pub target_rate_ops_s: f64,
    pub achieved_rate_ops_s: Option<f64>,
    pub throughput_ops_s: Option<f64>,
    pub status: String,
    pub verdict: String,
    pub reason: Option<String>,
    pub knee: bool,
    pub slo_percentile_us: Option<f64>,
    pub slo_percentile_us_lo: Option<f64>,
    pub slo_percentile_us_hi: Option<f64>,
    pub error_rate: Option<f64>,
    pub latency_us_p50: Option<f64>,
    pub latency_us_p50_lo: Option<f64>,
    pub latency_us_p50_hi: Option<f64>,
    pub latency_us_p99: Option<f64>,
    pub latency_us_p99_lo: Option<f64>,
    pub latency_us_p99_hi: Option<f64>,
    pub latency_us_p999: Option<f64>,
    pub latency_us_p999_lo: Option<f64>,
    pub latency_us_p999_hi: Option<f64>,
}

impl SweepRow {
    fn new(summary: &SummaryRow, step: Step, stage: Stage, judged: &Judged, objective: &Objective) -> Self {
        let bounds = judged.percentile_us.and_then(|p| p.1);
        SweepRow {
            run_id: summary.run_id.clone(),
            scenario: summary.scenario.clone(),
            family: summary.family.clone(),
            strategy: summary.strategy.clone(),
            mode: summary.mode.clone(),
            slo: objective.to_string(),
            step: step.number,
            search: stage.as_str().to_string(),
            target_rate_ops_s: step.rate_ops_s,
            achieved_rate_ops_s: summary.achieved_rate_ops_s,
            throughput_ops_s: summary.throughput_ops_s,
            status: summary.status.clone(),
            verdict: judged.verdict.as_str().to_string(),
            reason: judged.verdict.reason().map(str::to_string),
            knee: false,
            slo_percentile_us: judged.percentile_us.map(|p| p.0),
            slo_percentile_us_lo: bounds.map(|b| b.0),
            slo_percentile_us_hi: bounds.map(|b| b.1),
            error_rate: summary.error_rate,
            latency_us_p50: summary.latency_us_p50,
            latency_us_p50_lo: summary.latency_us_p50_lo,
            latency_us_p50_hi: summary.latency_us_p50_hi,
            latency_us_p99: summary.latency_us_p99,
            latency_us_p99_lo: summary.latency_us_p99_lo,
            latency_us_p99_hi: summary.latency_us_p99_hi,
            latency_us_p999: summary.latency_us_p999,
            latency_us_p999_lo: summary.latency_us_p999_lo,
            latency_us_p999_hi: summary.latency_us_p999_hi,
        }
    }
}

/// A strategy's line in the table `sweep` prints.
#[derive(Debug, Serialize)]
struct CapacityLine {
    scenario: String,
    strategy: String,
    mode: String,
    slo: String,
    capacity_ops_s: Option<f64>,
    capacity_ops_s_lo: Option<f64>,
    capacity_ops_s_hi: Option<f64>,
    steps: u32,
    note: String,
    #[serde(skip)]
    stopped: Option<String>,
}

impl CapacityLine {
    fn new(spec: &RunSpec, slo: &str, capacity: &Capacity, steps: u32, stopped: Option<String>) -> Self {
        CapacityLine {
            scenario: spec.workload.scenario.clone(),
            strategy: spec.strategy.clone(),
            mode: spec.mode.as_str().to_string(),
            slo: slo.to_string(),
            capacity_ops_s: capacity.value_ops_s,
            capacity_ops_s_lo: capacity.lo_ops_s,
            capacity_ops_s_hi: capacity.hi_ops_s,
            steps,
            note: capacity.note.clone(),
            stopped,
        }
    }
}

fn render(lines: &[CapacityLine], format: OutputFormat) -> anyhow::Result<String> {
    let rate = |r: Option<f64>| r.map_or_else(String::new, human_rate);
    match format {
        OutputFormat::Csv => csv_of(lines),
        OutputFormat::Json => json_of(lines),
        OutputFormat::Table | OutputFormat::Markdown => {
            let header = ["scenario", "strategy", "mode", "objective", "capacity ops/s", "breaks at", "steps"];
            let cells: Vec<Vec<String>> = lines
                .iter()
                .map(|l| {
                    let capacity = match (l.capacity_ops_s, l.capacity_ops_s_lo, l.capacity_ops_s_hi) {
                        (Some(c), _, _) => rate(Some(c)),
                        (None, Some(lo), None) => format!("> {}", rate(Some(lo))),
                        (None, None, Some(hi)) => format!("< {}", rate(Some(hi))),
                        _ => "unknown".into(),
                    };
                    vec![
                        l.scenario.clone(),
                        l.strategy.clone(),
                        l.mode.clone(),
                        l.slo.clone(),
                        capacity,
                        rate(l.capacity_ops_s_hi),
                        l.steps.to_string(),
                    ]
                })
                .collect();
            Ok(text_table(&header, &cells, format))
        }
    }
}
