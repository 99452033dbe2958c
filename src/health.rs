//! Probes for Kubernetes: liveness (`/healthz`) and readiness (`/readyz`).

use crate::{db::ReplicaStatus, startup::AppState};
use axum::{extract::State, http::StatusCode, Json};
use serde::Serialize;

/// Liveness: the process serves HTTP and none of its requests is stuck. Touches no
/// database, so a database outage never gets healthy pods restarted.
///
/// A request still in flight long after the request timeout was not ended by it: the
/// worker thread running it is blocked for good, and one worker fewer is left to serve
/// (a pod has two). Only a restart gives it back, so the pod reports itself not live.
pub async fn healthz(State(state): State<AppState>) -> (StatusCode, String) {
    let stuck = state.in_flight.snapshot().stuck;
    if stuck.is_empty() {
        (StatusCode::OK, "ok".to_owned())
    } else {
        tracing::error!(?stuck, "liveness failed: requests stuck past every timeout");
        (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("stuck requests: {}", stuck.len()),
        )
    }
}

#[derive(Serialize)]
pub struct Readiness {
    /// `ready` or `not_ready`.
    status: &'static str,
    /// `ok`, `unreachable` or `migrations_pending`.
    primary: &'static str,
    /// Reported for operators; a replica problem alone does not make the app unready,
    /// since reads fall back to the primary.
    replicas: Vec<ReplicaStatus>,
}

/// Readiness: the primary answers within a short timeout and every migration this build
/// knows is applied. 200 when ready, 503 when not; the body says why.
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Readiness>) {
    let (primary, replicas) =
        tokio::join!(state.db.primary_readiness(), state.db.replica_statuses());
    let ready = primary == "ok";
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = Readiness {
        status: if ready { "ready" } else { "not_ready" },
        primary,
        replicas,
    };
    (status, Json(body))
}
