//! Logs go to stderr through `tracing`; results go to files and stdout. `RUST_LOG` selects
//! the level (default `warn` for dependencies, `info` for stratbench, `error` for goose, which
//! warns once per failed request). Colours only when stderr is a terminal: a log piped to a
//! file or CI gets plain text.

use std::io::IsTerminal as _;
use tracing_subscriber::EnvFilter;

/// Installs the subscriber once.
pub fn install() {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn,stratbench=info,goose=error"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .try_init();
}
