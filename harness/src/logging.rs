//! Logs go to stderr through `tracing`; results go to files and stdout. `RUST_LOG` selects
//! the level (default `warn` for dependencies, `info` for stratbench, `error` for goose, which
//! warns once per failed request).

use tracing_subscriber::EnvFilter;

/// Installs the subscriber once.
pub fn install() {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn,stratbench=info,goose=error"));
    let _ =
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false).try_init();
}
