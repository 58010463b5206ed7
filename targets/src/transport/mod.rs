//! Transports for message-driven ("sans-IO") nodes, shared by every family whose strategy is
//! a distributed protocol (two-phase commit now, Multi-Paxos next).
//!
//! A protocol is written once as a [`Node`](node::Node): a state machine that takes messages
//! and timer ticks and answers with [`Effect`](node::Effect)s — messages to send, log records
//! to write (forced or not), a crash at an injected point. It reads no clock and does no I/O,
//! so the same code runs in one process over channels and across processes over TCP, and a
//! test can run it under tokio's paused clock, seeded, the same way every time.
//!
//! - [`node`]: the [`Node`](node::Node) trait and its effects.
//! - [`runtime`]: drives one node over any [`Endpoint`]: feeds it messages and ticks, writes
//!   its log records before the messages that depend on them (group commit: one sync for a
//!   batch of steps), holds delayed messages until they are due, and stops on a crash.
//! - [`log`]: the node's log behind one trait: in memory, or a file with fsync on or off.
//! - [`inproc`]: an in-process network of tokio channels with injectable one-way delay,
//!   loss and partitions ([`faults`]), seeded.
//! - [`tcp`]: the same over TCP: length-delimited frames, postcard-encoded ([`codec`]).
//! - [`process`]: a node run as a separate `stratbench serve ROLE` process, started on
//!   loopback and stopped on every path.
//! - [`cluster`]: the nodes of a run as tasks in one process (slots that outlast crashes,
//!   restarts from the log), for any protocol's [`Role`](cluster::Role).
//! - [`group`]: the nodes of a run as processes, watched and restarted; and [`group::serve`],
//!   what one such process runs.
//!
//! Endpoints are small integers ([`PeerId`]: a protocol's nodes from 0, and clients — driver
//! workers, the harness itself — from [`CLIENT_BASE`] up), so that replies route the same way
//! as protocol messages. (A hash ring's node is another thing, `hashing::NodeId`.)

pub mod cluster;
pub mod codec;
pub mod faults;
pub mod group;
pub mod inproc;
pub mod log;
pub mod node;
pub mod process;
pub mod runtime;
pub mod tcp;

use std::time::Duration;

/// The address of a protocol's node or client on a transport.
pub type PeerId = u32;

/// Every node's log records, as read back after a run (for the checkers), node by node.
pub type NodeRecords = Vec<(PeerId, Vec<Vec<u8>>)>;

/// Ids from here up are clients (driver workers, the harness), never protocol nodes.
pub const CLIENT_BASE: PeerId = 1 << 20;

/// What an endpoint receives.
#[derive(Clone, Debug, PartialEq)]
pub enum Incoming<M> {
    /// A message from `from`, to be handed to the node `delay` after it arrived (the
    /// injected one-way delay, applied by the receiver so that it works the same in-process
    /// and over TCP).
    Message { from: PeerId, msg: M, delay: Duration },
    /// The peer went away: its process or task stopped, or its connection broke. Clients use
    /// it to fail their pending request at once, as a TCP reset would.
    PeerDown(PeerId),
    /// Whoever runs the node asks it to sync its log and stop (over TCP, the harness's
    /// [`tcp::Frame::Shutdown`]).
    Shutdown,
}

/// One node's or client's attachment to a network.
pub trait Endpoint<M>: Send + 'static {
    /// This endpoint's id.
    fn id(&self) -> PeerId;

    /// Sends `msg` to `to`, without waiting. Delivery is not guaranteed: a message to a
    /// stopped or unreachable node, or one the fault injector drops, is lost, as on a real
    /// network; protocols recover with timeouts.
    fn send(&mut self, to: PeerId, msg: M);

    /// The next thing received; `None` once the endpoint is closed.
    fn recv(&mut self) -> impl std::future::Future<Output = Option<Incoming<M>>> + Send;

    /// Something already received, without waiting.
    fn try_recv(&mut self) -> Option<Incoming<M>>;
}

/// Errors of the transports.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("cannot encode a message: {0}")]
    Encode(String),
    #[error("cannot decode a frame: {0}")]
    Decode(String),
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Process(String),
}

impl TransportError {
    /// An I/O error with what was being done.
    pub fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        TransportError::Io { what: what.into(), source }
    }
}
