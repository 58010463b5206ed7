//! The event controller: fires scheduled events (resizes, faults) at their time or once
//! enough measured operations have completed, applies them through the system under test, and
//! records when each fired and how long it took to apply. Events are applied one at a time,
//! as they fall due (in file order when several are due at once); count triggers are checked
//! every millisecond.

use super::clock::Clock;
use super::worker::sleep_until;
use crate::recorder::PaddedCounter;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};
use targets::target::{EventReport, EventStatus, System};
use workloads::{Event, Trigger};

/// How often count-triggered events are checked.
const COUNT_POLL: Duration = Duration::from_millis(1);

/// An event and what became of it.
#[derive(Clone, Debug)]
pub struct FiredEvent {
    pub index: usize,
    pub event: Event,
    /// When it fired, from the start of the measured phase; `None` if never reached.
    pub fired_at: Option<Duration>,
    /// How long the system took to apply it.
    pub apply_duration: Option<Duration>,
    pub report: EventReport,
}

/// Fires `events` against `system` until they are all done or `stop` is raised; events
/// not reached are reported as such.
pub async fn run_events<C: Clock, S: System>(
    system: Arc<S>,
    events: Vec<Event>,
    measure_start: Instant,
    counters: Arc<Vec<Arc<PaddedCounter>>>,
    stop: Arc<AtomicBool>,
) -> Vec<FiredEvent> {
    let mut fired = Vec::with_capacity(events.len());
    let mut pending: Vec<(usize, Event)> = events.into_iter().enumerate().collect();
    while !pending.is_empty() {
        let due = pending.iter().position(|(_, event)| is_due::<C>(event.trigger, measure_start, &counters));
        let Some(position) = due else {
            let wake = next_wake::<C>(&pending, measure_start);
            if !sleep_until::<C>(wake, &stop).await {
                break;
            }
            continue;
        };
        let (index, event) = pending.remove(position);
        let started = C::now();
        let report = system.apply_event(&event).await;
        let finished = C::now();
        fired.push(FiredEvent {
            index,
            event,
            fired_at: Some(started.saturating_duration_since(measure_start)),
            apply_duration: Some(finished - started),
            report,
        });
    }
    for (index, event) in pending {
        let report =
            EventReport { status: EventStatus::NotReached, message: Some("the run ended first".into()), resize: None };
        fired.push(FiredEvent { index, event, fired_at: None, apply_duration: None, report });
    }
    fired.sort_by_key(|f| f.index);
    fired
}

fn is_due<C: Clock>(trigger: Trigger, measure_start: Instant, counters: &[Arc<PaddedCounter>]) -> bool {
    match trigger {
        Trigger::At(at) => C::now() >= measure_start + at,
        Trigger::AfterOps(ops) => counters.iter().map(|c| c.get()).sum::<u64>() >= ops,
    }
}

/// When to look again: the earliest time trigger, or soon if a count trigger is pending.
fn next_wake<C: Clock>(pending: &[(usize, Event)], measure_start: Instant) -> Instant {
    pending
        .iter()
        .map(|(_, event)| match event.trigger {
            Trigger::At(at) => measure_start + at,
            Trigger::AfterOps(_) => C::now() + COUNT_POLL,
        })
        .min()
        .unwrap_or_else(C::now)
}
