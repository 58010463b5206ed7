//! What the deterministic simulations of every protocol share: a client that runs a driver
//! [`Worker`] in a closed loop on the workload's keys and operation mix, as the driver would,
//! on tokio's clock (paused in the simulations, so a seed replays exactly). Bounded in time
//! and in count.

use crate::target::{Op, Worker};
use std::time::Duration;
use workloads::{KeyGenerator, Workload};

/// Runs `worker`, client `index` of `clients`, until `run` has passed on tokio's clock or it
/// has made `max_ops` calls: how many succeeded, and how many failed.
pub async fn closed_loop<W: Worker>(
    mut worker: W,
    workload: &Workload,
    index: u32,
    clients: u32,
    run: Duration,
    max_ops: u32,
) -> (u32, u32) {
    let mut keys = KeyGenerator::new(workload.dist, workload.keys, u64::from(index), u64::from(clients));
    let mix = workload.mix.sampler();
    let mut rng = workloads::rng::stream_rng(workload.seed, workloads::rng::Stream::Keys, u64::from(index));
    let end = tokio::time::Instant::now() + run;
    let (mut succeeded, mut failed) = (0, 0);
    for _ in 0..max_ops {
        if tokio::time::Instant::now() >= end {
            break;
        }
        let op = Op { kind: mix.next_kind(&mut rng), key: keys.next_key(&mut rng) };
        match worker.call(op).await {
            Ok(()) => succeeded += 1,
            Err(_) => failed += 1,
        }
    }
    (succeeded, failed)
}
