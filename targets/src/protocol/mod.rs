//! What every message-driven protocol family (two-phase commit, Paxos) shares above the
//! [`transport`](crate::transport): written once here so that a family is reduced to its
//! state machines, its checkers and its metrics.
//!
//! A protocol family runs its nodes in one of two *backends*: in-process (tasks over the
//! transport's [`Cluster`](crate::transport::cluster::Cluster), on a [`ClusterThread`]) or as
//! `stratbench serve` processes (the transport's
//! [`ProcessGroup`](crate::transport::group::ProcessGroup)). What is the same for every
//! protocol is here:
//!
//! - [`ProtocolError`]: the one error type of the protocol families' glue;
//! - [`params`]: the readers of `[scenario.params]` values, with errors that name the
//!   parameter;
//! - [`system`]: the driver's [`System`](crate::target::System) over any backend, generic over
//!   the [`Protocol`](system::Protocol) — worker set-up, events (with the message faults of
//!   [`faults`](crate::transport::faults) applied the same way for every protocol), and the
//!   end-of-run check;
//! - [`Finished`]: what a backend hands back after a run;
//! - [`Polled`] and [`poll_stats`]: asking every node for its statistics over a control
//!   endpoint, in-process or over TCP;
//! - [`Family`]: the types of one family (its messages, parameters, logs and statistics),
//!   named once for both backends;
//! - [`inproc`]: the in-process backend of any family — its nodes on their own thread;
//! - [`net`]: the process backend of any family — its node processes, their data
//!   directories and logs;
//! - [`sim`]: the closed-loop client of the deterministic simulations.
//!
//! Why a layer of its own: the commit and consensus families were parallel copies of this
//! glue, so a fix to one (a fault's undo, an error message) had to be made twice.

pub mod inproc;
pub mod net;
pub mod params;
pub mod sim;
pub mod system;

use crate::transport::cluster::ask_all;
use crate::transport::node::Message;
use crate::transport::{Endpoint, PeerId};
use std::collections::BTreeMap;
use std::time::Duration;

/// Errors of the message-driven protocol families.
#[derive(Debug, thiserror::Error)]
pub enum ProtocolError {
    #[error("parameter `{param}`: {message}")]
    InvalidParam { param: String, message: String },
    #[error(transparent)]
    Transport(#[from] crate::transport::TransportError),
    #[error(transparent)]
    Log(#[from] crate::transport::log::LogError),
    #[error("{0}")]
    Cluster(String),
    /// An event the family has no meaning for (a resize, a lock fault...).
    #[error("the {family} family does not do `{event}`")]
    Unsupported { family: &'static str, event: String },
}

impl ProtocolError {
    /// A bad value of parameter `param`.
    pub fn invalid(param: &str, message: impl Into<String>) -> Self {
        ProtocolError::InvalidParam { param: param.into(), message: message.into() }
    }
}

/// The types of one protocol family, named once for both of its backends.
pub trait Family: Send + Sync + Sized + 'static {
    /// The family's name, in messages ("the commit family does not do ...").
    const NAME: &'static str;
    /// The messages its nodes exchange.
    type Msg: Polled;
    /// A run's parameters.
    type Params: Copy + Send + Sync + 'static;
    /// Every node's logs, as the family's checkers read them.
    type Logs: Send;
    /// What the end of a run reports for each node.
    type Stats: Send;
}

/// What a backend of family `F` hands back after a run.
pub type FinishedOf<F> = Finished<<F as Family>::Logs, <F as Family>::Stats>;

/// What a backend hands back after a run: every node's logs (`L`) and statistics (`S`).
#[derive(Debug, Default)]
pub struct Finished<L, S> {
    /// Every node's durable log records, as the family's checkers read them.
    pub logs: L,
    /// Every node's statistics, by id.
    pub stats: BTreeMap<PeerId, S>,
    /// Whether the nodes settled (every transaction finished, every replica converged)
    /// before the settling deadline.
    pub settled: bool,
    /// Notes for the row (nodes that could not be restarted...).
    pub notes: Vec<String>,
}

/// A protocol's messages that carry a statistics request and its answer, so that one
/// function asks every node, in-process or over TCP.
pub trait Polled: Message {
    /// What a node reports.
    type Stats: Send + 'static;

    /// The harness's question.
    const STATS_REQUEST: Self;

    /// The answer in `self`, if it is one.
    fn into_stats(self) -> Option<Self::Stats>;
}

/// Implements [`Polled`] for a protocol's message enum `$msg` whose variants
/// `StatsRequest` and `Stats($stats)` are the harness's question and a node's answer.
macro_rules! polled {
    ($msg:ident, $stats:ty) => {
        impl $crate::protocol::Polled for $msg {
            type Stats = $stats;

            const STATS_REQUEST: Self = $msg::StatsRequest;

            fn into_stats(self) -> Option<$stats> {
                if let $msg::Stats(stats) = self { Some(stats) } else { None }
            }
        }
    };
}
pub(crate) use polled;

/// Asks nodes `ids` for their statistics over `endpoint`; those that do not answer within
/// `timeout` are missing from the answer.
pub async fn poll_stats<M: Polled, E: Endpoint<M>>(
    endpoint: &mut E,
    ids: &[PeerId],
    timeout: Duration,
) -> BTreeMap<PeerId, M::Stats> {
    ask_all(endpoint, ids, M::STATS_REQUEST, M::into_stats, timeout).await
}
