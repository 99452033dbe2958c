//! Probes for Kubernetes: liveness (`/healthz`) and readiness (`/readyz`).

use super::{
    db::{PrimaryReadiness, ReplicaStatus},
    state::AppState,
};
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

/// The body of `/readyz`.
#[derive(Serialize)]
pub struct ReadinessReport {
    status: Readiness,
    primary: PrimaryReadiness,
    /// Reported for operators; a replica problem alone does not make the app unready,
    /// since reads fall back to the primary.
    replicas: Vec<ReplicaStatus>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Readiness {
    Ready,
    NotReady,
}

/// Readiness: the primary answers within a short timeout and every migration this build
/// knows is applied. 200 when ready, 503 when not; the body says why.
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<ReadinessReport>) {
    let (primary, replicas) =
        tokio::join!(state.db.primary_readiness(), state.db.replica_statuses());
    let (code, status) = if primary == PrimaryReadiness::Ok {
        (StatusCode::OK, Readiness::Ready)
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, Readiness::NotReady)
    };
    let body = ReadinessReport {
        status,
        primary,
        replicas,
    };
    (code, Json(body))
}
