//! The locks family's actions: faults of a lock holder — paused while it holds the lock, or
//! dead without releasing it. (It also takes the shared server faults.)

use super::{Actions, EventSpec};
use crate::units::HumanDuration;
use serde::Serialize;
use std::time::Duration;

/// A fault of the next client to hold a lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum LocksAction {
    /// The next client to hold a lock stops for `duration` while holding it, as a process in
    /// a long GC pause would.
    PauseHolder { duration: Duration },
    /// The next client to hold a lock dies without releasing it; it comes back as a new
    /// client (new connection, session or lease).
    KillHolder,
}

impl LocksAction {
    /// A short label for CSV rows: `pause-holder(2s)`, `kill-holder`.
    pub fn label(&self) -> String {
        match self {
            LocksAction::PauseHolder { duration } => format!("pause-holder({})", HumanDuration(*duration)),
            LocksAction::KillHolder => "kill-holder".into(),
        }
    }
}

impl Actions for LocksAction {
    const NAMES: &'static [&'static str] = &["pause-holder", "kill-holder"];

    fn fields(action: &str) -> &'static [&'static str] {
        match action {
            "pause-holder" => &["duration"],
            _ => &[],
        }
    }

    fn parse(spec: &EventSpec) -> Result<Self, String> {
        if spec.action == "kill-holder" {
            spec.takes_no_node("")?;
            return Ok(LocksAction::KillHolder);
        }
        match (spec.duration, spec.node) {
            (Some(d), None) if !d.0.is_zero() => Ok(LocksAction::PauseHolder { duration: d.0 }),
            (Some(_), None) => Err("`pause-holder` needs a `duration` longer than zero".into()),
            (None, _) => Err("`pause-holder` needs `duration = \"2s\"`".into()),
            (Some(_), Some(_)) => Err("`pause-holder` takes no `node`".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::EventAction;
    use super::super::tests::spec;
    use super::*;

    #[test]
    fn resolves_holder_faults() {
        let mut pause = spec(Some("1s"), None, "pause-holder", None);
        assert!(pause.resolve("locks").unwrap_err().contains("duration"));
        pause.duration = Some(HumanDuration::parse("1500ms").unwrap());
        let event = pause.resolve("locks").unwrap();
        assert_eq!(
            event.action,
            EventAction::Locks(LocksAction::PauseHolder { duration: Duration::from_millis(1500) })
        );
        assert_eq!(event.action.label(), "pause-holder(1s 500ms)");
        assert!(event.action.is_fault());
        let kill = spec(Some("1s"), None, "kill-holder", None).resolve("locks").unwrap();
        assert_eq!(kill.action, EventAction::Locks(LocksAction::KillHolder));
        assert!(spec(Some("1s"), None, "kill-holder", Some(1)).resolve("locks").unwrap_err().contains("node"));
        let mut bad = spec(Some("1s"), None, "kill-holder", None);
        bad.duration = Some(HumanDuration::parse("1s").unwrap());
        assert!(bad.resolve("locks").unwrap_err().contains("duration"));
    }
}
