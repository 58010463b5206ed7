//! Load balancing: which backend gets the next request.
//!
//! Every strategy implements [`Selector`] and lives in its own file:
//!
//! | name | file | idea |
//! |---|---|---|
//! | `round-robin` | [`round_robin`] | each backend in turn |
//! | `random` | [`random`] | a uniformly random backend |
//! | `weighted-round-robin` | [`weighted_round_robin`] | nginx's smooth weighted round robin (weights {5,1,1} give a a b a c a a) |
//! | `weighted-random` | [`weighted_random`] | a random backend, with probability proportional to its weight |
//! | `least-outstanding` | [`least_outstanding`] | the backend with the fewest requests in flight (full scan) |
//! | `p2c` | [`p2c`] | power of two choices: the less loaded of two random backends (Mitzenmacher) |
//! | `p2c-ewma` | [`p2c_ewma`] | two random backends, the lower peak-EWMA latency × (outstanding + 1), as Finagle and Linkerd |
//! | `consistent-hash` | [`consistent_hash`] | the request key on a ring with virtual nodes (the hashing family's ring) |
//! | `bounded-load` | [`bounded_load`] | consistent hash with a load cap ⌈(1+ε)·(in flight + 1)·w/W⌉ (Mirrokni et al.) |
//!
//! A [`Balancer`] puts a selector together with the [`load::Loads`] it reads: requests
//! outstanding per backend and, for latency-aware strategies, a peak-EWMA estimate. The same
//! balancer runs in the two versions:
//!
//! - in-process ([`sim`]): simulated backends with a latency model, a concurrency capacity,
//!   an error rate and a weight, under the driver's virtual time;
//! - networked ([`net`]): an HTTP reverse proxy (hyper) in front of HTTP backend processes.
//!
//! ```
//! use targets::balancing::{Balancer, BalancingParams, round_robin::RoundRobin};
//! use workloads::rng::{Stream, stream_rng};
//! let now = std::time::Instant::now();
//! let balancer = Balancer::<RoundRobin>::new(&[1.0, 1.0, 1.0], &BalancingParams::default()).unwrap();
//! let mut rng = stream_rng(1, Stream::Target, 0);
//! let picks: Vec<usize> = (0..4).map(|_| balancer.pick(0, &mut rng, now)).collect();
//! assert_eq!(picks, vec![0, 1, 2, 0]);
//! ```

pub mod bounded_load;
pub mod consistent_hash;
pub mod failure;
pub mod latency;
pub mod least_outstanding;
pub mod load;
pub mod net;
pub mod p2c;
pub mod p2c_ewma;
pub mod params;
pub mod random;
mod readers;
pub mod round_robin;
pub mod sim;
mod strategy;
pub mod weighted_random;
pub mod weighted_round_robin;

pub use params::{BackendSpec, BalancingParams};
pub use strategy::{SelectorVisitor, Strategy};

use load::{InFlight, Loads};
use std::time::Instant;
use workloads::WorkloadRng;

/// Why a balancer or its backends could not be set up.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BalancingError {
    #[error("parameter `{param}`: {message}")]
    InvalidParam { param: &'static str, message: String },
    #[error("{0}")]
    Unsupported(String),
}

/// What a selector may look at to pick a backend for one request.
pub struct Pick<'a> {
    /// xxh3 hash of the request's key (the workload key, or the request path).
    pub key_hash: u64,
    pub loads: &'a Loads,
    /// The caller's own random stream (a driver worker's, a proxy connection's).
    pub rng: &'a mut WorkloadRng,
    pub now: Instant,
}

/// A load-balancing strategy. `pick` is called concurrently from many workers or proxy
/// threads; state a strategy keeps (a round-robin counter) is shared and uses atomics or a
/// short lock.
pub trait Selector: Send + Sync + Sized + 'static {
    /// Whether the strategy reads the latency estimate; if not, the balancer skips the
    /// estimator's update on every answer.
    const USES_LATENCY: bool = false;

    /// Builds the strategy over backends `0..weights.len()` of these weights.
    fn build(weights: &[f64], params: &BalancingParams) -> Result<Self, BalancingError>;

    /// The backend (an index into the weights) for one request.
    fn pick(&self, pick: &mut Pick<'_>) -> usize;
}

/// A selector and the loads it reads: one balancer instance.
pub struct Balancer<S: Selector> {
    selector: S,
    loads: Loads,
}

impl<S: Selector> Balancer<S> {
    /// A balancer over backends of `weights`, all idle.
    pub fn new(weights: &[f64], params: &BalancingParams) -> Result<Self, BalancingError> {
        if weights.is_empty() {
            return Err(BalancingError::InvalidParam { param: "nodes", message: "needs at least one backend".into() });
        }
        Ok(Balancer { selector: S::build(weights, params)?, loads: Loads::new(weights.len(), params.ewma) })
    }

    /// The backend for a request whose key hashes to `key_hash`, without starting it.
    #[inline]
    pub fn pick(&self, key_hash: u64, rng: &mut WorkloadRng, now: Instant) -> usize {
        let index = self.selector.pick(&mut Pick { key_hash, loads: &self.loads, rng, now });
        debug_assert!(index < self.loads.len(), "a selector picked a backend that does not exist");
        index
    }

    /// Picks a backend and counts the request outstanding there until the guard is dropped;
    /// [`InFlight::finish`] with the answer's time feeds the latency estimate.
    #[inline]
    pub fn start(&self, key_hash: u64, rng: &mut WorkloadRng, now: Instant) -> InFlight<'_> {
        let index = self.pick(key_hash, rng, now);
        self.loads.start(index, now, S::USES_LATENCY)
    }

    /// Counts a request outstanding at `index` (chosen by [`Balancer::pick`], possibly
    /// through a failure layer) until the guard is dropped.
    #[inline]
    pub fn start_at(&self, index: usize, now: Instant) -> InFlight<'_> {
        self.loads.start(index, now, S::USES_LATENCY)
    }

    /// The loads this balancer sees.
    pub fn loads(&self) -> &Loads {
        &self.loads
    }
}

/// Two distinct random backends of `n` (the same one twice if `n` is 1).
#[inline]
pub(crate) fn two_choices(rng: &mut WorkloadRng, n: usize) -> (usize, usize) {
    use rand::Rng as _;
    if n < 2 {
        return (0, 0);
    }
    let first = rng.random_range(0..n);
    let second = rng.random_range(0..n - 1);
    (first, if second >= first { second + 1 } else { second })
}
