//! Logging set-up: `tracing` events to stderr, filtered by `RUST_LOG`, as text lines for
//! people or JSON lines for log collectors (`LOG_FORMAT`).
//!
//! What is logged never includes a password: database targets are logged as
//! `host:port/database` (`db::describe`), never as URLs.

use crate::server::config::LogFormat;
use tracing_subscriber::{fmt, EnvFilter};

/// Installs the global subscriber. Without `RUST_LOG`, logs `info` and above.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = fmt().with_env_filter(filter).with_writer(std::io::stderr);
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
}
