//! The consensus family's actions: the replica leading now, or a follower, is killed or cut
//! off, and killed replicas restart from their logs. (It also takes the shared message
//! faults.)

use super::{Actions, EventSpec};
use serde::Serialize;
use std::time::Duration;

/// A fault of the replicas, or their return.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum ConsensusAction {
    /// The replica leading now is killed (its process, or its task in-process); it restarts
    /// from its log `restart_after` later (or with `restart`, or at the end of the run).
    KillLeader { restart_after: Option<Duration> },
    /// Replica `node` (an index), or by default the first replica that does not lead now, is
    /// killed; it restarts from its log `restart_after` later.
    KillFollower { node: Option<u32>, restart_after: Option<Duration> },
    /// The replica leading now is cut off from every other replica (its clients still reach
    /// it), for `duration` if given: the others must elect a new leader, and the old one must
    /// stop answering.
    PartitionLeader { duration: Option<Duration> },
    /// Replica `node`, or every replica that is down, starts again from its log.
    Restart { node: Option<u32> },
}

impl ConsensusAction {
    /// A short label for CSV rows: `kill-leader`, `kill-follower(2)`, `restart`.
    pub fn label(&self) -> String {
        match self {
            ConsensusAction::KillLeader { .. } => "kill-leader".into(),
            ConsensusAction::KillFollower { node: None, .. } => "kill-follower".into(),
            ConsensusAction::KillFollower { node: Some(node), .. } => format!("kill-follower({node})"),
            ConsensusAction::PartitionLeader { .. } => "partition-leader".into(),
            ConsensusAction::Restart { node: None } => "restart".into(),
            ConsensusAction::Restart { node: Some(node) } => format!("restart({node})"),
        }
    }
}

impl Actions for ConsensusAction {
    const NAMES: &'static [&'static str] = &["kill-leader", "kill-follower", "partition-leader", "restart"];

    fn fields(action: &str) -> &'static [&'static str] {
        match action {
            "kill-leader" | "kill-follower" => &["restart_after"],
            "partition-leader" => &["duration"],
            _ => &[],
        }
    }

    fn parse(spec: &EventSpec) -> Result<Self, String> {
        let restart_after = spec.restart_after.map(|d| d.0);
        Ok(match spec.action.as_str() {
            "kill-leader" => {
                spec.takes_no_node(": it kills whichever replica leads")?;
                ConsensusAction::KillLeader { restart_after }
            }
            "kill-follower" => ConsensusAction::KillFollower { node: spec.node, restart_after },
            "partition-leader" => {
                spec.takes_no_node(": it cuts off whichever replica leads")?;
                ConsensusAction::PartitionLeader { duration: spec.duration.map(|d| d.0) }
            }
            _ => ConsensusAction::Restart { node: spec.node },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::spec;
    use super::super::{CrashPoint, EventAction};
    use super::*;
    use crate::units::HumanDuration;

    #[test]
    fn resolves_consensus_faults() {
        let resolve = |spec: &EventSpec| spec.resolve("consensus").map(|event| event.action);
        let own = EventAction::Consensus;
        let mut kill = spec(Some("1s"), None, "kill-leader", None);
        kill.restart_after = Some(HumanDuration(Duration::from_millis(500)));
        let action = resolve(&kill).unwrap();
        assert_eq!(action, own(ConsensusAction::KillLeader { restart_after: Some(Duration::from_millis(500)) }));
        assert_eq!(action.label(), "kill-leader");
        assert!(resolve(&spec(Some("1s"), None, "kill-leader", Some(1))).unwrap_err().contains("node"));
        let follower = resolve(&spec(Some("1s"), None, "kill-follower", Some(2))).unwrap();
        assert_eq!(follower, own(ConsensusAction::KillFollower { node: Some(2), restart_after: None }));
        assert_eq!(follower.label(), "kill-follower(2)");
        let mut partition = spec(Some("1s"), None, "partition-leader", None);
        partition.duration = Some(HumanDuration(Duration::from_secs(1)));
        let cut = own(ConsensusAction::PartitionLeader { duration: Some(Duration::from_secs(1)) });
        assert_eq!(resolve(&partition).unwrap(), cut);
        partition.point = Some(CrashPoint::Now);
        assert!(resolve(&partition).unwrap_err().contains("`point`"));
        assert_eq!(
            resolve(&spec(Some("1s"), None, "restart", None)).unwrap(),
            own(ConsensusAction::Restart { node: None })
        );
        assert_eq!(resolve(&spec(Some("1s"), None, "restart", Some(1))).unwrap().label(), "restart(1)");
    }
}
