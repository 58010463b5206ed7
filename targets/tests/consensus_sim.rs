//! Deterministic simulations of the replicated store: the real replica state machines, the
//! real node runtime and the in-process network, under tokio's paused clock on one thread,
//! with a seeded schedule of faults — the leader killed, a follower killed, the leader cut
//! off from the others, messages lost and delayed, a replica partitioned — each followed by
//! a restart or a heal. Multi-Paxos and single-decree Paxos, 3 and 5 replicas, with and
//! without lease reads. After each run every replica is brought back and the checkers must
//! find nothing: no slot decided two values across the logs, and every key's history
//! linearizable (checked in full: nothing left unchecked). The same seed must give the same
//! logs.

use rand::{Rng as _, SeedableRng as _};
use rand_xoshiro::Xoshiro256PlusPlus;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash as _, Hasher as _};
use std::sync::Arc;
use std::time::Duration;
use targets::consensus::PaxosMode;
use targets::consensus::check;
use targets::consensus::client::{ClientConfig, ConsensusWorker, Failover};
use targets::consensus::cluster::Replicas;
use targets::consensus::history::History;
use targets::consensus::params::{ConsensusParams, LogChoice};
use targets::consensus::system::{check_history, leader_of};
use targets::protocol::sim::closed_loop;
use targets::transport::cluster::LogKind;
use targets::transport::faults::FaultConfig;
use workloads::Workload;
use workloads::scenario::{ScenarioFile, WorkloadSpec};

/// Simulated length of each run.
const RUN: Duration = Duration::from_secs(3);
/// Clients per run.
const CLIENTS: u32 = 4;
/// Upper bound on each client's operations (the clock bounds them first).
const MAX_OPS_PER_CLIENT: u32 = 100_000;

/// Every replica-to-replica message takes this long plus up to as much again, so that
/// simulated time moves.
fn baseline() -> FaultConfig {
    FaultConfig { delay: Duration::from_micros(200), jitter: Duration::from_micros(300), ..FaultConfig::default() }
}

fn workload(seed: u64) -> Workload {
    let text = format!(
        "[[scenario]]\nname='sim'\nfamily='consensus'\ndist='zipfian'\nkeys=20\nseed={seed}\nvalue_size=16\n\
         mix={{ read = 0.5, update = 0.5 }}"
    );
    ScenarioFile::parse(&text, "sim").unwrap().workloads("sim", &WorkloadSpec::default()).unwrap().remove(0)
}

fn params(seed: u64) -> ConsensusParams {
    ConsensusParams {
        replicas: if seed % 4 == 3 { 5 } else { 3 },
        log: LogChoice::Memory,
        heartbeat: Duration::from_millis(10),
        election_timeout: Duration::from_millis(50),
        lease_reads: seed % 2 == 1,
        max_batch: 16,
        window: 8,
        // Some runs give up on operations during elections: writes of unknown outcome.
        client_timeout: Duration::from_millis(if seed % 5 == 2 { 120 } else { 800 }),
        ..ConsensusParams::default()
    }
}

fn mode(seed: u64) -> PaxosMode {
    if seed.is_multiple_of(3) { PaxosMode::Paxos } else { PaxosMode::MultiPaxos }
}

/// One fault of a run's schedule.
#[derive(Debug)]
enum Fault {
    KillLeader { restart_after: Duration },
    KillReplica { id: u32, restart_after: Duration },
    PartitionLeader { lasting: Duration },
    Network(FaultConfig, Duration),
}

/// A seeded schedule: about one fault every 200 ms.
fn schedule(seed: u64, replicas: u32) -> Vec<(Duration, Fault)> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed ^ 0xfa17);
    let mut at = Duration::from_millis(100);
    let mut faults = Vec::new();
    while at < RUN - Duration::from_millis(300) {
        let restart_after = Duration::from_millis(rng.random_range(20..300));
        let lasting = Duration::from_millis(rng.random_range(30..300));
        let fault = match rng.random_range(0..7) {
            0 | 1 => Fault::KillLeader { restart_after },
            2 => Fault::KillReplica { id: rng.random_range(0..replicas), restart_after },
            3 => Fault::PartitionLeader { lasting },
            4 => Fault::Network(FaultConfig { loss: rng.random_range(0.05..0.3), ..baseline() }, lasting),
            5 => Fault::Network(
                FaultConfig { delay: Duration::from_millis(rng.random_range(1..15)), ..baseline() },
                lasting,
            ),
            _ => Fault::Network(FaultConfig { isolated: vec![rng.random_range(0..replicas)], ..baseline() }, lasting),
        };
        faults.push((at, fault));
        at += Duration::from_millis(rng.random_range(100..300));
    }
    faults
}

async fn inject(replicas: Arc<Replicas>, faults: Vec<(Duration, Fault)>, kills: Arc<Failover>) {
    let start = tokio::time::Instant::now();
    for (at, fault) in faults {
        tokio::time::sleep_until(start + at).await;
        let leader = leader_of(&replicas.poll(Duration::from_millis(20)).await);
        match fault {
            // With no leader (an election under way) or a replica already down, skip it.
            Fault::KillLeader { restart_after } => {
                if let Some((id, ballot)) = leader
                    && replicas.kill(id, Some(restart_after)).is_ok()
                {
                    kills.killed(ballot);
                }
            }
            Fault::KillReplica { id, restart_after } => {
                let _ = replicas.kill(id, Some(restart_after));
            }
            Fault::PartitionLeader { lasting } => {
                if let Some((id, _)) = leader {
                    replicas.network().faults().set(FaultConfig { isolated: vec![id], ..baseline() });
                    tokio::time::sleep(lasting).await;
                    replicas.network().faults().set(baseline());
                }
            }
            Fault::Network(config, lasting) => {
                replicas.network().faults().set(config);
                tokio::time::sleep(lasting).await;
                replicas.network().faults().set(baseline());
            }
        }
    }
}

async fn client(
    replicas: Arc<Replicas>,
    workload: Workload,
    index: u32,
    history: Arc<History>,
    failover: Arc<Failover>,
) -> (u32, u32) {
    let params = *replicas.params();
    let config = ClientConfig {
        replicas: params.replicas,
        value_size: workload.value_size_bytes as usize,
        attempt_timeout: params.attempt_timeout(),
        client_timeout: params.client_timeout,
    };
    let worker = ConsensusWorker::new(replicas.client(index), config, index, history.recorder(), failover);
    closed_loop(worker, &workload, index, CLIENTS, RUN, MAX_OPS_PER_CLIENT).await
}

/// What one simulated run did.
struct Simulated {
    agreement: check::AgreementReport,
    lin: targets::consensus::system::Linearizability,
    lin_described: Vec<String>,
    done: u32,
    failed: u32,
    settled: bool,
    elections: u64,
    /// Leader kills, and how many a new leader answered after.
    kills: usize,
    windows_closed: usize,
    catchups: u64,
    lease_reads: u64,
    /// A fingerprint of every replica's log.
    logs: u64,
    /// The logs and the history themselves, for planting bugs.
    records: Vec<(u32, Vec<Vec<u8>>)>,
    history: targets::consensus::history::Recorded,
}

/// One simulated run.
fn simulate(seed: u64) -> Simulated {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap();
    runtime.block_on(async {
        let params = params(seed);
        let handle = tokio::runtime::Handle::current();
        let replicas = Arc::new(Replicas::start(params, mode(seed), &LogKind::Memory, seed, &handle).unwrap());
        replicas.network().faults().set(baseline());
        // Let the first leader be elected.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let history = History::new(1_000_000, CLIENTS);
        let failover = Arc::new(Failover::default());
        let workload = workload(seed);
        let clients: Vec<_> = (0..CLIENTS)
            .map(|i| {
                let (replicas, workload) = (Arc::clone(&replicas), workload.clone());
                tokio::spawn(client(replicas, workload, i, Arc::clone(&history), Arc::clone(&failover)))
            })
            .collect();
        let injector =
            tokio::spawn(inject(Arc::clone(&replicas), schedule(seed, params.replicas), Arc::clone(&failover)));
        let (mut done, mut failed) = (0, 0);
        for c in clients {
            let (d, f) = c.await.unwrap();
            done += d;
            failed += f;
        }
        injector.abort();
        let finished = replicas.finish().await.unwrap();
        let agreement = check::agreement(&finished.logs).unwrap();
        let recorded = history.finish();
        let (lin, report) = check_history(&recorded, Duration::from_secs(60));
        let mut hasher = DefaultHasher::new();
        finished.logs.hash(&mut hasher);
        let windows = failover.windows();
        Simulated {
            agreement,
            lin,
            lin_described: report.described,
            done,
            failed,
            settled: finished.settled,
            elections: finished.stats.values().map(|c| c.elections_won).sum(),
            kills: windows.len(),
            windows_closed: windows.iter().flatten().count(),
            catchups: finished.stats.values().map(|c| c.catchups).sum(),
            lease_reads: finished.stats.values().map(|c| c.lease_reads).sum(),
            logs: hasher.finish(),
            records: finished.logs,
            history: recorded,
        }
    })
}

#[test]
fn many_seeds_of_faulty_runs_pass_both_checkers() {
    let (mut done, mut failed, mut elections, mut kills, mut closed, mut catchups, mut lease_reads) =
        (0, 0, 0, 0, 0, 0, 0);
    for seed in 0..24 {
        let run = simulate(seed);
        let what = format!("seed {seed} ({:?}, {:?})", mode(seed), params(seed));
        assert!(run.settled, "{what}: the replicas did not converge");
        assert_eq!(run.agreement.violations, 0, "{what}: {:?}", run.agreement.described);
        assert_eq!(run.lin.verdict, "ok", "{what}: {:?} {:?}", run.lin, run.lin_described);
        assert!(run.agreement.compared > 0, "{what}: no slot was compared");
        assert!(run.done > 100, "{what}: only {} operations done ({} failed)", run.done, run.failed);
        failed += run.failed;
        done += run.done;
        elections += run.elections;
        kills += run.kills;
        closed += run.windows_closed;
        catchups += run.catchups;
        lease_reads += run.lease_reads;
        eprintln!(
            "seed {seed}: {} done, {} failed, {} elections, {} of {} kills answered, {} slots compared, {} keys checked",
            run.done,
            run.failed,
            run.elections,
            run.windows_closed,
            run.kills,
            run.agreement.compared,
            run.lin.keys_checked
        );
    }
    assert!(done > 10_000, "the runs did work: {done} operations");
    assert!(elections > 48, "leaders changed: {elections} elections over 24 runs");
    assert!(kills > 10 && closed > 0, "leaders were killed ({kills}) and new ones answered ({closed})");
    assert!(catchups > 0, "restarted replicas caught up");
    assert!(lease_reads > 0, "leaders answered reads from their leases");
    assert!(failed > 0, "some operations gave up, leaving writes of unknown outcome in the histories");
}

#[test]
fn bugs_planted_in_a_real_run_are_caught() {
    use targets::consensus::history::Access;
    let run = simulate(1);
    assert_eq!((run.agreement.violations, run.lin.verdict), (0, "ok"));
    // One replica's log says it applied another value at a slot the others decided.
    let mut records = run.records.clone();
    let decided = records[1].1.iter_mut().rev().find(|r| r[0] == targets::consensus::DECIDED_TAG).unwrap();
    let targets::consensus::Record::Decided { first, mut digests } =
        targets::transport::codec::decode(decided).unwrap()
    else {
        unreachable!()
    };
    digests[0] ^= 1;
    *decided = targets::transport::codec::encode(&targets::consensus::Record::Decided { first, digests }).unwrap();
    let report = check::agreement(&records).unwrap();
    assert_eq!(report.violations, 1, "{report:?}");
    // A read that returned a value overwritten before it began.
    let mut history = run.history.clone();
    let ops = &mut history.ops;
    let (w1, w2) = {
        let mut writes =
            ops.iter().enumerate().filter(|(_, o)| matches!(o.access, Access::Write(_)) && o.ret_ns != u64::MAX);
        let (i, first) = writes.next().unwrap();
        let (j, _) = writes.find(|(_, o)| o.key == first.key && o.call_ns > first.ret_ns).unwrap();
        (i, j)
    };
    let Access::Write(stale) = ops[w1].access else { unreachable!() };
    let after = ops[w2].ret_ns;
    ops.push(targets::consensus::history::HistoryOp {
        key: ops[w1].key,
        access: Access::Read(Some(stale)),
        call_ns: after + 1,
        ret_ns: after + 2,
    });
    let (lin, report) = check_history(&history, Duration::from_secs(60));
    assert_eq!(lin.verdict, "violation", "{report:?}");
}

#[test]
fn the_same_seed_gives_the_same_logs() {
    let (a, b) = (simulate(5), simulate(5));
    assert_eq!((a.done, a.logs), (b.done, b.logs));
    assert_ne!(a.logs, simulate(6).logs);
}
