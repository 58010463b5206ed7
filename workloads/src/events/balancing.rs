//! The balancing family's actions: faults of one backend — slowed down, failing a fraction
//! of its requests, flapping, killed — and its return to normal.

use super::{Actions, EventSpec};
use crate::units::HumanDuration;
use serde::Serialize;
use std::time::Duration;

/// A fault of backend `node`, or its end.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum BalancingAction {
    /// Node `node` becomes `factor` times slower (a degraded backend).
    SlowNode { node: u32, factor: Factor },
    /// Node `node` is back to normal: its slowdown ends, and a killed node comes back.
    RestoreNode { node: u32 },
    /// Node `node` crashes: its process is killed (networked) or it refuses every request
    /// (in-process).
    KillNode { node: u32 },
    /// Node `node` answers a fraction `error_ppm` / 1,000,000 of its requests with a server
    /// error (HTTP 500) until `restore-node`.
    FailNode { node: u32, error_ppm: u32 },
    /// Node `node` flaps until `restore-node`: it fails every request at once (HTTP 503) for
    /// `period`, then serves normally for `period`, and so on, starting with a failing phase.
    FlapNode { node: u32, period: Duration },
}

/// A slowdown factor: finite and at least 1.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd, Serialize)]
#[serde(transparent)]
pub struct Factor(f64);

impl Factor {
    /// A factor, if `value` is finite and at least 1.
    pub fn new(value: f64) -> Option<Self> {
        (value.is_finite() && value >= 1.0).then_some(Factor(value))
    }

    /// The value.
    pub fn get(self) -> f64 {
        self.0
    }
}

// Never NaN (checked by `new`), so equality is an equivalence.
impl Eq for Factor {}

impl BalancingAction {
    /// A short label for CSV rows: `slow-node(4,x10)`, `restore-node(4)`.
    pub fn label(&self) -> String {
        match self {
            BalancingAction::SlowNode { node, factor } => format!("slow-node({node},x{})", factor.get()),
            BalancingAction::RestoreNode { node } => format!("restore-node({node})"),
            BalancingAction::KillNode { node } => format!("kill-node({node})"),
            BalancingAction::FailNode { node, error_ppm } => {
                format!("fail-node({node},{})", f64::from(*error_ppm) / 1e6)
            }
            BalancingAction::FlapNode { node, period } => format!("flap-node({node},{})", HumanDuration(*period)),
        }
    }

    /// The backend it applies to.
    pub fn node(&self) -> u32 {
        match *self {
            BalancingAction::SlowNode { node, .. }
            | BalancingAction::RestoreNode { node }
            | BalancingAction::KillNode { node }
            | BalancingAction::FailNode { node, .. }
            | BalancingAction::FlapNode { node, .. } => node,
        }
    }
}

impl Actions for BalancingAction {
    const NAMES: &'static [&'static str] = &["slow-node", "restore-node", "kill-node", "fail-node", "flap-node"];

    fn fields(action: &str) -> &'static [&'static str] {
        match action {
            "slow-node" => &["factor"],
            "fail-node" => &["errors"],
            "flap-node" => &["period"],
            _ => &[],
        }
    }

    fn parse(spec: &EventSpec) -> Result<Self, String> {
        Ok(match spec.action.as_str() {
            "slow-node" => {
                let factor = spec.factor.ok_or("`slow-node` needs `factor = <times slower>`")?;
                let factor = Factor::new(factor)
                    .ok_or_else(|| format!("`factor` must be a number of at least 1, got {factor}"))?;
                BalancingAction::SlowNode { node: spec.needs_node()?, factor }
            }
            "restore-node" => BalancingAction::RestoreNode { node: spec.needs_node()? },
            "kill-node" => BalancingAction::KillNode { node: spec.needs_node()? },
            "fail-node" => BalancingAction::FailNode {
                node: spec.needs_node()?,
                error_ppm: (spec.errors.ok_or("`fail-node` needs `errors = <fraction>`")?.0 * 1e6).round() as u32,
            },
            _ => match spec.period {
                Some(period) if !period.0.is_zero() => {
                    BalancingAction::FlapNode { node: spec.needs_node()?, period: period.0 }
                }
                _ => return Err("`flap-node` needs `period = \"500ms\"` (longer than zero)".into()),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::EventAction;
    use super::super::tests::{resolve_as, spec};
    use super::*;
    use crate::units::Fraction;

    fn resolve(spec: &EventSpec) -> Result<BalancingAction, String> {
        resolve_as(spec, "balancing", |action| if let EventAction::Balancing(own) = action { Some(own) } else { None })
    }

    #[test]
    fn fail_and_flap_need_their_fraction_and_period() {
        let mut fail = spec(Some("1s"), None, "fail-node", Some(2));
        assert!(resolve(&fail).unwrap_err().contains("errors"));
        fail.errors = Some(Fraction(0.2));
        let action = resolve(&fail).unwrap();
        assert_eq!(action, BalancingAction::FailNode { node: 2, error_ppm: 200_000 });
        assert_eq!((action.label().as_str(), action.node()), ("fail-node(2,0.2)", 2));
        let mut flap = spec(Some("1s"), None, "flap-node", Some(1));
        assert!(resolve(&flap).unwrap_err().contains("period"));
        flap.period = Some(HumanDuration(Duration::from_millis(500)));
        assert_eq!(resolve(&flap).unwrap(), BalancingAction::FlapNode { node: 1, period: Duration::from_millis(500) });
        flap.errors = Some(Fraction(0.1));
        assert!(resolve(&flap).unwrap_err().contains("`errors`"), "a misplaced field is refused");
    }

    #[test]
    fn faults_name_their_node() {
        let mut slow = spec(Some("2s"), None, "slow-node", Some(4));
        slow.factor = Some(10.0);
        let action = resolve(&slow).unwrap();
        assert_eq!(action.label(), "slow-node(4,x10)");
        assert_eq!(action.node(), 4);
        assert_eq!(
            resolve(&spec(Some("3s"), None, "restore-node", Some(4))).unwrap(),
            BalancingAction::RestoreNode { node: 4 }
        );
        assert_eq!(resolve(&spec(None, Some(5), "kill-node", Some(0))).unwrap().label(), "kill-node(0)");
    }

    #[test]
    fn errors_name_the_problem() {
        assert!(resolve(&spec(Some("1s"), None, "slow-node", Some(1))).unwrap_err().contains("factor"));
        assert!(resolve(&spec(Some("1s"), None, "kill-node", None)).unwrap_err().contains("node"));
        let mut slow = spec(Some("1s"), None, "slow-node", Some(1));
        slow.factor = Some(0.5);
        assert!(resolve(&slow).unwrap_err().contains("at least 1"));
        let mut kill = spec(Some("1s"), None, "kill-node", Some(1));
        kill.factor = Some(2.0);
        assert!(resolve(&kill).unwrap_err().contains("factor"));
    }
}
