//! Probes for Kubernetes: liveness (`/healthz`) and readiness (`/readyz`).

use super::{
    db::{NotReady, PrimaryReadiness, ReplicaStatus},
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
    /// Why not ready.
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<NotReady>,
    /// With `READYZ_DETAILS=true` only (tests, debugging): the primary probed now, and
    /// each replica as the last health check found it.
    #[serde(skip_serializing_if = "Option::is_none")]
    primary: Option<PrimaryReadiness>,
    #[serde(skip_serializing_if = "Option::is_none")]
    replicas: Option<Vec<ReplicaStatus>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Readiness {
    Ready,
    NotReady,
}

/// Readiness, as the background health checks last found it (`Database::readiness`):
/// 200 when ready, 503 when not, with the reason. A primary outage alone does not make
/// the pod unready while a replica serves reads.
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<ReadinessReport>) {
    let (code, status, reason) = match state.db.readiness() {
        Ok(()) => (StatusCode::OK, Readiness::Ready, None),
        Err(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Readiness::NotReady,
            Some(reason),
        ),
    };
    let (primary, replicas) = if state.readyz_details {
        (
            Some(state.db.primary_readiness().await),
            Some(state.db.replica_statuses()),
        )
    } else {
        (None, None)
    };
    let body = ReadinessReport {
        status,
        reason,
        primary,
        replicas,
    };
    (code, Json(body))
}
