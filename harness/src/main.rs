//! `stratbench`: benchmark and load-testing harness for the strategies distributed systems are
//! built from. `main` only installs logging and Ctrl-C handling, then maps the outcome of
//! [`stratbench::run`] to an exit code: 0 ok, 1 a check failed, 2 bad input, 130 interrupted.

use std::process::ExitCode;

fn main() -> ExitCode {
    stratbench::logging::install();
    stratbench::interrupt::install();
    match stratbench::run(stratbench::cli::parse()) {
        Ok(outcome) => outcome.exit_code(),
        Err(error) => {
            let code = stratbench::error::exit_code(&error);
            eprintln!("stratbench: error: {error:#}");
            code
        }
    }
}
