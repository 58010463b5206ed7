//! The strategies stratbench measures, one module per family, and the interface through which
//! the driver exercises them.
//!
//! A family exposes a [`System`](target::System): the thing under test, built from a
//! [`Workload`](workloads::Workload), which hands each driver worker its own
//! [`Worker`](target::Worker) and applies scheduled events (resizes, faults). The driver in
//! the `stratbench` crate owns every clock reading and every histogram; code here only does
//! the operations and reports what happened, so that one measurement loop serves every
//! family.
//!
//! Families:
//! - [`balancing`]: load-balancing strategies (round robin to P2C with peak-EWMA), in front of
//!   simulated backends under virtual time and as an HTTP reverse proxy.
//! - [`hashing`]: partitioning strategies (modulo, ring, jump, rendezvous, maglev, multi-probe,
//!   bounded-load, anchor) and adapters over crates that implement the same algorithms; in
//!   process, and as client-side sharding over Redis servers (`hashing::net`).
//! - [`locks`]: distributed locks (in-process lease table, Redis, Redlock, ZooKeeper, etcd)
//!   with a fencing-token resource and a safety checker.
//! - [`commit`]: two-phase commit (presumed abort), in-process and as processes over TCP.
//! - [`consensus`]: a key-value store replicated with Multi-Paxos or single-decree Paxos,
//!   in-process and as processes over TCP, with etcd beside it; agreement and
//!   linearizability checkers.
//! - [`noop`]: a target that does nothing, to measure the driver's own overhead.
//!
//! [`servers`] starts and stops the real servers (redis-server, ZooKeeper, etcd) that the
//! networked versions run against; [`transport`] runs the protocol families' sans-IO nodes
//! in-process or over TCP, and [`protocol`] is what those families share above it (their
//! system glue, error, parameter readers and backends' common half); [`process`] is the one
//! owner of every child process either starts.

pub mod balancing;
pub mod columns;
pub mod commit;
pub mod consensus;
pub mod erased;
pub mod hashing;
pub mod locks;
pub mod noop;
pub mod param_values;
pub mod process;
pub mod protocol;
mod registry;
pub mod servers;
pub mod sync;
pub mod target;
pub mod timer;
pub mod transport;
