//! The consensus role: one replica of the Paxos-replicated key-value store, exiting 0 when the
//! harness asks it to stop (its log synced).

use super::commit::{announce, node_outcome};
use crate::cli::{NodeArgs, ProtocolArg, ReplicaArgs};
use crate::error::Outcome;
use crate::error::bad_input;
use targets::consensus::PaxosMode;
use targets::consensus::replica::{MAX_REPLICAS, ReplicaConfig};
use targets::transport::group::NodeOptions;

/// Runs a replica until it stops.
pub fn serve_replica(args: &ReplicaArgs) -> anyhow::Result<Outcome> {
    super::commit::check_node_loopback(&args.node)?;
    let config = replica_config(args)?;
    if args.node.exit_on_stdin_close {
        super::exit_when_stdin_closes();
    }
    let stopped = targets::consensus::net::serve(config, &node_options(&args.node), announce)?;
    node_outcome("replica", args.node.id, stopped)
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
            ProtocolArg::MultiPaxos => PaxosMode::MultiPaxos,
            ProtocolArg::Paxos => PaxosMode::Paxos,
        },
        heartbeat_every: args.heartbeat.0,
        election_timeout: args.election_timeout.0,
        lease_reads: args.lease_reads,
        max_batch: args.max_batch as usize,
        window: args.window as usize,
        seed: args.node.seed,
    })
}
