//! The sans-IO node: a protocol participant as a state machine.
//!
//! A [`Node`] is told what happened — a message arrived, time passed, it (re)started — along
//! with the current time, and answers by pushing [`Effect`]s into an [`Output`]. The runtime
//! carries them out in order, with one rule that protocols rely on: **every log record pushed
//! before a message is on the log (synced, if it was forced) before that message leaves.**
//! So a participant that pushes "force PREPARED" then "send YES" never votes yes without the
//! record. The converse lets a node overlap its own sync with its peers' work: a message
//! pushed before any forced record of the runtime's turn does not wait for that turn's sync
//! (a Paxos leader sends its proposal to the followers, then forces its own copy). [`Effect::Crash`] is an injected failure: the effects pushed before it are carried
//! out, the rest are dropped and the node stops, losing its memory and any unforced records.
//!
//! Time is a [`Duration`] since the runtime's epoch, so a node never reads a clock and a test
//! under tokio's paused time runs the same every time.

use super::PeerId;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt::Debug;
use std::time::Duration;

/// What a node's messages must be: sendable across tasks and, encoded, across processes.
pub trait Message: Serialize + DeserializeOwned + Clone + Debug + Send + 'static {}

impl<T: Serialize + DeserializeOwned + Clone + Debug + Send + 'static> Message for T {}

/// One thing a node asks the runtime to do.
#[derive(Clone, Debug, PartialEq)]
pub enum Effect<M, R> {
    /// Send `msg` to `to`, after the log records pushed before it are written.
    Send { to: PeerId, msg: M },
    /// Append `record` to the log; `force`: it must be durable before any later message
    /// leaves (a forced write). Unforced records become durable with the next forced one or
    /// on a clean stop, and are lost in a crash before that.
    Append { record: R, force: bool },
    /// Stop now, as if the process died: an injected fault.
    Crash,
}

/// The effects of one step, in order.
#[derive(Debug)]
pub struct Output<M, R> {
    effects: Vec<Effect<M, R>>,
}

impl<M, R> Default for Output<M, R> {
    fn default() -> Self {
        Output { effects: Vec::new() }
    }
}

impl<M, R> Output<M, R> {
    /// Sends `msg` to `to`.
    pub fn send(&mut self, to: PeerId, msg: M) {
        self.effects.push(Effect::Send { to, msg });
    }

    /// Appends `record` to the log, forced or not.
    pub fn append(&mut self, record: R, force: bool) {
        self.effects.push(Effect::Append { record, force });
    }

    /// Crashes the node.
    pub fn crash(&mut self) {
        self.effects.push(Effect::Crash);
    }

    /// Takes the effects pushed so far.
    pub fn drain(&mut self) -> std::vec::Drain<'_, Effect<M, R>> {
        self.effects.drain(..)
    }

    /// The effects pushed so far.
    pub fn effects(&self) -> &[Effect<M, R>] {
        &self.effects
    }

    /// Whether nothing was pushed.
    pub fn is_empty(&self) -> bool {
        self.effects.is_empty()
    }
}

/// A protocol node.
pub trait Node: Send + 'static {
    /// The messages it exchanges (with other nodes and with clients).
    type Msg: Message;
    /// The records of its log.
    type Record: Serialize + DeserializeOwned + Send + 'static;

    /// Called once when the node starts or restarts (after it was rebuilt from its log): the
    /// place to resend decisions or ask about transactions left in doubt.
    fn on_start(&mut self, _now: Duration, _out: &mut Output<Self::Msg, Self::Record>) {}

    /// A message from `from` arrived.
    fn on_message(&mut self, now: Duration, from: PeerId, msg: Self::Msg, out: &mut Output<Self::Msg, Self::Record>);

    /// Time passed; called every [`Node::tick_every`].
    fn on_tick(&mut self, now: Duration, out: &mut Output<Self::Msg, Self::Record>);

    /// Called once the runtime has fed the node everything it took in one turn (up to
    /// [`MAX_STEPS_PER_TURN`](super::runtime::MAX_STEPS_PER_TURN) messages), before it carries
    /// out the turn's effects: the place to batch what those messages asked for (one log entry
    /// for many client requests), as the runtime batches their log writes into one sync.
    fn on_turn_end(&mut self, _now: Duration, _out: &mut Output<Self::Msg, Self::Record>) {}

    /// How often [`Node::on_tick`] is called.
    fn tick_every(&self) -> Duration;
}
