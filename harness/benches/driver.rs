//! The driver's own cost per operation: its closed loop against the no-op target, recording
//! every operation's latency, beside a bare loop that only reads the clock twice per
//! iteration (the floor of per-operation timing).
//!
//! `cargo bench -p stratbench --bench driver`. Ops/s per worker = 1 / (time per iteration).

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};
use stratbench::driver::clock::RealClock;
use stratbench::driver::worker::closed_loop;
use stratbench::recorder::{PaddedCounter, Timeline, Timing, WorkerRecorder};
use targets::noop::NoopWorker;
use workloads::ops::OpSource;
use workloads::scenario::{ScenarioFile, WorkloadSpec};

fn bare_clock(c: &mut Criterion) {
    c.bench_function("driver/bare_clock_loop", |b| {
        b.iter(|| {
            let start = Instant::now();
            let end = Instant::now();
            black_box(end.duration_since(start))
        })
    });
}

fn closed_loop_noop(c: &mut Criterion) {
    let text = "[[scenario]]\nname = 'bench'\nfamily = 'noop'\ndist = 'uniform'\nkeys = 1000000";
    let workload =
        ScenarioFile::parse(text, "bench").unwrap().workloads("bench", &WorkloadSpec::default()).unwrap().remove(0);
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    c.bench_function("driver/closed_loop_noop_per_op", |b| {
        b.iter_custom(|iterations| {
            let (sender, receiver) = mpsc::channel();
            let drain = std::thread::spawn(move || receiver.iter().count());
            let timeline =
                Timeline::new(Instant::now(), Duration::ZERO, Duration::from_secs(3600), Duration::from_secs(1));
            let counter = Arc::new(PaddedCounter::default());
            let recorder = WorkerRecorder::new(0, timeline, Timing::PerOp, Some(iterations), counter, sender);
            let source = OpSource::new(&workload, 0, 1);
            let stop = Arc::new(AtomicBool::new(false));
            let start = Instant::now();
            runtime.block_on(closed_loop::<RealClock, _>(NoopWorker, source, recorder, 1, Duration::ZERO, stop));
            let elapsed = start.elapsed();
            drain.join().unwrap();
            elapsed
        })
    });
}

criterion_group!(benches, bare_clock, closed_loop_noop);
criterion_main!(benches);
