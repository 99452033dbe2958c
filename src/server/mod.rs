//! Everything that exists only on the server: configuration, the database, the HTTP
//! stack around the app, probes, metrics, logs, start-up and shutdown.
//!
//! Layers, each importing only those below it (docs/architecture.md):
//! `startup` → `middleware`, `health`, `metrics`, `shutdown`, `state` → `db`,
//! `in_flight`, `read_your_writes`, `form_posts` → `config`, `telemetry`.

pub mod config;
pub mod cookies;
pub mod cross_site;
pub mod db;
pub mod form_posts;
pub mod health;
pub mod http_server;
pub mod in_flight;
pub mod metrics;
pub mod middleware;
pub mod rate_limit;
pub mod read_your_writes;
pub mod remembered_lists;
pub mod server_fns;
pub mod shutdown;
pub mod startup;
pub mod state;
pub mod telemetry;
