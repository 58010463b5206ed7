//! Exit codes, how a session ended ([`Outcome`]), and the error that means "bad input".
//!
//! They live at the bottom of the harness, below every command, so that a command can return
//! its outcome without importing the dispatcher that calls it.
//!
//! Bad input — an unreadable scenario, an unknown strategy, a bad flag value — is wrapped in
//! [`BadInput`] wherever it is detected; `main` finds it anywhere in the error chain and
//! exits 2. Any other error (a results directory that cannot be written, say) exits 1.

use std::process::ExitCode;

/// Exit code: a check failed (regression, safety violation) or the session could not finish.
pub const EXIT_FAILED: u8 = 1;
/// Exit code: bad input, with a message naming the problem.
pub const EXIT_BAD_INPUT: u8 = 2;
/// Exit code: interrupted by Ctrl-C (128 + SIGINT, as shells report it).
pub const EXIT_INTERRUPTED: u8 = 130;

/// Input the user can fix: the message names the field, flag, file or value.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BadInput(pub String);

/// Shorthand for a [`BadInput`] error.
pub fn bad_input(message: impl Into<String>) -> anyhow::Error {
    BadInput(message.into()).into()
}

/// Whether `error` is bad input anywhere in its chain.
pub fn is_bad_input(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| cause.is::<BadInput>() || cause.is::<workloads::ScenarioError>())
}

/// The exit code for an error that ended the session.
pub fn exit_code(error: &anyhow::Error) -> ExitCode {
    ExitCode::from(if is_bad_input(error) { EXIT_BAD_INPUT } else { EXIT_FAILED })
}

/// How a session ended, when it did not fail outright.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// A check failed (a safety violation, a regression).
    ChecksFailed,
    /// Ctrl-C stopped the session; what was measured is written.
    Interrupted,
}

impl Outcome {
    /// The process exit code.
    pub fn exit_code(self) -> ExitCode {
        match self {
            Outcome::Ok => ExitCode::SUCCESS,
            Outcome::ChecksFailed => ExitCode::from(EXIT_FAILED),
            Outcome::Interrupted => ExitCode::from(EXIT_INTERRUPTED),
        }
    }
}
