//! What operators and Kubernetes rely on: probes, metrics, request ids, security and
//! caching headers, limits, compression and logs.
//!
//! A binary of its own: metrics are process-wide, so exact counts need no other tests
//! creating todos alongside.

mod support {
    pub mod app;
    pub mod database;
    pub mod metrics;
}

use serde_json::Value;
use support::{
    app::browser_client,
    metrics::{spawn_app, spawn_app_with},
};

/// The value of the sample `name{labels}` in Prometheus text, 0 when absent.
fn sample(metrics: &str, name_and_labels: &str) -> f64 {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(name_and_labels)?.strip_prefix(' '))
        .map_or(0.0, |value| value.trim().parse().unwrap())
}

#[tokio::test]
async fn liveness_and_readiness_probes() {
    let app = spawn_app().await;

    let live = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(live.status(), 200);
    assert_eq!(live.headers()["cache-control"], "no-store");

    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    assert_eq!(body["primary"], "ok");
    let replica = &body["replicas"][0];
    assert_eq!(replica["status"], "ok", "{body}");
    assert!(
        replica.get("target").is_none(),
        "host names are not public: {body}"
    );
    assert_eq!(replica["serving_reads"], true, "{body}");
    assert!(replica["replay_lag_bytes"].is_u64(), "{body}");
    assert!(replica["replay_lag_seconds"].is_f64(), "{body}");

    // A migration this build knows but the database lacks makes the app unready.
    sqlx::query("DELETE FROM _sqlx_migrations")
        .execute(&app.primary)
        .await
        .unwrap();
    let unready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(unready.status(), 503);
    let body: Value = unready.json().await.unwrap();
    assert_eq!(body["status"], "not_ready");
    assert_eq!(body["primary"], "migrations_pending");
    // Liveness does not depend on the database.
    let live = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(live.status(), 200);
}

#[tokio::test]
async fn metrics_move_with_traffic() {
    let app = spawn_app().await;
    let created = r#"tasks_todos_created_total"#;
    let create_calls = r#"tasks_server_function_calls_total{function="create_todo"}"#;
    let invalid = r#"tasks_server_function_errors_total{function="create_todo",error="invalid"}"#;
    let requests_ok =
        r#"tasks_http_requests_total{method="POST",route="/api/create_todo",status="200"}"#;
    let replica_reads = r#"tasks_db_reads_total{server="replica",reason="no_recent_write"}"#;
    let before = app.scrape().await;

    // Their answers are counted below (`requests_ok`).
    app.create(&app.client, "counted", "").await;
    app.create(&app.client, "counted too", "").await;
    assert_eq!(app.create(&app.client, " ", "").await.status(), 422);
    app.wait_for_replica_todos(2).await;
    app.list_with(&browser_client()).await;

    let after = app.scrape().await;
    assert_eq!(sample(&after, created) - sample(&before, created), 2.0);
    assert_eq!(
        sample(&after, create_calls) - sample(&before, create_calls),
        3.0
    );
    assert_eq!(sample(&after, invalid) - sample(&before, invalid), 1.0);
    assert_eq!(
        sample(&after, requests_ok) - sample(&before, requests_ok),
        2.0
    );
    assert!(sample(&after, replica_reads) - sample(&before, replica_reads) >= 1.0);
    for present in [
        "# TYPE tasks_http_request_duration_seconds histogram",
        r#"tasks_http_request_duration_seconds_bucket{method="POST",route="/api/create_todo",le="0.005"}"#,
        r#"tasks_db_pool_connections{pool="primary",state="idle"}"#,
        r#"tasks_db_pool_max_connections{pool="replica"} 10"#,
        r#"tasks_db_replica_up{replica="#,
        "tasks_db_replica_replay_lag_bytes{",
        r#"tasks_build_info{version=""#,
    ] {
        assert!(after.contains(present), "missing {present:?} in:\n{after}");
    }
    assert!(
        !after.contains(r#"git_sha="unknown""#),
        "build.rs found no commit"
    );
    // Metrics are not served on the public port.
    let public = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(public.status(), 404);
}

#[tokio::test]
async fn request_ids_are_echoed_or_made() {
    let app = spawn_app().await;
    let echoed = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "trace-me-42")
        .send()
        .await
        .unwrap();
    assert_eq!(echoed.headers()["x-request-id"], "trace-me-42");

    let made = app.client.get(app.url("/healthz")).send().await.unwrap();
    let id = made.headers()["x-request-id"].to_str().unwrap();
    assert_eq!(id.len(), 36, "{id}");
}

#[tokio::test]
async fn pages_carry_security_headers_and_a_nonce_policy() {
    let app = spawn_app().await;
    let page = app.client.get(app.url("/")).send().await.unwrap();
    let headers = page.headers().clone();
    let html = page.text().await.unwrap();

    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(
        headers["referrer-policy"],
        "strict-origin-when-cross-origin"
    );
    assert!(headers["permissions-policy"]
        .to_str()
        .unwrap()
        .contains("camera=()"));
    assert_eq!(headers["cache-control"], "no-cache");
    assert!(headers.get("strict-transport-security").is_none());

    let policy = headers["content-security-policy"].to_str().unwrap();
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    assert!(!policy.contains("unsafe-inline"), "{policy}");
    let nonce = policy
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("a nonce in the policy");
    assert!(nonce.len() >= 16, "{nonce}");
    assert!(
        html.contains(&format!(r#"nonce="{nonce}""#)),
        "the page's script lacks the policy's nonce"
    );

    // Every page gets a new nonce.
    let again = app.client.get(app.url("/")).send().await.unwrap();
    assert!(!again.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains(nonce));

    let behind_tls = spawn_app_with(&[("HSTS", "true")]).await;
    let page = behind_tls
        .client
        .get(behind_tls.url("/"))
        .send()
        .await
        .unwrap();
    assert!(page.headers()["strict-transport-security"]
        .to_str()
        .unwrap()
        .starts_with("max-age="));
}

#[tokio::test]
async fn a_one_mebibyte_body_gets_413_and_the_app_stays_healthy() {
    let app = spawn_app().await;
    let huge = "x".repeat(1024 * 1024);

    let response = app.create(&app.client, "big", &huge).await;
    assert_eq!(response.status(), 413);
    assert_eq!(
        response.text().await.unwrap(),
        "Request body too large: the limit is 64 KiB."
    );
    assert_eq!(app.stored_count().await, 0);

    assert_eq!(
        app.client
            .get(app.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    // Still serving. (No create here: metrics_move_with_traffic counts creates exactly.)
    assert_eq!(app.list_with(&app.client).await.status(), 200);
}

#[tokio::test]
async fn pages_are_gzip_compressed_when_the_client_accepts_it() {
    let app = spawn_app().await;
    let page_encoding = |accept: Option<&'static str>| {
        let app = &app;
        async move {
            let mut request = app.client.get(app.url("/"));
            if let Some(accept) = accept {
                request = request.header("accept-encoding", accept);
            }
            let page = request.send().await.unwrap();
            assert_eq!(page.status(), 200);
            page.headers()
                .get("content-encoding")
                .map(|encoding| encoding.to_str().unwrap().to_owned())
        }
    };
    // What browsers send: gzip, chosen over brotli for pages (docs/performance.md).
    assert_eq!(
        page_encoding(Some("gzip, deflate, br, zstd"))
            .await
            .as_deref(),
        Some("gzip")
    );
    assert_eq!(page_encoding(Some("gzip")).await.as_deref(), Some("gzip"));
    assert_eq!(page_encoding(Some("br")).await, None);
    assert_eq!(page_encoding(None).await, None);
}

#[tokio::test]
async fn an_oversized_body_without_a_length_gets_413_too() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_app().await;
    let addr = app.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /api/create_todo HTTP/1.1\r\nHost: {addr}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let chunk = format!("4000\r\n{}\r\n", "x".repeat(0x4000));
    // 6 × 16 KiB: past the limit. The server may answer before all of it is sent.
    for _ in 0..6 {
        if stream.write_all(chunk.as_bytes()).await.is_err() {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response).await;
    assert!(response.starts_with("HTTP/1.1 413"), "{response}");
    assert!(response.contains("the limit is 64 KiB"), "{response}");
    assert_eq!(app.stored_count().await, 0);
}

#[tokio::test]
async fn the_healthcheck_command_asks_healthz() {
    let app = spawn_app().await;
    let healthcheck = |addr: String| {
        std::process::Command::new(env!("CARGO_BIN_EXE_tasks"))
            .arg("healthcheck")
            .env_clear()
            .env("LEPTOS_SITE_ADDR", addr)
            .output()
            .unwrap()
    };
    let served = app.address.trim_start_matches("http://").to_owned();
    let up = tokio::task::spawn_blocking(move || healthcheck(served))
        .await
        .unwrap();
    assert!(
        up.status.success(),
        "{}",
        String::from_utf8_lossy(&up.stderr)
    );

    // Nothing listens on the port of a listener just closed.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let down = tokio::task::spawn_blocking(move || healthcheck(closed.to_string()))
        .await
        .unwrap();
    assert_eq!(down.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&down.stderr).contains("did not answer"));
}
