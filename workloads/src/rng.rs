//! Seeded random streams.
//!
//! One generator type for the whole workload so that sequences are reproducible across
//! machines and releases of `rand`: xoshiro256++ is fully specified, unlike `StdRng`, whose
//! algorithm may change between versions. Independent streams (one per worker, one per
//! purpose) are derived from the run seed by mixing in a stream number with SplitMix64, so
//! worker 3's keys do not depend on how many workers there are.

use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

/// The random generator every workload uses.
pub type WorkloadRng = Xoshiro256PlusPlus;

/// Named purposes, so that two uses of the same seed never share a stream by accident.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum Stream {
    /// Keys and operation kinds drawn by a worker.
    Keys = 1,
    /// Arrival times of an open-loop worker.
    Arrivals = 2,
    /// Choices a target makes on the workload's behalf (for example a simulated latency).
    Target = 3,
}

/// A generator for `stream` of worker `worker` under `seed`.
pub fn stream_rng(seed: u64, stream: Stream, worker: u64) -> WorkloadRng {
    let mixed = splitmix64(splitmix64(seed ^ (stream as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)) ^ worker);
    WorkloadRng::seed_from_u64(mixed)
}

/// SplitMix64's output function: a bijective, well-mixing 64-bit hash.
pub fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngCore;

    #[test]
    fn streams_differ_by_worker_and_purpose() {
        let a = stream_rng(7, Stream::Keys, 0).next_u64();
        let b = stream_rng(7, Stream::Keys, 1).next_u64();
        let c = stream_rng(7, Stream::Arrivals, 0).next_u64();
        assert_ne!(a, b);
        assert_ne!(a, c);
        assert_eq!(a, stream_rng(7, Stream::Keys, 0).next_u64());
    }
}
