//! Lookup cost of every hashing strategy, ours and the crate adapters, at N = 10, 100 and
//! 1000 nodes, on the same input: a key's xxh3 hash (4096 distinct keys, visited in turn).
//!
//! `cargo bench -p targets --bench hashing` (add `-- --save-baseline NAME` / `--baseline NAME`
//! to compare runs). Each benchmark's time is the cost of one `locate` call.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Duration;
use targets::hashing::{HashingParams, NodeSet, Placement, Strategy, StrategyVisitor, workload_key_hash};

const KEYS: usize = 4096;

struct Bench<'c, 'g> {
    group: &'g mut criterion::BenchmarkGroup<'c, criterion::measurement::WallTime>,
    nodes: u32,
    keys: &'g [u64],
}

impl StrategyVisitor for Bench<'_, '_> {
    type Output = ();
    fn visit<P: Placement>(self, strategy: Strategy) {
        let Ok(mut placement) = P::build(NodeSet::uniform(self.nodes), &HashingParams::default()) else { return };
        placement.place_keys(self.keys);
        let mut next = 0usize;
        self.group.bench_function(BenchmarkId::new(strategy.name(), self.nodes), |b| {
            b.iter(|| {
                next = (next + 1) & (KEYS - 1);
                black_box(placement.locate(black_box(self.keys[next])))
            })
        });
    }
}

fn lookup(c: &mut Criterion) {
    let keys: Vec<u64> = (0..KEYS as u64).map(workload_key_hash).collect();
    let mut group = c.benchmark_group("lookup");
    group.warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2)).sample_size(40);
    for nodes in [10u32, 100, 1000] {
        for strategy in Strategy::ALL {
            strategy.visit(Bench { group: &mut group, nodes, keys: &keys });
        }
    }
    group.finish();
}

criterion_group!(benches, lookup);
criterion_main!(benches);
