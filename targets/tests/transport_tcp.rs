//! The TCP transport on loopback: messages both ways over one dialled connection, faults set
//! by a control frame, a ping, and an unreachable peer reported at once — to a commit client,
//! a counted `failure`, not a hang or a panic.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use targets::commit::Msg;
use targets::commit::params::CommitParams;
use targets::commit::system::CommitWorker;
use targets::commit::workload::TxnBuilder;
use targets::target::{Op, Worker as _};
use targets::transport::faults::FaultConfig;
use targets::transport::tcp::{self, Frame, TcpEndpoint};
use targets::transport::{CLIENT_BASE, Endpoint, Incoming};
use workloads::OpKind;
use workloads::scenario::{ScenarioFile, WorkloadSpec};

const ANY: ([u8; 4], u16) = ([127, 0, 0, 1], 0);

async fn next_message(endpoint: &mut TcpEndpoint<u64>) -> (u32, u64, Duration) {
    loop {
        match tokio::time::timeout(Duration::from_secs(5), endpoint.recv()).await.expect("a message in time") {
            Some(Incoming::Message { from, msg, delay }) => return (from, msg, delay),
            Some(_) => continue,
            None => panic!("closed"),
        }
    }
}

#[tokio::test]
async fn messages_flow_both_ways_and_faults_travel_in_frames() {
    let mut server = TcpEndpoint::<u64>::listen(1, SocketAddr::from(ANY), [], 1).await.unwrap();
    let address = server.local_addr().unwrap();
    tcp::ping::<u64>(address, Duration::from_secs(5)).await.unwrap();
    let mut client = TcpEndpoint::<u64>::client(2, [(1, address)], 2);
    client.send(1, 41);
    assert_eq!(next_message(&mut server).await, (2, 41, Duration::ZERO));
    server.send(2, 42);
    assert_eq!(next_message(&mut client).await.1, 42, "the reply rides the dialled connection");
    client.send_frame(1, &Frame::SetFaults(FaultConfig { delay: Duration::from_millis(3), ..FaultConfig::default() }));
    client.send(1, 43);
    let _ = next_message(&mut server).await;
    assert_eq!(server.faults().config().delay, Duration::from_millis(3));
}

#[tokio::test]
async fn an_unreachable_coordinator_is_a_counted_failure() {
    let closed = {
        let listener = std::net::TcpListener::bind(SocketAddr::from(ANY)).unwrap();
        listener.local_addr().unwrap()
    };
    let params = CommitParams::default();
    let text = "[[scenario]]\nname='t'\nfamily='commit'\nmix={update=1.0}";
    let workload = ScenarioFile::parse(text, "t").unwrap().workloads("t", &WorkloadSpec::default()).unwrap().remove(0);
    let coordinator = params.coordinator_id(0);
    let endpoint = TcpEndpoint::<Msg>::client(CLIENT_BASE, [(coordinator, closed)], 1);
    let builder = TxnBuilder::new(&workload, params, 0, 1);
    let mut worker =
        CommitWorker::new(endpoint, coordinator, builder, params.client_timeout, Arc::new(Mutex::new(Vec::new())));
    let started = std::time::Instant::now();
    let error = worker.call(Op { kind: OpKind::Update, key: 1 }).await.unwrap_err();
    assert_eq!(error.kind, "failure");
    assert!(started.elapsed() < params.client_timeout, "refused at once, not timed out");
}
