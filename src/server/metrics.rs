//! Prometheus metrics, served on a listener of their own (`METRICS_ADDR`), away from
//! the public port.
//!
//! Recorded with the `metrics` facade where things happen; rendered in the Prometheus
//! text format by `metrics-exporter-prometheus`. Names follow Prometheus conventions:
//! `tasks_` prefix, `_total` for counters, base units (`_seconds`, `_bytes`).

//!
//! Names and the recorder only: it imports nothing else of the crate, so every module
//! may record. `/metrics` is served by `startup`, which samples the gauges there.

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;

pub const HTTP_REQUESTS: &str = "tasks_http_requests_total";
pub const HTTP_REQUEST_DURATION: &str = "tasks_http_request_duration_seconds";
pub const HTTP_REQUESTS_IN_FLIGHT: &str = "tasks_http_requests_in_flight";
pub const HTTP_REQUESTS_STUCK: &str = "tasks_http_requests_stuck";
pub const SERVER_FN_CALLS: &str = "tasks_server_function_calls_total";
pub const SERVER_FN_ERRORS: &str = "tasks_server_function_errors_total";
pub const DB_READS: &str = "tasks_db_reads_total";
pub const DB_POOL_CONNECTIONS: &str = "tasks_db_pool_connections";
pub const DB_POOL_MAX_CONNECTIONS: &str = "tasks_db_pool_max_connections";
pub const DB_REPLICA_UP: &str = "tasks_db_replica_up";
pub const DB_REPLICA_LAG_BYTES: &str = "tasks_db_replica_replay_lag_bytes";
pub const DB_REPLICA_LAG_SECONDS: &str = "tasks_db_replica_replay_lag_seconds";
pub const TODOS_CREATED: &str = "tasks_todos_created_total";
pub const BUILD_INFO: &str = "tasks_build_info";

/// Latency buckets from 1 ms to 10 s: a page or server function of this app takes a
/// few milliseconds; the long tail is what matters.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The process-wide recorder, installed on first use (the `metrics` facade has one
/// global recorder; tests build several apps in one process and share it).
pub fn recorder() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let handle = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full(HTTP_REQUEST_DURATION.to_owned()),
                    LATENCY_BUCKETS,
                )
                .expect("latency buckets are not empty")
                .install_recorder()
                .expect("no other metrics recorder is installed");
            describe();
            metrics::gauge!(
                BUILD_INFO,
                "version" => env!("CARGO_PKG_VERSION"),
                "git_sha" => env!("TASKS_GIT_SHA"),
            )
            .set(1.0);
            handle
        })
        .clone()
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests answered, by route template, method and status"
    );
    describe_histogram!(
        HTTP_REQUEST_DURATION,
        Unit::Seconds,
        "Time to answer an HTTP request, by route template and method"
    );
    describe_gauge!(
        HTTP_REQUESTS_IN_FLIGHT,
        "HTTP requests being answered at the time of the scrape"
    );
    describe_gauge!(
        HTTP_REQUESTS_STUCK,
        "HTTP requests in flight for over twice the request timeout: their worker thread is blocked; alert on any"
    );
    describe_counter!(SERVER_FN_CALLS, "Server function calls, by function");
    describe_counter!(
        SERVER_FN_ERRORS,
        "Server function calls that returned an error, by function and error kind"
    );
    describe_counter!(
        DB_READS,
        "Reads by the server that served them (replica or primary) and why"
    );
    describe_gauge!(
        DB_POOL_CONNECTIONS,
        "Open database connections, by pool and state (idle, in_use)"
    );
    describe_gauge!(
        DB_POOL_MAX_CONNECTIONS,
        "Upper bound on open connections, by pool"
    );
    describe_gauge!(
        DB_REPLICA_UP,
        "1 when the replica is serving reads (reachable, a standby, within the lag limits), else 0"
    );
    describe_gauge!(
        DB_REPLICA_LAG_BYTES,
        Unit::Bytes,
        "WAL the replica has yet to replay, in bytes"
    );
    describe_gauge!(DB_REPLICA_LAG_SECONDS, Unit::Seconds, "Age of the last transaction the replica replayed while it has WAL left to replay; 0 when caught up");
    describe_counter!(TODOS_CREATED, "Todos stored");
    describe_gauge!(
        BUILD_INFO,
        "Always 1; labels carry the version and git commit of this build"
    );
}
