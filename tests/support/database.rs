//! A database of its own for each test, created on the local primary (and so, by
//! replication, on the replica) and owned by the role the app connects as.
//!
//! Needs the local primary + replica (`scripts/db.sh up`) and the variables it prints;
//! `scripts/test.sh` provides both. Without them the tests fail, they are never skipped.

use reqwest::Url;
use sqlx::{
    postgres::{PgConnectOptions, PgPoolOptions},
    Connection, PgConnection, PgPool,
};

/// The URLs of one test database: the app's (as `DATABASE_URL` and
/// `DATABASE_REPLICA_URL` give them) and the test superuser's, on each server.
pub struct TestDatabase {
    pub app_primary_url: String,
    pub app_replica_url: String,
    pub admin_primary_url: String,
    pub admin_replica_url: String,
}

pub async fn create_test_database() -> TestDatabase {
    let database = format!("test_{}", uuid::Uuid::new_v4().simple());
    let app_url = required_env("DATABASE_URL");
    let admin_url = required_env("TEST_ADMIN_DATABASE_URL");
    let mut admin = PgConnection::connect(&admin_url)
        .await
        .expect("connect to the local primary as the test superuser");
    sqlx::query(&format!(
        "CREATE DATABASE {} OWNER {}",
        quoted(&database),
        quoted(&role_of(&app_url))
    ))
    .execute(&mut admin)
    .await
    .expect("create the test database");
    TestDatabase {
        app_primary_url: with_database(&app_url, &database),
        app_replica_url: with_database(&required_env("DATABASE_REPLICA_URL"), &database),
        admin_primary_url: with_database(&admin_url, &database),
        admin_replica_url: with_database(&required_env("TEST_ADMIN_REPLICA_URL"), &database),
    }
}

impl TestDatabase {
    /// A superuser pool on this database on the primary, for checks the app itself
    /// must not be able to do.
    pub async fn admin_primary(&self) -> PgPool {
        PgPoolOptions::new()
            .max_connections(2)
            .connect(&self.admin_primary_url)
            .await
            .expect("connect as the test superuser")
    }
}

pub fn required_env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set. These tests need the local PostgreSQL primary + replica: \
             run them through scripts/test.sh, or `eval \"$(scripts/db.sh up)\"` first."
        )
    })
}

/// The same postgres URL naming another database; credentials, host and query
/// parameters (`?sslmode=…`) stay as they are.
pub fn with_database(url: &str, database: &str) -> String {
    let mut url = Url::parse(url).unwrap_or_else(|error| panic!("not a URL ({error}): {url}"));
    url.set_path(&format!("/{database}"));
    url.into()
}

/// The role a postgres URL connects as, as sqlx (and so the app) reads it.
fn role_of(url: &str) -> String {
    let options: PgConnectOptions = url
        .parse()
        .unwrap_or_else(|error| panic!("not a postgres URL ({error}): {url}"));
    options.get_username().to_owned()
}

/// An SQL identifier, quoted: `a"b` becomes `"a""b"`.
fn quoted(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn another_database_keeps_credentials_host_and_query() {
        assert_eq!(
            with_database(
                "postgres://tasks:p%40ss@127.0.0.1:55432/tasks?sslmode=disable",
                "test_1"
            ),
            "postgres://tasks:p%40ss@127.0.0.1:55432/test_1?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://db.internal/tasks", "test_1"),
            "postgres://db.internal/test_1"
        );
    }

    #[test]
    fn the_owner_is_the_role_the_url_connects_as() {
        assert_eq!(
            role_of("postgres://app%20user:pw@127.0.0.1:5432/tasks?sslmode=disable"),
            "app user"
        );
        assert_eq!(
            role_of("postgres://127.0.0.1/tasks?user=tasks&sslmode=disable"),
            "tasks"
        );
        assert_eq!(quoted("tasks"), r#""tasks""#);
        assert_eq!(quoted(r#"a"b"#), r#""a""b""#);
    }
}
