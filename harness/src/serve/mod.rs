//! `stratbench serve ROLE`: one networked node as its own process, as `run --mode net`
//! starts them (and as a person can, to watch one).
//!
//! The process listens on loopback only, prints `listening on ADDR` on stdout once it can
//! take connections, and logs to stderr. It exits 0 when the harness asks it to stop (its
//! log synced), with [`CRASH_EXIT_CODE`] when an injected crash point fires (nothing more
//! written), and — with `--exit-on-stdin-close`, which the harness always passes — as soon as
//! its stdin closes, so a node never outlives the harness that started it.

use crate::cli::{NodeArgs, ServeArgs, ServeRole};
use crate::commands::Outcome;
use crate::error::bad_input;
use std::io::{Read as _, Write as _};
use targets::commit::net::{self, CRASH_EXIT_CODE, ServeOptions};
use targets::transport::process::READY_PREFIX;
use targets::transport::runtime::Stopped;

/// Runs the node `args` describe until it stops.
pub fn serve(args: &ServeArgs) -> anyhow::Result<Outcome> {
    let options = options(args)?;
    if node_args(args).exit_on_stdin_close {
        std::thread::spawn(|| {
            let mut sink = [0u8; 256];
            let mut stdin = std::io::stdin();
            while matches!(stdin.read(&mut sink), Ok(n) if n > 0) {}
            tracing::info!("stdin closed: the harness is gone; exiting");
            std::process::exit(0);
        });
    }
    let stopped = net::serve(&options, |address| {
        let mut stdout = std::io::stdout();
        let _ = writeln!(stdout, "{READY_PREFIX}{address}");
        let _ = stdout.flush();
    })?;
    match stopped {
        Stopped::Crashed => {
            tracing::info!("{} {}: crashed at an injected crash point", options.role.as_str(), options.id);
            std::process::exit(CRASH_EXIT_CODE);
        }
        Stopped::Shutdown | Stopped::Closed => Ok(Outcome::Ok),
        Stopped::LogFailed(error) => Err(anyhow::Error::new(error).context("the node's log failed")),
    }
}

fn node_args(args: &ServeArgs) -> &NodeArgs {
    match &args.role {
        ServeRole::Participant(p) => &p.node,
        ServeRole::Coordinator(c) => &c.node,
    }
}

/// The node's options, with the listen address checked (loopback only).
fn options(args: &ServeArgs) -> anyhow::Result<ServeOptions> {
    let node = node_args(args);
    if !node.listen.ip().is_loopback() {
        return Err(bad_input(format!("--listen {}: nodes listen on loopback only (127.0.0.1)", node.listen)));
    }
    if let Some((id, address)) = node.peers.iter().find(|(_, a)| !a.ip().is_loopback()) {
        return Err(bad_input(format!("--peer {id}={address}: peers are on loopback only (127.0.0.1)")));
    }
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
        retry_every: node.retry_every.0,
        seed: node.seed,
    };
    match &args.role {
        ServeRole::Participant(p) => options.decision_timeout = p.decision_timeout.0,
        ServeRole::Coordinator(c) => {
            options.role = net::ServeRole::Coordinator;
            options.vote_timeout = c.vote_timeout.0;
        }
    }
    Ok(options)
}
