//! Probes for Kubernetes: liveness (`/healthz`) and readiness (`/readyz`).

use crate::{db::ReplicaStatus, startup::AppState};
use axum::{extract::State, http::StatusCode, Json};
use serde::Serialize;

/// Liveness: the process serves HTTP. Touches no database, so a database outage never
/// gets healthy pods restarted.
pub async fn healthz() -> &'static str {
    "ok"
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
