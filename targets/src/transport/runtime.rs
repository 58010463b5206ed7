//! Drives one [`Node`] over one [`Endpoint`] with one [`Log`]: the only place where a
//! sans-IO node meets time, the network and storage.
//!
//! Each turn takes one event (a control command, a delayed message falling due, a tick, or a
//! message), then up to [`MAX_STEPS_PER_TURN`] more messages that are already waiting, feeds
//! them all to the node, and ends with [`Node::on_turn_end`]. Then it carries out the turn's
//! effects: records are appended in order, **one** sync covers every forced record of the turn
//! (group commit), and the messages pushed after the turn's first forced record leave only
//! after that sync. Delaying a message until after the sync is always safe, and it is what
//! makes "log before send" hold for every message; messages pushed before any forced record
//! depend on none of the turn's forced records, so they leave at once and the peers' work
//! overlaps this node's sync. An fsync runs on a blocking thread so that the other nodes of
//! the same async runtime go on meanwhile.
//!
//! Messages that arrive with an injected delay wait in a timer heap until they are due.
//! A [`Control::Crash`] stops the node at once (unsynced records lost); [`Control::Shutdown`]
//! syncs the log first.

use super::codec;
use super::log::{Log, LogError};
use super::node::{Effect, Node, Output};
use super::{Endpoint, Incoming, PeerId};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::time::{Instant, MissedTickBehavior};

/// The most messages fed to a node in one turn (one sync covers them all).
pub const MAX_STEPS_PER_TURN: usize = 256;

/// Commands to a running node from whoever supervises it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Control {
    /// Stop at once, as if killed.
    Crash,
    /// Sync the log and stop.
    Shutdown,
}

/// Why a node stopped.
#[derive(Debug)]
pub enum Stopped {
    /// It crashed: an injected crash point, or [`Control::Crash`].
    Crashed,
    /// It was shut down cleanly.
    Shutdown,
    /// Its endpoint or its control channel closed.
    Closed,
    /// Its log failed; a node that cannot log must not go on.
    LogFailed(LogError),
}

/// Counts of what a node did, kept across its incarnations.
#[derive(Debug, Default)]
pub struct NodeCounters {
    pub messages_sent: AtomicU64,
    pub records: AtomicU64,
    pub forced_records: AtomicU64,
    /// Syncs that made forced records durable (fewer than forced records with group commit).
    pub syncs: AtomicU64,
}

impl NodeCounters {
    /// A snapshot.
    pub fn snapshot(&self) -> RuntimeStats {
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        RuntimeStats {
            messages_sent: load(&self.messages_sent),
            records: load(&self.records),
            forced_records: load(&self.forced_records),
            syncs: load(&self.syncs),
        }
    }
}

/// A snapshot of [`NodeCounters`], as nodes of every protocol report it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RuntimeStats {
    pub messages_sent: u64,
    pub records: u64,
    pub forced_records: u64,
    pub syncs: u64,
}

impl RuntimeStats {
    /// Adds `other`.
    pub fn merge(&mut self, other: &RuntimeStats) {
        self.messages_sent += other.messages_sent;
        self.records += other.records;
        self.forced_records += other.forced_records;
        self.syncs += other.syncs;
    }
}

/// A message held back by an injected delay; ordered by due time, then arrival.
struct Delayed<M> {
    due: Instant,
    seq: u64,
    from: PeerId,
    msg: M,
}

impl<M> PartialEq for Delayed<M> {
    fn eq(&self, other: &Self) -> bool {
        (self.due, self.seq) == (other.due, other.seq)
    }
}
impl<M> Eq for Delayed<M> {}
impl<M> PartialOrd for Delayed<M> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl<M> Ord for Delayed<M> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.due, self.seq).cmp(&(other.due, other.seq))
    }
}

/// What [`run`] needs besides the node.
pub struct Wiring<E, L> {
    pub endpoint: E,
    pub log: L,
    /// Time zero of the node's clock; shared by a node's incarnations so that times survive a
    /// restart.
    pub epoch: Instant,
    pub counters: Arc<NodeCounters>,
    pub control: UnboundedReceiver<Control>,
}

/// Runs `node` until it crashes, is shut down, or its endpoint closes.
pub async fn run<N: Node, E: Endpoint<N::Msg>, L: Log>(mut node: N, wiring: Wiring<E, L>) -> Stopped {
    let Wiring { mut endpoint, mut log, epoch, counters, mut control } = wiring;
    let mut out = Output::default();
    let mut delayed: BinaryHeap<Reverse<Delayed<N::Msg>>> = BinaryHeap::new();
    let mut seq = 0u64;
    let mut tick = tokio::time::interval(node.tick_every());
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    node.on_start(epoch.elapsed(), &mut out);
    loop {
        node.on_turn_end(epoch.elapsed(), &mut out);
        match execute(&mut out, &mut endpoint, log, &counters).await {
            (returned, None) => log = returned,
            (_, Some(stopped)) => return stopped,
        }
        let due = delayed.peek().map(|d| d.0.due);
        tokio::select! {
            biased;
            command = control.recv() => match command {
                Some(Control::Crash) => return Stopped::Crashed,
                Some(Control::Shutdown) => {
                    return match sync(log).await {
                        (_, Ok(())) => Stopped::Shutdown,
                        (_, Err(error)) => Stopped::LogFailed(error),
                    };
                }
                None => return Stopped::Closed,
            },
            () = sleep_until(due) => {
                let now = Instant::now();
                while delayed.peek().is_some_and(|d| d.0.due <= now) {
                    let Reverse(d) = delayed.pop().expect("peeked");
                    node.on_message(epoch.elapsed(), d.from, d.msg, &mut out);
                }
            }
            _ = tick.tick() => node.on_tick(epoch.elapsed(), &mut out),
            incoming = endpoint.recv() => {
                let Some(first) = incoming else { return Stopped::Closed };
                let mut next = Some(first);
                let mut steps = 0;
                while let Some(incoming) = next {
                    match incoming {
                        Incoming::Message { from, msg, delay } if delay.is_zero() => {
                            node.on_message(epoch.elapsed(), from, msg, &mut out);
                        }
                        Incoming::Message { from, msg, delay } => {
                            seq += 1;
                            delayed.push(Reverse(Delayed { due: Instant::now() + delay, seq, from, msg }));
                        }
                        Incoming::PeerDown(_) => {}
                        Incoming::Shutdown => {
                            let (returned, crashed) = execute(&mut out, &mut endpoint, log, &counters).await;
                            if let Some(stopped) = crashed {
                                return stopped;
                            }
                            return match sync(returned).await {
                                (_, Ok(())) => Stopped::Shutdown,
                                (_, Err(error)) => Stopped::LogFailed(error),
                            };
                        }
                    }
                    steps += 1;
                    next = if steps < MAX_STEPS_PER_TURN { endpoint.try_recv() } else { None };
                }
            }
        }
    }
}

async fn sleep_until(due: Option<Instant>) {
    match due {
        Some(due) => tokio::time::sleep_until(due).await,
        None => std::future::pending().await,
    }
}

/// Carries out the effects in `out`: records in order, and messages — at once if no forced
/// record precedes them, else after the one sync that covers every forced record. Returns
/// the log, and why the node stopped if it did.
async fn execute<M, R: serde::Serialize, E: Endpoint<M>, L: Log>(
    out: &mut Output<M, R>,
    endpoint: &mut E,
    mut log: L,
    counters: &NodeCounters,
) -> (L, Option<Stopped>) {
    if out.is_empty() {
        return (log, None);
    }
    let mut sends = Vec::new();
    let mut forced = false;
    let mut crashed = false;
    for effect in out.drain() {
        match effect {
            Effect::Append { record, force } => {
                log.append_owned(codec::encode(&record).expect("log records always encode"));
                counters.records.fetch_add(1, Ordering::Relaxed);
                if force {
                    counters.forced_records.fetch_add(1, Ordering::Relaxed);
                    forced = true;
                }
            }
            Effect::Send { to, msg } if !forced => {
                counters.messages_sent.fetch_add(1, Ordering::Relaxed);
                endpoint.send(to, msg);
            }
            Effect::Send { to, msg } => sends.push((to, msg)),
            Effect::Crash => {
                crashed = true;
                break;
            }
        }
    }
    if forced {
        let (returned, result) = sync(log).await;
        log = returned;
        if let Err(error) = result {
            return (log, Some(Stopped::LogFailed(error)));
        }
        counters.syncs.fetch_add(1, Ordering::Relaxed);
    }
    counters.messages_sent.fetch_add(sends.len() as u64, Ordering::Relaxed);
    for (to, msg) in sends {
        endpoint.send(to, msg);
    }
    (log, crashed.then_some(Stopped::Crashed))
}

/// Syncs `log`, on a blocking thread if the sync may block.
async fn sync<L: Log>(mut log: L) -> (L, Result<(), LogError>) {
    if !log.sync_blocks() {
        let result = log.sync();
        return (log, result);
    }
    match tokio::task::spawn_blocking(move || {
        let result = log.sync();
        (log, result)
    })
    .await
    {
        Ok(done) => done,
        Err(join) => std::panic::resume_unwind(join.into_panic()),
    }
}

/// The interval between a node's ticks when it does not care much: fine enough for
/// millisecond timeouts.
pub const DEFAULT_TICK: Duration = Duration::from_millis(5);
