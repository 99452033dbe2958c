//! Builds the HTTP application from its settings: what `main` runs and what the
//! integration tests spawn on a random port against their own database.

use super::{
    config::{ConnectionLimits, Settings},
    db::Database,
    form_posts, health, http_server,
    in_flight::InFlight,
    metrics, middleware, remembered_lists, shutdown,
    state::AppState,
};
use crate::app::{shell, App};
use axum::{routing::get, Router};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use metrics_exporter_prometheus::PrometheusHandle;
use sqlx::migrate::MigrateError;
use std::{future::Future, io, net::SocketAddr, time::Duration};
use tokio::net::TcpListener;

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
    in_flight: InFlight,
    health_checks: tokio::task::JoinHandle<()>,
    shutdown_grace: Duration,
    connections: ConnectionLimits,
}

/// How serving ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Stopped {
    /// Every request was answered and every connection closed within the grace period.
    Drained,
    /// The grace period ran out first. `dropped`: the requests still in flight then
    /// (`METHOD route (age)`), abandoned; connections without a request in flight
    /// (a client still sending its headers) do not count.
    GraceExpired { dropped: Vec<String> },
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
        if !settings.migrations.on_start {
            tracing::info!(
                "migrations are left to `tasks migrate` (MIGRATE_ON_START=false); \
                 not ready until the schema is this build's"
            );
        } else if let Err(error) = db.migrate().await {
            tracing::error!(%error, "could not apply migrations at start-up; retrying in the background");
            tokio::spawn(migrate_until_done(db.clone()));
        }
        let health_checks = tokio::spawn(db.clone().check_health_forever());
        let in_flight = InFlight::new(settings.http.request_timeout);
        let listener = bind(leptos_options.site_addr).await?;
        let metrics = match settings.http.metrics_addr {
            Some(addr) => Some((
                bind(addr).await?,
                metrics_router(metrics::recorder(), db.clone(), in_flight.clone()),
            )),
            None => None,
        };
        let hash_files = leptos_options.hash_files;
        let state = AppState {
            leptos_options,
            db: db.clone(),
            in_flight: in_flight.clone(),
            secure_cookies: settings.http.served_over_https(),
            public_url: settings.http.public_url.clone(),
            list_max_todos: settings.list_max_todos,
            readyz_details: settings.http.readyz_details,
        };
        let router =
            middleware::apply(router(state), &settings.http, hash_files, in_flight.clone());
        Ok(Self {
            listener,
            router,
            metrics,
            db,
            in_flight,
            health_checks,
            shutdown_grace: settings.http.shutdown_grace,
            connections: settings.http.connections,
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

    /// Serves until SIGTERM or Ctrl-C, then as [`Application::run_until`]. The signal
    /// is taken by a watchdog thread that also ends the process if stopping takes
    /// longer than the grace period and its margin (`shutdown`).
    pub async fn run_until_stopped(self) -> io::Result<Stopped> {
        let signalled = shutdown::on_signal(self.shutdown_grace, self.in_flight.clone())?;
        self.run_until(signalled).await
    }

    /// Serves until `stop` completes, then stops accepting, lets requests in flight
    /// finish within the grace period, and closes the pools.
    pub async fn run_until(
        self,
        stop: impl Future<Output = ()> + Send + 'static,
    ) -> io::Result<Stopped> {
        let metrics_server = self.metrics.map(|(listener, router)| {
            tokio::spawn(async move { axum::serve(listener, router).await })
        });
        let (stopping_tx, mut stopping) = tokio::sync::watch::channel(false);
        let server = http_server::serve(self.listener, self.router, self.connections, async move {
            stop.await;
            let _ = stopping_tx.send(true);
        });
        let grace = self.shutdown_grace;
        let grace_over = async move {
            let _ = stopping.wait_for(|stopping| *stopping).await;
            tokio::time::sleep(grace).await;
        };
        let stopped = tokio::select! {
            () = server => Stopped::Drained,
            () = grace_over => {
                let dropped = self.in_flight.describe_all();
                tracing::warn!(
                    grace_secs = grace.as_secs(),
                    ?dropped,
                    "grace period over: dropping the requests still in flight"
                );
                Stopped::GraceExpired { dropped }
            }
        };
        // Scrapes are short and idempotent: no need to wait for one in flight.
        if let Some(server) = metrics_server {
            server.abort();
        }
        self.health_checks.abort();
        // Bounded: after the grace period, abandoned requests may still hold connections.
        // Well within `shutdown::HARD_EXIT_MARGIN`, so the orderly path ends first.
        if tokio::time::timeout(Duration::from_secs(2), self.db.close())
            .await
            .is_err()
        {
            tracing::warn!("database pools did not close within 2 s");
        }
        Ok(stopped)
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

/// Every HTML page: the app's shell, with the page's Content-Security-Policy set first.
/// leptos_axum renders it in the page's root reactive owner, where the nonce and the
/// response options were provided.
fn document(options: LeptosOptions) -> impl IntoView {
    middleware::set_content_security_policy();
    shell(options)
}

/// The metrics listener's routes: `GET /metrics`. Database and in-flight gauges are
/// sampled at scrape time, so they cost nothing between scrapes.
fn metrics_router(handle: PrometheusHandle, db: Database, in_flight: InFlight) -> Router {
    Router::new().route(
        "/metrics",
        get(move || {
            let (handle, db, in_flight) = (handle.clone(), db.clone(), in_flight.clone());
            async move {
                let requests = in_flight.snapshot();
                // The scrape itself is not on the public listener: not counted.
                ::metrics::gauge!(metrics::HTTP_REQUESTS_IN_FLIGHT).set(requests.in_flight as f64);
                ::metrics::gauge!(metrics::HTTP_REQUESTS_STUCK).set(requests.stuck.len() as f64);
                db.record_pool_gauges();
                db.record_replica_gauges();
                handle.run_upkeep();
                handle.render()
            }
        }),
    )
}

/// Lists are reachable only through their link: none belongs in a search index. (A
/// route, not a file of `public/`, so that it is served by every build, tests included;
/// list pages also say `noindex` themselves, see `middleware`.)
async fn robots_txt() -> &'static str {
    "User-agent: *\nDisallow: /lists/\n"
}

async fn bind(addr: SocketAddr) -> Result<TcpListener, StartupError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| StartupError::Bind { addr, source })
}

/// The app's routes. A plain form post that a server function refuses is answered with
/// a list page rendered by a second copy of them (`form_posts`).
fn router(state: AppState) -> Router {
    let pages = routes(state.clone());
    routes(state).layer(axum::middleware::from_fn_with_state(
        pages,
        form_posts::answer_refusals_with_page,
    ))
}

fn routes(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let options = state.leptos_options.clone();
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        // Lists are capability URLs; these two lead to one (and write nothing).
        .route("/", get(remembered_lists::home))
        .route("/lists/new", get(remembered_lists::new_list))
        .route("/robots.txt", get(robots_txt))
        // No per-request context hook: what pages need (the CSP) is set as the document
        // renders, in the page's own owner (`document`).
        .leptos_routes(&state, routes, move || document(options.clone()))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(document))
        .with_state(state)
}
