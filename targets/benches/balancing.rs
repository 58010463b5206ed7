//! Pick cost of every balancing strategy at N = 10, 100 and 1000 backends: one call of
//! `Balancer::pick` (the selector's choice, reading the loads), with a spread of requests in
//! flight so that load-aware strategies see unequal loads, and 4096 distinct keys visited in
//! turn for the hash strategies.
//!
//! `cargo bench -p targets --bench balancing`. Each benchmark's time is one pick.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::{Duration, Instant};
use targets::balancing::{Balancer, BalancingParams, Selector, SelectorVisitor, Strategy};
use targets::hashing::workload_key_hash;
use workloads::rng::{Stream, stream_rng};

const KEYS: usize = 4096;

struct Bench<'c, 'g> {
    group: &'g mut criterion::BenchmarkGroup<'c, criterion::measurement::WallTime>,
    backends: usize,
    keys: &'g [u64],
}

impl SelectorVisitor for Bench<'_, '_> {
    type Output = ();
    fn visit<S: Selector>(self, strategy: Strategy) {
        let weights: Vec<f64> = (0..self.backends).map(|i| 1.0 + (i % 3) as f64).collect();
        let balancer = Balancer::<S>::new(&weights, &BalancingParams::default()).unwrap();
        let now = Instant::now();
        // Requests in flight: backend i has 1 + i mod 7 of them (none idle, so a full scan
        // cannot stop early), and a latency history.
        let in_flight: Vec<_> = (0..self.backends)
            .flat_map(|i| std::iter::repeat_n(i, 1 + i % 7))
            .map(|i| balancer.loads().start(i, now, true))
            .collect();
        for i in 0..self.backends {
            balancer.loads().observe(i, Duration::from_micros(100 + (i as u64 * 37) % 900), now);
        }
        let mut rng = stream_rng(7, Stream::Target, 0);
        let mut next = 0usize;
        self.group.bench_function(BenchmarkId::new(strategy.name(), self.backends), |b| {
            b.iter(|| {
                next = (next + 1) & (KEYS - 1);
                black_box(balancer.pick(black_box(self.keys[next]), &mut rng, now))
            })
        });
        drop(in_flight);
    }
}

fn pick(c: &mut Criterion) {
    let keys: Vec<u64> = (0..KEYS as u64).map(workload_key_hash).collect();
    let mut group = c.benchmark_group("pick");
    group.warm_up_time(Duration::from_millis(300)).measurement_time(Duration::from_secs(1)).sample_size(30);
    for backends in [10usize, 100, 1000] {
        for strategy in Strategy::ALL {
            strategy.visit(Bench { group: &mut group, backends, keys: &keys });
        }
    }
    group.finish();
}

criterion_group!(benches, pick);
criterion_main!(benches);
