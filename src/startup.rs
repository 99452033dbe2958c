//! Builds the HTTP application from its settings: what `main` runs and what the
//! integration tests spawn on a random port against their own database.

use crate::{
    app::{shell, App},
    config::Settings,
    db::Database,
    health, metrics, middleware,
    todos::error::TodoError,
};
use axum::{extract::FromRef, routing::get, Router};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use sqlx::migrate::MigrateError;
use std::{future::IntoFuture, io, net::SocketAddr, time::Duration};
use tokio::net::TcpListener;

/// Shared by every request handler and server function.
#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub db: Database,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

impl AppState {
    /// The state inside a server function. leptos_axum provides it to both server
    /// rendering and server-function calls; its absence is a wiring bug, not user error.
    pub fn from_context() -> Result<Self, TodoError> {
        use_context::<Self>().ok_or_else(|| {
            tracing::error!("AppState is missing from the server function's context");
            TodoError::Internal
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("could not apply database migrations on the primary: {0}")]
    Migrate(#[from] MigrateError),
    #[error("could not listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: io::Error },
}

/// A bound, ready-to-run server: the app on its public listener, metrics on another.
pub struct Application {
    listener: TcpListener,
    router: Router,
    metrics: Option<(TcpListener, Router)>,
    db: Database,
    health_checks: tokio::task::JoinHandle<()>,
    shutdown_grace: Duration,
}

impl Application {
    /// Creates the pools, applies pending migrations (in the background if the primary
    /// cannot be reached now) and binds the listen address (`leptos_options.site_addr`;
    /// port 0 picks a free one).
    pub async fn build(
        settings: &Settings,
        leptos_options: LeptosOptions,
    ) -> Result<Self, StartupError> {
        let db = Database::connect_lazy(&settings.database);
        // A database that is down must not make the server crash-loop: it starts all the
        // same, reports itself not ready (/readyz) and migrates once the primary answers.
        if let Err(error) = db.migrate().await {
            tracing::error!(%error, "could not apply migrations at start-up; retrying in the background");
            tokio::spawn(migrate_until_done(db.clone()));
        }
        let health_checks = tokio::spawn(db.clone().check_health_forever());
        let listener = bind(leptos_options.site_addr).await?;
        let metrics = match settings.http.metrics_addr {
            Some(addr) => Some((
                bind(addr).await?,
                metrics::router(metrics::recorder(), db.clone()),
            )),
            None => None,
        };
        let hash_files = leptos_options.hash_files;
        let state = AppState {
            leptos_options,
            db: db.clone(),
        };
        let router = middleware::apply(router(state), &settings.http, hash_files);
        Ok(Self {
            listener,
            router,
            metrics,
            db,
            health_checks,
            shutdown_grace: settings.http.shutdown_grace,
        })
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Where `/metrics` is served, when it is.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        let (listener, _) = self.metrics.as_ref()?;
        listener.local_addr().ok()
    }

    /// Serves until SIGTERM or Ctrl-C, then stops accepting, lets requests in flight
    /// finish within the grace period, and closes the pools.
    pub async fn run_until_stopped(self) -> io::Result<()> {
        let metrics_server = self.metrics.map(|(listener, router)| {
            tokio::spawn(async move { axum::serve(listener, router).await })
        });
        let (stopping_tx, mut stopping) = tokio::sync::watch::channel(false);
        let server = axum::serve(self.listener, self.router).with_graceful_shutdown(async move {
            shutdown_signal().await;
            let _ = stopping_tx.send(true);
        });
        let grace = self.shutdown_grace;
        let grace_over = async move {
            let _ = stopping.wait_for(|stopping| *stopping).await;
            tokio::time::sleep(grace).await;
        };
        tokio::select! {
            served = server.into_future() => served?,
            () = grace_over => tracing::warn!(
                grace_secs = grace.as_secs(),
                "grace period over: dropping the requests still in flight"
            ),
        }
        // Scrapes are short and idempotent: no need to wait for one in flight.
        if let Some(server) = metrics_server {
            server.abort();
        }
        self.health_checks.abort();
        // Bounded: after the grace period, abandoned requests may still hold connections.
        if tokio::time::timeout(Duration::from_secs(5), self.db.close())
            .await
            .is_err()
        {
            tracing::warn!("database pools did not close within 5 s");
        }
        Ok(())
    }
}

/// Retries the migrations with capped exponential backoff until they succeed.
async fn migrate_until_done(db: Database) {
    let mut delay = Duration::from_secs(1);
    loop {
        tokio::time::sleep(delay).await;
        match db.migrate().await {
            Ok(()) => {
                tracing::info!("migrations applied: the primary is back");
                return;
            }
            Err(error) => {
                tracing::warn!(%error, retry_in_secs = delay.as_secs(), "migrations still failing");
                delay = (delay * 2).min(Duration::from_secs(30));
            }
        }
    }
}

async fn bind(addr: SocketAddr) -> Result<TcpListener, StartupError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| StartupError::Bind { addr, source })
}

fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let options = state.leptos_options.clone();
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .leptos_routes_with_context(
            &state,
            routes,
            middleware::set_content_security_policy,
            move || shell(options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(middleware::set_content_security_policy, shell))
        .with_state(state)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();

    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown requested: finishing in-flight requests");
}
