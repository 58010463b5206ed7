//! How requests spread over nodes, from the driver's per-node counts: each node's share,
//! imbalance against the weight-proportional fair share, and the time the traffic took to
//! move off a degraded node and back after it recovered.
//!
//! Reaction times are read from the measured time series, so their resolution is the
//! interval length. For a fault on node b at time t (`slow-node` or `kill-node`), b's
//! *baseline share* is its share of the requests in the intervals that end by t (or, if there
//! are none, its fair share). The **drain time** is from t to the end of the first interval
//! starting at or after t, and before b's `restore-node` at t', in which b's share is below
//! half its baseline; the **return time**, for a backend that drained, is from t' to the end
//! of the first interval starting at or after t' in which b's share is back above half its
//! baseline. Neither exists if it did not happen (a strategy that never moves traffic off a
//! backend has neither).

use crate::driver::controller::FiredEvent;
use crate::recorder::NodeInterval;
use workloads::EventAction;
use workloads::events::BalancingAction;

/// Each node's share of `counts` (empty if there are none).
pub fn shares(counts: &[u64], nodes: usize) -> Vec<f64> {
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return Vec::new();
    }
    (0..nodes.max(counts.len())).map(|i| counts.get(i).copied().unwrap_or(0) as f64 / total as f64).collect()
}

/// Shares as CSV text: `0.1000;0.0990;...` in node order.
pub fn describe(shares: &[f64]) -> String {
    shares.iter().map(|s| format!("{s:.4}")).collect::<Vec<_>>().join(";")
}

/// Each node's fair share: weight-proportional, or equal without weights.
fn fair_shares(weights: &[f64], nodes: usize) -> Vec<f64> {
    let total: f64 = weights.iter().sum();
    if weights.len() != nodes || total <= 0.0 {
        return vec![1.0 / nodes as f64; nodes];
    }
    weights.iter().map(|w| w / total).collect()
}

/// (most-loaded node's share over its fair share, coefficient of variation of share over
/// fair share).
pub fn imbalance(shares: &[f64], weights: &[f64]) -> Option<(f64, f64)> {
    if shares.is_empty() {
        return None;
    }
    let fair = fair_shares(weights, shares.len());
    let ratios: Vec<f64> = shares.iter().zip(&fair).map(|(s, f)| s / f).collect();
    let mean = ratios.iter().sum::<f64>() / ratios.len() as f64;
    let variance = ratios.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / ratios.len() as f64;
    let peak = ratios.iter().cloned().fold(f64::MIN, f64::max);
    Some((round4(peak), round4(variance.sqrt() / mean)))
}

fn round4(value: f64) -> f64 {
    (value * 10_000.0).round() / 10_000.0
}

/// (drain time, return time) in seconds for the first fault of the run and the restore of
/// the same node after it.
pub fn reaction_times(series: &[NodeInterval], events: &[FiredEvent], weights: &[f64]) -> (Option<f64>, Option<f64>) {
    let fired = |e: &FiredEvent| e.fired_at.map(|t| (t.as_secs_f64(), e.event.action));
    let mut fired_events = events.iter().filter_map(fired);
    let Some((fault_at, node)) = fired_events.find_map(|(t, action)| match action {
        EventAction::Balancing(BalancingAction::SlowNode { node, .. } | BalancingAction::KillNode { node }) => {
            Some((t, node as usize))
        }
        _ => None,
    }) else {
        return (None, None);
    };
    let restore_at = fired_events.find_map(|(t, action)| match action {
        EventAction::Balancing(BalancingAction::RestoreNode { node: n }) if n as usize == node => Some(t),
        _ => None,
    });
    let nodes = series.iter().map(|i| i.node_ops.len()).max().unwrap_or(0).max(node + 1);
    let share = |interval: &NodeInterval| shares(&interval.node_ops, nodes).get(node).copied();
    let before: Vec<u64> =
        series.iter().filter(|i| i.start_s + i.length_s <= fault_at + 1e-9).fold(vec![0; nodes], |mut sum, i| {
            crate::recorder::add_counts(&mut sum, &i.node_ops);
            sum
        });
    let baseline = shares(&before, nodes).get(node).copied().unwrap_or_else(|| fair_shares(weights, nodes)[node]);
    let first_between = |from: f64, until: f64, done: &dyn Fn(f64) -> bool| {
        series
            .iter()
            .filter(|i| i.start_s + 1e-9 >= from && i.start_s < until)
            .find(|i| share(i).is_some_and(done))
            .map(|i| round4(i.start_s + i.length_s - from))
    };
    let drain = first_between(fault_at, restore_at.unwrap_or(f64::INFINITY), &|s| s < baseline / 2.0);
    let back = match (drain, restore_at) {
        (Some(_), Some(t)) => first_between(t, f64::INFINITY, &|s| s >= baseline / 2.0),
        _ => None,
    };
    (drain, back)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use targets::target::{EventReport, EventStatus};
    use workloads::{Event, Trigger};

    fn interval(start_s: f64, node_ops: Vec<u64>) -> NodeInterval {
        let slot = crate::recorder::Slot { phase: crate::recorder::Phase::Measure, index: (start_s * 2.0) as u64 };
        NodeInterval { slot, start_s, length_s: 0.5, node_ops }
    }

    fn slow(node: u32, factor: f64) -> EventAction {
        EventAction::Balancing(BalancingAction::SlowNode {
            node,
            factor: workloads::events::Factor::new(factor).unwrap(),
        })
    }

    fn fired(at_s: f64, action: EventAction) -> FiredEvent {
        FiredEvent {
            index: 0,
            event: Event { trigger: Trigger::At(Duration::from_secs_f64(at_s)), action },
            fired_at: Some(Duration::from_secs_f64(at_s)),
            apply_duration: Some(Duration::ZERO),
            report: EventReport { status: EventStatus::Ok, message: None, resize: None },
        }
    }

    #[test]
    fn imbalance_is_against_the_weighted_fair_share() {
        let (peak, cv) = imbalance(&[0.25, 0.75], &[1.0, 3.0]).unwrap();
        assert_eq!((peak, cv), (1.0, 0.0));
        let (peak, _) = imbalance(&[0.5, 0.25, 0.25], &[]).unwrap();
        assert_eq!(peak, 1.5);
    }

    #[test]
    fn drain_and_return_are_read_from_the_series() {
        // Node 1 has half the traffic, drops to 10% after a slowdown at 1.0 s (seen in the
        // interval starting at 1.5 s), and is back at 40% in the interval starting at 3.0 s.
        let series = vec![
            interval(0.0, vec![50, 50]),
            interval(0.5, vec![50, 50]),
            interval(1.0, vec![70, 30]),
            interval(1.5, vec![90, 10]),
            interval(2.0, vec![90, 10]),
            interval(2.5, vec![80, 20]),
            interval(3.0, vec![60, 40]),
        ];
        let events = vec![
            fired(1.0, slow(1, 10.0)),
            fired(2.5, EventAction::Balancing(BalancingAction::RestoreNode { node: 1 })),
        ];
        assert_eq!(reaction_times(&series, &events, &[]), (Some(1.0), Some(1.0)));
        assert_eq!(reaction_times(&series, &events[..1], &[]), (Some(1.0), None));
        assert_eq!(reaction_times(&series, &[], &[]), (None, None));
        // A backend restored before its traffic left never drained, and so never returned.
        let early =
            vec![events[0].clone(), fired(1.5, EventAction::Balancing(BalancingAction::RestoreNode { node: 1 }))];
        assert_eq!(reaction_times(&series, &early, &[]), (None, None));
    }
}
