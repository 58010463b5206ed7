//! Injected network faults: one-way delay (with jitter), loss, and partitions that cut nodes
//! off from everyone, decided per message by the sender from a seeded generator.
//!
//! Both transports use the same [`Faults`]: the in-process network holds one for all its
//! endpoints; each TCP process holds its own, set by the harness with a control frame, so a
//! partition is enforced on both sides. With no fault configured the check is one atomic
//! load. Faults apply between protocol nodes only: a client's link (a driver worker's, the
//! harness's) stays clean, so that what is measured is the protocol's reaction to a faulty
//! network between its nodes, the same in-process and over TCP.

use super::{CLIENT_BASE, PeerId};
use crate::sync::Recover as _;
use rand::{Rng as _, SeedableRng as _};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use workloads::Fault;

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
    pub isolated: Vec<PeerId>,
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
        let mut state = self.state.locked();
        self.active.store(!config.is_clear(), Ordering::Release);
        state.0 = config;
    }

    /// The faults in force.
    pub fn config(&self) -> FaultConfig {
        self.state.locked().0.clone()
    }

    /// What happens to a message from `from` to `to`.
    #[inline]
    pub fn fate(&self, from: PeerId, to: PeerId) -> Fate {
        if !self.active.load(Ordering::Acquire) || from >= CLIENT_BASE || to >= CLIENT_BASE {
            return Fate::Deliver(Duration::ZERO);
        }
        let mut state = self.state.locked();
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

/// How one change to the faults in force is made, and undone when its event's duration ends.
pub struct FaultChange {
    pub apply: Box<dyn FnOnce(&mut FaultConfig) + Send>,
    pub undo: Box<dyn FnOnce(&mut FaultConfig) + Send>,
    /// How long it lasts (`None`: until changed again).
    pub duration: Option<Duration>,
}

impl FaultChange {
    /// The change a shared message fault makes — `message-loss`, `message-delay`, `heal`, and
    /// a `partition` that cuts `isolate` off — or `None` for a fault that is not a message
    /// fault (a server's).
    pub fn of(fault: &Fault, isolate: Option<PeerId>) -> Option<FaultChange> {
        let change = |apply: Box<dyn FnOnce(&mut FaultConfig) + Send>,
                      undo: Box<dyn FnOnce(&mut FaultConfig) + Send>,
                      duration| { Some(FaultChange { apply, undo, duration }) };
        match *fault {
            Fault::MessageLoss { loss_ppm, duration } => {
                let loss = f64::from(loss_ppm) / 1e6;
                change(Box::new(move |f| f.loss = loss), Box::new(|f| f.loss = 0.0), duration)
            }
            Fault::MessageDelay { delay, jitter, duration } => change(
                Box::new(move |f| {
                    f.delay = delay;
                    f.jitter = jitter;
                }),
                Box::new(|f| {
                    f.delay = Duration::ZERO;
                    f.jitter = Duration::ZERO;
                }),
                duration,
            ),
            Fault::Heal => change(Box::new(|f| *f = FaultConfig::default()), Box::new(|_| {}), None),
            Fault::Partition { duration, .. } => Some(FaultChange::isolate(isolate?, duration)),
            Fault::RestartServer { .. } | Fault::KillServer { .. } => None,
        }
    }

    /// Cuts node `id` off from every other node for `duration` (to the end of the run, or a
    /// `heal`, for `None`): a `partition`, and any family action that isolates a node.
    pub fn isolate(id: PeerId, duration: Option<Duration>) -> FaultChange {
        FaultChange {
            apply: Box::new(move |f| f.isolated.push(id)),
            undo: Box::new(move |f| f.isolated.retain(|n| *n != id)),
            duration,
        }
    }
}

/// The faults in force during a run, as events change them; shared with the timers that end
/// timed faults.
#[derive(Clone, Debug, Default)]
pub struct FaultState(Arc<Mutex<FaultConfig>>);

impl FaultState {
    /// Makes `change`, sends the faults now in force to the nodes with `set`, and, if the
    /// change lasts a while, undoes it (and sends again) when that time is up.
    pub async fn change<F, Fut, E>(&self, change: FaultChange, set: F) -> Result<(), E>
    where
        F: Fn(FaultConfig) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = Result<(), E>> + Send,
        E: std::fmt::Display,
    {
        let FaultChange { apply, undo, duration } = change;
        let config = self.update(apply);
        set(config).await?;
        if let Some(duration) = duration {
            let state = self.clone();
            tokio::spawn(async move {
                tokio::time::sleep(duration).await;
                let config = state.update(undo);
                if let Err(error) = set(config).await {
                    tracing::warn!("cannot end a timed fault: {error}");
                }
            });
        }
        Ok(())
    }

    fn update(&self, change: impl FnOnce(&mut FaultConfig)) -> FaultConfig {
        let mut faults = self.0.locked();
        change(&mut faults);
        faults.clone()
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
