//! Event schedules: things that happen to the system under test during a run, at a time or
//! after a number of operations — a node added or removed; faults: a node slowed down by a
//! factor and restored (a transient degradation), a node killed (a crashed backend); later
//! faults (pause, partition) in the families that check safety.
//!
//! Times count from the start of the measured phase (after warm-up), and operation counts
//! count measured operations, so an event lands at the same place in the measurement whatever
//! the warm-up.

use crate::units::{Fraction, HumanDuration};
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
    /// Fault: server `node` (of the servers the harness started) is killed (SIGKILL) and, if
    /// `restart_after` is given, started again on the same port that long after (empty, with
    /// persistence off); without it, it stays down to the end of the run.
    KillServer { node: u32, restart_after: Option<Duration> },
    /// Coordinator `node` (an index among the coordinators) crashes when the protocol next
    /// reaches `point`, and restarts from its log `restart_after` later (or at the end of the
    /// run, when the checkers recover everything).
    CrashCoordinator { node: u32, point: CrashPoint, restart_after: Option<Duration> },
    /// Participant `node` crashes at `point`, and restarts `restart_after` later.
    CrashParticipant { node: u32, point: CrashPoint, restart_after: Option<Duration> },
    /// From now on (for `duration`, if given) every message is lost with probability
    /// `loss_ppm` / 1,000,000.
    MessageLoss { loss_ppm: u32, duration: Option<Duration> },
    /// From now on (for `duration`, if given) every message takes `delay` plus up to `jitter`
    /// longer, one way.
    MessageDelay { delay: Duration, jitter: Duration, duration: Option<Duration> },
    /// Participant `node` is cut off from every other node and client (for `duration`, if
    /// given).
    Partition { node: u32, duration: Option<Duration> },
    /// Every message fault (loss, delay, partition) ends.
    Heal,
    /// Consensus: the replica leading now is killed (its process, or its task in-process); it
    /// restarts from its log `restart_after` later (or with `restart`, or at the end of the
    /// run).
    KillLeader { restart_after: Option<Duration> },
    /// Consensus: replica `node` (an index), or by default the first replica that does not
    /// lead now, is killed; it restarts from its log `restart_after` later.
    KillFollower { node: Option<u32>, restart_after: Option<Duration> },
    /// Consensus: the replica leading now is cut off from every other replica (its clients
    /// still reach it), for `duration` if given: the others must elect a new leader, and the
    /// old one must stop answering.
    PartitionLeader { duration: Option<Duration> },
    /// Consensus: replica `node`, or every replica that is down, starts again from its log.
    Restart { node: Option<u32> },
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
            EventAction::PauseHolder { duration } => format!("pause-holder({})", HumanDuration(*duration)),
            EventAction::KillHolder => "kill-holder".into(),
            EventAction::RestartServer { node } => format!("restart-server({node})"),
            EventAction::KillServer { node, .. } => format!("kill-server({node})"),
            EventAction::CrashCoordinator { node, point, .. } => {
                format!("crash-coordinator({node},{})", point.as_str())
            }
            EventAction::CrashParticipant { node, point, .. } => {
                format!("crash-participant({node},{})", point.as_str())
            }
            EventAction::MessageLoss { loss_ppm, .. } => format!("message-loss({})", f64::from(*loss_ppm) / 1e6),
            EventAction::MessageDelay { delay, .. } => format!("message-delay({})", HumanDuration(*delay)),
            EventAction::Partition { node, .. } => format!("partition({node})"),
            EventAction::Heal => "heal".into(),
            EventAction::KillLeader { .. } => "kill-leader".into(),
            EventAction::KillFollower { node: None, .. } => "kill-follower".into(),
            EventAction::KillFollower { node: Some(node), .. } => format!("kill-follower({node})"),
            EventAction::PartitionLeader { .. } => "partition-leader".into(),
            EventAction::Restart { node: None } => "restart".into(),
            EventAction::Restart { node: Some(node) } => format!("restart({node})"),
            EventAction::SlowNode { node, factor } => format!("slow-node({node},x{})", factor.get()),
            EventAction::RestoreNode { node } => format!("restore-node({node})"),
            EventAction::KillNode { node } => format!("kill-node({node})"),
            EventAction::FailNode { node, error_ppm } => format!("fail-node({node},{})", f64::from(*error_ppm) / 1e6),
            EventAction::FlapNode { node, period } => format!("flap-node({node},{})", HumanDuration(*period)),
        }
    }

    /// The node a fault applies to (slow, restore, kill, fail, flap).
    pub fn fault_node(&self) -> Option<u32> {
        match *self {
            EventAction::SlowNode { node, .. }
            | EventAction::RestoreNode { node }
            | EventAction::KillNode { node }
            | EventAction::FailNode { node, .. }
            | EventAction::FlapNode { node, .. } => Some(node),
            _ => None,
        }
    }

    /// Whether this is a fault (as opposed to a resize).
    pub fn is_fault(&self) -> bool {
        !matches!(self, EventAction::AddNode { .. } | EventAction::RemoveNode { .. } | EventAction::RemoveLast)
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
    /// `add-node`, `remove-node`, `remove-last`, `pause-holder`, `kill-holder`,
    /// `restart-server`, `kill-server`, `crash-coordinator`, `crash-participant`,
    /// `message-loss`, `message-delay`, `partition`, `heal`, `slow-node`, `restore-node`,
    /// `kill-node`, `fail-node`, `flap-node`, `kill-leader`, `kill-follower`,
    /// `partition-leader` or `restart`.
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
    /// Checks the fields against each other; the error names the field.
    pub fn resolve(&self) -> Result<Event, String> {
        let trigger = match (self.at, self.after_ops) {
            (Some(at), None) => Trigger::At(at.0),
            (None, Some(ops)) => Trigger::AfterOps(ops),
            (Some(_), Some(_)) => return Err("give either `at` or `after_ops`, not both".into()),
            (None, None) => return Err("needs a trigger: `at = \"2s\"` or `after_ops = 1000`".into()),
        };
        self.check_fields()?;
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
            "kill-server" => {
                EventAction::KillServer { node: self.node.unwrap_or(0), restart_after: self.restart_after.map(|d| d.0) }
            }
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
            "fail-node" => EventAction::FailNode {
                node: self.fault_node()?,
                error_ppm: (self.errors.ok_or("`fail-node` needs `errors = <fraction>`")?.0 * 1e6).round() as u32,
            },
            "flap-node" => match self.period {
                Some(period) if !period.0.is_zero() => {
                    EventAction::FlapNode { node: self.fault_node()?, period: period.0 }
                }
                _ => return Err("`flap-node` needs `period = \"500ms\"` (longer than zero)".into()),
            },
            "crash-coordinator" => EventAction::CrashCoordinator {
                node: self.node.unwrap_or(0),
                point: self.crash_point(&[CrashPoint::Now, CrashPoint::AfterVotes, CrashPoint::AfterDecision])?,
                restart_after: self.restart_after.map(|d| d.0),
            },
            "crash-participant" => EventAction::CrashParticipant {
                node: self.node.ok_or("`crash-participant` needs `node = <index>`")?,
                point: self.crash_point(&[CrashPoint::Now, CrashPoint::BeforeVote, CrashPoint::AfterVote])?,
                restart_after: self.restart_after.map(|d| d.0),
            },
            "message-loss" => EventAction::MessageLoss {
                loss_ppm: (self.loss.ok_or("`message-loss` needs `loss = <fraction>`")?.0 * 1e6).round() as u32,
                duration: self.duration.map(|d| d.0),
            },
            "message-delay" => EventAction::MessageDelay {
                delay: self.delay.ok_or("`message-delay` needs `delay = \"5ms\"`")?.0,
                jitter: self.jitter.map_or(Duration::ZERO, |d| d.0),
                duration: self.duration.map(|d| d.0),
            },
            "partition" => EventAction::Partition {
                node: self.node.ok_or("`partition` needs `node = <index>`")?,
                duration: self.duration.map(|d| d.0),
            },
            "heal" => EventAction::Heal,
            "kill-leader" if self.node.is_none() => {
                EventAction::KillLeader { restart_after: self.restart_after.map(|d| d.0) }
            }
            "kill-leader" => return Err("`kill-leader` takes no `node`: it kills whichever replica leads".into()),
            "kill-follower" => {
                EventAction::KillFollower { node: self.node, restart_after: self.restart_after.map(|d| d.0) }
            }
            "partition-leader" if self.node.is_none() => {
                EventAction::PartitionLeader { duration: self.duration.map(|d| d.0) }
            }
            "partition-leader" => {
                return Err("`partition-leader` takes no `node`: it cuts off whichever replica leads".into());
            }
            "restart" => EventAction::Restart { node: self.node },
            other => {
                return Err(format!(
                    "unknown action `{other}` (expected one of: add-node, remove-node, remove-last, pause-holder, \
                     kill-holder, restart-server, kill-server, crash-coordinator, crash-participant, \
                     message-loss, message-delay, partition, heal, slow-node, restore-node, kill-node, fail-node, \
                     flap-node, kill-leader, kill-follower, partition-leader, restart)"
                ));
            }
        };
        if self.factor.is_some() && !matches!(action, EventAction::SlowNode { .. }) {
            return Err("only `slow-node` takes a `factor`".into());
        }
        Ok(Event { trigger, action })
    }

    /// Refuses fields that the action does not take, so that a misplaced field is not
    /// silently ignored.
    fn check_fields(&self) -> Result<(), String> {
        let allowed: &[&str] = match self.action.as_str() {
            "crash-coordinator" | "crash-participant" => &["point", "restart_after"],
            "kill-server" => &["restart_after"],
            "kill-leader" | "kill-follower" => &["restart_after"],
            "message-loss" => &["loss", "duration"],
            "message-delay" => &["delay", "jitter", "duration"],
            "partition" | "pause-holder" | "partition-leader" => &["duration"],
            "slow-node" => &["factor"],
            "fail-node" => &["errors"],
            "flap-node" => &["period"],
            _ => &[],
        };
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

    fn crash_point(&self, allowed: &[CrashPoint]) -> Result<CrashPoint, String> {
        let point = self.point.unwrap_or(CrashPoint::Now);
        if allowed.contains(&point) {
            return Ok(point);
        }
        let names: Vec<_> = allowed.iter().map(|p| p.as_str()).collect();
        Err(format!("`{}` cannot crash at `{}` (points: {})", self.action, point.as_str(), names.join(", ")))
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

    #[test]
    fn fail_and_flap_need_their_fraction_and_period() {
        let mut fail = spec(Some("1s"), None, "fail-node", Some(2));
        assert!(fail.resolve().unwrap_err().contains("errors"));
        fail.errors = Some(Fraction(0.2));
        let event = fail.resolve().unwrap();
        assert_eq!(event.action, EventAction::FailNode { node: 2, error_ppm: 200_000 });
        assert_eq!((event.action.label().as_str(), event.action.fault_node()), ("fail-node(2,0.2)", Some(2)));
        let mut flap = spec(Some("1s"), None, "flap-node", Some(1));
        assert!(flap.resolve().unwrap_err().contains("period"));
        flap.period = Some(HumanDuration(Duration::from_millis(500)));
        assert_eq!(
            flap.resolve().unwrap().action,
            EventAction::FlapNode { node: 1, period: Duration::from_millis(500) }
        );
        flap.errors = Some(Fraction(0.1));
        assert!(flap.resolve().unwrap_err().contains("`errors`"), "a misplaced field is refused");
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
        let mut kill = spec(Some("1s"), None, "kill-server", Some(1));
        assert_eq!(kill.resolve().unwrap().action, EventAction::KillServer { node: 1, restart_after: None });
        kill.restart_after = Some(HumanDuration::parse("500ms").unwrap());
        let event = kill.resolve().unwrap();
        assert_eq!(event.action, EventAction::KillServer { node: 1, restart_after: Some(Duration::from_millis(500)) });
        assert_eq!(event.action.label(), "kill-server(1)");
        assert!(event.action.is_fault());
        kill.duration = Some(HumanDuration::parse("1s").unwrap());
        assert!(kill.resolve().unwrap_err().contains("duration"));
        let mut bad = spec(Some("1s"), None, "kill-holder", None);
        bad.duration = Some(HumanDuration::parse("1s").unwrap());
        assert!(bad.resolve().unwrap_err().contains("duration"));
    }

    #[test]
    fn resolves_fault_actions_and_refuses_misplaced_fields() {
        let mut crash = spec(Some("1s"), None, "crash-coordinator", None);
        crash.point = Some(CrashPoint::AfterVotes);
        crash.restart_after = Some(HumanDuration(Duration::from_millis(300)));
        let event = crash.resolve().unwrap();
        assert_eq!(
            event.action,
            EventAction::CrashCoordinator {
                node: 0,
                point: CrashPoint::AfterVotes,
                restart_after: Some(Duration::from_millis(300))
            }
        );
        assert_eq!(event.action.label(), "crash-coordinator(0,after-votes)");
        crash.point = Some(CrashPoint::BeforeVote);
        assert!(crash.resolve().unwrap_err().contains("before-vote"));
        let mut loss = spec(Some("1s"), None, "message-loss", None);
        assert!(loss.resolve().unwrap_err().contains("loss"));
        loss.loss = Some(Fraction(0.25));
        assert_eq!(loss.resolve().unwrap().action, EventAction::MessageLoss { loss_ppm: 250_000, duration: None });
        loss.point = Some(CrashPoint::Now);
        assert!(loss.resolve().unwrap_err().contains("`point`"));
        assert!(spec(Some("1s"), None, "crash-participant", None).resolve().unwrap_err().contains("node"));
    }

    #[test]
    fn resolves_consensus_faults() {
        let mut kill = spec(Some("1s"), None, "kill-leader", None);
        kill.restart_after = Some(HumanDuration(Duration::from_millis(500)));
        let event = kill.resolve().unwrap();
        assert_eq!(event.action, EventAction::KillLeader { restart_after: Some(Duration::from_millis(500)) });
        assert_eq!(event.action.label(), "kill-leader");
        assert!(spec(Some("1s"), None, "kill-leader", Some(1)).resolve().unwrap_err().contains("node"));
        let follower = spec(Some("1s"), None, "kill-follower", Some(2)).resolve().unwrap();
        assert_eq!(follower.action, EventAction::KillFollower { node: Some(2), restart_after: None });
        assert_eq!(follower.action.label(), "kill-follower(2)");
        let mut partition = spec(Some("1s"), None, "partition-leader", None);
        partition.duration = Some(HumanDuration(Duration::from_secs(1)));
        assert_eq!(
            partition.resolve().unwrap().action,
            EventAction::PartitionLeader { duration: Some(Duration::from_secs(1)) }
        );
        partition.point = Some(CrashPoint::Now);
        assert!(partition.resolve().unwrap_err().contains("`point`"));
        assert_eq!(
            spec(Some("1s"), None, "restart", None).resolve().unwrap().action,
            EventAction::Restart { node: None }
        );
        assert_eq!(spec(Some("1s"), None, "restart", Some(1)).resolve().unwrap().action.label(), "restart(1)");
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
