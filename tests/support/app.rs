//! Spawns the real application on a random port against its own database, created for
//! the test on the local primary (and so, by replication, on the replica).
//!
//! Needs the local primary + replica (`scripts/db.sh up`) and the variables it prints;
//! `scripts/test.sh` provides both. Without them the tests fail, they are never skipped.
#![allow(dead_code)] // each test binary uses its own part of this module

pub mod proxy;

use leptos::config::LeptosOptions;
use proxy::FaultProxy;
use sqlx::{postgres::PgPoolOptions, Connection, PgConnection, PgPool};
use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};
use tasks::{
    server::{config::Settings, startup::Application},
    todos::{listing::TodoPage, model::Todo},
};

pub struct TestApp {
    pub address: String,
    /// Base URL of the separate metrics listener.
    pub metrics_address: String,
    /// A browser-like client: keeps cookies between requests.
    pub client: reqwest::Client,
    /// Superuser pools on this test's database, one per server, for checks the app
    /// itself must not be able to do.
    pub primary: PgPool,
    pub replica: PgPool,
    /// Superuser URL of this test's database on the replica.
    pub replica_admin_url: String,
    /// With [`spawn_app_behind_proxies`]: what the app reaches each server through.
    pub primary_proxy: Option<FaultProxy>,
    pub replica_proxy: Option<FaultProxy>,
}

fn required_env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set. These tests need the local PostgreSQL primary + replica: \
             run them through scripts/test.sh, or `eval \"$(scripts/db.sh up)\"` first."
        )
    })
}

/// Replaces the database name at the end of a postgres URL.
fn with_database(url: &str, database: &str) -> String {
    let (server, _) = url
        .rsplit_once('/')
        .expect("a postgres URL ends in /database");
    format!("{server}/{database}")
}

pub fn browser_client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// Like [`spawn_app`], with extra environment settings (e.g. `("HSTS", "true")`).
pub async fn spawn_app_with(extra_settings: &[(&str, &str)]) -> TestApp {
    spawn(extra_settings, None).await
}

/// Like [`spawn_app`], but the app reaches each database server through a
/// [`FaultProxy`], up or down from the start as given. With the primary down, the app
/// starts without its schema, and this returns without waiting for it.
pub async fn spawn_app_behind_proxies(
    primary_up: bool,
    replica_up: bool,
    extra_settings: &[(&str, &str)],
) -> TestApp {
    spawn(extra_settings, Some((primary_up, replica_up))).await
}

/// `host:port` of a postgres URL.
fn server_of(url: &str) -> SocketAddr {
    let after_at = url.rsplit_once('@').expect("URL with user@host").1;
    let server = after_at.split('/').next().unwrap();
    server
        .parse()
        .expect("the local servers are on 127.0.0.1:port")
}

/// The same URL, pointing at another `host:port`.
fn with_server(url: &str, addr: SocketAddr) -> String {
    let (credentials, after_at) = url.rsplit_once('@').unwrap();
    let (_, path) = after_at.split_once('/').unwrap();
    format!("{credentials}@{addr}/{path}")
}

/// A database of its own on the local primary (reaching the replica by replication),
/// owned by the app's role.
pub struct TestDatabase {
    pub app_primary_url: String,
    pub app_replica_url: String,
    pub admin_primary_url: String,
    pub admin_replica_url: String,
}

pub async fn create_test_database() -> TestDatabase {
    let database = format!("test_{}", uuid::Uuid::new_v4().simple());
    let app_primary_url = with_database(&required_env("DATABASE_URL"), &database);
    let app_user = app_primary_url
        .split("://")
        .nth(1)
        .and_then(|rest| rest.split([':', '@']).next())
        .expect("DATABASE_URL names a user")
        .to_owned();
    let mut admin = PgConnection::connect(&required_env("TEST_ADMIN_DATABASE_URL"))
        .await
        .expect("connect to the local primary as the test superuser");
    sqlx::query(&format!(
        r#"CREATE DATABASE "{database}" OWNER "{app_user}""#
    ))
    .execute(&mut admin)
    .await
    .expect("create the test database");
    TestDatabase {
        app_primary_url,
        app_replica_url: with_database(&required_env("DATABASE_REPLICA_URL"), &database),
        admin_primary_url: with_database(&required_env("TEST_ADMIN_DATABASE_URL"), &database),
        admin_replica_url: with_database(&required_env("TEST_ADMIN_REPLICA_URL"), &database),
    }
}

impl TestDatabase {
    pub async fn admin_primary(&self) -> PgPool {
        admin_pool(&self.admin_primary_url).await
    }
}

async fn spawn(extra_settings: &[(&str, &str)], proxies: Option<(bool, bool)>) -> TestApp {
    // The app's logs are noise in passing runs: TEST_LOG=1 shows them.
    if std::env::var_os("TEST_LOG").is_some() {
        tasks::server::telemetry::init(tasks::server::config::LogFormat::Text);
    }
    let TestDatabase {
        app_primary_url,
        app_replica_url,
        admin_primary_url,
        admin_replica_url,
    } = create_test_database().await;

    let (primary_proxy, replica_proxy, app_primary_url, app_replica_url) = match proxies {
        None => (None, None, app_primary_url, app_replica_url),
        Some((primary_up, replica_up)) => {
            let primary = FaultProxy::start(server_of(&app_primary_url), primary_up).await;
            let replica = FaultProxy::start(server_of(&app_replica_url), replica_up).await;
            let primary_url = with_server(&app_primary_url, primary.addr);
            let replica_url = with_server(&app_replica_url, replica.addr);
            (Some(primary), Some(replica), primary_url, replica_url)
        }
    };
    let settings = Settings::from_lookup(|name| match name {
        "DATABASE_URL" => Some(app_primary_url.clone()),
        "DATABASE_REPLICA_URL" => Some(app_replica_url.clone()),
        "METRICS_ADDR" => Some("127.0.0.1:0".to_owned()),
        _ => extra_settings
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.to_string()),
    })
    .expect("valid test settings");
    let leptos_options = LeptosOptions::builder()
        .output_name("tasks")
        .site_addr(([127, 0, 0, 1], 0))
        .build();
    let app = Application::build(&settings, leptos_options)
        .await
        .expect("build the application");
    let address = format!("http://{}", app.local_addr().unwrap());
    let metrics_address = format!("http://{}", app.metrics_addr().expect("metrics listener"));
    tokio::spawn(app.run_until(std::future::pending()));

    let primary = admin_pool(&admin_primary_url).await;
    // The new database, and its schema once the app reached the primary, reach the
    // replica by replication. With the primary down there is no schema to wait for.
    let primary_up = proxies.is_none_or(|(up, _)| up);
    let replica = wait_until(Duration::from_secs(10), || async {
        let replica = PgPoolOptions::new()
            .max_connections(2)
            .connect(&admin_replica_url)
            .await
            .ok()?;
        if primary_up {
            let migrated: bool = sqlx::query_scalar("SELECT to_regclass('todos') IS NOT NULL")
                .fetch_one(&replica)
                .await
                .ok()?;
            migrated.then_some(())?;
        }
        Some(replica)
    })
    .await
    .expect("the test database (and its schema) reach the replica");

    TestApp {
        address,
        metrics_address,
        client: browser_client(),
        primary,
        replica,
        replica_admin_url: admin_replica_url,
        primary_proxy,
        replica_proxy,
    }
}

async fn admin_pool(url: &str) -> PgPool {
    PgPoolOptions::new()
        .max_connections(2)
        .connect(url)
        .await
        .expect("connect as the test superuser")
}

/// Polls `check` until it yields a value or `timeout` passes.
pub async fn wait_until<T, F, Fut>(timeout: Duration, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return Some(value);
        }
        if Instant::now() > deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// Calls `create_todo` as the hydrated page does.
    pub async fn create(
        &self,
        client: &reqwest::Client,
        title: &str,
        text: &str,
    ) -> reqwest::Response {
        self.call(client, "create_todo", &[("title", title), ("text", text)])
            .await
    }

    pub async fn create_ok(&self, title: &str, text: &str) -> Todo {
        let response = self.create(&self.client, title, text).await;
        assert_eq!(
            response.status(),
            200,
            "create failed: {:?}",
            response.text().await
        );
        response.json().await.unwrap()
    }

    /// Calls `list_todos` for the first page of all todos, as the hydrated page does.
    pub async fn list_with(&self, client: &reqwest::Client) -> reqwest::Response {
        self.call(client, "list_todos", &[]).await
    }

    /// The todos of the first page of all todos.
    pub async fn list(&self) -> Vec<Todo> {
        self.list_page(&[]).await.todos
    }

    /// A page of the list: `query` holds `filter`, `after` or `before`.
    pub async fn list_page(&self, query: &[(&str, &str)]) -> TodoPage {
        let response = self.call(&self.client, "list_todos", query).await;
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    /// Calls a server function as the hydrated page does: a form-encoded POST to
    /// `/api/<function>`, answered with JSON.
    pub async fn call(
        &self,
        client: &reqwest::Client,
        function: &str,
        args: &[(&str, &str)],
    ) -> reqwest::Response {
        client
            .post(self.url(&format!("/api/{function}")))
            .form(args)
            .send()
            .await
            .unwrap_or_else(|error| panic!("{function} request: {error}"))
    }

    /// The Prometheus text the metrics listener serves.
    pub async fn scrape(&self) -> String {
        let response = reqwest::get(format!("{}/metrics", self.metrics_address))
            .await
            .expect("metrics request");
        assert_eq!(response.status(), 200);
        response.text().await.unwrap()
    }

    /// The HTML of a page, as `client` gets it.
    pub async fn page(&self, client: &reqwest::Client, url: &str) -> String {
        let response = client.get(url).send().await.expect("page request");
        response.text().await.expect("page body")
    }

    /// Waits until the replica has replayed the primary up to `expected` todos.
    pub async fn wait_for_replica_todos(&self, expected: i64) {
        wait_until(Duration::from_secs(10), || async {
            let count: i64 = sqlx::query_scalar("SELECT count(*) FROM todos")
                .fetch_one(&self.replica)
                .await
                .ok()?;
            (count == expected).then_some(())
        })
        .await
        .unwrap_or_else(|| panic!("the replica never held {expected} todos"));
    }

    /// Pauses or resumes WAL replay on the (shared, local) replica: while paused it
    /// falls behind the primary with every write.
    pub async fn set_replica_replay(&self, replaying: bool) {
        let action = if replaying { "resume" } else { "pause" };
        sqlx::query(&format!("SELECT pg_wal_replay_{action}()"))
            .execute(&self.replica)
            .await
            .unwrap();
    }

    /// How often `server` has scanned this test's todos table (sequential plus index
    /// scans), as its statistics say. Statistics are published shortly after each
    /// transaction, so callers poll.
    pub async fn todo_scans(&self, server: &PgPool) -> i64 {
        sqlx::query("SELECT pg_stat_clear_snapshot()")
            .execute(server)
            .await
            .unwrap();
        sqlx::query_scalar(
            "SELECT coalesce(seq_scan, 0) + coalesce(idx_scan, 0) FROM pg_stat_user_tables \
             WHERE relname = 'todos'",
        )
        .fetch_one(server)
        .await
        .unwrap()
    }

    pub async fn stored_count(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM todos")
            .fetch_one(&self.primary)
            .await
            .unwrap()
    }
}
