//! Linearizability of a recorded key-value history, key by key.
//!
//! A key-value store is linearizable if and only if each key's sub-history is (Herlihy and
//! Wing's locality), so the history is split by key and each key is checked as a register:
//! a write sets its value; a read must return the value of the last write linearized before
//! it (`None` if there is none).
//!
//! For one key the search is Wing and Gong's, with Lowe's improvements, as in Porcupine: the
//! operations' calls and returns form a doubly linked list in time order; walking it, the
//! first call whose operation the register accepts is *linearized* — lifted out of the list
//! with its return, pushed on a stack — and the walk starts over; reaching a return whose
//! call is not linearized means the last choice was wrong: pop it, put it back, and try the
//! next call after it. A cache of (set of linearized operations, register value) cuts every
//! branch that reaches a configuration already explored. The set is kept as a 128-bit
//! Zobrist hash (two independent 64-bit keys per operation, XORed in and out), so a cache
//! entry is 24 bytes; two different sets collide with a probability around 2⁻¹²⁸ per pair.
//!
//! An operation the client never heard back from (a write that timed out) returns at the end
//! of time: it may take effect at any point after its call, or never (it can then always be
//! linearized last). Reads that timed out are not recorded.
//!
//! The search is exponential in the worst case, so it is bounded: a deadline for the whole
//! history and a cache size per key. A key it cannot finish is *unchecked*, and the report
//! says how many, never claiming they passed. Before searching, every read is checked against
//! the writes: a read of a value nobody wrote, or of a write that started only after the read
//! had returned, is a violation found without any search.

use super::MAX_DESCRIBED;
use crate::consensus::history::{Access, HistoryOp, NO_ANSWER};
use crate::consensus::state::IntHasher;
use rand::{Rng as _, SeedableRng as _};
use rand_xoshiro::Xoshiro256PlusPlus;
use std::collections::{HashMap, HashSet};
use std::hash::BuildHasherDefault;
use std::time::Instant;

/// The most configurations cached for one key (~24 bytes each, plus the table's overhead).
pub const MAX_CACHE_ENTRIES: usize = 4_000_000;
/// How many search steps pass between two looks at the clock.
const CLOCK_EVERY: u64 = 4096;

/// What the checker found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LinReport {
    /// Operations checked (on keys whose search finished).
    pub ops: u64,
    /// Keys whose search finished.
    pub keys_checked: u64,
    /// Keys whose search did not finish within the bounds.
    pub keys_unchecked: u64,
    /// Keys with no linearization.
    pub violations: u64,
    pub described: Vec<String>,
}

impl LinReport {
    fn violation(&mut self, description: String) {
        self.violations += 1;
        if self.described.len() < MAX_DESCRIBED {
            self.described.push(description);
        }
    }
}

/// One key's verdict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Linearizable,
    /// With a description of where the search got stuck.
    Violation(String),
    /// Over the deadline or the cache bound.
    Unknown,
}

/// Checks `ops`, key by key, until `deadline`.
pub fn check(ops: &[HistoryOp], deadline: Instant) -> LinReport {
    let mut by_key: HashMap<u64, Vec<HistoryOp>> = HashMap::new();
    for op in ops {
        by_key.entry(op.key).or_default().push(*op);
    }
    let mut keys: Vec<(u64, Vec<HistoryOp>)> = by_key.into_iter().collect();
    // Small keys first: a deadline then leaves the big ones unchecked, not many small ones.
    keys.sort_unstable_by_key(|(key, ops)| (ops.len(), *key));
    let mut report = LinReport::default();
    for (key, ops) in &keys {
        match check_key(*key, ops, deadline) {
            Verdict::Linearizable => {
                report.keys_checked += 1;
                report.ops += ops.len() as u64;
            }
            Verdict::Violation(description) => {
                report.keys_checked += 1;
                report.ops += ops.len() as u64;
                report.violation(description);
            }
            Verdict::Unknown => report.keys_unchecked += 1,
        }
    }
    report
}

/// Checks one key's operations.
pub fn check_key(key: u64, ops: &[HistoryOp], deadline: Instant) -> Verdict {
    if let Some(description) = impossible_read(key, ops) {
        return Verdict::Violation(description);
    }
    Search::new(key, ops).run(deadline)
}

/// A read no linearization can explain, found without searching.
fn impossible_read(key: u64, ops: &[HistoryOp]) -> Option<String> {
    let writes: HashMap<u64, &HistoryOp> =
        ops.iter().filter_map(|op| if let Access::Write(v) = op.access { Some((v, op)) } else { None }).collect();
    ops.iter().find_map(|op| {
        let Access::Read(Some(value)) = op.access else { return None };
        match writes.get(&value) {
            None => Some(format!("key {key}: a read returned value {value:#x}, which no client wrote")),
            Some(write) if write.call_ns > op.ret_ns => Some(format!(
                "key {key}: a read returned value {value:#x} at {} ns, before its write was asked at {} ns",
                op.ret_ns, write.call_ns
            )),
            Some(_) => None,
        }
    })
}

const NIL: u32 = u32::MAX;

type Cache = HashSet<(u64, u64, Option<u64>), BuildHasherDefault<IntHasher>>;

/// The search over one key: a doubly linked list of call and return entries, in time order,
/// with a sentinel head at index `2n`.
struct Search<'a> {
    key: u64,
    ops: &'a [HistoryOp],
    /// Per entry: its operation, whether it is the call, and its links.
    op_of: Vec<u32>,
    is_call: Vec<bool>,
    prev: Vec<u32>,
    next: Vec<u32>,
    /// Per operation: its return entry.
    ret_entry: Vec<u32>,
    zobrist: Vec<(u64, u64)>,
}

impl<'a> Search<'a> {
    fn new(key: u64, ops: &'a [HistoryOp]) -> Self {
        let n = ops.len();
        let mut events: Vec<(u64, bool, u32)> = Vec::with_capacity(2 * n);
        for (i, op) in ops.iter().enumerate() {
            events.push((op.call_ns, false, i as u32));
            events.push((op.ret_ns, true, i as u32));
        }
        // At equal times calls come first: operations that touch are concurrent.
        events.sort_unstable();
        let head = 2 * n;
        let mut search = Search {
            key,
            ops,
            op_of: vec![0; 2 * n + 1],
            is_call: vec![false; 2 * n + 1],
            prev: vec![NIL; 2 * n + 1],
            next: vec![NIL; 2 * n + 1],
            ret_entry: vec![NIL; n],
            zobrist: Vec::with_capacity(n),
        };
        let mut last = head as u32;
        for (index, (_, is_return, op)) in events.into_iter().enumerate() {
            search.op_of[index] = op;
            search.is_call[index] = !is_return;
            if is_return {
                search.ret_entry[op as usize] = index as u32;
            }
            search.prev[index] = last;
            search.next[last as usize] = index as u32;
            last = index as u32;
        }
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(key ^ 0x5eed_1ea5_c0de);
        search.zobrist = (0..n).map(|_| (rng.random(), rng.random())).collect();
        search
    }

    fn head(&self) -> u32 {
        (self.ops.len() * 2) as u32
    }

    fn unlink(&mut self, entry: u32) {
        let (p, n) = (self.prev[entry as usize], self.next[entry as usize]);
        self.next[p as usize] = n;
        if n != NIL {
            self.prev[n as usize] = p;
        }
    }

    fn relink(&mut self, entry: u32) {
        let (p, n) = (self.prev[entry as usize], self.next[entry as usize]);
        self.next[p as usize] = entry;
        if n != NIL {
            self.prev[n as usize] = entry;
        }
    }

    /// Takes a call and its return out of the list.
    fn lift(&mut self, call: u32) {
        let ret = self.ret_entry[self.op_of[call as usize] as usize];
        self.unlink(call);
        self.unlink(ret);
    }

    /// Puts them back (the reverse of [`Search::lift`]).
    fn unlift(&mut self, call: u32) {
        let ret = self.ret_entry[self.op_of[call as usize] as usize];
        self.relink(ret);
        self.relink(call);
    }

    fn run(mut self, deadline: Instant) -> Verdict {
        let head = self.head();
        let mut cache = Cache::default();
        let mut stack: Vec<(u32, Option<u64>)> = Vec::new();
        let mut state: Option<u64> = None;
        let mut hash = (0u64, 0u64);
        let mut entry = self.next[head as usize];
        let mut steps = 0u64;
        while self.next[head as usize] != NIL {
            steps += 1;
            if steps.is_multiple_of(CLOCK_EVERY) && Instant::now() > deadline || cache.len() > MAX_CACHE_ENTRIES {
                return Verdict::Unknown;
            }
            if entry != NIL && self.is_call[entry as usize] {
                let op = self.op_of[entry as usize] as usize;
                let next_state = match self.ops[op].access {
                    Access::Write(value) => Some(Some(value)),
                    Access::Read(seen) => (seen == state).then_some(state),
                };
                if let Some(next_state) = next_state {
                    let (a, b) = self.zobrist[op];
                    let next_hash = (hash.0 ^ a, hash.1 ^ b);
                    if cache.insert((next_hash.0, next_hash.1, next_state)) {
                        stack.push((entry, state));
                        state = next_state;
                        hash = next_hash;
                        self.lift(entry);
                        entry = self.next[head as usize];
                        continue;
                    }
                }
                entry = self.next[entry as usize];
                continue;
            }
            // A return whose call is not linearized (or the end): undo the last choice.
            let Some((call, previous)) = stack.pop() else {
                return Verdict::Violation(self.describe(entry));
            };
            let (a, b) = self.zobrist[self.op_of[call as usize] as usize];
            hash = (hash.0 ^ a, hash.1 ^ b);
            state = previous;
            self.unlift(call);
            entry = self.next[call as usize];
        }
        Verdict::Linearizable
    }

    fn describe(&self, entry: u32) -> String {
        let n = self.ops.len();
        let Some(op) = (entry != NIL).then(|| &self.ops[self.op_of[entry as usize] as usize]) else {
            return format!("key {}: no linearization of its {n} operations", self.key);
        };
        let what = match op.access {
            Access::Write(v) => format!("a write of {v:#x}"),
            Access::Read(Some(v)) => format!("a read returning {v:#x}"),
            Access::Read(None) => "a read returning nothing".to_string(),
        };
        let answered =
            if op.ret_ns == NO_ANSWER { "never answered".to_string() } else { format!("answered at {} ns", op.ret_ns) };
        format!(
            "key {}: no linearization of its {n} operations ({what}, asked at {} ns, {answered}, fits no order)",
            self.key, op.call_ns
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn op(access: Access, call_ns: u64, ret_ns: u64) -> HistoryOp {
        HistoryOp { key: 1, access, call_ns, ret_ns }
    }

    fn far() -> Instant {
        Instant::now() + Duration::from_secs(10)
    }

    #[test]
    fn concurrent_operations_may_go_either_way() {
        // w(1) and w(2) overlap; a later read sees 1: w(2) went first.
        let ops = [
            op(Access::Write(1), 0, 10),
            op(Access::Write(2), 5, 15),
            op(Access::Read(Some(1)), 20, 30),
            op(Access::Read(Some(1)), 25, 35),
        ];
        assert_eq!(check_key(1, &ops, far()), Verdict::Linearizable);
        // A read before any write sees nothing, and a timed-out write may land late.
        let ops = [
            op(Access::Read(None), 0, 3),
            op(Access::Write(7), 1, NO_ANSWER),
            op(Access::Read(None), 4, 5),
            op(Access::Read(Some(7)), 10, 12),
        ];
        assert_eq!(check_key(1, &ops, far()), Verdict::Linearizable);
    }

    #[test]
    fn a_stale_read_is_caught() {
        // w(1) completes, then w(2) completes, then a read returns 1: stale.
        let ops = [op(Access::Write(1), 0, 10), op(Access::Write(2), 20, 30), op(Access::Read(Some(1)), 40, 50)];
        assert!(matches!(check_key(1, &ops, far()), Verdict::Violation(_)));
        // Two sequential reads that see the writes in opposite orders.
        let ops = [
            op(Access::Write(1), 0, 100),
            op(Access::Write(2), 0, 100),
            op(Access::Read(Some(1)), 10, 20),
            op(Access::Read(Some(2)), 30, 40),
            op(Access::Read(Some(1)), 50, 60),
        ];
        assert!(matches!(check_key(1, &ops, far()), Verdict::Violation(_)));
        // A read of a value nobody wrote, and one of a write asked after it returned.
        assert!(matches!(check_key(1, &[op(Access::Read(Some(9)), 0, 1)], far()), Verdict::Violation(_)));
        let ops = [op(Access::Read(Some(3)), 0, 5), op(Access::Write(3), 6, 9)];
        let Verdict::Violation(description) = check_key(1, &ops, far()) else { panic!("not caught") };
        assert!(description.contains("before its write"), "{description}");
    }

    #[test]
    fn keys_are_checked_apart_and_counted() {
        let mut ops = vec![op(Access::Write(1), 0, 10), op(Access::Read(Some(1)), 20, 30)];
        ops.push(HistoryOp { key: 2, access: Access::Write(5), call_ns: 0, ret_ns: 10 });
        ops.push(HistoryOp { key: 2, access: Access::Read(None), call_ns: 20, ret_ns: 30 });
        let report = check(&ops, far());
        assert_eq!((report.keys_checked, report.violations, report.ops), (2, 1, 4));
        assert!(report.described[0].starts_with("key 2"), "{:?}", report.described);
        let late = check(&ops, Instant::now() - Duration::from_secs(1));
        assert_eq!(late.violations, 1, "the impossible read needs no search");
    }

    #[test]
    fn a_long_sequential_history_needs_no_backtracking() {
        let mut ops = Vec::new();
        for i in 0..50_000u64 {
            ops.push(op(Access::Write(i + 1), i * 10, i * 10 + 5));
            ops.push(op(Access::Read(Some(i + 1)), i * 10 + 6, i * 10 + 9));
        }
        // Greedy all the way: one pass, no backtracking (a generous deadline only bounds it).
        let deadline = Instant::now() + Duration::from_secs(120);
        assert_eq!(check_key(1, &ops, deadline), Verdict::Linearizable);
    }
}
