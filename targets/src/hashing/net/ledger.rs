//! What every key should hold after the run: the write history the verification pass checks
//! the servers against.
//!
//! Each write carries a unique id (in the first eight bytes of its value) and two ticks of a
//! logical clock shared by all workers: one taken before it is sent, one after its answer.
//! Ticks order writes in real time — if write B's start tick is above write A's end tick, B
//! was sent after A was acknowledged — without reading a clock. Per key, the ledger keeps the
//! *candidates*: the writes that may hold the key's final value. An acknowledged write B
//! removes every candidate that ended before B started (B overwrote it, so the key cannot
//! hold it any more); concurrent writes stay, since either may land last. A failed write
//! (refused, dropped, timed out) is a candidate too — its outcome is unknown — but removes
//! nothing. Keys written by nobody during the run keep their loaded value (id 0).
//!
//! After the run a key is **ok** when it holds a candidate's value, or is missing and no
//! candidate was acknowledged; it is **lost** when it is missing although a write was
//! acknowledged (or it was loaded), or holds a value no candidate wrote (an older one: an
//! acknowledged write was overwritten or dropped).
//!
//! Keys are striped over a fixed number of locks, so workers writing different keys rarely
//! meet; candidates per key are bounded.

use crate::sync::Recover as _;
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Locks the key space is striped over.
const STRIPES: usize = 256;
/// Candidates kept per key: concurrent writes to one key are bounded by the workers, but
/// failed writes to a dead shard pile up; past this, the oldest failed one is forgotten.
const MAX_CANDIDATES: usize = 64;

/// The id of the value loaded before the run.
pub const LOADED_ID: u64 = 0;

/// One write to a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WriteRecord {
    /// Unique id, stored in the value.
    pub id: u64,
    /// Logical clock before sending and after the answer.
    pub start: u64,
    pub end: u64,
    /// Whether the server acknowledged it.
    pub acked: bool,
}

const LOADED: WriteRecord = WriteRecord { id: LOADED_ID, start: 0, end: 0, acked: true };

/// What the verification pass found for one key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyCheck {
    Ok,
    /// Missing, although a write of it was acknowledged (or it was loaded).
    Missing,
    /// Holds a value that no candidate wrote: an acknowledged write was lost.
    Stale,
}

/// The write history of the run's keys.
#[derive(Debug)]
pub struct Ledger {
    clock: AtomicU64,
    stripes: Vec<Mutex<HashMap<u64, Vec<WriteRecord>>>>,
}

impl Default for Ledger {
    fn default() -> Self {
        Ledger { clock: AtomicU64::new(1), stripes: (0..STRIPES).map(|_| Mutex::new(HashMap::new())).collect() }
    }
}

impl Ledger {
    /// The next tick of the logical clock.
    #[inline]
    pub fn tick(&self) -> u64 {
        self.clock.fetch_add(1, Ordering::SeqCst)
    }

    fn stripe(&self, key: u64) -> std::sync::MutexGuard<'_, HashMap<u64, Vec<WriteRecord>>> {
        self.stripes[(key % STRIPES as u64) as usize].locked()
    }

    /// Records that loading `key` failed: nothing is expected of it unless it is written.
    pub fn not_loaded(&self, key: u64) {
        self.stripe(key).insert(key, Vec::new());
    }

    /// Records a write of `key`.
    pub fn record(&self, key: u64, write: WriteRecord) {
        let mut stripe = self.stripe(key);
        let candidates = stripe.entry(key).or_insert_with(|| vec![LOADED]);
        if write.acked {
            candidates.retain(|c| c.end >= write.start);
        } else if candidates.len() >= MAX_CANDIDATES
            && let Some(oldest) = candidates.iter().position(|c| !c.acked)
        {
            candidates.remove(oldest);
        }
        candidates.push(write);
    }

    /// Checks what the server holds for `key`: the id of its value, or `None` if missing.
    pub fn check(&self, key: u64, found: Option<u64>) -> KeyCheck {
        let stripe = self.stripe(key);
        let candidates = stripe.get(&key).map_or(std::slice::from_ref(&LOADED), Vec::as_slice);
        match found {
            Some(id) if candidates.iter().any(|c| c.id == id) => KeyCheck::Ok,
            Some(_) => KeyCheck::Stale,
            None if candidates.iter().any(|c| c.acked) => KeyCheck::Missing,
            None => KeyCheck::Ok,
        }
    }

    /// Whether `key` is expected to hold a value (loaded or acknowledged).
    pub fn expected(&self, key: u64) -> bool {
        let stripe = self.stripe(key);
        stripe.get(&key).is_none_or(|candidates| candidates.iter().any(|c| c.acked))
    }
}

/// The value of a write: its id in the first eight bytes (little-endian), then filler up to
/// `size` bytes (at least eight).
pub fn stamp(value: &mut Vec<u8>, id: u64, size: usize) {
    value.resize(size.max(8), b'x');
    value[..8].copy_from_slice(&id.to_le_bytes());
}

/// The write id stored in a value, if it is long enough to hold one.
pub fn id_of(value: &[u8]) -> Option<u64> {
    value.get(..8).map(|bytes| u64::from_le_bytes(bytes.try_into().expect("eight bytes")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(id: u64, start: u64, end: u64, acked: bool) -> WriteRecord {
        WriteRecord { id, start, end, acked }
    }

    #[test]
    fn untouched_keys_expect_their_loaded_value() {
        let ledger = Ledger::default();
        assert_eq!(ledger.check(7, Some(LOADED_ID)), KeyCheck::Ok);
        assert_eq!(ledger.check(7, None), KeyCheck::Missing);
        assert_eq!(ledger.check(7, Some(99)), KeyCheck::Stale);
        ledger.not_loaded(8);
        assert_eq!(ledger.check(8, None), KeyCheck::Ok);
        assert!(!ledger.expected(8) && ledger.expected(7));
    }

    #[test]
    fn a_later_acknowledged_write_supersedes_earlier_ones() {
        let ledger = Ledger::default();
        ledger.record(1, write(10, 1, 2, true));
        ledger.record(1, write(11, 3, 4, true));
        assert_eq!(ledger.check(1, Some(11)), KeyCheck::Ok);
        assert_eq!(ledger.check(1, Some(10)), KeyCheck::Stale, "10 was acknowledged before 11 was sent");
        assert_eq!(ledger.check(1, Some(LOADED_ID)), KeyCheck::Stale);
        assert_eq!(ledger.check(1, None), KeyCheck::Missing);
    }

    #[test]
    fn concurrent_writes_may_either_land_last() {
        let ledger = Ledger::default();
        ledger.record(1, write(10, 1, 4, true));
        ledger.record(1, write(11, 2, 3, true));
        assert_eq!(ledger.check(1, Some(10)), KeyCheck::Ok);
        assert_eq!(ledger.check(1, Some(11)), KeyCheck::Ok);
    }

    #[test]
    fn failed_writes_may_or_may_not_have_landed() {
        let ledger = Ledger::default();
        ledger.record(1, write(10, 1, 2, false));
        assert_eq!(ledger.check(1, Some(10)), KeyCheck::Ok);
        assert_eq!(ledger.check(1, Some(LOADED_ID)), KeyCheck::Ok, "the failure removes nothing");
        for i in 0..200 {
            ledger.record(1, write(100 + i, 10 + 2 * i, 11 + 2 * i, false));
        }
        assert_eq!(ledger.check(1, Some(LOADED_ID)), KeyCheck::Ok, "the acknowledged value is never forgotten");
    }

    #[test]
    fn values_carry_their_write_id() {
        let mut value = Vec::new();
        stamp(&mut value, 0xABCD, 100);
        assert_eq!(value.len(), 100);
        assert_eq!(id_of(&value), Some(0xABCD));
        assert_eq!(id_of(b"short"), None);
    }
}
