//! One driver worker of the networked version: a client of every shard (its own connection to
//! each, opened on first use), routing each operation with the current table.
//!
//! Operations map to commands as YCSB's do to a key-value store: `read` is `GET`, `update` and
//! `insert` are `SET`, `read-modify-write` is a `GET` then a `SET`. A read that finds no value
//! is a failure of kind `miss` (every key was loaded before the run). Each `SET` stores a
//! fresh write id in its value and is recorded in the ledger with its outcome.
//!
//! A batch (`batch` above 1) is pipelined: each round sends one pipeline per shard, all
//! shards at once, and the read rule's later steps (for keys that are moving) go in later
//! rounds.

use super::client::{Connections, op_error};
use super::ledger::{WriteRecord, stamp};
use super::routing::{ActiveGuard, ActiveSlot, Routing, read_steps};
use super::shared::Shared;
use crate::hashing::{NodeId, Placement};
use crate::target::{BatchOutcome, Op, OpError, OpResult, Worker};
use redis::Value;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use workloads::OpKind;

/// One driver worker's client.
pub struct NetWorker<P: Placement> {
    index: u32,
    shared: Arc<Shared<P>>,
    slot: Arc<ActiveSlot>,
    routing: Arc<Routing<P>>,
    conns: Connections,
    name: String,
    value: Vec<u8>,
    writes: u64,
}

impl<P: Placement> NetWorker<P> {
    pub(super) fn new(index: u32, shared: Arc<Shared<P>>, slot: Arc<ActiveSlot>) -> Self {
        let routing = shared.routing.load_full();
        NetWorker {
            index,
            shared,
            slot,
            routing,
            conns: Connections::default(),
            name: String::new(),
            value: Vec::new(),
            writes: 0,
        }
    }

    /// Marks an operation in flight, on the current table.
    #[inline]
    fn enter(&mut self) -> ActiveGuard {
        let (shared, routing) = (&self.shared, &mut self.routing);
        self.slot.enter(&shared.epoch, |published| {
            if published != routing.epoch {
                *routing = shared.routing.load_full();
            }
            routing.epoch
        })
    }

    /// A fresh write id: the worker in the high bits, its count of writes in the low 40.
    fn next_write_id(&mut self) -> u64 {
        self.writes += 1;
        ((u64::from(self.index) + 1) << 40) | self.writes
    }

    /// `GET` of the key named in `self.name` on `node`: whether it has a value.
    async fn get(&mut self, node: NodeId) -> Result<bool, OpError> {
        let shard = self.routing.shard(node);
        let conn = self.conns.get(shard)?;
        let reply: Value =
            redis::cmd("GET").arg(self.name.as_str()).query_async(conn).await.map_err(|e| op_error(shard, &e))?;
        shard.health.succeeded();
        Ok(!matches!(reply, Value::Nil))
    }

    async fn read(&mut self, key: u64) -> OpResult {
        self.shared.names.write(key, &mut self.name);
        let (owner, previous) = self.routing.route(key);
        for node in read_steps(owner, previous).as_slice() {
            if self.get(*node).await? {
                return Ok(());
            }
        }
        Err(self.shared.miss(key, self.routing.shard(owner), self.routing.migrating()))
    }

    async fn write(&mut self, key: u64) -> OpResult {
        self.shared.names.write(key, &mut self.name);
        let (owner, _) = self.routing.route(key);
        let id = self.next_write_id();
        stamp(&mut self.value, id, self.shared.value_size);
        let shard = self.routing.shard(owner);
        let ledger = &self.shared.ledger;
        let start = ledger.tick();
        let result = match self.conns.get(shard) {
            Ok(conn) => redis::cmd("SET")
                .arg(self.name.as_str())
                .arg(self.value.as_slice())
                .query_async::<()>(conn)
                .await
                .map_err(|e| op_error(shard, &e)),
            Err(error) => Err(error),
        };
        let end = ledger.tick();
        ledger.record(key, WriteRecord { id, start, end, acked: result.is_ok() });
        if result.is_ok() {
            shard.health.succeeded();
        }
        result
    }
}

impl<P: Placement> Worker for NetWorker<P> {
    async fn call(&mut self, op: Op) -> OpResult {
        let _active = self.enter();
        match op.kind {
            OpKind::Read => self.read(op.key).await,
            OpKind::Update | OpKind::Insert => self.write(op.key).await,
            OpKind::ReadModifyWrite => {
                self.read(op.key).await?;
                self.write(op.key).await
            }
            OpKind::Scan => Err(unsupported_scan()),
        }
    }

    async fn call_batch(&mut self, ops: &[Op]) -> BatchOutcome {
        let _active = self.enter();
        let mut batch = Pipelined::plan(self, ops);
        batch.run(self).await;
        batch.outcome
    }
}

fn unsupported_scan() -> OpError {
    OpError {
        kind: "unsupported",
        detail: Some("scans have no meaning over hash-partitioned shards; remove `scan` from the mix".into()),
    }
}

/// One command of a pipelined batch, for operation `op`.
#[derive(Clone, Copy)]
enum Step {
    /// Step `step` of the read rule for a key.
    Read { op: usize, step: usize },
    /// The `SET` of a write, with its id.
    Write { op: usize, id: u64 },
}

/// A batch of operations, sent in pipelined rounds.
struct Pipelined<'o> {
    ops: &'o [Op],
    /// The commands of the next round.
    round: Vec<Step>,
    /// Whether each operation has failed already.
    failed: Vec<bool>,
    outcome: BatchOutcome,
}

/// Rounds a batch needs at most: the read rule has three steps.
const MAX_ROUNDS: usize = 3;

impl<'o> Pipelined<'o> {
    fn plan<P: Placement>(worker: &mut NetWorker<P>, ops: &'o [Op]) -> Self {
        let mut round = Vec::with_capacity(ops.len() + 1);
        for (i, op) in ops.iter().enumerate() {
            match op.kind {
                OpKind::Read => round.push(Step::Read { op: i, step: 0 }),
                OpKind::Update | OpKind::Insert => round.push(Step::Write { op: i, id: worker.next_write_id() }),
                OpKind::ReadModifyWrite => {
                    round.push(Step::Read { op: i, step: 0 });
                    round.push(Step::Write { op: i, id: worker.next_write_id() });
                }
                OpKind::Scan => {}
            }
        }
        let mut batch = Pipelined { ops, round, failed: vec![false; ops.len()], outcome: BatchOutcome::default() };
        for (i, op) in ops.iter().enumerate() {
            if op.kind == OpKind::Scan {
                batch.fail(i, unsupported_scan());
            }
        }
        batch
    }

    fn fail(&mut self, op: usize, error: OpError) {
        if !std::mem::replace(&mut self.failed[op], true) {
            self.outcome.add(Err(error));
        }
    }

    /// The shard a step goes to.
    fn node<P: Placement>(&self, routing: &Routing<P>, step: Step) -> NodeId {
        match step {
            Step::Read { op, step } => {
                let (owner, previous) = routing.route(self.ops[op].key);
                read_steps(owner, previous).as_slice()[step]
            }
            Step::Write { op, .. } => routing.route(self.ops[op].key).0,
        }
    }

    async fn run<P: Placement>(&mut self, worker: &mut NetWorker<P>) {
        for _ in 0..MAX_ROUNDS {
            if self.round.is_empty() {
                break;
            }
            let steps = std::mem::take(&mut self.round);
            let start = worker.shared.ledger.tick();
            let replies = self.send(worker, &steps).await;
            let end = worker.shared.ledger.tick();
            for (step, reply) in steps.into_iter().zip(replies) {
                self.settle(worker, step, reply, (start, end));
            }
        }
    }

    /// Sends `steps` as one pipeline per shard, all shards at once; the replies come back in
    /// the order of `steps`.
    async fn send<P: Placement>(&self, worker: &mut NetWorker<P>, steps: &[Step]) -> Vec<Result<bool, OpError>> {
        let routing = Arc::clone(&worker.routing);
        let mut groups: Vec<(NodeId, Vec<usize>)> = Vec::new();
        for (i, step) in steps.iter().enumerate() {
            let node = self.node(&routing, *step);
            match groups.iter_mut().find(|(n, _)| *n == node) {
                Some((_, members)) => members.push(i),
                None => groups.push((node, vec![i])),
            }
        }
        let mut sends = Vec::with_capacity(groups.len());
        for (node, members) in &groups {
            let shard = routing.shard(*node);
            let conn = worker.conns.get(shard).map(|c| c.clone());
            let pipe = self.pipeline(worker, steps, members);
            sends.push(async move {
                let mut conn = conn?;
                let replies: Vec<Value> = pipe.query_async(&mut conn).await.map_err(|e| op_error(shard, &e))?;
                shard.health.succeeded();
                Ok::<_, OpError>(replies)
            });
        }
        let mut replies: Vec<Result<bool, OpError>> = vec![Ok(false); steps.len()];
        for ((_, members), result) in groups.iter().zip(futures_util::future::join_all(sends).await) {
            for (position, &i) in members.iter().enumerate() {
                replies[i] = match &result {
                    Ok(values) => Ok(!matches!(values.get(position), Some(Value::Nil) | None)),
                    Err(error) => Err(error.clone()),
                };
            }
        }
        replies
    }

    fn pipeline<P: Placement>(&self, worker: &mut NetWorker<P>, steps: &[Step], members: &[usize]) -> redis::Pipeline {
        let mut pipe = redis::pipe();
        for &i in members {
            match steps[i] {
                Step::Read { op, .. } => {
                    worker.shared.names.write(self.ops[op].key, &mut worker.name);
                    pipe.cmd("GET").arg(worker.name.as_str());
                }
                Step::Write { op, id } => {
                    worker.shared.names.write(self.ops[op].key, &mut worker.name);
                    stamp(&mut worker.value, id, worker.shared.value_size);
                    pipe.cmd("SET").arg(worker.name.as_str()).arg(worker.value.as_slice());
                }
            }
        }
        pipe
    }

    /// Takes one reply: a write is recorded; a read that found its key is done, one that did
    /// not goes on to the rule's next step or is a miss.
    fn settle<P: Placement>(
        &mut self,
        worker: &NetWorker<P>,
        step: Step,
        reply: Result<bool, OpError>,
        (start, end): (u64, u64),
    ) {
        match step {
            Step::Write { op, id } => {
                let key = self.ops[op].key;
                worker.shared.ledger.record(key, WriteRecord { id, start, end, acked: reply.is_ok() });
                if let Err(error) = reply {
                    self.fail(op, error);
                }
            }
            Step::Read { op, step } => match reply {
                Err(error) => self.fail(op, error),
                Ok(true) => {}
                Ok(false) => {
                    let key = self.ops[op].key;
                    let (owner, previous) = worker.routing.route(key);
                    if step + 1 < read_steps(owner, previous).as_slice().len() {
                        self.round.push(Step::Read { op, step: step + 1 });
                    } else {
                        let miss = worker.shared.miss(key, worker.routing.shard(owner), worker.routing.migrating());
                        self.fail(op, miss);
                    }
                }
            },
        }
    }
}

impl<P: Placement> Shared<P> {
    /// Counts a read that found no value, and describes it.
    #[cold]
    pub(super) fn miss(&self, key: u64, owner: &super::shards::ShardAddr, migrating: bool) -> OpError {
        self.counters.misses.fetch_add(1, Ordering::Relaxed);
        if migrating {
            self.counters.misses_migrating.fetch_add(1, Ordering::Relaxed);
        }
        OpError { kind: "miss", detail: Some(format!("key {key} has no value on its owner, {owner}")) }
    }
}
