//! Ctrl-C handling. The handler only sets a flag; the driver polls it, stops the run in
//! progress, and the session writes what was measured before exiting with code 130. A second
//! Ctrl-C exits at once, for the case where something does not stop.

use std::sync::atomic::{AtomicBool, Ordering};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Installs the handler (once; later calls are ignored).
pub fn install() {
    let result = ctrlc::set_handler(|| {
        if INTERRUPTED.swap(true, Ordering::SeqCst) {
            eprintln!("stratbench: second interrupt, stopping the servers it started and exiting now");
            targets::servers::stop_all();
            std::process::exit(i32::from(crate::error::EXIT_INTERRUPTED));
        }
        eprintln!("stratbench: interrupted; stopping the current run and writing what was measured");
    });
    if let Err(error) = result {
        tracing::warn!("cannot install the Ctrl-C handler: {error}");
    }
}

/// Whether Ctrl-C was pressed.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::Relaxed)
}
