//! `stratbench serve ROLE`: one networked node as its own process, as `run --mode net` starts
//! them (and as a person can, to watch one).
//!
//! Every role listens on loopback only, prints `listening on ADDR` on stdout once it accepts
//! connections (the line [`targets::transport::process::READY_PREFIX`] that the harness waits
//! for), logs to stderr, and — with `--exit-on-stdin-close`, which the harness always passes —
//! exits as soon as its stdin closes, so a node never outlives the harness that started it.
//!
//! Roles: `participant` and `coordinator` ([`commit`], two-phase commit); `backend` and
//! `proxy` ([`http`], load balancing); `replica` ([`replica`], consensus). A family adds its roles to
//! [`crate::cli::ServeRole`] and one arm to [`serve`]. The locks family's client process is a
//! role too, under its own hidden command (`stratbench lock-client`, unchanged on the CLI;
//! [`lock_client`]): it answers on stdin rather than listening.

pub mod commit;
pub mod http;
pub mod lock_client;
pub mod replica;

use crate::cli::{ServeArgs, ServeRole};
use crate::error::Outcome;
use crate::error::bad_input;
use std::io::Read as _;
use std::net::SocketAddr;

/// Runs the node `args` describe until it stops.
pub fn serve(args: &ServeArgs) -> anyhow::Result<Outcome> {
    match &args.role {
        ServeRole::Participant(participant) => commit::serve_participant(participant),
        ServeRole::Coordinator(coordinator) => commit::serve_coordinator(coordinator),
        ServeRole::Backend(backend) => http::run_backend(backend),
        ServeRole::Proxy(proxy) => http::run_proxy(proxy),
        ServeRole::Replica(replica) => replica::serve_replica(replica),
    }
}

/// Exits the process when stdin closes: the harness holds the other end, so its children go
/// when it goes, even if it was killed outright.
pub(crate) fn exit_when_stdin_closes() {
    std::thread::spawn(|| {
        let mut sink = [0u8; 256];
        let mut stdin = std::io::stdin();
        while matches!(stdin.read(&mut sink), Ok(n) if n > 0) {}
        tracing::info!("stdin closed: the harness is gone; exiting");
        std::process::exit(0);
    });
}

/// Refuses a non-loopback address given with `flag`.
pub(crate) fn check_loopback(flag: &str, address: SocketAddr) -> anyhow::Result<()> {
    if address.ip().is_loopback() {
        Ok(())
    } else {
        Err(bad_input(format!("{flag} {address}: stratbench nodes use loopback only (127.0.0.1)")))
    }
}
