//! Stopping on SIGTERM (and Ctrl-C) within a bound that holds even when the async
//! runtime cannot make progress.
//!
//! The promise: after the signal, requests in flight get `SHUTDOWN_GRACE_SECS` to
//! finish; the process is gone at most [`HARD_EXIT_MARGIN`] after that, whatever is
//! stuck. The signal is therefore received, and the deadline kept, by a plain OS thread:
//! a Tokio signal stream or timer needs a worker thread to run, and a worker blocked for
//! good (a deadlock, a blocking call) is exactly the case where the deadline matters.
//! Kubernetes then never has to SIGKILL a pod that looked healthy.

use crate::server::in_flight::InFlight;
use signal_hook::{
    consts::{SIGINT, SIGTERM},
    flag,
    iterator::Signals,
};
use std::{
    future::Future,
    io,
    sync::{atomic::AtomicBool, Arc},
    time::Duration,
};
use tokio::sync::watch;

/// After the grace period, the orderly path still closes the listeners and the database
/// pools (bounded, see `startup`); this is how long it may take before the watchdog
/// ends the process instead.
pub const HARD_EXIT_MARGIN: Duration = Duration::from_secs(4);

/// Exit status of a process the watchdog ended: EX_SOFTWARE of sysexits.h, an internal
/// error, so that it stands apart from a drained exit (0) and from an orderly exit that
/// had to drop requests (1).
pub const EXIT_STUCK: i32 = 70;

/// Starts the thread that waits for SIGTERM or SIGINT. The returned future completes
/// when one arrives; from then on the thread keeps the hard deadline of
/// `grace + HARD_EXIT_MARGIN`, and, if the process is still there, logs what was in
/// flight and exits with [`EXIT_STUCK`]. A second signal ends the process at once.
pub fn on_signal(
    grace: Duration,
    in_flight: InFlight,
) -> io::Result<impl Future<Output = ()> + Send + 'static> {
    // Armed once the first signal is in: the next one exits immediately (status 1).
    // Registered before the signal stream, so that on each delivery it runs first: the
    // other way round, the thread woken by the stream could arm it before it ran, and
    // the very first SIGTERM would end the process at once (signal-hook runs a signal's
    // actions in the order they were registered).
    let second_signal_exits = Arc::new(AtomicBool::new(false));
    for signal in [SIGTERM, SIGINT] {
        flag::register_conditional_shutdown(signal, 1, second_signal_exits.clone())?;
    }
    let mut signals = Signals::new([SIGTERM, SIGINT])?;
    let (requested, mut stop) = watch::channel(false);
    std::thread::Builder::new()
        .name("shutdown-watchdog".into())
        .spawn(move || {
            if signals.forever().next().is_none() {
                return;
            }
            second_signal_exits.store(true, std::sync::atomic::Ordering::SeqCst);
            tracing::info!("shutdown requested: finishing in-flight requests");
            let _ = requested.send(true);
            std::thread::sleep(grace + HARD_EXIT_MARGIN);
            // Still here: something holds the runtime. Say what, then go.
            tracing::error!(
                grace_secs = grace.as_secs(),
                still_in_flight = ?in_flight.describe_all(),
                exit_status = EXIT_STUCK,
                "shutdown did not complete within the grace period and its margin: exiting"
            );
            super::telemetry::flush();
            std::process::exit(EXIT_STUCK);
        })?;
    Ok(async move {
        let _ = stop.wait_for(|requested| *requested).await;
    })
}
