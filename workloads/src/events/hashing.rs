//! The hashing family's actions: resizes — a node joins or leaves the placement — whose key
//! movement the family measures. (Its networked version also takes the shared server faults.)

use super::{Actions, EventSpec};
use serde::Serialize;

/// A resize.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum HashingAction {
    /// A node joins. `node` names it; without it the node gets the next unused id. Adding a
    /// node that was removed earlier re-adds the same identity (does the old mapping return?).
    AddNode { node: Option<u32> },
    /// Node `node` (by id) leaves.
    RemoveNode { node: u32 },
    /// The node with the highest id leaves.
    RemoveLast,
}

impl HashingAction {
    /// A short label for CSV rows: `add-node`, `remove-node(3)`, `remove-last`.
    pub fn label(&self) -> String {
        match self {
            HashingAction::AddNode { node: None } => "add-node".into(),
            HashingAction::AddNode { node: Some(id) } => format!("add-node({id})"),
            HashingAction::RemoveNode { node } => format!("remove-node({node})"),
            HashingAction::RemoveLast => "remove-last".into(),
        }
    }

    /// Whether it changes the set of nodes (every hashing action does).
    pub fn is_resize(&self) -> bool {
        true
    }
}

impl Actions for HashingAction {
    const NAMES: &'static [&'static str] = &["add-node", "remove-node", "remove-last"];

    fn fields(_: &str) -> &'static [&'static str] {
        &[]
    }

    fn parse(spec: &EventSpec) -> Result<Self, String> {
        Ok(match spec.action.as_str() {
            "add-node" => HashingAction::AddNode { node: spec.node },
            "remove-node" => match spec.node {
                Some(node) => HashingAction::RemoveNode { node },
                None => return Err("`remove-node` needs `node = <id>`".into()),
            },
            _ => {
                spec.takes_no_node("")?;
                HashingAction::RemoveLast
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::EventAction;
    use super::super::tests::spec;
    use super::*;
    use crate::events::Trigger;
    use std::time::Duration;

    #[test]
    fn resolves_each_action() {
        let add = spec(Some("1s"), None, "add-node", None).resolve("hashing").unwrap();
        assert_eq!(add.trigger, Trigger::At(Duration::from_secs(1)));
        assert_eq!(add.action, EventAction::Hashing(HashingAction::AddNode { node: None }));
        assert!(!add.action.is_fault());
        let remove = spec(None, Some(10), "remove-node", Some(3)).resolve("hashing").unwrap();
        assert_eq!(remove.action, EventAction::Hashing(HashingAction::RemoveNode { node: 3 }));
        assert_eq!(remove.action.label(), "remove-node(3)");
        assert!(spec(Some("1s"), None, "remove-node", None).resolve("hashing").unwrap_err().contains("node"));
        assert!(spec(Some("1s"), None, "remove-last", Some(1)).resolve("hashing").unwrap_err().contains("node"));
    }
}
