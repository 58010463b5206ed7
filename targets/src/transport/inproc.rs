//! An in-process network: every endpoint is a tokio channel, and a send is a channel push
//! (after the fault injector has had its say).
//!
//! An endpoint that is dropped — a node task that crashed or stopped — detaches itself:
//! messages to it are lost from then on, and every other endpoint receives
//! [`Incoming::PeerDown`], as TCP peers see a reset. Attaching the same id again (a
//! restart) gets a fresh queue; what was queued for the old incarnation is lost with it. A
//! send to an id that nobody holds is answered with [`Incoming::PeerDown`] at once, as a TCP
//! dial is refused.
//!
//! Channels are unbounded: the protocols bound what is in flight (one request per client,
//! one message per participant and transaction), so a queue cannot grow without limit.

use super::faults::{Fate, Faults};
use super::{Endpoint, Incoming, PeerId};
use crate::sync::RecoverRw as _;
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

// Ordered, so that a detach notifies peers in the same order every time (deterministic runs).
type Routes<M> = BTreeMap<PeerId, (u64, UnboundedSender<Incoming<M>>)>;

struct Inner<M> {
    routes: RwLock<Routes<M>>,
    faults: Faults,
    next_incarnation: std::sync::atomic::AtomicU64,
}

/// An in-process network of endpoints.
pub struct Network<M> {
    inner: Arc<Inner<M>>,
}

impl<M> Clone for Network<M> {
    fn clone(&self) -> Self {
        Network { inner: Arc::clone(&self.inner) }
    }
}

impl<M: Send + 'static> Network<M> {
    /// A network without faults whose fault draws come from `seed`.
    pub fn new(seed: u64) -> Self {
        Network {
            inner: Arc::new(Inner {
                routes: RwLock::new(BTreeMap::new()),
                faults: Faults::new(seed),
                next_incarnation: std::sync::atomic::AtomicU64::new(0),
            }),
        }
    }

    /// The fault injector of every send on this network.
    pub fn faults(&self) -> &Faults {
        &self.inner.faults
    }

    /// Attaches `id`, replacing an earlier endpoint of the same id.
    pub fn endpoint(&self, id: PeerId) -> InprocEndpoint<M> {
        let (sender, receiver) = unbounded_channel();
        let incarnation = self.inner.next_incarnation.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.routes_mut().insert(id, (incarnation, sender));
        InprocEndpoint { id, incarnation, network: self.clone(), receiver }
    }

    /// Whether `id` is attached.
    pub fn is_attached(&self, id: PeerId) -> bool {
        self.inner.routes.read_locked().contains_key(&id)
    }

    fn routes_mut(&self) -> std::sync::RwLockWriteGuard<'_, Routes<M>> {
        self.inner.routes.write_locked()
    }

    fn deliver(&self, from: PeerId, to: PeerId, msg: M) {
        let delay = match self.inner.faults.fate(from, to) {
            Fate::Drop => return,
            Fate::Deliver(delay) => delay,
        };
        let routes = self.inner.routes.read_locked();
        match routes.get(&to) {
            // A receiver that is gone is a node that stopped: the message is lost.
            Some((_, sender)) => {
                let _ = sender.send(Incoming::Message { from, msg, delay });
            }
            // Nobody there: the sender hears so at once, as a TCP client is refused.
            None => {
                if let Some((_, own)) = routes.get(&from) {
                    let _ = own.send(Incoming::PeerDown(to));
                }
            }
        }
    }

    fn detach(&self, id: PeerId, incarnation: u64) {
        let mut routes = self.routes_mut();
        if routes.get(&id).is_some_and(|(i, _)| *i == incarnation) {
            routes.remove(&id);
            for (_, sender) in routes.values() {
                let _ = sender.send(Incoming::PeerDown(id));
            }
        }
    }
}

/// One endpoint of a [`Network`].
pub struct InprocEndpoint<M: Send + 'static> {
    id: PeerId,
    incarnation: u64,
    network: Network<M>,
    receiver: UnboundedReceiver<Incoming<M>>,
}

impl<M: Send + 'static> Endpoint<M> for InprocEndpoint<M> {
    fn id(&self) -> PeerId {
        self.id
    }

    #[inline]
    fn send(&mut self, to: PeerId, msg: M) {
        self.network.deliver(self.id, to, msg);
    }

    async fn recv(&mut self) -> Option<Incoming<M>> {
        self.receiver.recv().await
    }

    fn try_recv(&mut self) -> Option<Incoming<M>> {
        self.receiver.try_recv().ok()
    }
}

impl<M: Send + 'static> Drop for InprocEndpoint<M> {
    fn drop(&mut self) {
        self.network.detach(self.id, self.incarnation);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::faults::FaultConfig;
    use std::time::Duration;

    #[tokio::test]
    async fn delivers_drops_and_reports_a_stopped_peer() {
        let network = Network::<u32>::new(3);
        let mut a = network.endpoint(1);
        let mut b = network.endpoint(2);
        a.send(2, 10);
        assert_eq!(b.recv().await, Some(Incoming::Message { from: 1, msg: 10, delay: Duration::ZERO }));
        network.faults().set(FaultConfig { isolated: vec![2], ..FaultConfig::default() });
        a.send(2, 11);
        assert_eq!(b.try_recv(), None);
        network.faults().set(FaultConfig { delay: Duration::from_millis(5), ..FaultConfig::default() });
        a.send(2, 12);
        assert_eq!(b.recv().await, Some(Incoming::Message { from: 1, msg: 12, delay: Duration::from_millis(5) }));
        drop(b);
        assert_eq!(a.recv().await, Some(Incoming::PeerDown(2)));
        assert!(!network.is_attached(2));
        a.send(2, 13);
        assert_eq!(a.recv().await, Some(Incoming::PeerDown(2)), "a send to nobody is refused");
        let _b2 = network.endpoint(2);
        assert!(network.is_attached(2));
    }
}
