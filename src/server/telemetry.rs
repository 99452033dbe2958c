//! Logging set-up: `tracing` events to stderr, filtered by `RUST_LOG`, as text lines for
//! people or JSON lines for log collectors (`LOG_FORMAT`).
//!
//! Lines are written by a thread of their own (`tracing_appender::non_blocking`): a
//! request's line is formatted on the request's thread and handed over, never waited
//! for, so a stalled log pipe cannot stall requests. (Throughput did not change
//! measurably either way: docs/performance.md, item 9.) If the writer falls behind by
//! more than its buffer (128,000 lines), further lines are dropped, not waited for.
//!
//! What is logged never includes a password: database targets are logged as
//! `host:port/database` (`db::describe`), never as URLs.

use crate::server::config::LogFormat;
use std::sync::Mutex;
use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::{fmt, EnvFilter};

/// The log writer's thread, until [`flush`] writes out what is queued and stops it.
static WRITER: Mutex<Option<WorkerGuard>> = Mutex::new(None);

/// Installs the global subscriber. Without `RUST_LOG`, logs `info` and above. The
/// process must call [`flush`] before it ends, or the last lines may be lost.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let (writer, guard) = tracing_appender::non_blocking(std::io::stderr());
    let builder = fmt().with_env_filter(filter).with_writer(writer);
    // try_init: a second call (tests build several apps in one process) is a no-op.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
    };
    let mut current = WRITER
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    // A second call (tests) installed nothing: its writer is dropped, the first kept.
    current.get_or_insert(guard);
}

/// Writes out the queued lines (waiting at most about a second) and stops the writer:
/// lines logged afterwards are lost. For the end of the process, including an exit the
/// runtime does not see (`shutdown`'s watchdog).
pub fn flush() {
    let guard = WRITER
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .take();
    drop(guard);
}
