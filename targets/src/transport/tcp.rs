//! The network over TCP: one process per node, loopback only in this project.
//!
//! Every connection carries length-delimited, postcard-encoded [`Frame`]s. The side that
//! dials says who it is first ([`Frame::Hello`]); from then on the connection is the route to
//! that peer in both directions, so a client that dialled a node gets its replies on the same
//! connection and a node needs addresses only for the peers it must dial itself (its address
//! book, given on its command line or later with [`Frame::AddressBook`]).
//!
//! Routes are made on first use: a send to a peer without one queues the message and dials.
//! A failed dial loses what was queued, tells the endpoint [`Incoming::PeerDown`], and holds
//! further sends to that peer off for [`REDIAL_BACKOFF`] (they are lost and answered with
//! [`Incoming::PeerDown`] at once), so an unreachable node costs one connection attempt per
//! back-off, not one per message. A connection that breaks reports [`Incoming::PeerDown`] the same way.
//!
//! Faults are applied by the sender ([`Faults`]); the delay travels in the frame and is
//! applied by the receiving runtime. [`Frame::SetFaults`], [`Frame::AddressBook`] and
//! [`Frame::Ping`] and [`Frame::Shutdown`] are transport-level commands any peer (the harness)
//! can send.

use super::codec::{self, frames};
use super::faults::{Fate, FaultConfig, Faults};
use super::node::Message;
use super::{Endpoint, Incoming, PeerId, TransportError};
use crate::sync::Recover as _;
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt as _};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::task::AbortHandle;
use tokio::time::Instant;
use tokio_util::codec::{FramedRead, FramedWrite};

/// How long a dial may take before the peer counts as unreachable.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// After a failed dial, sends to that peer are dropped for this long before the next dial.
pub const REDIAL_BACKOFF: Duration = Duration::from_millis(100);

/// What travels on a connection.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Frame<M> {
    /// First frame of a dialled connection: the dialler's id.
    Hello {
        from: PeerId,
    },
    /// A protocol message, with the one-way delay the sender's fault injector chose.
    Msg {
        from: PeerId,
        to: PeerId,
        delay_us: u64,
        msg: M,
    },
    /// Replace the receiving process's faults.
    SetFaults(FaultConfig),
    /// Add or replace addresses in the receiving process's address book.
    AddressBook(Vec<(PeerId, SocketAddr)>),
    /// Asks for a [`Frame::Pong`] on the same connection: the process is up and serving.
    Ping {
        nonce: u64,
    },
    Pong {
        nonce: u64,
    },
    /// Asks the receiving node to sync its log and stop.
    Shutdown,
}

struct Route {
    connection: u64,
    writer: UnboundedSender<Bytes>,
}

struct Shared<M> {
    id: PeerId,
    routes: Mutex<HashMap<PeerId, Route>>,
    addresses: Mutex<HashMap<PeerId, SocketAddr>>,
    backoff: Mutex<HashMap<PeerId, Instant>>,
    faults: Faults,
    inbound: UnboundedSender<Incoming<M>>,
    tasks: Mutex<Vec<AbortHandle>>,
    next_connection: AtomicU64,
}

/// A node's or client's endpoint on a TCP network.
pub struct TcpEndpoint<M: Message> {
    shared: Arc<Shared<M>>,
    inbound: UnboundedReceiver<Incoming<M>>,
    local_addr: Option<SocketAddr>,
}

impl<M: Message> TcpEndpoint<M> {
    /// An endpoint for `id` that dials the peers in `addresses` when it first sends to them
    /// (a client); fault draws come from `seed`.
    pub fn client(id: PeerId, addresses: impl IntoIterator<Item = (PeerId, SocketAddr)>, seed: u64) -> Self {
        let (sender, inbound) = unbounded_channel();
        let shared = Arc::new(Shared {
            id,
            routes: Mutex::new(HashMap::new()),
            addresses: Mutex::new(addresses.into_iter().collect()),
            backoff: Mutex::new(HashMap::new()),
            faults: Faults::new(seed),
            inbound: sender,
            tasks: Mutex::new(Vec::new()),
            next_connection: AtomicU64::new(0),
        });
        TcpEndpoint { shared, inbound, local_addr: None }
    }

    /// An endpoint that also accepts connections on `listen` (a node). Call inside a tokio
    /// runtime.
    pub async fn listen(
        id: PeerId,
        listen: SocketAddr,
        addresses: impl IntoIterator<Item = (PeerId, SocketAddr)>,
        seed: u64,
    ) -> Result<Self, TransportError> {
        let listener =
            TcpListener::bind(listen).await.map_err(|e| TransportError::io(format!("cannot listen on {listen}"), e))?;
        let local = listener.local_addr().map_err(|e| TransportError::io("cannot read the bound address", e))?;
        let mut endpoint = Self::client(id, addresses, seed);
        endpoint.local_addr = Some(local);
        let shared = Arc::clone(&endpoint.shared);
        let accept = tokio::spawn(async move {
            loop {
                match listener.accept().await {
                    Ok((stream, _)) => spawn_connection(&shared, stream),
                    Err(error) => {
                        tracing::warn!("accept failed: {error}");
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                }
            }
        });
        endpoint.shared.tasks.locked().push(accept.abort_handle());
        Ok(endpoint)
    }

    /// The address it listens on, if it does.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.local_addr
    }

    /// The faults this process applies to what it sends.
    pub fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    /// Sends a transport-level command (faults, addresses, ping) to `to`.
    pub fn send_frame(&mut self, to: PeerId, frame: &Frame<M>) {
        match codec::encode(frame) {
            Ok(bytes) => route(&self.shared, to, Bytes::from(bytes)),
            Err(error) => tracing::error!("{error}"),
        }
    }
}

impl<M: Message> Endpoint<M> for TcpEndpoint<M> {
    fn id(&self) -> PeerId {
        self.shared.id
    }

    fn send(&mut self, to: PeerId, msg: M) {
        let delay = match self.shared.faults.fate(self.shared.id, to) {
            Fate::Drop => return,
            Fate::Deliver(delay) => delay,
        };
        let frame = Frame::Msg { from: self.shared.id, to, delay_us: delay.as_micros() as u64, msg };
        self.send_frame(to, &frame);
    }

    async fn recv(&mut self) -> Option<Incoming<M>> {
        self.inbound.recv().await
    }

    fn try_recv(&mut self) -> Option<Incoming<M>> {
        self.inbound.try_recv().ok()
    }
}

impl<M: Message> Drop for TcpEndpoint<M> {
    fn drop(&mut self) {
        for task in self.shared.tasks.locked().drain(..) {
            task.abort();
        }
        self.shared.routes.locked().clear();
    }
}

/// Queues `bytes` for `to`, dialling it if there is no route yet.
fn route<M: Message>(shared: &Arc<Shared<M>>, to: PeerId, bytes: Bytes) {
    let mut routes = shared.routes.locked();
    if let Some(route) = routes.get(&to) {
        if route.writer.send(bytes.clone()).is_ok() {
            return;
        }
        routes.remove(&to);
    }
    let address = shared.addresses.locked().get(&to).copied();
    let backing_off = || shared.backoff.locked().get(&to).is_some_and(|until| Instant::now() < *until);
    let Some(address) = address.filter(|_| !backing_off()) else {
        // No way to reach it now: the sender hears so at once, as from a refused dial.
        let _ = shared.inbound.send(Incoming::PeerDown(to));
        return;
    };
    let (writer, queue) = unbounded_channel();
    let _ = writer.send(bytes);
    let connection = shared.next_connection.fetch_add(1, Ordering::Relaxed);
    routes.insert(to, Route { connection, writer });
    drop(routes);
    let dialler = Arc::clone(shared);
    let task = tokio::spawn(async move { dial(dialler, to, address, connection, queue).await });
    shared.tasks.locked().push(task.abort_handle());
}

async fn dial<M: Message>(
    shared: Arc<Shared<M>>,
    to: PeerId,
    address: SocketAddr,
    connection: u64,
    queue: UnboundedReceiver<Bytes>,
) {
    let stream = match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(address)).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(error)) => return unreachable(&shared, to, connection, &format!("{error}")),
        Err(_) => return unreachable(&shared, to, connection, "connect timed out"),
    };
    let _ = stream.set_nodelay(true);
    let hello = codec::encode(&Frame::<M>::Hello { from: shared.id }).expect("hello encodes");
    let (read, write) = stream.into_split();
    let reader = tokio::spawn(read_frames(Arc::clone(&shared), read, Some((to, connection))));
    shared.tasks.locked().push(reader.abort_handle());
    write_frames(write, Some(Bytes::from(hello)), queue).await;
}

fn unreachable<M: Message>(shared: &Shared<M>, to: PeerId, connection: u64, why: &str) {
    tracing::debug!("node {to} unreachable: {why}");
    shared.backoff.locked().insert(to, Instant::now() + REDIAL_BACKOFF);
    forget_route(shared, to, connection);
}

/// Removes the route to `peer` if it is still `connection`, and reports the peer down.
fn forget_route<M: Message>(shared: &Shared<M>, peer: PeerId, connection: u64) {
    let mut routes = shared.routes.locked();
    if routes.get(&peer).is_some_and(|r| r.connection == connection) {
        routes.remove(&peer);
        let _ = shared.inbound.send(Incoming::PeerDown(peer));
    }
}

/// Serves an accepted connection: its first frame names the peer.
fn spawn_connection<M: Message>(shared: &Arc<Shared<M>>, stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let (read, write) = stream.into_split();
    let (writer, queue) = unbounded_channel();
    let connection = shared.next_connection.fetch_add(1, Ordering::Relaxed);
    let reader_shared = Arc::clone(shared);
    let reader = tokio::spawn(async move {
        read_accepted(reader_shared, read, writer, connection).await;
    });
    let writer_task = tokio::spawn(write_frames(write, None, queue));
    let mut tasks = shared.tasks.locked();
    tasks.push(reader.abort_handle());
    tasks.push(writer_task.abort_handle());
    tasks.retain(|t| !t.is_finished());
}

async fn read_accepted<M: Message>(
    shared: Arc<Shared<M>>,
    read: tokio::net::tcp::OwnedReadHalf,
    writer: UnboundedSender<Bytes>,
    connection: u64,
) {
    let mut frames_in = FramedRead::new(read, frames());
    let mut peer = None;
    while let Some(Ok(bytes)) = frames_in.next().await {
        let frame = match codec::decode::<Frame<M>>(&bytes) {
            Ok(frame) => frame,
            Err(error) => {
                tracing::warn!("dropping a connection: {error}");
                break;
            }
        };
        if let Frame::Hello { from } = frame {
            shared.routes.locked().insert(from, Route { connection, writer: writer.clone() });
            peer = Some(from);
            continue;
        }
        handle_frame(&shared, frame, &writer);
    }
    if let Some(peer) = peer {
        forget_route(&shared, peer, connection);
    }
}

async fn read_frames<M: Message>(
    shared: Arc<Shared<M>>,
    read: tokio::net::tcp::OwnedReadHalf,
    dialled: Option<(PeerId, u64)>,
) {
    let mut frames_in = FramedRead::new(read, frames());
    let replies = dialled.and_then(|(peer, _)| shared.routes.locked().get(&peer).map(|r| r.writer.clone()));
    while let Some(Ok(bytes)) = frames_in.next().await {
        match codec::decode::<Frame<M>>(&bytes) {
            Ok(frame) => match &replies {
                Some(writer) => handle_frame(&shared, frame, writer),
                None => handle_frame(&shared, frame, &unbounded_channel().0),
            },
            Err(error) => {
                tracing::warn!("dropping a connection: {error}");
                break;
            }
        }
    }
    if let Some((peer, connection)) = dialled {
        forget_route(&shared, peer, connection);
    }
}

fn handle_frame<M: Message>(shared: &Shared<M>, frame: Frame<M>, replies: &UnboundedSender<Bytes>) {
    match frame {
        Frame::Msg { from, to, delay_us, msg } if to == shared.id => {
            let _ = shared.inbound.send(Incoming::Message { from, msg, delay: Duration::from_micros(delay_us) });
        }
        Frame::Msg { to, .. } => tracing::debug!("dropping a message for node {to}"),
        Frame::SetFaults(config) => shared.faults.set(config),
        Frame::AddressBook(entries) => shared.addresses.locked().extend(entries),
        Frame::Ping { nonce } => {
            let pong = codec::encode(&Frame::<M>::Pong { nonce }).expect("pong encodes");
            let _ = replies.send(Bytes::from(pong));
        }
        Frame::Shutdown => {
            let _ = shared.inbound.send(Incoming::Shutdown);
        }
        Frame::Pong { .. } | Frame::Hello { .. } => {}
    }
}

/// Writes `first`, then everything queued, flushing when the queue runs dry.
async fn write_frames(
    write: tokio::net::tcp::OwnedWriteHalf,
    first: Option<Bytes>,
    mut queue: UnboundedReceiver<Bytes>,
) {
    let mut sink = FramedWrite::new(write, frames());
    if let Some(first) = first
        && sink.feed(first).await.is_err()
    {
        return;
    }
    while let Some(bytes) = queue.recv().await {
        if sink.feed(bytes).await.is_err() {
            return;
        }
        while let Ok(more) = queue.try_recv() {
            if sink.feed(more).await.is_err() {
                return;
            }
        }
        if SinkExt::<Bytes>::flush(&mut sink).await.is_err() {
            return;
        }
    }
}

/// Whether a node answers at `address`: connects, pings, waits for the pong.
pub async fn ping<M: Message>(address: SocketAddr, timeout: Duration) -> Result<(), TransportError> {
    let attempt = async {
        let stream =
            TcpStream::connect(address).await.map_err(|e| TransportError::io(format!("connect to {address}"), e))?;
        let mut framed = tokio_util::codec::Framed::new(stream, frames());
        let ping = codec::encode(&Frame::<M>::Ping { nonce: 1 })?;
        framed.send(Bytes::from(ping)).await.map_err(|e| TransportError::io("ping", e))?;
        while let Some(bytes) = framed.next().await {
            let bytes = bytes.map_err(|e| TransportError::io("ping", e))?;
            if let Frame::Pong { nonce: 1 } = codec::decode::<Frame<M>>(&bytes)? {
                return Ok(());
            }
        }
        Err(TransportError::Process(format!("{address} closed the connection before answering")))
    };
    tokio::time::timeout(timeout, attempt)
        .await
        .map_err(|_| TransportError::Process(format!("{address} did not answer within {timeout:?}")))?
}
