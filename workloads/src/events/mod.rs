//! Event schedules: things that happen to the system under test during a run, at a time or
//! after a number of operations.
//!
//! An event is one of the run's family's own actions (a node added to a hash ring, a lock
//! holder paused, a backend slowed down, a coordinator crashed at a protocol point, the Paxos
//! leader killed), or a fault every family shares ([`Fault`]: message loss, delay and
//! partitions of the transport, a server killed or restarted). Each family's actions are a
//! type of their own in a module of their own ([`hashing`], [`locks`], [`balancing`],
//! [`commit`], [`consensus`]), parsed where the family is known: an action of another family
//! is refused when the scenario is read, naming the event, and no family has to list the
//! actions of the others. A shared fault a family cannot apply is reported as unsupported
//! by the run.
//!
//! Times count from the start of the measured phase (after warm-up), and operation counts
//! count measured operations, so an event lands at the same place in the measurement whatever
//! the warm-up.

pub mod balancing;
pub mod commit;
pub mod consensus;
pub mod hashing;
pub mod locks;

use crate::units::{Fraction, HumanDuration};
pub use balancing::{BalancingAction, Factor};
pub use commit::{CommitAction, CrashPoint};
pub use consensus::ConsensusAction;
pub use hashing::HashingAction;
pub use locks::LocksAction;
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

/// What happens: a shared fault, or an action of the run's family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum EventAction {
    Fault(Fault),
    Hashing(HashingAction),
    Locks(LocksAction),
    Balancing(BalancingAction),
    Commit(CommitAction),
    Consensus(ConsensusAction),
}

impl EventAction {
    /// A short label for CSV rows: `add-node`, `remove-node(3)`, `message-loss(0.25)`.
    pub fn label(&self) -> String {
        match self {
            EventAction::Fault(fault) => fault.label(),
            EventAction::Hashing(action) => action.label(),
            EventAction::Locks(action) => action.label(),
            EventAction::Balancing(action) => action.label(),
            EventAction::Commit(action) => action.label(),
            EventAction::Consensus(action) => action.label(),
        }
    }

    /// Whether this is a fault (as opposed to a resize).
    pub fn is_fault(&self) -> bool {
        !matches!(self, EventAction::Hashing(action) if action.is_resize())
    }
}

/// A fault that every family may be given: the transport's message faults (applied by the
/// message-driven families) and a server killed or restarted (by the families that start
/// servers). A family that cannot apply one reports it as unsupported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum Fault {
    /// From now on (for `duration`, if given) every message is lost with probability
    /// `loss_ppm` / 1,000,000.
    MessageLoss { loss_ppm: u32, duration: Option<Duration> },
    /// From now on (for `duration`, if given) every message takes `delay` plus up to `jitter`
    /// longer, one way.
    MessageDelay { delay: Duration, jitter: Duration, duration: Option<Duration> },
    /// Node `node` is cut off from every other node and client (for `duration`, if given).
    Partition { node: u32, duration: Option<Duration> },
    /// Every message fault (loss, delay, partition) ends.
    Heal,
    /// Server `node` (of the servers the harness started) is killed and started again on the
    /// same port; with persistence off it comes back empty.
    RestartServer { node: u32 },
    /// Server `node` (of the servers the harness started) is killed (SIGKILL) and, if
    /// `restart_after` is given, started again on the same port that long after (empty, with
    /// persistence off); without it, it stays down to the end of the run.
    KillServer { node: u32, restart_after: Option<Duration> },
}

impl Fault {
    /// A short label for CSV rows.
    pub fn label(&self) -> String {
        match self {
            Fault::MessageLoss { loss_ppm, .. } => format!("message-loss({})", f64::from(*loss_ppm) / 1e6),
            Fault::MessageDelay { delay, .. } => format!("message-delay({})", HumanDuration(*delay)),
            Fault::Partition { node, .. } => format!("partition({node})"),
            Fault::Heal => "heal".into(),
            Fault::RestartServer { node } => format!("restart-server({node})"),
            Fault::KillServer { node, .. } => format!("kill-server({node})"),
        }
    }
}

impl Actions for Fault {
    const NAMES: &'static [&'static str] =
        &["message-loss", "message-delay", "partition", "heal", "restart-server", "kill-server"];

    fn fields(action: &str) -> &'static [&'static str] {
        match action {
            "message-loss" => &["loss", "duration"],
            "message-delay" => &["delay", "jitter", "duration"],
            "partition" => &["duration"],
            "kill-server" => &["restart_after"],
            _ => &[],
        }
    }

    fn parse(spec: &EventSpec) -> Result<Self, String> {
        Ok(match spec.action.as_str() {
            "message-loss" => Fault::MessageLoss {
                loss_ppm: (spec.loss.ok_or("`message-loss` needs `loss = <fraction>`")?.0 * 1e6).round() as u32,
                duration: spec.duration.map(|d| d.0),
            },
            "message-delay" => Fault::MessageDelay {
                delay: spec.delay.ok_or("`message-delay` needs `delay = \"5ms\"`")?.0,
                jitter: spec.jitter.map_or(Duration::ZERO, |d| d.0),
                duration: spec.duration.map(|d| d.0),
            },
            "partition" => Fault::Partition {
                node: spec.node.ok_or("`partition` needs `node = <index>`")?,
                duration: spec.duration.map(|d| d.0),
            },
            "heal" => Fault::Heal,
            "restart-server" => Fault::RestartServer { node: spec.node.unwrap_or(0) },
            "kill-server" => {
                Fault::KillServer { node: spec.node.unwrap_or(0), restart_after: spec.restart_after.map(|d| d.0) }
            }
            other => return Err(format!("`{other}` is not a shared fault")),
        })
    }
}

/// A family's set of actions: their names, the fields each takes, and how each is read from
/// its [`EventSpec`].
pub trait Actions: Sized {
    /// The actions' names in scenario files.
    const NAMES: &'static [&'static str];

    /// The fields (besides `at`, `after_ops`, `action` and `node`) that `action` takes.
    fn fields(action: &str) -> &'static [&'static str];

    /// Reads the action `spec` names (one of [`Actions::NAMES`]); the error names the field.
    fn parse(spec: &EventSpec) -> Result<Self, String>;
}

/// One scheduled event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Event {
    pub trigger: Trigger,
    pub action: EventAction,
}

/// An event as written in a scenario file (`[[events]]`), before its fields are checked
/// against each other and against the family.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventSpec {
    /// Time after the start of the measured phase.
    pub at: Option<HumanDuration>,
    /// Number of measured operations after which the event fires.
    pub after_ops: Option<u64>,
    /// A shared fault (`message-loss`, `message-delay`, `partition`, `heal`,
    /// `restart-server`, `kill-server`) or one of the family's actions: hashing `add-node`,
    /// `remove-node`, `remove-last`; locks `pause-holder`, `kill-holder`; balancing
    /// `slow-node`, `restore-node`, `kill-node`, `fail-node`, `flap-node`; commit
    /// `crash-coordinator`, `crash-participant`; consensus `kill-leader`, `kill-follower`,
    /// `partition-leader`, `restart`.
    pub action: String,
    /// The node the action applies to.
    pub node: Option<u32>,
    /// Crashes: where in the protocol (default `now`).
    pub point: Option<CrashPoint>,
    /// Crashes: restart from the log this long after the crash. `kill-server`: start the
    /// server again this long after the kill.
    pub restart_after: Option<HumanDuration>,
    /// Pauses: how long the holder stops. Message faults and partitions: how long they last
    /// (default: to the end of the run).
    pub duration: Option<HumanDuration>,
    /// `message-loss`: the probability that a message is lost.
    pub loss: Option<Fraction>,
    /// `message-delay`: the added one-way delay.
    pub delay: Option<HumanDuration>,
    /// `message-delay`: up to this much more, drawn per message.
    pub jitter: Option<HumanDuration>,
    /// `slow-node`: how many times slower the node becomes (at least 1).
    pub factor: Option<f64>,
    /// `fail-node`: the fraction of requests the node answers with a server error.
    pub errors: Option<Fraction>,
    /// `flap-node`: how long each failing and each healthy phase lasts.
    pub period: Option<HumanDuration>,
}

impl EventSpec {
    /// Checks the fields against each other and the action against `family`; the error names
    /// the field.
    pub fn resolve(&self, family: &str) -> Result<Event, String> {
        let trigger = match (self.at, self.after_ops) {
            (Some(at), None) => Trigger::At(at.0),
            (None, Some(ops)) => Trigger::AfterOps(ops),
            (Some(_), Some(_)) => return Err("give either `at` or `after_ops`, not both".into()),
            (None, None) => return Err("needs a trigger: `at = \"2s\"` or `after_ops = 1000`".into()),
        };
        let action = match family {
            "hashing" => self.action_of::<HashingAction>(family)?.map(EventAction::Hashing),
            "locks" => self.action_of::<LocksAction>(family)?.map(EventAction::Locks),
            "balancing" => self.action_of::<BalancingAction>(family)?.map(EventAction::Balancing),
            "commit" => self.action_of::<CommitAction>(family)?.map(EventAction::Commit),
            "consensus" => self.action_of::<ConsensusAction>(family)?.map(EventAction::Consensus),
            _ => self.action_of::<NoActions>(family)?.map(|never| match never {}),
        };
        let action = match action {
            Some(action) => action,
            None => EventAction::Fault(self.checked::<Fault>()?),
        };
        Ok(Event { trigger, action })
    }

    /// The family's action `self` names, `None` if it names a shared fault; an action that
    /// is neither is refused with the list of what the family takes.
    fn action_of<A: Actions>(&self, family: &str) -> Result<Option<A>, String> {
        if A::NAMES.contains(&self.action.as_str()) {
            return self.checked::<A>().map(Some);
        }
        if Fault::NAMES.contains(&self.action.as_str()) {
            return Ok(None);
        }
        let names: Vec<&str> = A::NAMES.iter().chain(Fault::NAMES).copied().collect();
        Err(format!("unknown action `{}` for the {family} family (expected one of: {})", self.action, names.join(", ")))
    }

    /// Reads the action of `A` after refusing fields it does not take.
    fn checked<A: Actions>(&self) -> Result<A, String> {
        self.check_fields(A::fields(&self.action))?;
        A::parse(self)
    }

    /// Refuses fields that the action does not take, so that a misplaced field is not
    /// silently ignored.
    fn check_fields(&self, allowed: &[&str]) -> Result<(), String> {
        let given = [
            ("point", self.point.is_some()),
            ("restart_after", self.restart_after.is_some()),
            ("duration", self.duration.is_some()),
            ("loss", self.loss.is_some()),
            ("delay", self.delay.is_some()),
            ("jitter", self.jitter.is_some()),
            ("factor", self.factor.is_some()),
            ("errors", self.errors.is_some()),
            ("period", self.period.is_some()),
        ];
        match given.iter().find(|(name, set)| *set && !allowed.contains(name)) {
            Some((name, _)) => Err(format!("`{}` takes no `{name}`", self.action)),
            None => Ok(()),
        }
    }

    /// The node a family action needs.
    fn needs_node(&self) -> Result<u32, String> {
        self.node.ok_or_else(|| format!("`{}` needs `node = <id>`", self.action))
    }

    /// Refuses a `node` on an action that picks its own.
    fn takes_no_node(&self, why: &str) -> Result<(), String> {
        match self.node {
            Some(_) => Err(format!("`{}` takes no `node`{why}", self.action)),
            None => Ok(()),
        }
    }
}

/// A family without actions of its own (`noop`, or a family this crate does not know).
enum NoActions {}

impl Actions for NoActions {
    const NAMES: &'static [&'static str] = &[];

    fn fields(_: &str) -> &'static [&'static str] {
        &[]
    }

    fn parse(spec: &EventSpec) -> Result<Self, String> {
        Err(format!("unknown action `{}`", spec.action))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An event with trigger `at` or `after_ops`, `action` and `node`, and no other field.
    pub(crate) fn spec(at: Option<&str>, after_ops: Option<u64>, action: &str, node: Option<u32>) -> EventSpec {
        EventSpec {
            at: at.map(|a| HumanDuration::parse(a).unwrap()),
            after_ops,
            action: action.into(),
            node,
            point: None,
            restart_after: None,
            duration: None,
            loss: None,
            delay: None,
            jitter: None,
            factor: None,
            errors: None,
            period: None,
        }
    }

    /// The action `spec` resolves to in `family`, picked out of its [`EventAction`] by `own`.
    pub(crate) fn resolve_as<A>(
        spec: &EventSpec,
        family: &str,
        own: impl Fn(EventAction) -> Option<A>,
    ) -> Result<A, String> {
        let action = spec.resolve(family)?.action;
        Ok(own(action).unwrap_or_else(|| panic!("not a {family} action: {action:?}")))
    }

    #[test]
    fn resolves_shared_faults_for_every_family() {
        let mut loss = spec(Some("1s"), None, "message-loss", None);
        assert!(loss.resolve("commit").unwrap_err().contains("loss"));
        loss.loss = Some(Fraction(0.25));
        for family in ["commit", "consensus", "hashing", "noop"] {
            assert_eq!(
                loss.resolve(family).unwrap().action,
                EventAction::Fault(Fault::MessageLoss { loss_ppm: 250_000, duration: None })
            );
        }
        loss.point = Some(CrashPoint::Now);
        assert!(loss.resolve("commit").unwrap_err().contains("`point`"));
        let mut kill = spec(Some("1s"), None, "kill-server", Some(1));
        assert_eq!(
            kill.resolve("hashing").unwrap().action,
            EventAction::Fault(Fault::KillServer { node: 1, restart_after: None })
        );
        kill.restart_after = Some(HumanDuration::parse("500ms").unwrap());
        let event = kill.resolve("locks").unwrap();
        assert_eq!(
            event.action,
            EventAction::Fault(Fault::KillServer { node: 1, restart_after: Some(Duration::from_millis(500)) })
        );
        assert_eq!(event.action.label(), "kill-server(1)");
        assert!(event.action.is_fault());
        kill.duration = Some(HumanDuration::parse("1s").unwrap());
        assert!(kill.resolve("hashing").unwrap_err().contains("duration"));
        let restart = spec(Some("1s"), None, "restart-server", Some(2)).resolve("locks").unwrap();
        assert_eq!(restart.action, EventAction::Fault(Fault::RestartServer { node: 2 }));
    }

    #[test]
    fn another_familys_action_is_refused_naming_it() {
        let error = spec(Some("1s"), None, "kill-leader", None).resolve("commit").unwrap_err();
        assert!(error.contains("`kill-leader`") && error.contains("commit family"), "{error}");
        assert!(error.contains("crash-coordinator") && !error.contains("add-node"), "{error}");
        let error = spec(Some("1s"), None, "add-node", None).resolve("noop").unwrap_err();
        assert!(error.contains("`add-node`") && error.contains("noop"), "{error}");
    }

    #[test]
    fn errors_name_the_problem() {
        assert!(spec(None, None, "add-node", None).resolve("hashing").unwrap_err().contains("trigger"));
        assert!(spec(Some("1s"), Some(1), "add-node", None).resolve("hashing").unwrap_err().contains("not both"));
        assert!(spec(Some("1s"), None, "explode", None).resolve("hashing").unwrap_err().contains("explode"));
    }
}
