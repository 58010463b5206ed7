//! The replicated state machine: a key-value map, applied one decided slot at a time.
//!
//! Clients retry a command whose answer they did not get (a leader died, a message was
//! lost), so the same command can be decided in two slots. Each client has one request
//! outstanding at a time and numbers them, so a *session* per client — the number of its last
//! applied request — makes every write apply once: a repeat of the last request is answered
//! again without applying it, an older one is ignored (its client has moved on). A repeated
//! read is simply read again: both readings fall inside the request's lifetime.
//!
//! The machine keeps the decided values of its last [`RETAIN_SLOTS`] slots, for replicas that
//! catch up (and for a new leader's phase 1); a replica further behind gets a [`Snapshot`].

use super::{CmdResult, Command, Data, KvOp, Slot, Snapshot, Value};
use crate::transport::PeerId;
use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use xxhash_rust::xxh3::{Xxh3, xxh3_64};

/// Decided values kept for catching up.
pub const RETAIN_SLOTS: usize = 512;

/// Hashes integers with one multiply and a fold: keys of the store are small integers, which
/// the default (SipHash) spends far longer on. Not for keys an adversary chooses.
#[derive(Clone, Copy, Debug, Default)]
pub struct IntHasher(u64);

impl Hasher for IntHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(u64::from(*b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        let x = (self.0.rotate_left(23) ^ n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        self.0 = x ^ (x >> 29);
    }

    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }
}

/// A hash map with integer keys.
pub type IntMap<K, V> = HashMap<K, V, BuildHasherDefault<IntHasher>>;

/// The digest of a decided value, as the agreement checker compares them: xxh3 over every
/// field of every command, in order.
pub fn digest(value: &Value) -> u64 {
    let mut hash = Xxh3::new();
    let Value::Batch(commands) = value else { return xxh3_64(b"noop") };
    for command in commands {
        hash.update(&command.client.to_le_bytes());
        hash.update(&command.req.to_le_bytes());
        match &command.op {
            KvOp::Put { key, value } => {
                hash.update(&[0]);
                hash.update(&key.to_le_bytes());
                hash.update(&(value.bytes().len() as u64).to_le_bytes());
                hash.update(value.bytes());
            }
            KvOp::Get { key } => {
                hash.update(&[1]);
                hash.update(&key.to_le_bytes());
            }
        }
    }
    hash.digest()
}

/// A replica's key-value state.
#[derive(Debug, Default)]
pub struct StateMachine {
    kv: IntMap<u64, Data>,
    sessions: IntMap<PeerId, u64>,
    applied: Slot,
    retained: VecDeque<Value>,
}

impl StateMachine {
    /// Every slot up to this one is applied.
    pub fn applied(&self) -> Slot {
        self.applied
    }

    /// The value of `key` now.
    pub fn get(&self, key: u64) -> Option<&Data> {
        self.kv.get(&key)
    }

    /// The first slot whose decided value is still kept.
    fn retained_from(&self) -> Slot {
        self.applied + 1 - self.retained.len() as Slot
    }

    /// Applies `value`, decided at slot `applied + 1`, and returns its digest. `reply` is told
    /// the result of every command that takes effect or repeats its client's last request.
    pub fn apply(&mut self, value: Value, mut reply: impl FnMut(&Command, CmdResult)) -> u64 {
        let digest = digest(&value);
        if let Value::Batch(commands) = &value {
            for command in commands {
                if let Some(result) = self.execute(command) {
                    reply(command, result);
                }
            }
        }
        self.retained.push_back(value);
        if self.retained.len() > RETAIN_SLOTS {
            self.retained.pop_front();
        }
        self.applied += 1;
        digest
    }

    /// Runs one command under its client's session; `None` for a stale request.
    fn execute(&mut self, command: &Command) -> Option<CmdResult> {
        let last = self.sessions.get(&command.client).copied().unwrap_or(0);
        if command.req < last {
            return None;
        }
        let repeat = command.req == last;
        self.sessions.insert(command.client, command.req);
        Some(match &command.op {
            KvOp::Put { .. } if repeat => CmdResult::Written,
            KvOp::Put { key, value } => {
                self.kv.insert(*key, value.clone());
                CmdResult::Written
            }
            KvOp::Get { key } => CmdResult::Read(self.kv.get(key).cloned()),
        })
    }

    /// The decided values from `from` on (at most `max`), or `None` when `from` is no longer
    /// kept (send a snapshot).
    pub fn decided_from(&self, from: Slot, max: usize) -> Option<Vec<(Slot, Value)>> {
        let first = self.retained_from();
        if from < first {
            return None;
        }
        let skip = (from - first) as usize;
        Some(self.retained.iter().skip(skip).take(max).zip(from..).map(|(v, s)| (s, v.clone())).collect())
    }

    /// The whole state, for a replica too far behind.
    pub fn snapshot(&self) -> Snapshot {
        let mut kv: Vec<(u64, Data)> = self.kv.iter().map(|(k, v)| (*k, v.clone())).collect();
        kv.sort_unstable_by_key(|(k, _)| *k);
        let mut sessions: Vec<(PeerId, u64)> = self.sessions.iter().map(|(c, r)| (*c, *r)).collect();
        sessions.sort_unstable();
        Snapshot { applied: self.applied, kv, sessions }
    }

    /// Replaces the state with `snapshot` (which must be ahead of it).
    pub fn install(&mut self, snapshot: Snapshot) {
        assert!(snapshot.applied > self.applied, "a snapshot only moves a replica forward");
        self.kv = snapshot.kv.into_iter().collect();
        self.sessions = snapshot.sessions.into_iter().collect();
        self.applied = snapshot.applied;
        self.retained.clear();
    }

    /// A digest of the key-value state (independent of insertion order).
    pub fn state_digest(&self) -> u64 {
        self.kv.iter().fold(0u64, |acc, (k, v)| acc ^ xxh3_64(&k.to_le_bytes()).wrapping_mul(xxh3_64(v.bytes()) | 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(client: PeerId, req: u64, key: u64, value: u8) -> Command {
        Command { client, req, op: KvOp::Put { key, value: vec![value].into() } }
    }

    fn get(client: PeerId, req: u64, key: u64) -> Command {
        Command { client, req, op: KvOp::Get { key } }
    }

    #[test]
    fn a_retried_write_applies_once_and_a_stale_one_never() {
        let mut sm = StateMachine::default();
        let mut replies = Vec::new();
        sm.apply(Value::Batch(vec![put(1, 1, 7, 10), put(2, 1, 7, 20)]), |c, r| replies.push((c.client, r)));
        // Client 1's first write decided again after client 2's: answered, not applied.
        sm.apply(Value::Batch(vec![put(1, 1, 7, 10), get(3, 1, 7)]), |c, r| replies.push((c.client, r)));
        assert_eq!(replies[2], (1, CmdResult::Written));
        assert_eq!(replies[3], (3, CmdResult::Read(Some(vec![20].into()))));
        // An older request than the last one is stale.
        sm.apply(Value::Batch(vec![put(1, 2, 8, 1)]), |_, _| {});
        let mut stale = 0;
        sm.apply(Value::Batch(vec![put(1, 1, 8, 2)]), |_, _| stale += 1);
        assert_eq!(stale, 0);
        assert_eq!(sm.get(8), Some(&vec![1].into()));
        assert_eq!(sm.applied(), 4);
    }

    #[test]
    fn keeps_recent_values_then_needs_a_snapshot() {
        let mut sm = StateMachine::default();
        for i in 0..(RETAIN_SLOTS as u64 + 10) {
            sm.apply(Value::Batch(vec![put(1, i + 1, i % 3, i as u8)]), |_, _| {});
        }
        assert!(sm.decided_from(1, 10).is_none(), "the first slots are compacted");
        let recent = sm.decided_from(sm.applied() - 1, 10).unwrap();
        assert_eq!(recent.len(), 2);
        assert_eq!(recent[1].0, sm.applied());
        let mut other = StateMachine::default();
        other.install(sm.snapshot());
        assert_eq!(other.applied(), sm.applied());
        assert_eq!(other.state_digest(), sm.state_digest());
        assert!(other.decided_from(other.applied() + 1, 10).unwrap().is_empty());
    }

    #[test]
    fn digests_tell_values_apart() {
        let a = digest(&Value::Batch(vec![put(1, 1, 1, 1)]));
        assert_eq!(a, digest(&Value::Batch(vec![put(1, 1, 1, 1)])));
        assert_ne!(a, digest(&Value::Batch(vec![put(1, 1, 1, 2)])));
        assert_ne!(a, digest(&Value::Batch(vec![put(1, 2, 1, 1)])));
        assert_ne!(a, digest(&Value::Noop));
        assert_ne!(digest(&Value::Noop), digest(&Value::Batch(Vec::new())));
    }
}
