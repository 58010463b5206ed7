//! Event schedules: things that happen to the system under test during a run, at a time or
//! after a number of operations — a node added or removed; faults: a node slowed down by a
//! factor and restored (a transient degradation), a node killed (a crashed backend); later
//! faults (pause, partition) in the families that check safety.
//!
//! Times count from the start of the measured phase (after warm-up), and operation counts
//! count measured operations, so an event lands at the same place in the measurement whatever
//! the warm-up.

use crate::units::HumanDuration;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// When an event fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Trigger {
    /// This long after the measured phase starts.
    At(Duration),
    /// Once this many measured operations have completed.
    AfterOps(u64),
}

impl std::fmt::Display for Trigger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Trigger::At(at) => write!(f, "at {}", HumanDuration(*at)),
            Trigger::AfterOps(ops) => write!(f, "after {ops} ops"),
        }
    }
}

/// What happens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum EventAction {
    /// A node joins. `node` names it; without it the node gets the next unused id. Adding a
    /// node that was removed earlier re-adds the same identity (does the old mapping return?).
    AddNode { node: Option<u32> },
    /// Node `node` (by id) leaves.
    RemoveNode { node: u32 },
    /// The node with the highest id leaves.
    RemoveLast,
    /// Node `node` becomes `factor` times slower (a degraded backend).
    SlowNode { node: u32, factor: Factor },
    /// Node `node` is back to normal: its slowdown ends, and a killed node comes back.
    RestoreNode { node: u32 },
    /// Node `node` crashes: its process is killed (networked) or it refuses every request
    /// (in-process).
    KillNode { node: u32 },
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

impl EventAction {
    /// A short label for CSV rows: `add-node`, `remove-node(3)`, `remove-last`.
    pub fn label(&self) -> String {
        match self {
            EventAction::AddNode { node: None } => "add-node".into(),
            EventAction::AddNode { node: Some(id) } => format!("add-node({id})"),
            EventAction::RemoveNode { node } => format!("remove-node({node})"),
            EventAction::RemoveLast => "remove-last".into(),
            EventAction::SlowNode { node, factor } => format!("slow-node({node},x{})", factor.get()),
            EventAction::RestoreNode { node } => format!("restore-node({node})"),
            EventAction::KillNode { node } => format!("kill-node({node})"),
        }
    }

    /// The node a fault applies to (slow, restore, kill).
    pub fn fault_node(&self) -> Option<u32> {
        match *self {
            EventAction::SlowNode { node, .. } | EventAction::RestoreNode { node } | EventAction::KillNode { node } => {
                Some(node)
            }
            _ => None,
        }
    }
}

/// One scheduled event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Event {
    pub trigger: Trigger,
    pub action: EventAction,
}

/// An event as written in a scenario file (`[[events]]`), before its fields are checked
/// against each other.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventSpec {
    /// Time after the start of the measured phase.
    pub at: Option<HumanDuration>,
    /// Number of measured operations after which the event fires.
    pub after_ops: Option<u64>,
    /// `add-node`, `remove-node`, `remove-last`, `slow-node`, `restore-node` or `kill-node`.
    pub action: String,
    /// The node the action applies to.
    pub node: Option<u32>,
    /// `slow-node`: how many times slower the node becomes (at least 1).
    pub factor: Option<f64>,
}

impl EventSpec {
    /// Checks the fields against each other; the error names the field.
    pub fn resolve(&self) -> Result<Event, String> {
        let trigger = match (self.at, self.after_ops) {
            (Some(at), None) => Trigger::At(at.0),
            (None, Some(ops)) => Trigger::AfterOps(ops),
            (Some(_), Some(_)) => return Err("give either `at` or `after_ops`, not both".into()),
            (None, None) => return Err("needs a trigger: `at = \"2s\"` or `after_ops = 1000`".into()),
        };
        let action = match self.action.as_str() {
            "add-node" => EventAction::AddNode { node: self.node },
            "remove-node" => match self.node {
                Some(node) => EventAction::RemoveNode { node },
                None => return Err("`remove-node` needs `node = <id>`".into()),
            },
            "remove-last" if self.node.is_none() => EventAction::RemoveLast,
            "remove-last" => return Err("`remove-last` takes no `node`".into()),
            "slow-node" => {
                let factor = self.factor.ok_or("`slow-node` needs `factor = <times slower>`")?;
                let factor = Factor::new(factor)
                    .ok_or_else(|| format!("`factor` must be a number of at least 1, got {factor}"))?;
                EventAction::SlowNode { node: self.fault_node()?, factor }
            }
            "restore-node" => EventAction::RestoreNode { node: self.fault_node()? },
            "kill-node" => EventAction::KillNode { node: self.fault_node()? },
            other => {
                return Err(format!(
                    "unknown action `{other}` (expected one of: add-node, remove-node, remove-last, slow-node, \
                     restore-node, kill-node)"
                ));
            }
        };
        if self.factor.is_some() && !matches!(action, EventAction::SlowNode { .. }) {
            return Err("only `slow-node` takes a `factor`".into());
        }
        Ok(Event { trigger, action })
    }

    fn fault_node(&self) -> Result<u32, String> {
        self.node.ok_or_else(|| format!("`{}` needs `node = <id>`", self.action))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(at: Option<&str>, after_ops: Option<u64>, action: &str, node: Option<u32>) -> EventSpec {
        EventSpec {
            at: at.map(|a| HumanDuration::parse(a).unwrap()),
            after_ops,
            action: action.into(),
            node,
            factor: None,
        }
    }

    #[test]
    fn resolves_each_action() {
        let add = spec(Some("1s"), None, "add-node", None).resolve().unwrap();
        assert_eq!(add.trigger, Trigger::At(Duration::from_secs(1)));
        assert_eq!(add.action, EventAction::AddNode { node: None });
        let remove = spec(None, Some(10), "remove-node", Some(3)).resolve().unwrap();
        assert_eq!(remove.action, EventAction::RemoveNode { node: 3 });
        assert_eq!(remove.action.label(), "remove-node(3)");
    }

    #[test]
    fn errors_name_the_problem() {
        assert!(spec(None, None, "add-node", None).resolve().unwrap_err().contains("trigger"));
        assert!(spec(Some("1s"), Some(1), "add-node", None).resolve().unwrap_err().contains("not both"));
        assert!(spec(Some("1s"), None, "remove-node", None).resolve().unwrap_err().contains("node"));
        assert!(spec(Some("1s"), None, "explode", None).resolve().unwrap_err().contains("explode"));
        assert!(spec(Some("1s"), None, "slow-node", Some(1)).resolve().unwrap_err().contains("factor"));
        assert!(spec(Some("1s"), None, "kill-node", None).resolve().unwrap_err().contains("node"));
        let mut slow = spec(Some("1s"), None, "slow-node", Some(1));
        slow.factor = Some(0.5);
        assert!(slow.resolve().unwrap_err().contains("at least 1"));
        let mut kill = spec(Some("1s"), None, "kill-node", Some(1));
        kill.factor = Some(2.0);
        assert!(kill.resolve().unwrap_err().contains("factor"));
    }

    #[test]
    fn faults_name_their_node() {
        let mut slow = spec(Some("2s"), None, "slow-node", Some(4));
        slow.factor = Some(10.0);
        let event = slow.resolve().unwrap();
        assert_eq!(event.action.label(), "slow-node(4,x10)");
        assert_eq!(event.action.fault_node(), Some(4));
        let restore = spec(Some("3s"), None, "restore-node", Some(4)).resolve().unwrap();
        assert_eq!(restore.action, EventAction::RestoreNode { node: 4 });
        assert_eq!(spec(None, Some(5), "kill-node", Some(0)).resolve().unwrap().action.label(), "kill-node(0)");
    }
}
