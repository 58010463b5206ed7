//! `stratbench serve ROLE`: one networked node as its own process, as `run --mode net`
//! starts them (and as a person can, to watch one).
//!
//! The process listens on loopback only, prints `listening on ADDR` on stdout once it can
//! take connections, and logs to stderr. It exits 0 when the harness asks it to stop (its
//! log synced), with [`CRASH_EXIT_CODE`] when an injected crash point fires (nothing more
//! written), and — with `--exit-on-stdin-close`, which the harness always passes — as soon as
//! its stdin closes, so a node never outlives the harness that started it.
//!
//! Roles: `participant` and `coordinator` (two-phase commit), `replica` (consensus).

use crate::cli::{NodeArgs, ProtocolArg, ReplicaArgs, ServeArgs, ServeRole};
use crate::commands::Outcome;
use crate::error::bad_input;
use std::io::{Read as _, Write as _};
use std::net::SocketAddr;
use targets::commit::net::{self, CRASH_EXIT_CODE, ServeOptions};
use targets::consensus::Mode;
use targets::consensus::replica::{MAX_REPLICAS, ReplicaConfig};
use targets::transport::group::NodeOptions;
use targets::transport::process::READY_PREFIX;
use targets::transport::runtime::Stopped;

/// Runs the node `args` describe until it stops.
pub fn serve(args: &ServeArgs) -> anyhow::Result<Outcome> {
    let node = node_args(args);
    check_loopback(node)?;
    let (name, stopped) = match &args.role {
        ServeRole::Replica(replica) => {
            let config = replica_config(replica)?;
            watch_stdin(node);
            ("replica", targets::consensus::net::serve(config, &node_options(node), announce)?)
        }
        _ => {
            let options = options(args);
            watch_stdin(node);
            (options.role.as_str(), net::serve(&options, announce)?)
        }
    };
    match stopped {
        Stopped::Crashed => {
            tracing::info!("{name} {}: crashed at an injected crash point", node.id);
            std::process::exit(CRASH_EXIT_CODE);
        }
        Stopped::Shutdown | Stopped::Closed => Ok(Outcome::Ok),
        Stopped::LogFailed(error) => Err(anyhow::Error::new(error).context("the node's log failed")),
    }
}

/// Prints where the node listens, for the harness.
fn announce(address: SocketAddr) {
    let mut stdout = std::io::stdout();
    let _ = writeln!(stdout, "{READY_PREFIX}{address}");
    let _ = stdout.flush();
}

/// With `--exit-on-stdin-close`, exits when the harness's end of stdin closes.
fn watch_stdin(node: &NodeArgs) {
    if node.exit_on_stdin_close {
        std::thread::spawn(|| {
            let mut sink = [0u8; 256];
            let mut stdin = std::io::stdin();
            while matches!(stdin.read(&mut sink), Ok(n) if n > 0) {}
            tracing::info!("stdin closed: the harness is gone; exiting");
            std::process::exit(0);
        });
    }
}

fn node_args(args: &ServeArgs) -> &NodeArgs {
    match &args.role {
        ServeRole::Participant(p) => &p.node,
        ServeRole::Coordinator(c) => &c.node,
        ServeRole::Replica(r) => &r.node,
    }
}

/// Nodes listen and dial on loopback only.
fn check_loopback(node: &NodeArgs) -> anyhow::Result<()> {
    if !node.listen.ip().is_loopback() {
        return Err(bad_input(format!("--listen {}: nodes listen on loopback only (127.0.0.1)", node.listen)));
    }
    if let Some((id, address)) = node.peers.iter().find(|(_, a)| !a.ip().is_loopback()) {
        return Err(bad_input(format!("--peer {id}={address}: peers are on loopback only (127.0.0.1)")));
    }
    Ok(())
}

fn node_options(node: &NodeArgs) -> NodeOptions {
    NodeOptions {
        listen: node.listen,
        data_dir: node.data_dir.clone(),
        fsync: node.fsync,
        peers: node.peers.clone(),
        seed: node.seed,
    }
}

/// A two-phase-commit node's options.
fn options(args: &ServeArgs) -> ServeOptions {
    let node = node_args(args);
    let defaults = targets::commit::params::CommitParams::default();
    let mut options = ServeOptions {
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
    };
    match &args.role {
        ServeRole::Participant(p) => {
            options.decision_timeout = p.decision_timeout.0;
            options.retry_every = p.retry.retry_every.0;
        }
        ServeRole::Coordinator(c) => {
            options.role = net::ServeRole::Coordinator;
            options.vote_timeout = c.vote_timeout.0;
            options.retry_every = c.retry.retry_every.0;
        }
        ServeRole::Replica(_) => unreachable!("replicas have their own options"),
    }
    options
}

/// A replica's settings, checked; the error names the flag.
fn replica_config(args: &ReplicaArgs) -> anyhow::Result<ReplicaConfig> {
    if !(1..=MAX_REPLICAS).contains(&args.replicas) {
        return Err(bad_input(format!("--replicas {}: from 1 to {MAX_REPLICAS}", args.replicas)));
    }
    if args.node.id >= args.replicas {
        return Err(bad_input(format!("--id {}: replicas have ids 0..{}", args.node.id, args.replicas)));
    }
    if args.heartbeat.0 >= args.election_timeout.0 {
        return Err(bad_input("--heartbeat must be shorter than --election-timeout".to_string()));
    }
    if args.max_batch == 0 || args.window == 0 {
        return Err(bad_input("--max-batch and --window must be at least 1".to_string()));
    }
    Ok(ReplicaConfig {
        id: args.node.id,
        replicas: args.replicas,
        mode: match args.protocol {
            ProtocolArg::MultiPaxos => Mode::MultiPaxos,
            ProtocolArg::Paxos => Mode::Paxos,
        },
        heartbeat_every: args.heartbeat.0,
        election_timeout: args.election_timeout.0,
        lease_reads: args.lease_reads,
        max_batch: args.max_batch as usize,
        window: args.window as usize,
        seed: args.node.seed,
    })
}
