//! Deterministic simulations of two-phase commit: the real coordinator and participant state
//! machines, the real node runtime and the in-process network, under tokio's paused clock on
//! one thread, with a seeded schedule of faults — coordinator crashes before and after the
//! decision, participant crashes before and after voting, message loss, delay and
//! partitions, each followed by a restart and recovery. After each run every node is
//! recovered and the checkers must find nothing: atomicity, nobody in doubt, a constant
//! total balance, and clients told the truth. The same seed must give the same history.

use rand::{Rng as _, SeedableRng as _};
use rand_xoshiro::Xoshiro256PlusPlus;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash as _, Hasher as _};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use targets::commit::CrashPoint;
use targets::commit::check::{self, CheckReport};
use targets::commit::cluster::{Cluster, LogKind, settle};
use targets::commit::params::CommitParams;
use targets::commit::system::CommitWorker;
use targets::commit::workload::TxnBuilder;
use targets::protocol::sim::closed_loop;
use targets::transport::faults::FaultConfig;
use workloads::Workload;
use workloads::scenario::{ScenarioFile, WorkloadSpec};

/// Simulated length of each run.
const RUN: Duration = Duration::from_secs(2);
/// Clients per run.
const CLIENTS: u32 = 4;
/// Upper bound on each client's transactions (the clock bounds them first).
const MAX_TXNS_PER_CLIENT: u32 = 50_000;

/// Every node-to-node message takes this long plus up to as much again, so that simulated
/// time moves.
fn baseline() -> FaultConfig {
    FaultConfig { delay: Duration::from_micros(200), jitter: Duration::from_micros(200), ..FaultConfig::default() }
}

fn workload(seed: u64) -> Workload {
    let text = format!(
        "[[scenario]]\nname='sim'\nfamily='commit'\ndist='zipfian'\nkeys=200\nseed={seed}\n\
         mix={{ read = 0.2, update = 0.8 }}"
    );
    ScenarioFile::parse(&text, "sim").unwrap().workloads("sim", &WorkloadSpec::default()).unwrap().remove(0)
}

fn params(seed: u64) -> CommitParams {
    CommitParams {
        participants: 2 + (seed % 4) as u32,
        keys_per_txn: 2 + (seed % 3) as u32,
        coordinators: 1 + (seed % 2) as u32,
        vote_timeout: Duration::from_millis(40),
        decision_timeout: Duration::from_millis(25),
        client_timeout: Duration::from_millis(300),
        ..CommitParams::default()
    }
}

/// One fault of a run's schedule.
#[derive(Debug)]
enum Fault {
    Crash { id: u32, point: CrashPoint, restart_after: Duration },
    Network(FaultConfig, Duration),
}

/// A seeded schedule: about one fault every 150 ms.
fn schedule(seed: u64, params: &CommitParams) -> Vec<(Duration, Fault)> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed ^ 0xfa17);
    let mut at = Duration::from_millis(50);
    let mut faults = Vec::new();
    while at < RUN - Duration::from_millis(200) {
        let restart_after = Duration::from_millis(rng.random_range(10..250));
        let lasting = Duration::from_millis(rng.random_range(20..200));
        let fault = match rng.random_range(0..7) {
            0 | 1 => Fault::Crash {
                id: params.coordinator_id(rng.random_range(0..params.coordinators)),
                point: [CrashPoint::AfterVotes, CrashPoint::AfterDecision, CrashPoint::Now][rng.random_range(0..3)],
                restart_after,
            },
            2 | 3 => Fault::Crash {
                id: params.participant_id(rng.random_range(0..params.participants)),
                point: [CrashPoint::BeforeVote, CrashPoint::AfterVote, CrashPoint::Now][rng.random_range(0..3)],
                restart_after,
            },
            4 => Fault::Network(FaultConfig { loss: rng.random_range(0.05..0.4), ..baseline() }, lasting),
            5 => Fault::Network(
                FaultConfig { delay: Duration::from_millis(rng.random_range(1..20)), ..baseline() },
                lasting,
            ),
            _ => Fault::Network(
                FaultConfig { isolated: vec![rng.random_range(0..params.participants)], ..baseline() },
                lasting,
            ),
        };
        faults.push((at, fault));
        at += Duration::from_millis(rng.random_range(50..250));
    }
    faults
}

async fn inject(cluster: Arc<Cluster>, faults: Vec<(Duration, Fault)>) {
    let start = tokio::time::Instant::now();
    for (at, fault) in faults {
        tokio::time::sleep_until(start + at).await;
        match fault {
            // A node still down from an earlier crash cannot crash again: skip it.
            Fault::Crash { id, point, restart_after } => {
                let _ = cluster.crash(id, point, Some(restart_after)).await;
            }
            Fault::Network(config, lasting) => {
                cluster.network().faults().set(config);
                tokio::time::sleep(lasting).await;
                cluster.network().faults().set(baseline());
            }
        }
    }
}

async fn client(
    cluster: Arc<Cluster>,
    workload: Workload,
    index: u32,
    sink: Arc<Mutex<Vec<check::ClientOutcome>>>,
) -> (u32, u32) {
    let params = *cluster.params();
    let coordinator = params.coordinator_id(index % params.coordinators);
    let builder = TxnBuilder::new(&workload, params, index, CLIENTS);
    let worker = CommitWorker::new(cluster.client(index), coordinator, builder, params.client_timeout, sink);
    closed_loop(worker, &workload, index, CLIENTS, RUN, MAX_TXNS_PER_CLIENT).await
}

/// What one simulated run did.
struct Simulated {
    report: CheckReport,
    /// Transactions reported committed to clients.
    commits: u32,
    /// A fingerprint of every node's log.
    logs: u64,
    settled: bool,
    /// Prepared participants that had to wait past the decision timeout.
    in_doubt_waits: u64,
}

/// One simulated run.
fn simulate(seed: u64) -> Simulated {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap();
    runtime.block_on(async {
        let params = params(seed);
        let cluster =
            Arc::new(Cluster::start(params, &LogKind::Memory, seed, &tokio::runtime::Handle::current()).unwrap());
        cluster.network().faults().set(baseline());
        let sink = Arc::new(Mutex::new(Vec::new()));
        let workload = workload(seed);
        let clients: Vec<_> = (0..CLIENTS)
            .map(|i| tokio::spawn(client(Arc::clone(&cluster), workload.clone(), i, Arc::clone(&sink))))
            .collect();
        let injector = tokio::spawn(inject(Arc::clone(&cluster), schedule(seed, &params)));
        let mut commits = 0;
        for c in clients {
            commits += c.await.unwrap().0;
        }
        injector.abort();
        let finished = settle(&cluster).await.unwrap();
        let balances = finished
            .stats
            .iter()
            .filter(|(id, _)| **id < params.coordinator_id(0))
            .map(|(id, s)| (*id, s.balance_sum))
            .collect();
        let outcomes = sink.lock().unwrap().clone();
        let report = check::check(&finished.logs, &outcomes, Some(&balances));
        let mut hasher = DefaultHasher::new();
        format!("{:?}", finished.logs).hash(&mut hasher);
        let in_doubt_waits = finished.stats.values().map(|s| s.in_doubt).sum();
        Simulated { report, commits, logs: hasher.finish(), settled: finished.settled, in_doubt_waits }
    })
}

#[test]
fn many_seeds_of_faulty_runs_pass_every_checker() {
    let mut total_commits = 0;
    let mut in_doubt_waits = 0;
    for seed in 0..24 {
        let run = simulate(seed);
        assert!(run.settled, "seed {seed}: some transaction never finished");
        let report = &run.report;
        assert_eq!(report.violations, 0, "seed {seed} ({:?}): {:?}", params(seed), report.described);
        assert!(run.commits > 0 && report.committed > 0, "seed {seed}: nothing committed");
        total_commits += run.commits;
        in_doubt_waits += run.in_doubt_waits;
    }
    assert!(total_commits > 1000, "the runs did work: {total_commits} commits");
    assert!(in_doubt_waits > 0, "the faults left participants in doubt, and they recovered");
}

#[test]
fn the_same_seed_gives_the_same_history() {
    let (a, b) = (simulate(7), simulate(7));
    assert_eq!((a.commits, a.logs, a.report.committed), (b.commits, b.logs, b.report.committed));
    assert_ne!(a.logs, simulate(8).logs);
}
