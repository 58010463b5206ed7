//! The two-phase-commit roles: a participant or a coordinator node, exiting 0 when the
//! harness asks it to stop (its log synced) and with [`CRASH_EXIT_CODE`] when an injected
//! crash point fires (nothing more written). The helpers here serve every node built on the
//! shared transport (`targets::transport`), replicas included.

use crate::cli::{CoordinatorArgs, NodeArgs, ParticipantArgs};
use crate::error::Outcome;
use std::io::Write as _;
use std::net::SocketAddr;
use targets::commit::net::{self, CRASH_EXIT_CODE, ServeOptions};
use targets::transport::process::READY_PREFIX;
use targets::transport::runtime::Stopped;

/// Runs a participant until it stops.
pub fn serve_participant(args: &ParticipantArgs) -> anyhow::Result<Outcome> {
    let mut options = options(&args.node)?;
    options.decision_timeout = args.decision_timeout.0;
    options.retry_every = args.retry.retry_every.0;
    serve(&args.node, &options)
}

/// Runs a coordinator until it stops.
pub fn serve_coordinator(args: &CoordinatorArgs) -> anyhow::Result<Outcome> {
    let mut options = options(&args.node)?;
    options.role = net::ServeRole::Coordinator;
    options.vote_timeout = args.vote_timeout.0;
    options.retry_every = args.retry.retry_every.0;
    serve(&args.node, &options)
}

fn serve(node: &NodeArgs, options: &ServeOptions) -> anyhow::Result<Outcome> {
    if node.exit_on_stdin_close {
        super::exit_when_stdin_closes();
    }
    let stopped = net::serve(options, announce)?;
    node_outcome(options.role.as_str(), options.id, stopped)
}

/// Prints where the node listens, for the harness.
pub(super) fn announce(address: SocketAddr) {
    let mut stdout = std::io::stdout();
    let _ = writeln!(stdout, "{READY_PREFIX}{address}");
    let _ = stdout.flush();
}

/// How a transport node's process ends: an injected crash exits at once with
/// [`CRASH_EXIT_CODE`].
pub(super) fn node_outcome(role: &str, id: u32, stopped: Stopped) -> anyhow::Result<Outcome> {
    match stopped {
        Stopped::Crashed => {
            tracing::info!("{role} {id}: crashed at an injected crash point");
            std::process::exit(CRASH_EXIT_CODE);
        }
        Stopped::Shutdown | Stopped::Closed => Ok(Outcome::Ok),
        Stopped::LogFailed(error) => Err(anyhow::Error::new(error).context("the node's log failed")),
    }
}

/// Refuses a node whose listen or peer address is not on loopback.
pub(super) fn check_node_loopback(node: &NodeArgs) -> anyhow::Result<()> {
    super::check_loopback("--listen", node.listen)?;
    for (id, address) in &node.peers {
        super::check_loopback(&format!("--peer {id}="), *address)?;
    }
    Ok(())
}

/// A participant's options from the flags every node takes, with the addresses checked
/// (loopback only).
fn options(node: &NodeArgs) -> anyhow::Result<ServeOptions> {
    check_node_loopback(node)?;
    let defaults = targets::commit::params::CommitParams::default();
    Ok(ServeOptions {
        role: net::ServeRole::Participant,
        id: node.id,
        listen: node.listen,
        data_dir: node.data_dir.clone(),
        fsync: node.fsync,
        peers: node.peers.clone(),
        vote_timeout: defaults.vote_timeout,
        decision_timeout: defaults.decision_timeout,
        retry_every: defaults.retry_every(),
        seed: node.seed,
    })
}
