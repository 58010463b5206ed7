//! The costs the two-phase-commit cost model is built from, measured on this machine:
//! a forced log write (append + fdatasync) against an unforced one, and a round trip through
//! each transport (in-process channels, and TCP on loopback with our framing and codec)
//! between two nodes' endpoints.
//!
//! `cargo bench -p targets --bench transport`. Commit latency ≈ client round trip +
//! prepare round trip + the participant's forced write + the coordinator's forced write.

use criterion::{Criterion, criterion_group, criterion_main};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use targets::transport::inproc::Network;
use targets::transport::log::{FileLog, Log};
use targets::transport::tcp::TcpEndpoint;
use targets::transport::{Endpoint, Incoming};

const RECORD: [u8; 64] = [7; 64];

fn log_writes(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let mut group = c.benchmark_group("log");
    group.sample_size(20).measurement_time(Duration::from_secs(5));
    for fsync in [true, false] {
        let (mut log, _) = FileLog::open(&dir.path().join(format!("bench-{fsync}.log")), fsync).unwrap();
        let name = if fsync { "append_64B_fdatasync" } else { "append_64B_write_only" };
        group.bench_function(name, |b| {
            b.iter(|| {
                log.append(&RECORD);
                log.sync().unwrap();
            })
        });
    }
    group.finish();
}

/// Echoes every message back to its sender until the endpoint closes.
async fn echo<E: Endpoint<u64>>(mut endpoint: E) {
    while let Some(incoming) = endpoint.recv().await {
        if let Incoming::Message { from, msg, .. } = incoming {
            endpoint.send(from, msg);
        }
    }
}

/// `iterations` round trips from `client` to node 1, timed.
async fn round_trips<E: Endpoint<u64>>(client: &mut E, iterations: u64) -> Duration {
    let start = Instant::now();
    for i in 0..iterations {
        client.send(1, i);
        loop {
            if let Some(Incoming::Message { msg, .. }) = client.recv().await
                && msg == i
            {
                break;
            }
        }
    }
    start.elapsed()
}

fn round_trip(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let mut group = c.benchmark_group("round_trip");
    let network = Network::<u64>::new(1);
    runtime.spawn(echo(network.endpoint(1)));
    let mut client = network.endpoint(2);
    group.bench_function("inproc_channels", |b| b.iter_custom(|n| runtime.block_on(round_trips(&mut client, n))));
    let (server, address) = runtime.block_on(async {
        let server = TcpEndpoint::<u64>::listen(1, SocketAddr::from(([127, 0, 0, 1], 0)), [], 1).await.unwrap();
        let address = server.local_addr().unwrap();
        (server, address)
    });
    runtime.spawn(echo(server));
    let mut client = {
        let _entered = runtime.enter();
        TcpEndpoint::<u64>::client(2, [(1, address)], 2)
    };
    group.bench_function("tcp_loopback", |b| b.iter_custom(|n| runtime.block_on(round_trips(&mut client, n))));
    group.finish();
}

criterion_group!(benches, log_writes, round_trip);
criterion_main!(benches);
