//! Injected network faults: one-way delay (with jitter), loss, and partitions that cut nodes
//! off from everyone, decided per message by the sender from a seeded generator.
//!
//! Both transports use the same [`Faults`]: the in-process network holds one for all its
//! endpoints; each TCP process holds its own, set by the harness with a control frame, so a
//! partition is enforced on both sides. With no fault configured the check is one atomic
//! load. Faults apply between protocol nodes only: a client's link (a driver worker's, the
//! harness's) stays clean, so that what is measured is the protocol's reaction to a faulty
//! network between its nodes, the same in-process and over TCP.

use super::{CLIENT_BASE, NodeId};
use rand::{Rng as _, SeedableRng as _};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// The faults in force.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FaultConfig {
    /// Probability that a message is dropped, in [0, 1].
    pub loss: f64,
    /// One-way delay added to every message.
    pub delay: Duration,
    /// Each message's delay is `delay` plus a uniform draw in `[0, jitter]`.
    pub jitter: Duration,
    /// Nodes cut off from every other endpoint (both directions).
    pub isolated: Vec<NodeId>,
}

impl FaultConfig {
    /// Whether no fault is configured.
    pub fn is_clear(&self) -> bool {
        self.loss <= 0.0 && self.delay.is_zero() && self.jitter.is_zero() && self.isolated.is_empty()
    }
}

/// The fate of one message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    Drop,
    /// Deliver after this delay.
    Deliver(Duration),
}

/// Faults shared by the senders of one network (or process).
#[derive(Debug)]
pub struct Faults {
    active: AtomicBool,
    state: Mutex<(FaultConfig, Xoshiro256PlusPlus)>,
}

impl Faults {
    /// No faults; later draws come from `seed`.
    pub fn new(seed: u64) -> Self {
        Faults {
            active: AtomicBool::new(false),
            state: Mutex::new((FaultConfig::default(), Xoshiro256PlusPlus::seed_from_u64(seed))),
        }
    }

    /// Replaces the faults in force.
    pub fn set(&self, config: FaultConfig) {
        let mut state = self.state.lock().expect("the fault state is never poisoned");
        self.active.store(!config.is_clear(), Ordering::Release);
        state.0 = config;
    }

    /// The faults in force.
    pub fn config(&self) -> FaultConfig {
        self.state.lock().expect("the fault state is never poisoned").0.clone()
    }

    /// What happens to a message from `from` to `to`.
    #[inline]
    pub fn fate(&self, from: NodeId, to: NodeId) -> Fate {
        if !self.active.load(Ordering::Acquire) || from >= CLIENT_BASE || to >= CLIENT_BASE {
            return Fate::Deliver(Duration::ZERO);
        }
        let mut state = self.state.lock().expect("the fault state is never poisoned");
        let (config, rng) = &mut *state;
        if config.isolated.contains(&from) || config.isolated.contains(&to) {
            return Fate::Drop;
        }
        if config.loss > 0.0 && rng.random::<f64>() < config.loss {
            return Fate::Drop;
        }
        let jitter = if config.jitter.is_zero() {
            Duration::ZERO
        } else {
            Duration::from_nanos(rng.random_range(0..=config.jitter.as_nanos() as u64))
        };
        Fate::Deliver(config.delay + jitter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isolation_drops_both_ways_and_loss_is_seeded() {
        let faults = Faults::new(1);
        assert_eq!(faults.fate(0, 1), Fate::Deliver(Duration::ZERO));
        faults.set(FaultConfig { isolated: vec![2], ..FaultConfig::default() });
        assert_eq!(faults.fate(2, 1), Fate::Drop);
        assert_eq!(faults.fate(1, 2), Fate::Drop);
        assert_eq!(faults.fate(0, 1), Fate::Deliver(Duration::ZERO));
        assert_eq!(faults.fate(CLIENT_BASE, 2), Fate::Deliver(Duration::ZERO), "clients are exempt");
        let draws = |seed| {
            let faults = Faults::new(seed);
            faults.set(FaultConfig { loss: 0.5, delay: Duration::from_millis(1), ..FaultConfig::default() });
            (0..200).map(|_| faults.fate(0, 1)).collect::<Vec<_>>()
        };
        let a = draws(7);
        assert_eq!(a, draws(7));
        let dropped = a.iter().filter(|f| **f == Fate::Drop).count();
        assert!((60..140).contains(&dropped), "{dropped} of 200 dropped at p = 0.5");
    }
}
