//! The process backend of any protocol family: its nodes as `stratbench serve` processes on
//! loopback ([`Processes`], over the transport's [`ProcessGroup`]), each with its data
//! directory under the run's, started, polled, faulted and stopped the same way whatever the
//! protocol. Dropping it kills every process.
//!
//! A family says how a node's process is started (its command line, through the
//! [`Launch`] it gives), what it keeps beside the group, and how a run ends
//! ([`NetFamily`]).

use super::system::Backend;
use super::{Family, FinishedOf, Polled, ProtocolError, poll_stats};
use crate::process::ChildProcess;
use crate::transport::faults::FaultConfig;
use crate::transport::group::{Launch, ProcessGroup, START_TIMEOUT, log_path};
use crate::transport::log::FileLog;
use crate::transport::tcp::{Frame, TcpEndpoint};
use crate::transport::{NodeRecords, PeerId, TransportError};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// What a family adds to run as processes.
pub trait NetFamily: Family {
    /// What a node's data directory is called, before its id ("node", "replica").
    const DATA_DIR: &'static str;
    /// What the family keeps of its processes beside the group.
    type State: Default + Send + Sync + 'static;

    /// The end of a run: bring every process back, clear faults, wait until the nodes
    /// settle, stop them cleanly and read their logs.
    fn finish(processes: &Processes<Self>) -> Result<FinishedOf<Self>, ProtocolError>;
}

/// The node processes of one run of family `F`.
pub struct Processes<F: NetFamily> {
    params: F::Params,
    dir: PathBuf,
    seed: u64,
    group: ProcessGroup<F::Msg>,
    state: F::State,
}

impl<F: NetFamily> Processes<F> {
    /// Starts a process for each of `ids` with `launch` (data directories under `dir`) and
    /// waits until each answers; the control endpoint's fault draws come from `seed`.
    pub fn launch(
        params: F::Params,
        ids: &[PeerId],
        dir: &Path,
        seed: u64,
        launch: Arc<Launch>,
    ) -> Result<Self, ProtocolError> {
        let group = ProcessGroup::start(ids, launch, seed)?;
        Ok(Processes { params, dir: dir.to_path_buf(), seed, group, state: F::State::default() })
    }

    /// The run's parameters.
    pub fn params(&self) -> &F::Params {
        &self.params
    }

    /// The processes.
    pub fn group(&self) -> &ProcessGroup<F::Msg> {
        &self.group
    }

    /// What the family keeps beside them.
    pub fn state(&self) -> &F::State {
        &self.state
    }

    /// An endpoint for driver worker `worker`, to reach the nodes at `addresses`.
    pub fn client(
        &self,
        worker: u32,
        addresses: impl IntoIterator<Item = (PeerId, SocketAddr)>,
    ) -> TcpEndpoint<F::Msg> {
        TcpEndpoint::client(crate::transport::CLIENT_BASE + worker, addresses, self.seed)
    }

    /// Every node's log records, read from its data directory (a node that never wrote has
    /// none).
    pub fn read_logs(&self) -> Result<NodeRecords, ProtocolError> {
        let mut records = Vec::new();
        for id in self.group.ids() {
            let path = log_path(&data_dir(&self.dir, F::DATA_DIR, id));
            records.push((id, if path.exists() { FileLog::read(&path)? } else { Vec::new() }));
        }
        Ok(records)
    }

    /// Asks every process for its statistics; those that do not answer within `timeout` are
    /// missing from the answer.
    pub async fn poll(&self, timeout: Duration) -> BTreeMap<PeerId, <F::Msg as Polled>::Stats> {
        let ids = self.group.ids();
        self.group
            .with_control(move |control| async move { poll_stats(&mut *control.lock().await, &ids, timeout).await })
            .await
    }

    /// Restarts node `id`, or every node that is down.
    pub fn restart(&self, id: Option<PeerId>) -> Result<(), ProtocolError> {
        match id {
            Some(id) => self.group.restart(id)?,
            None => self.group.restart_all(),
        }
        Ok(())
    }
}

impl<F: NetFamily> Backend for Processes<F> {
    type Family = F;
    type Endpoint = TcpEndpoint<F::Msg>;

    fn params(&self) -> &F::Params {
        &self.params
    }

    async fn set_faults(&self, faults: FaultConfig) -> Result<(), ProtocolError> {
        self.group.send_to_all(Frame::SetFaults(faults)).await;
        Ok(())
    }

    fn finish(&self) -> Result<FinishedOf<F>, ProtocolError> {
        F::finish(self)
    }
}

/// The data directory of node `id` under a run's `dir`; `kind` names the node ("node",
/// "replica").
pub fn data_dir(dir: &Path, kind: &str, id: PeerId) -> PathBuf {
    dir.join(format!("{kind}-{id}"))
}

/// Starts node `name` as `exe args` in its data directory `dir` (created if need be; its
/// standard error goes to `stderr.log` there) and waits until it listens.
pub fn spawn_in(
    dir: &Path,
    name: &str,
    exe: &Path,
    args: &[String],
) -> Result<(ChildProcess, SocketAddr), TransportError> {
    std::fs::create_dir_all(dir).map_err(|e| TransportError::io(format!("cannot create {}", dir.display()), e))?;
    crate::transport::process::spawn_node(name, exe, args, &dir.join("stderr.log"), START_TIMEOUT)
}
