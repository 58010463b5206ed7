//! Helpers shared by the integration tests that drive the `stratbench` binary.

use std::process::{Command, Output};

/// Runs the binary with `args` and waits for it.
pub fn stratbench(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stratbench")).args(args).output().expect("the binary runs")
}

/// Stdout and stderr together, for assertion messages.
pub fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}
