//! Event schedules: things that happen to the system under test during a run, at a time or
//! after a number of operations — a node added or removed now; faults (kill, pause, partition)
//! in the families that check safety.
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
    /// Fault: the next client to hold a lock (or the equivalent in other families) stops for
    /// `duration` while holding it, as a process in a long GC pause would.
    PauseHolder { duration: Duration },
    /// Fault: the next client to hold a lock dies without releasing it; it comes back as a
    /// new client (new connection, session or lease).
    KillHolder,
    /// Fault: server `node` (of the servers the harness started) is killed and started again
    /// on the same port; with persistence off it comes back empty.
    RestartServer { node: u32 },
}

impl EventAction {
    /// A short label for CSV rows: `add-node`, `remove-node(3)`, `remove-last`.
    pub fn label(&self) -> String {
        match self {
            EventAction::AddNode { node: None } => "add-node".into(),
            EventAction::AddNode { node: Some(id) } => format!("add-node({id})"),
            EventAction::RemoveNode { node } => format!("remove-node({node})"),
            EventAction::RemoveLast => "remove-last".into(),
            EventAction::PauseHolder { duration } => format!("pause-holder({})", HumanDuration(*duration)),
            EventAction::KillHolder => "kill-holder".into(),
            EventAction::RestartServer { node } => format!("restart-server({node})"),
        }
    }

    /// Whether this is a fault (as opposed to a resize).
    pub fn is_fault(&self) -> bool {
        matches!(self, EventAction::PauseHolder { .. } | EventAction::KillHolder | EventAction::RestartServer { .. })
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventSpec {
    /// Time after the start of the measured phase.
    pub at: Option<HumanDuration>,
    /// Number of measured operations after which the event fires.
    pub after_ops: Option<u64>,
    /// `add-node`, `remove-node`, `remove-last`, `pause-holder`, `kill-holder` or
    /// `restart-server`.
    pub action: String,
    /// The node the action applies to.
    pub node: Option<u32>,
    /// How long a pause lasts.
    pub duration: Option<HumanDuration>,
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
        if self.duration.is_some() && self.action != "pause-holder" {
            return Err(format!("`{}` takes no `duration`", self.action));
        }
        let action = match self.action.as_str() {
            "add-node" => EventAction::AddNode { node: self.node },
            "pause-holder" => match (self.duration, self.node) {
                (Some(d), None) if !d.0.is_zero() => EventAction::PauseHolder { duration: d.0 },
                (Some(_), None) => return Err("`pause-holder` needs a `duration` longer than zero".into()),
                (None, _) => return Err("`pause-holder` needs `duration = \"2s\"`".into()),
                (Some(_), Some(_)) => return Err("`pause-holder` takes no `node`".into()),
            },
            "kill-holder" if self.node.is_none() => EventAction::KillHolder,
            "kill-holder" => return Err("`kill-holder` takes no `node`".into()),
            "restart-server" => EventAction::RestartServer { node: self.node.unwrap_or(0) },
            "remove-node" => match self.node {
                Some(node) => EventAction::RemoveNode { node },
                None => return Err("`remove-node` needs `node = <id>`".into()),
            },
            "remove-last" if self.node.is_none() => EventAction::RemoveLast,
            "remove-last" => return Err("`remove-last` takes no `node`".into()),
            other => {
                return Err(format!(
                    "unknown action `{other}` (expected one of: add-node, remove-node, remove-last, pause-holder, \
                     kill-holder, restart-server)"
                ));
            }
        };
        Ok(Event { trigger, action })
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
            duration: None,
        }
    }

    #[test]
    fn resolves_faults() {
        let mut pause = spec(Some("1s"), None, "pause-holder", None);
        assert!(pause.resolve().unwrap_err().contains("duration"));
        pause.duration = Some(HumanDuration::parse("1500ms").unwrap());
        let event = pause.resolve().unwrap();
        assert_eq!(event.action, EventAction::PauseHolder { duration: Duration::from_millis(1500) });
        assert_eq!(event.action.label(), "pause-holder(1s 500ms)");
        assert!(event.action.is_fault());
        assert_eq!(spec(Some("1s"), None, "kill-holder", None).resolve().unwrap().action, EventAction::KillHolder);
        assert_eq!(
            spec(Some("1s"), None, "restart-server", Some(2)).resolve().unwrap().action,
            EventAction::RestartServer { node: 2 }
        );
        let mut bad = spec(Some("1s"), None, "kill-holder", None);
        bad.duration = Some(HumanDuration::parse("1s").unwrap());
        assert!(bad.resolve().unwrap_err().contains("duration"));
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
    }
}
