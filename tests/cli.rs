//! The server binary's start-up: configuration errors and the migrate-only command.

use std::process::Command;

fn tasks() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tasks"));
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default());
    command
}

#[test]
fn a_missing_database_url_stops_the_server_with_one_clear_line() {
    let output = tasks().output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("tasks: DATABASE_URL is not set"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_malformed_url_is_named_and_its_password_is_not_printed() {
    let output = tasks()
        .env(
            "DATABASE_URL",
            "postgres://app:hunter2@db.example:not-a-port/tasks",
        )
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.starts_with("tasks: DATABASE_URL is not a valid PostgreSQL URL"),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter2"), "{stderr}");
}

#[test]
fn unknown_arguments_are_a_usage_error() {
    let output = tasks().arg("--frobnicate").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8(output.stderr)
        .unwrap()
        .contains("usage: tasks"));
}

#[test]
fn migrate_applies_the_schema_and_exits() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let admin_url = std::env::var("TEST_ADMIN_DATABASE_URL")
        .expect("TEST_ADMIN_DATABASE_URL is not set: run through scripts/test.sh");
    let app_url = std::env::var("DATABASE_URL").expect("DATABASE_URL is not set");
    let database = format!("test_{}", uuid::Uuid::new_v4().simple());
    runtime.block_on(async {
        use sqlx::{Connection, Executor};
        let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
        admin
            .execute(format!(r#"CREATE DATABASE "{database}" OWNER tasks"#).as_str())
            .await
            .unwrap();
    });
    let url = format!("{}/{database}", app_url.rsplit_once('/').unwrap().0);

    let output = tasks()
        .env("DATABASE_URL", &url)
        .env("RUST_LOG", "info")
        .arg("migrate")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        !stderr.contains(":tasks@"),
        "the connection string was logged: {stderr}"
    );

    let has_table = runtime.block_on(async {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
        sqlx::query_scalar::<_, bool>("SELECT to_regclass('todos') IS NOT NULL")
            .fetch_one(&mut conn)
            .await
            .unwrap()
    });
    assert!(has_table);
}
