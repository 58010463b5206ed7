//! The consensus checkers, run after a run:
//!
//! - [`agreement`]: no slot decided two values, across every replica's log (each replica
//!   logs a digest of every value it applies);
//! - [`linearizability`]: the clients' recorded history, key by key, has a linearization in
//!   which every read returns the last value written before it.
//!
//! Each broken rule is one violation; the first few are described.

pub mod linearizability;

use super::{DECIDED_TAG, Record, Slot};
use crate::transport::{PeerId, TransportError, codec};

/// Descriptions kept for a report (the counts are always complete).
pub const MAX_DESCRIBED: usize = 5;

/// What the agreement checker found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AgreementReport {
    /// Slots some replica logged as decided.
    pub slots: u64,
    /// Slots logged as decided more than once (by several replicas, or by one across its
    /// restarts), whose digests were compared.
    pub compared: u64,
    pub violations: u64,
    pub described: Vec<String>,
}

/// Compares the decided digests in every replica's log (`(replica, records)`).
pub fn agreement(logs: &[(PeerId, Vec<Vec<u8>>)]) -> Result<AgreementReport, TransportError> {
    let mut report = AgreementReport::default();
    // Slot → (digest, first replica to log it, logged again): slots are dense from 1.
    let mut decided: Vec<Option<(u64, PeerId, bool)>> = Vec::new();
    for (replica, records) in logs {
        for bytes in records.iter().filter(|b| b.first() == Some(&DECIDED_TAG)) {
            let Record::Decided { first, digests } = codec::decode::<Record>(bytes)? else { continue };
            for (slot, digest) in (first..).zip(digests) {
                compare(&mut report, &mut decided, slot, digest, *replica);
            }
        }
    }
    report.slots = decided.iter().flatten().count() as u64;
    report.compared = decided.iter().flatten().filter(|(_, _, again)| *again).count() as u64;
    Ok(report)
}

fn compare(
    report: &mut AgreementReport,
    decided: &mut Vec<Option<(u64, PeerId, bool)>>,
    slot: Slot,
    digest: u64,
    replica: PeerId,
) {
    let index = slot as usize;
    if decided.len() <= index {
        decided.resize(index + 1, None);
    }
    match &mut decided[index] {
        None => decided[index] = Some((digest, replica, false)),
        Some((first, _, again)) if *first == digest => *again = true,
        Some((first, by, again)) => {
            *again = true;
            report.violations += 1;
            if report.described.len() < MAX_DESCRIBED {
                report.described.push(format!(
                    "slot {slot} decided two values: replica {by} applied digest {first:016x}, replica {replica} \
                     digest {digest:016x}"
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decided(first: Slot, digests: &[u64]) -> Vec<u8> {
        codec::encode(&Record::Decided { first, digests: digests.to_vec() }).unwrap()
    }

    #[test]
    fn agreeing_logs_pass_and_a_slot_with_two_values_is_caught() {
        let promise = codec::encode(&Record::Promise { ballot: Default::default(), slot: None }).unwrap();
        let good = vec![
            (0, vec![promise.clone(), decided(1, &[10, 11, 12])]),
            (1, vec![decided(1, &[10, 11]), promise, decided(3, &[12, 13])]),
            (2, vec![decided(2, &[11])]),
        ];
        let report = agreement(&good).unwrap();
        assert_eq!((report.violations, report.slots, report.compared), (0, 4, 3));
        let mut bad = good.clone();
        bad[2].1.push(decided(3, &[99]));
        let report = agreement(&bad).unwrap();
        assert_eq!(report.violations, 1);
        assert!(report.described[0].contains("slot 3"), "{:?}", report.described);
    }
}
