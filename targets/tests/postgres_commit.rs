//! `engine:postgres-2pc` against a real PostgreSQL started by the server management code:
//! concurrent transfers commit or abort cleanly and the checkers find nothing; a transaction
//! left prepared by a client that went away is resolved and counted in doubt; planted damage
//! (a transaction applied without a decision, a balance that does not sum to zero) is caught.

use std::sync::Arc;
use targets::columns::Cell;
use targets::commit::params::CommitParams;
use targets::commit::postgres::PostgresSystem;
use targets::target::{Op, System, Worker};
use workloads::OpKind;
use workloads::scenario::{ScenarioFile, WorkloadSpec};

const WORKERS: u32 = 4;
const TXNS_PER_WORKER: u64 = 40;

fn workload() -> workloads::Workload {
    let text = format!(
        "[[scenario]]\nname='t'\nfamily='commit'\ndist='zipfian'\nkeys=50\nconcurrency={WORKERS}\n\
         mix={{ read = 0.2, update = 0.8 }}"
    );
    ScenarioFile::parse(&text, "t").unwrap().workloads("t", &WorkloadSpec::default()).unwrap().remove(0)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

/// Runs SQL on participant database `db` of the system's server.
fn execute(runtime: &tokio::runtime::Runtime, system: &PostgresSystem, db: &str, sql: &str) {
    let config = system.access().config(db);
    runtime.block_on(async {
        let (client, connection) = config.connect(tokio_postgres::NoTls).await.unwrap();
        tokio::spawn(connection);
        client.batch_execute(sql).await.unwrap();
    });
}

#[test]
fn transfers_stay_atomic_and_planted_damage_is_caught() {
    let params = CommitParams { participants: 3, keys_per_txn: 3, ..CommitParams::default() };
    let system = Arc::new(PostgresSystem::start(params, &workload()).expect("postgres starts"));
    let runtime = runtime();
    let (mut committed, mut conflicts) = (0u64, 0u64);
    let tasks: Vec<_> = (0..WORKERS)
        .map(|index| {
            let mut worker = system.worker(index);
            runtime.spawn(async move {
                let mut outcomes = Vec::new();
                for i in 0..TXNS_PER_WORKER {
                    let kind = if i % 5 == 0 { OpKind::Read } else { OpKind::Update };
                    outcomes.push(worker.call(Op { kind, key: (i * 7 + u64::from(index)) % 50 }).await);
                }
                outcomes
            })
        })
        .collect();
    for task in tasks {
        for outcome in runtime.block_on(task).unwrap() {
            match outcome {
                Ok(()) => committed += 1,
                Err(error) if error.kind == "conflict" => conflicts += 1,
                Err(error) => panic!("unexpected failure: {error:?}"),
            }
        }
    }
    assert!(committed > 0, "nothing committed ({conflicts} conflicts)");

    // A client that prepared and went away: presumed abort at the end, counted in doubt.
    execute(
        &runtime,
        &system,
        "p1",
        "BEGIN; UPDATE accounts SET balance = balance + 9 WHERE id = 1; PREPARE TRANSACTION 'sb-99-1-p1'",
    );
    let clean = system.metrics();
    assert_eq!(clean.violations, Some(0), "{:?}", clean.notes);
    let columns = clean.write_columns(None, true);
    assert_eq!(columns.get("in_doubt_txns"), Some(&Cell::U64(1)), "{clean:?}");
    assert!(matches!(columns.get("txns"), Some(Cell::U64(txns)) if *txns > 0), "{clean:?}");

    // Damage the checkers must find: a transaction applied with no decision, a balance that
    // no transfer explains.
    execute(
        &runtime,
        &system,
        "p0",
        "INSERT INTO applied VALUES ('sb-77-1'); UPDATE accounts SET balance = balance + 5 WHERE id = 3",
    );
    let damaged = system.metrics();
    assert_eq!(damaged.violations, Some(2), "{:?}", damaged.notes);
    let notes = damaged.notes.join("; ");
    assert!(notes.contains("sb-77-1") && notes.contains("sum to 5"), "{notes}");
}
