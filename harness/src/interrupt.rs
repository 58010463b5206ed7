//! Ctrl-C (and SIGTERM) handling. The first signal sets a flag and cancels every wait for a
//! child process to become ready ([`targets::process::cancel`]); the driver polls the flag,
//! stops the run in progress, and the session writes what was measured (the run in progress
//! as `interrupted`) before exiting with code 130. A second signal, for the case where
//! something does not stop, gives the session [`SECOND_INTERRUPT_GRACE`] to finish that (it
//! normally takes a few hundred milliseconds); if it has not, it kills every process the harness
//! started, removes every scratch directory ([`targets::process::stop_all`]) and exits with code
//! 130 at once.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How long a second interrupt waits for the session to write the run in progress, before and
/// again after stopping every process (a run waiting on a server then fails at once).
pub const SECOND_INTERRUPT_GRACE: Duration = Duration::from_millis(500);

static INTERRUPTED: AtomicBool = AtomicBool::new(false);
static FINISHED: AtomicBool = AtomicBool::new(false);

/// Installs the handler (once; later calls are ignored).
pub fn install() {
    let result = ctrlc::set_handler(|| {
        targets::process::cancel();
        if INTERRUPTED.swap(true, Ordering::SeqCst) {
            if wait_finished() {
                // The session wrote everything and stopped its processes; it exits with 130.
                return;
            }
            eprintln!("stratbench: second interrupt: stopping the processes it started and exiting");
            targets::process::stop_all();
            if !wait_finished() {
                std::process::exit(i32::from(crate::error::EXIT_INTERRUPTED));
            }
        }
        eprintln!("stratbench: interrupted; stopping the current run and writing what was measured");
    });
    if let Err(error) = result {
        tracing::warn!("cannot install the Ctrl-C handler: {error}");
    }
}

/// Waits up to [`SECOND_INTERRUPT_GRACE`] for [`finished`]; whether it came.
fn wait_finished() -> bool {
    let deadline = Instant::now() + SECOND_INTERRUPT_GRACE;
    while !FINISHED.load(Ordering::SeqCst) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    FINISHED.load(Ordering::SeqCst)
}

/// Whether Ctrl-C (or SIGTERM) arrived.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::Relaxed)
}

/// Says the session has written everything: a second interrupt need not wait any longer.
pub fn finished() {
    FINISHED.store(true, Ordering::SeqCst);
}
