//! The commit family's actions: a coordinator or a participant crashes at a point of the
//! two-phase commit protocol, and restarts from its log. (It also takes the shared message
//! faults.)

use super::{Actions, EventSpec};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// A crash of one node of a two-phase commit run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum CommitAction {
    /// Coordinator `node` (an index among the coordinators) crashes when the protocol next
    /// reaches `point`, and restarts from its log `restart_after` later (or at the end of the
    /// run, when the checkers recover everything).
    CrashCoordinator { node: u32, point: CrashPoint, restart_after: Option<Duration> },
    /// Participant `node` crashes at `point`, and restarts `restart_after` later.
    CrashParticipant { node: u32, point: CrashPoint, restart_after: Option<Duration> },
}

/// Where in a commit protocol a node crashes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CrashPoint {
    /// At once, wherever it is.
    Now,
    /// Participant: on its next prepare request, before it logs or votes.
    BeforeVote,
    /// Participant: right after it sends its next yes vote.
    AfterVote,
    /// Coordinator: once it holds every vote of a transaction that can commit, before it
    /// decides (participants are left prepared and in doubt; presumed abort aborts it).
    AfterVotes,
    /// Coordinator: right after it forces a commit decision, before anyone hears of it
    /// (recovery must resend the commit).
    AfterDecision,
}

impl CrashPoint {
    /// The name used in files and rows.
    pub fn as_str(self) -> &'static str {
        match self {
            CrashPoint::Now => "now",
            CrashPoint::BeforeVote => "before-vote",
            CrashPoint::AfterVote => "after-vote",
            CrashPoint::AfterVotes => "after-votes",
            CrashPoint::AfterDecision => "after-decision",
        }
    }
}

impl CommitAction {
    /// A short label for CSV rows: `crash-coordinator(0,after-votes)`.
    pub fn label(&self) -> String {
        match self {
            CommitAction::CrashCoordinator { node, point, .. } => {
                format!("crash-coordinator({node},{})", point.as_str())
            }
            CommitAction::CrashParticipant { node, point, .. } => {
                format!("crash-participant({node},{})", point.as_str())
            }
        }
    }
}

impl Actions for CommitAction {
    const NAMES: &'static [&'static str] = &["crash-coordinator", "crash-participant"];

    fn fields(_: &str) -> &'static [&'static str] {
        &["point", "restart_after"]
    }

    fn parse(spec: &EventSpec) -> Result<Self, String> {
        let restart_after = spec.restart_after.map(|d| d.0);
        Ok(match spec.action.as_str() {
            "crash-coordinator" => CommitAction::CrashCoordinator {
                node: spec.node.unwrap_or(0),
                point: crash_point(spec, &[CrashPoint::Now, CrashPoint::AfterVotes, CrashPoint::AfterDecision])?,
                restart_after,
            },
            _ => CommitAction::CrashParticipant {
                node: spec.node.ok_or("`crash-participant` needs `node = <index>`")?,
                point: crash_point(spec, &[CrashPoint::Now, CrashPoint::BeforeVote, CrashPoint::AfterVote])?,
                restart_after,
            },
        })
    }
}

/// The crash point `spec` gives (default `now`), if it is one of `allowed`.
fn crash_point(spec: &EventSpec, allowed: &[CrashPoint]) -> Result<CrashPoint, String> {
    let point = spec.point.unwrap_or(CrashPoint::Now);
    if allowed.contains(&point) {
        return Ok(point);
    }
    let names: Vec<_> = allowed.iter().map(|p| p.as_str()).collect();
    Err(format!("`{}` cannot crash at `{}` (points: {})", spec.action, point.as_str(), names.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::super::EventAction;
    use super::super::tests::spec;
    use super::*;
    use crate::units::HumanDuration;

    #[test]
    fn resolves_crashes_and_refuses_points_of_the_other_role() {
        let mut crash = spec(Some("1s"), None, "crash-coordinator", None);
        crash.point = Some(CrashPoint::AfterVotes);
        crash.restart_after = Some(HumanDuration(Duration::from_millis(300)));
        let event = crash.resolve("commit").unwrap();
        assert_eq!(
            event.action,
            EventAction::Commit(CommitAction::CrashCoordinator {
                node: 0,
                point: CrashPoint::AfterVotes,
                restart_after: Some(Duration::from_millis(300))
            })
        );
        assert_eq!(event.action.label(), "crash-coordinator(0,after-votes)");
        crash.point = Some(CrashPoint::BeforeVote);
        assert!(crash.resolve("commit").unwrap_err().contains("before-vote"));
        assert!(spec(Some("1s"), None, "crash-participant", None).resolve("commit").unwrap_err().contains("node"));
        let mut misplaced = spec(Some("1s"), None, "crash-participant", Some(1));
        misplaced.loss = Some(crate::units::Fraction(0.1));
        assert!(misplaced.resolve("commit").unwrap_err().contains("`loss`"));
    }
}
