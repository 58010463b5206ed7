//! `engine:etcd`: etcd (Raft) behind the same workload as the replicas, so that our
//! Multi-Paxos is measured beside a consensus engine people run.
//!
//! The harness starts `replicas` etcd members (1 or 3) on loopback, or uses the cluster given
//! with `--etcd`. With `log = "fsync"` etcd runs as shipped (it fsyncs its write-ahead log
//! before acknowledging); otherwise with `--unsafe-no-fsync` (etcd 3.4 and later), like our
//! replicas writing their logs without fsync. Each worker has its own connection (given every
//! member's URL, as a user's client would be) and turns each operation into a `Put` of the
//! same unique value our clients write, or a `Get` (linearizable, etcd's default), of the key
//! `<namespace>/k<key>`. The answers go into the same history, checked for linearizability
//! like our replicas'. Faults are not injected into etcd: its events are `unsupported`.
//! After the run every key of the run is deleted.

use super::KvOp;
use super::client::{request_of, value_id};
use super::history::{Access, History, HistoryOp, NO_ANSWER, Recorder};
use super::params::{ConsensusParams, LogChoice};
use super::system::{ConsensusMetrics, check_history};
use crate::protocol::ProtocolError;
use crate::servers::etcd::EtcdCluster;
use crate::target::{EventReport, FamilyMetrics, Op, OpError, OpResult, System, Worker};
use etcd_client as etcd;
use std::sync::Arc;
use std::time::Duration;
use workloads::{Event, Workload};

/// How long a worker may take to connect.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// etcd as the system under test.
pub struct EtcdEngine {
    urls: Vec<String>,
    prefix: String,
    params: ConsensusParams,
    workload: Workload,
    history: Arc<History>,
    notes: Vec<String>,
    // Last: the members stop after everything that talks to them.
    _cluster: Option<EtcdCluster>,
}

impl EtcdEngine {
    /// Starts the members (or checks the `given` ones), keys under `namespace`.
    pub fn start(
        params: ConsensusParams,
        workload: &Workload,
        given: &[String],
        namespace: &str,
    ) -> Result<Self, ProtocolError> {
        let (cluster, urls, notes) = if given.is_empty() {
            let members = params.replicas as usize;
            if !crate::servers::etcd::MEMBER_COUNTS.contains(&members) {
                return Err(ProtocolError::InvalidParam {
                    param: "replicas".into(),
                    message: format!("engine:etcd starts 1 or 3 members, not {members}"),
                });
            }
            let extra: &[&str] = if params.log == LogChoice::Fsync { &[] } else { &["--unsafe-no-fsync"] };
            let cluster = EtcdCluster::start_with(members, extra).map_err(|e| ProtocolError::Cluster(e.to_string()))?;
            let urls = cluster.urls();
            (Some(cluster), urls, Vec::new())
        } else {
            for url in given {
                let address = crate::servers::socket_addr(url).map_err(ProtocolError::Cluster)?;
                crate::servers::etcd::ping(address)
                    .map_err(|e| ProtocolError::Cluster(format!("etcd at {url} does not answer: {e}")))?;
            }
            (None, given.to_vec(), vec!["etcd given with --etcd: its durability is its own".to_string()])
        };
        Ok(EtcdEngine {
            urls,
            prefix: format!("{namespace}/"),
            params,
            workload: workload.clone(),
            history: History::new(params.history_ops as usize, workload.shape.workers()),
            notes,
            _cluster: cluster,
        })
    }

    /// Deletes every key of the run.
    async fn cleanup(&self) -> Result<(), etcd::Error> {
        let mut client = connect(&self.urls).await?;
        client.delete(self.prefix.as_str(), Some(etcd::DeleteOptions::new().with_prefix())).await?;
        Ok(())
    }
}

async fn connect(urls: &[String]) -> Result<etcd::Client, etcd::Error> {
    let options = etcd::ConnectOptions::new().with_connect_timeout(CONNECT_TIMEOUT);
    etcd::Client::connect(urls, Some(options)).await
}

impl System for EtcdEngine {
    type Worker = EtcdWorker;

    fn worker(&self, index: u32) -> EtcdWorker {
        EtcdWorker {
            urls: self.urls.clone(),
            client: None,
            prefix: self.prefix.clone(),
            index,
            writes: 0,
            value_size: self.workload.value_size_bytes as usize,
            timeout: self.params.client_timeout,
            history: self.history.recorder(),
        }
    }

    async fn apply_event(&self, event: &Event) -> EventReport {
        EventReport::unsupported(format!("faults are not injected into etcd (`{}`)", event.action.label()))
    }

    fn metrics(&self) -> FamilyMetrics {
        let mut notes = self.notes.clone();
        match tokio::runtime::Builder::new_current_thread().enable_all().build() {
            Ok(runtime) => {
                if let Err(error) = runtime.block_on(self.cleanup()) {
                    notes.push(format!("cannot delete the run's keys: {error}"));
                }
            }
            Err(error) => notes.push(format!("cannot delete the run's keys: {error}")),
        }
        let (lin, report) = check_history(&self.history.finish(), self.params.check_timeout);
        notes.extend(report.described.iter().cloned());
        // etcd promises linearizable puts and gets.
        FamilyMetrics::safety_checked(report.violations, notes)
            .with_columns(ConsensusMetrics { linearizability: Some(lin), ..ConsensusMetrics::default() })
    }
}

/// One driver worker's etcd client.
pub struct EtcdWorker {
    urls: Vec<String>,
    client: Option<etcd::Client>,
    prefix: String,
    index: u32,
    writes: u64,
    value_size: usize,
    timeout: Duration,
    history: Recorder,
}

impl EtcdWorker {
    async fn client(&mut self) -> Result<&mut etcd::Client, OpError> {
        if self.client.is_none() {
            let client = connect(&self.urls).await.map_err(|e| OpError {
                kind: "connect",
                detail: Some(format!("etcd at {}: {e}", self.urls.join(","))),
            })?;
            self.client = Some(client);
        }
        Ok(self.client.as_mut().expect("just connected"))
    }

    /// Runs `request`; the value read, for a `Get`.
    async fn run(&mut self, request: KvOp) -> Result<Option<u64>, String> {
        let key = format!("{}k{}", self.prefix, request.key());
        let timeout = self.timeout;
        let client = self.client().await.map_err(|e| e.detail.unwrap_or_default())?;
        let call = async {
            match request {
                KvOp::Put { value, .. } => client.put(key, value.bytes(), None).await.map(|_| None),
                KvOp::Get { .. } => {
                    let reply = client.get(key, None).await?;
                    Ok(reply.kvs().first().map(|kv| value_id(kv.value())))
                }
            }
        };
        match tokio::time::timeout(timeout, call).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(error.to_string()),
            Err(_) => Err(format!("no answer within client_timeout ({timeout:?})")),
        }
    }
}

impl Worker for EtcdWorker {
    async fn call(&mut self, op: Op) -> OpResult {
        let (request, access) = request_of(op, self.index, &mut self.writes, self.value_size);
        let call_ns = self.history.now_ns();
        match self.run(request).await {
            Ok(read) => {
                let access = if let Access::Read(_) = access { Access::Read(read) } else { access };
                let ret_ns = self.history.now_ns();
                self.history.record(HistoryOp { key: op.key, access, call_ns, ret_ns });
                Ok(())
            }
            Err(detail) => {
                if let Access::Write(_) = access {
                    self.history.record(HistoryOp { key: op.key, access, call_ns, ret_ns: NO_ANSWER });
                }
                // A failed call's outcome is unknown: a timeout, as for our replicas.
                Err(OpError { kind: "timeout", detail: Some(detail) })
            }
        }
    }
}
