//! A driver worker as a client of the replicated store.
//!
//! Each operation is one request: a read (`read` and `scan` operations: a `Get` of the key)
//! or a write (`update`, `insert`, `read-modify-write`: a `Put` of a value unique in the run
//! — the worker's number and a counter in its first 8 bytes, then zeros up to
//! `value_size`). The client sends it to the replica it believes leads; a `Redirect` names
//! the leader (or says it is unknown: try the next replica after [`RETRY_BACKOFF`]); a replica
//! that goes down or stays silent for the attempt timeout is left for the next one. Every
//! attempt carries the same request number, so a command decided twice applies once (the
//! replicas' sessions). After `client_timeout` the client gives up: an error of kind
//! `timeout`, whose outcome is unknown (the history records a write as never answered).
//!
//! Answers carry the leader's ballot: after a leader is killed, the first answer from a
//! higher ballot ends the unavailability window ([`Failover`]).

use super::history::{Access, HistoryOp, NO_ANSWER, Recorder};
use super::{Ballot, CmdResult, Data, KvOp, Msg};
use crate::sync::Recover as _;
use crate::target::{Op, OpError, OpResult, Worker};
use crate::transport::{Endpoint, Incoming, PeerId};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::time::Instant;
use workloads::OpKind;

/// How long a client waits before trying another replica when none is known to lead.
pub const RETRY_BACKOFF: Duration = Duration::from_millis(2);

/// The value a write puts: its unique id, then zeros up to `size` bytes (at least 8).
pub fn value_bytes(id: u64, size: usize) -> Data {
    let mut value = id.to_le_bytes().to_vec();
    value.resize(size.max(8), 0);
    value.into()
}

/// The unique id in a value read back.
pub fn value_id(value: &[u8]) -> u64 {
    let mut id = [0u8; 8];
    let n = value.len().min(8);
    id[..n].copy_from_slice(&value[..n]);
    u64::from_le_bytes(id)
}

/// What a request should do, and how the history records it.
pub fn request_of(op: Op, worker: u32, writes: &mut u64, value_size: usize) -> (KvOp, Access) {
    match op.kind {
        OpKind::Read | OpKind::Scan => (KvOp::Get { key: op.key }, Access::Read(None)),
        OpKind::Update | OpKind::Insert | OpKind::ReadModifyWrite => {
            *writes += 1;
            let id = (u64::from(worker) + 1) << 40 | *writes;
            (KvOp::Put { key: op.key, value: value_bytes(id, value_size) }, Access::Write(id))
        }
    }
}

/// A leader kill and when a new leader's first answer came.
#[derive(Clone, Copy, Debug)]
struct Kill {
    at: Instant,
    ballot: Ballot,
    first_answer: Option<Instant>,
}

/// Unavailability windows after leader kills, as clients see them.
#[derive(Debug, Default)]
pub struct Failover {
    watching: AtomicBool,
    kills: Mutex<Vec<Kill>>,
}

impl Failover {
    /// The leader of `ballot` was killed now.
    pub fn killed(&self, ballot: Ballot) {
        self.kills.locked().push(Kill { at: Instant::now(), ballot, first_answer: None });
        self.watching.store(true, Ordering::Release);
    }

    /// A client was answered by the leader of `ballot`.
    #[inline]
    pub fn answered(&self, ballot: Ballot) {
        if !self.watching.load(Ordering::Acquire) {
            return;
        }
        let now = Instant::now();
        let mut kills = self.kills.locked();
        for kill in kills.iter_mut().filter(|k| k.first_answer.is_none() && ballot > k.ballot && now >= k.at) {
            kill.first_answer = Some(now);
        }
        if kills.iter().all(|k| k.first_answer.is_some()) {
            self.watching.store(false, Ordering::Release);
        }
    }

    /// Leader kills, and the windows from each to a new leader's first answer (`None` if no
    /// answer came).
    pub fn windows(&self) -> Vec<Option<Duration>> {
        let kills = self.kills.locked();
        kills.iter().map(|k| k.first_answer.map(|at| at.saturating_duration_since(k.at))).collect()
    }
}

/// How a client behaves.
#[derive(Clone, Copy, Debug)]
pub struct ClientConfig {
    pub replicas: u32,
    pub value_size: usize,
    /// One attempt at one replica.
    pub attempt_timeout: Duration,
    /// The whole operation.
    pub client_timeout: Duration,
}

/// One driver worker.
pub struct ConsensusWorker<E: Endpoint<Msg>> {
    endpoint: E,
    config: ClientConfig,
    index: u32,
    target: PeerId,
    req: u64,
    writes: u64,
    history: Recorder,
    failover: std::sync::Arc<Failover>,
}

impl<E: Endpoint<Msg>> ConsensusWorker<E> {
    /// Worker `index`, over `endpoint`, recording into `history`.
    pub fn new(
        endpoint: E,
        config: ClientConfig,
        index: u32,
        history: Recorder,
        failover: std::sync::Arc<Failover>,
    ) -> Self {
        ConsensusWorker { endpoint, config, index, target: 0, req: 0, writes: 0, history, failover }
    }

    fn next_replica(&mut self) {
        self.target = (self.target + 1) % self.config.replicas;
    }

    /// Sends the request and waits for its answer, retrying other replicas, until
    /// `deadline`; the result and the ballot of the leader that answered.
    async fn exchange(&mut self, op: &KvOp, deadline: Instant) -> Result<(CmdResult, Ballot), String> {
        let req = self.req;
        self.endpoint.send(self.target, Msg::Request { req, op: op.clone() });
        let mut attempt_end = Instant::now() + self.config.attempt_timeout;
        loop {
            let incoming = match tokio::time::timeout_at(deadline.min(attempt_end), self.endpoint.recv()).await {
                Ok(Some(incoming)) => incoming,
                Ok(None) => return Err("the client's endpoint closed".into()),
                Err(_) if Instant::now() >= deadline => {
                    return Err(format!("no answer within client_timeout (last tried replica {})", self.target));
                }
                Err(_) => {
                    self.next_replica();
                    attempt_end = self.resend(req, op);
                    continue;
                }
            };
            match incoming {
                Incoming::Message { from, msg: Msg::Reply { req: r, result, ballot }, .. } if r == req => {
                    self.target = from;
                    return Ok((result, ballot));
                }
                Incoming::Message { msg: Msg::Redirect { req: r, leader }, .. } if r == req => {
                    match leader.filter(|l| *l != self.target) {
                        Some(leader) => self.target = leader,
                        None => {
                            self.next_replica();
                            tokio::time::sleep(RETRY_BACKOFF).await;
                        }
                    }
                    attempt_end = self.resend(req, op);
                }
                Incoming::PeerDown(id) if id == self.target => {
                    self.next_replica();
                    tokio::time::sleep(RETRY_BACKOFF).await;
                    attempt_end = self.resend(req, op);
                }
                _ => {}
            }
        }
    }

    fn resend(&mut self, req: u64, op: &KvOp) -> Instant {
        self.endpoint.send(self.target, Msg::Request { req, op: op.clone() });
        Instant::now() + self.config.attempt_timeout
    }
}

impl<E: Endpoint<Msg>> Worker for ConsensusWorker<E> {
    async fn call(&mut self, op: Op) -> OpResult {
        let (request, access) = request_of(op, self.index, &mut self.writes, self.config.value_size);
        // Answers to requests given up on, and old news of peers, are stale.
        while self.endpoint.try_recv().is_some() {}
        self.req += 1;
        let call_ns = self.history.now_ns();
        let deadline = Instant::now() + self.config.client_timeout;
        match self.exchange(&request, deadline).await {
            Ok((result, ballot)) => {
                let ret_ns = self.history.now_ns();
                let access = match (access, result) {
                    (Access::Read(_), CmdResult::Read(value)) => {
                        Access::Read(value.as_ref().map(|v| value_id(v.bytes())))
                    }
                    (access, _) => access,
                };
                self.history.record(HistoryOp { key: op.key, access, call_ns, ret_ns });
                self.failover.answered(ballot);
                Ok(())
            }
            Err(detail) => {
                if let Access::Write(_) = access {
                    self.history.record(HistoryOp { key: op.key, access, call_ns, ret_ns: NO_ANSWER });
                }
                Err(OpError { kind: "timeout", detail: Some(detail) })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_carry_their_unique_id() {
        let value = value_bytes(0x0102_0304_0506, 100);
        assert_eq!(value.bytes().len(), 100);
        assert_eq!(value_id(value.bytes()), 0x0102_0304_0506);
        assert_eq!(value_bytes(5, 2).bytes().len(), 8, "ids need 8 bytes");
        let mut writes = 0;
        let (a, _) = request_of(Op { kind: OpKind::Update, key: 1 }, 0, &mut writes, 16);
        let (b, access) = request_of(Op { kind: OpKind::Insert, key: 1 }, 1, &mut writes, 16);
        assert_ne!(a, b);
        assert!(matches!(access, Access::Write(id) if id >> 40 == 2));
        assert!(matches!(request_of(Op { kind: OpKind::Scan, key: 3 }, 0, &mut writes, 16).0, KvOp::Get { key: 3 }));
    }

    #[tokio::test(start_paused = true)]
    async fn a_kill_is_closed_by_a_higher_ballots_answer() {
        let failover = Failover::default();
        let old = Ballot { round: 1, node: 0 };
        failover.killed(old);
        tokio::time::advance(Duration::from_millis(300)).await;
        failover.answered(old);
        assert_eq!(failover.windows(), vec![None], "the old leader's answers do not count");
        failover.answered(Ballot { round: 2, node: 1 });
        assert_eq!(failover.windows(), vec![Some(Duration::from_millis(300))]);
    }
}
