//! The search for the knee, apart from what a step runs: geometric steps up from the start
//! rate until a step breaks the objective (or the maximum rate or step count is reached),
//! then bisection — at the geometric midpoint, since rates were stepped geometrically —
//! between the highest rate that held and the lowest that broke, until they are within the
//! resolution. Kept pure (a step is a function from a rate to a verdict) so that it is
//! tested without running anything.

use workloads::sweep::Sweep;

/// How one step went.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    /// The objective held (and the run kept its schedule).
    Holds,
    /// The objective broke, or the run was overloaded; the reason says which.
    Breaks(String),
    /// The step cannot say (too few operations to bound the percentile): the search goes on
    /// upward, but a bisection stops.
    Inconclusive(String),
    /// The run failed or was interrupted: the sweep of this strategy ends.
    Stopped(String),
}

impl Verdict {
    /// The name in `sweep.csv`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Verdict::Holds => "holds",
            Verdict::Breaks(_) => "breaks",
            Verdict::Inconclusive(_) => "inconclusive",
            Verdict::Stopped(_) => "stopped",
        }
    }

    /// Why, for every verdict but `Holds`.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Verdict::Holds => None,
            Verdict::Breaks(r) | Verdict::Inconclusive(r) | Verdict::Stopped(r) => Some(r),
        }
    }
}

/// Which part of the search a step belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    Geometric,
    Bisection,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Geometric => "geometric",
            Stage::Bisection => "bisection",
        }
    }
}

/// A step that was run: its number (from 1) and rate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Step {
    pub number: u32,
    pub rate_ops_s: f64,
}

/// Where the search ended.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Bracket {
    /// The highest rate that held the objective.
    pub holds: Option<Step>,
    /// The lowest rate above it that broke it.
    pub breaks: Option<Step>,
    /// Why the search stopped early (a failed run, Ctrl-C), if it did.
    pub stopped: Option<String>,
    pub steps: u32,
}

/// Runs the search; `step` runs one rate and judges it.
pub fn search(sweep: &Sweep, mut step: impl FnMut(Step, Stage) -> anyhow::Result<Verdict>) -> anyhow::Result<Bracket> {
    let mut bracket = Bracket::default();
    let mut rate = sweep.start_ops_s;
    // Geometric stage: up until a break, the maximum rate, or the step limit.
    while u64::from(bracket.steps) < sweep.max_steps {
        let current = Step { number: bracket.steps + 1, rate_ops_s: rate };
        bracket.steps += 1;
        match step(current, Stage::Geometric)? {
            Verdict::Holds => bracket.holds = Some(current),
            Verdict::Breaks(_) => {
                bracket.breaks = Some(current);
                break;
            }
            Verdict::Inconclusive(_) => {}
            Verdict::Stopped(why) => {
                bracket.stopped = Some(why);
                return Ok(bracket);
            }
        }
        if rate >= sweep.max_rate_ops_s {
            break;
        }
        rate = (rate * sweep.factor).min(sweep.max_rate_ops_s);
    }
    // Bisection between the last hold and the first break.
    while let (Some(low), Some(high)) = (bracket.holds, bracket.breaks) {
        if high.rate_ops_s <= low.rate_ops_s * (1.0 + sweep.resolution) || u64::from(bracket.steps) >= sweep.max_steps {
            break;
        }
        let current = Step { number: bracket.steps + 1, rate_ops_s: (low.rate_ops_s * high.rate_ops_s).sqrt() };
        bracket.steps += 1;
        match step(current, Stage::Bisection)? {
            Verdict::Holds => bracket.holds = Some(current),
            Verdict::Breaks(_) => bracket.breaks = Some(current),
            Verdict::Inconclusive(_) => break,
            Verdict::Stopped(why) => {
                bracket.stopped = Some(why);
                break;
            }
        }
    }
    Ok(bracket)
}

#[cfg(test)]
mod tests {
    use super::*;
    use workloads::sweep::Objective;

    fn sweep(start: f64, max_rate: f64, max_steps: u64) -> Sweep {
        Sweep {
            objective: Objective::parse("p99<10ms").unwrap(),
            start_ops_s: start,
            factor: 2.0,
            max_rate_ops_s: max_rate,
            max_steps,
            resolution: 0.05,
        }
    }

    /// A target that holds below `capacity` and breaks above it.
    fn target(capacity: f64) -> impl FnMut(Step, Stage) -> anyhow::Result<Verdict> {
        move |step, _| Ok(if step.rate_ops_s <= capacity { Verdict::Holds } else { Verdict::Breaks("p99".into()) })
    }

    #[test]
    fn the_bracket_closes_on_the_capacity() {
        let bracket = search(&sweep(100.0, 1e7, 30), target(3000.0)).unwrap();
        let (low, high) = (bracket.holds.unwrap().rate_ops_s, bracket.breaks.unwrap().rate_ops_s);
        assert!(low <= 3000.0 && 3000.0 < high, "{low}..{high}");
        assert!(high <= low * 1.05, "within the resolution: {low}..{high}");
        // 100, 200, ..., 3200 (6 steps), then bisection of 1600..3200 to within 5%: 4 steps.
        assert_eq!(bracket.steps, 10);
    }

    #[test]
    fn an_objective_broken_at_the_start_has_no_rate_that_holds() {
        let bracket = search(&sweep(100.0, 1e7, 30), target(50.0)).unwrap();
        assert_eq!(bracket.holds, None);
        assert_eq!(bracket.breaks.map(|s| s.rate_ops_s), Some(100.0));
        assert_eq!(bracket.steps, 1);
    }

    #[test]
    fn an_objective_never_broken_stops_at_the_maximum_rate() {
        let bracket = search(&sweep(100.0, 1000.0, 30), target(1e9)).unwrap();
        assert_eq!(bracket.breaks, None);
        assert_eq!(bracket.holds.map(|s| s.rate_ops_s), Some(1000.0), "the last step is the maximum rate");
        assert_eq!(bracket.steps, 5, "100, 200, 400, 800, 1000");
    }

    #[test]
    fn the_step_limit_bounds_the_search() {
        let bracket = search(&sweep(100.0, 1e7, 3), target(1e9)).unwrap();
        assert_eq!(bracket.steps, 3);
        let bracket = search(&sweep(100.0, 1e7, 7), target(3000.0)).unwrap();
        assert_eq!(bracket.steps, 7, "the bisection counts too");
    }

    #[test]
    fn a_failed_run_stops_the_search() {
        let bracket = search(&sweep(100.0, 1e7, 30), |_, _| Ok(Verdict::Stopped("error".into()))).unwrap();
        assert_eq!((bracket.steps, bracket.stopped.as_deref()), (1, Some("error")));
    }
}
