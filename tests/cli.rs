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

#[test]
fn logs_are_json_lines_with_request_ids_never_the_password_and_sigterm_exits_0() {
    use std::io::{BufRead, BufReader};

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let admin_url = std::env::var("TEST_ADMIN_DATABASE_URL")
        .expect("TEST_ADMIN_DATABASE_URL is not set: run through scripts/test.sh");
    let app_url = std::env::var("DATABASE_URL").expect("DATABASE_URL is not set");
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let (user, password, database) = (
        format!("test_logger_{suffix}"),
        format!("Pw-{suffix}"),
        format!("test_{suffix}"),
    );
    runtime.block_on(async {
        use sqlx::{Connection, Executor};
        let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
        admin
            .execute(format!(r#"CREATE ROLE "{user}" LOGIN PASSWORD '{password}'"#).as_str())
            .await
            .unwrap();
        admin
            .execute(format!(r#"CREATE DATABASE "{database}" OWNER "{user}""#).as_str())
            .await
            .unwrap();
    });
    let server = app_url
        .split('@')
        .nth(1)
        .unwrap()
        .rsplit_once('/')
        .unwrap()
        .0;
    let url = format!("postgres://{user}:{password}@{server}/{database}");

    let mut child = tasks()
        .env("DATABASE_URL", &url)
        .env("LEPTOS_OUTPUT_NAME", "tasks")
        .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
        .env("METRICS_ADDR", "127.0.0.1:0")
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "debug")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut lines = Vec::new();
    let address = loop {
        let mut line = String::new();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "server exited: {lines:?}"
        );
        let found = line
            .split("listening on ")
            .nth(1)
            .map(|rest| rest.split('"').next().unwrap().to_owned());
        lines.push(line);
        if let Some(address) = found {
            break address;
        }
    };
    let reader =
        std::thread::spawn(move || stderr.lines().map(Result::unwrap).collect::<Vec<String>>());

    runtime.block_on(async {
        let client = reqwest::Client::new();
        let created = client
            .post(format!("{address}/api/create_todo"))
            .header("x-request-id", "log-test-request")
            .form(&[("title", "logged"), ("text", "")])
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 200);
        client.get(format!("{address}/")).send().await.unwrap();
    });

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "graceful shutdown must exit 0");
    lines.extend(reader.join().unwrap());

    let all = lines.join("");
    assert!(!all.contains(&password), "the password was logged");
    assert!(!all.contains("postgres://"), "a connection URL was logged");
    for line in lines.iter().filter(|line| !line.trim().is_empty()) {
        serde_json::from_str::<serde_json::Value>(line)
            .unwrap_or_else(|error| panic!("not a JSON line ({error}): {line}"));
    }
    let request_line = lines
        .iter()
        .find(|line| line.contains("request served") && line.contains("log-test-request"))
        .unwrap_or_else(|| panic!("no request log line with the request id: {all}"));
    let request: serde_json::Value = serde_json::from_str(request_line).unwrap();
    assert_eq!(request["span"]["route"], "/api/create_todo", "{request}");
    assert_eq!(request["span"]["status"], 200, "{request}");
}
