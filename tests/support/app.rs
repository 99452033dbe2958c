//! The real application, spawned in the test's process on a random port against a
//! database of its own, and called over HTTP as the hydrated page calls it.
//!
//! How each binary spawns it is its own: plain (`tests/api/helpers.rs`), with its
//! metrics listener kept (`metrics`), or behind fault proxies (`proxy`).

use super::database::TestDatabase;
use leptos::config::LeptosOptions;
use sqlx::{postgres::PgPoolOptions, PgPool};
use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};
use tasks::{
    lists::model::ListId,
    server::{
        config::{LogFormat, Settings},
        startup::Application,
        telemetry,
    },
};

pub struct TestApp {
    pub address: String,
    /// A browser-like client: keeps cookies between requests.
    pub client: reqwest::Client,
    /// Superuser pools on this test's database, one per server, for checks the app
    /// itself must not be able to do.
    pub primary: PgPool,
    pub replica: PgPool,
    /// The list this test works in (a fresh id: no row until the first write).
    pub list: ListId,
}

/// A browser-like client: keeps cookies, does not follow redirects, and says what
/// browsers say of a request made by the app's own page (`Sec-Fetch-Site`), which the
/// app demands of every write (`server::cross_site`).
pub fn browser_client() -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        "sec-fetch-site",
        reqwest::header::HeaderValue::from_static("same-origin"),
    );
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(headers)
        .build()
        .unwrap()
}

impl TestApp {
    /// Starts the app against `db`, reaching each server at `db`'s app URLs, with
    /// `settings` added to (or overriding) the test defaults; returns it once the
    /// replica has replayed what the primary held at start (the database, and its
    /// schema when the app could migrate), together with the address of its metrics
    /// listener.
    pub async fn start(db: &TestDatabase, settings: &[(&str, &str)]) -> (Self, SocketAddr) {
        // The app's logs are noise in passing runs: TEST_LOG=1 shows them.
        if std::env::var_os("TEST_LOG").is_some() {
            telemetry::init(LogFormat::Text);
        }
        let settings = Settings::from_lookup(|name| {
            let given = settings.iter().find(|(key, _)| *key == name);
            match (name, given) {
                (_, Some((_, value))) => Some(value.to_string()),
                ("DATABASE_URL", None) => Some(db.app_primary_url.clone()),
                ("DATABASE_REPLICA_URL", None) => Some(db.app_replica_url.clone()),
                ("METRICS_ADDR", None) => Some("127.0.0.1:0".to_owned()),
                // Tests write fast from one address; the limit has a test of its own.
                ("WRITE_RATE_LIMIT_PER_MINUTE", None) => Some("0".to_owned()),
                // Tests read each database's state from /readyz.
                ("READYZ_DETAILS", None) => Some("true".to_owned()),
                _ => None,
            }
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
        let metrics_address = app.metrics_addr().expect("metrics listener");
        tokio::spawn(app.run_until(std::future::pending()));

        let primary = db.admin_primary().await;
        // Written by now: the database and, if the app reached the primary, its schema.
        let written: String = sqlx::query_scalar("SELECT pg_current_wal_lsn()::text")
            .fetch_one(&primary)
            .await
            .unwrap();
        let replica = wait_until(Duration::from_secs(10), || async {
            let replica = PgPoolOptions::new()
                .max_connections(2)
                .connect(&db.admin_replica_url)
                .await
                .ok()?;
            let replayed: bool =
                sqlx::query_scalar("SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn")
                    .bind(&written)
                    .fetch_one(&replica)
                    .await
                    .ok()?;
            replayed.then_some(replica)
        })
        .await
        .expect("the test database (and its schema) reach the replica");

        let app = Self {
            address,
            client: browser_client(),
            primary,
            replica,
            list: ListId::random().expect("random list id"),
        };
        (app, metrics_address)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// The URL of a page of this test's list: `query` is `""` or `"?filter=active"`…
    pub fn list_url(&self, query: &str) -> String {
        self.url(&format!("{}{query}", self.list.href()))
    }

    /// Calls a server function as the hydrated page does: a form-encoded POST to
    /// `/api/<function>`, answered with JSON. The test's list is added as `list`
    /// unless `args` name one.
    pub async fn call(
        &self,
        client: &reqwest::Client,
        function: &str,
        args: &[(&str, &str)],
    ) -> reqwest::Response {
        let list = self.list.to_string();
        let mut form: Vec<(&str, &str)> = args.to_vec();
        if !args.iter().any(|(name, _)| *name == "list") {
            form.insert(0, ("list", &list));
        }
        client
            .post(self.url(&format!("/api/{function}")))
            .form(&form)
            .send()
            .await
            .unwrap_or_else(|error| panic!("{function} request: {error}"))
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

    /// Calls `list_todos` for the first page of all todos, as the hydrated page does.
    pub async fn list_with(&self, client: &reqwest::Client) -> reqwest::Response {
        self.call(client, "list_todos", &[]).await
    }

    /// How many todos the primary holds.
    pub async fn stored_count(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM todos")
            .fetch_one(&self.primary)
            .await
            .unwrap()
    }

    /// Waits until the replica has replayed the primary up to `expected` todos.
    pub async fn wait_for_replica_todos(&self, expected: i64) {
        let replayed = wait_until(Duration::from_secs(10), || async {
            let count: i64 = sqlx::query_scalar("SELECT count(*) FROM todos")
                .fetch_one(&self.replica)
                .await
                .ok()?;
            (count == expected).then_some(())
        })
        .await;
        if replayed.is_none() {
            panic!(
                "the replica never held {expected} todos (the primary holds {})",
                self.stored_count().await
            );
        }
    }
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
