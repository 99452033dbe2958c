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

    // Ready once the first health check has run (at start, within milliseconds).
    let body: Value = support::app::wait_until(std::time::Duration::from_secs(5), || async {
        let ready = app.client.get(app.url("/readyz")).send().await.ok()?;
        (ready.status() == 200).then_some(())?;
        ready.json().await.ok()
    })
    .await
    .expect("the app never became ready");
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

    // A migration this build knows but the database lacks makes the app unready, from
    // the next health check on (readiness answers from the checks' verdict).
    sqlx::query("DELETE FROM _sqlx_migrations")
        .execute(&app.primary)
        .await
        .unwrap();
    let body: Value = support::app::wait_until(std::time::Duration::from_secs(5), || async {
        let unready = app.client.get(app.url("/readyz")).send().await.ok()?;
        (unready.status() == 503).then_some(())?;
        unready.json().await.ok()
    })
    .await
    .expect("the app stayed ready without its migrations");
    assert_eq!(body["status"], "not_ready");
    assert_eq!(body["reason"], "migrations_pending");
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
    let page = app.client.get(app.list_url("")).send().await.unwrap();
    let headers = page.headers().clone();
    let html = page.text().await.unwrap();

    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["x-frame-options"], "DENY");
    // The list's URL is its capability: it never leaves in a Referer.
    assert_eq!(headers["referrer-policy"], "same-origin");
    assert_eq!(headers["x-robots-tag"], "noindex, nofollow");
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
    let again = app.client.get(app.list_url("")).send().await.unwrap();
    assert!(!again.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains(nonce));

    let behind_tls = spawn_app_with(&[("HSTS", "true")]).await;
    let page = behind_tls
        .client
        .get(behind_tls.list_url(""))
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
            let mut request = app.client.get(app.list_url(""));
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
        "POST /api/create_todo HTTP/1.1\r\nHost: {addr}\r\nSec-Fetch-Site: same-origin\r\n\
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

/// Sends `request` (raw bytes) on a new connection and returns the status of the
/// answer, or `None` when the connection closed without one.
async fn raw_status(address: &str, request: &[u8]) -> Option<u16> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream.write_all(request).await.ok()?;
    let mut head = [0u8; 12];
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        stream.read_exact(&mut head),
    )
    .await
    .expect("an answer within 10 s");
    read.ok()?;
    std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
}

/// Issue 15's corpus of hostile input: every endpoint, every method, bodies that are
/// missing, empty, truncated, aborted, not UTF-8, overlong UTF-8, NUL, of every
/// content type, with duplicated, unknown, huge and negative fields, 64 KiB + 1 bytes
/// long, with very long header values, malformed `__err`/`__path` and odd `Referer`s.
/// No answer may be a 5xx (abandoned requests are checked in the server's own counts),
/// and nothing may be stored.
#[tokio::test]
async fn no_client_input_gets_a_server_error_or_stores_anything() {
    use std::collections::BTreeMap;
    use tokio::io::AsyncWriteExt;
    let app = spawn_app().await;
    let address = app.address.trim_start_matches("http://").to_owned();
    let functions = [
        "create_todo",
        "list_todos",
        "set_todo_completed",
        "update_todo",
        "delete_todo",
        "set_all_completed",
        "clear_completed",
        "open_list",
        "rename_list",
    ];
    let list = app.list.href();
    let mut paths: Vec<String> = vec![
        "/".into(),
        "/lists/new".into(),
        "/lists/not-a-list".into(),
        "/lists/8zzzzzzzzzzzzzzzzzzzzzzzzz".into(),
        format!("{list}/more"),
        format!("{list}?filter=nonsense"),
        format!("{list}?__path=/api/create_todo&__err=%21"),
        format!("{list}?__path=/api/rename_list&__err=eyJJbnZhbGlkIjp7fX0"),
        "/robots.txt".into(),
        "/healthz".into(),
        "/readyz".into(),
        "/pkg/nothing.js".into(),
        "/no/such/page".into(),
        "/?filter=nonsense".into(),
        format!("/?filter={}", "x".repeat(60_000)),
        "/?after=-1&before=99999999999999999999999".into(),
        "/?__path=/api/create_todo&__err=%21".into(),
        "/?__path=/api/create_todo&__err=eyJJbnZhbGlkIjp7fX0".into(),
        "/?__path=%FF&__err=%C0%AF".into(),
        "/?edit=%00".into(),
    ];
    paths.extend(functions.iter().map(|function| format!("/api/{function}")));
    // Bodies none of which is a valid create: each breaks a rule or the encoding.
    let bodies: Vec<Vec<u8>> = vec![
        Vec::new(),
        b"title=\xff&text=".to_vec(),
        b"title=\xc0\xaf&text=".to_vec(),
        b"title=%C0%AF&text=".to_vec(),
        b"title=a%00b&text=".to_vec(),
        b"title=&text=&unknown=1".to_vec(),
        b"title=a&title=b&text=".to_vec(),
        b"id=99999999999999999999&version=-5&completed=maybe".to_vec(),
        b"id=-1&version=1&title=%E2%80%8B&text=".to_vec(),
        b"filter=nonsense&after=abc".to_vec(),
        b"{\"title\":\"json\"}".to_vec(),
        b"list=0000000000000000000000000l&title=t&text=".to_vec(),
        format!("list={}&title=%E2%80%AE&text=&name=%00", app.list).into_bytes(),
        format!("list={}&id=abc&version=1&completed=1&name=", app.list).into_bytes(),
        format!("title=&text={}", "x".repeat(64 * 1024 + 1)).into_bytes(),
    ];
    let content_types = [
        Some("application/x-www-form-urlencoded"),
        Some("application/json"),
        Some("multipart/form-data; boundary=x"),
        Some("text/plain"),
        None,
    ];
    let odd_headers = [
        "",
        "Referer: https://evil.example/?a=1\r\n",
        "Referer: not a url\r\n",
        "Accept: text/html\r\nReferer: javascript:alert(1)\r\n",
    ];
    let long_header = format!("X-Long: {}\r\n", "y".repeat(8 * 1024));
    let mut statuses = BTreeMap::<u16, u64>::new();
    let mut tried = 0u64;
    let mut record = |status: Option<u16>, what: &str| {
        tried += 1;
        if let Some(status) = status {
            assert!(status < 500, "{what} got {status}");
            *statuses.entry(status).or_default() += 1;
        }
    };
    for path in &paths {
        for method in ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"] {
            let request = format!(
                "{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n{long_header}\r\n"
            );
            record(
                raw_status(&address, request.as_bytes()).await,
                &format!("{method} {path}"),
            );
        }
    }
    for function in functions {
        for body in &bodies {
            for content_type in content_types {
                for extra in odd_headers {
                    let kind = content_type
                        .map_or(String::new(), |kind| format!("Content-Type: {kind}\r\n"));
                    // As from the app's own page: past the cross-site check, to the
                    // body's decoding.
                    let mut request = format!(
                        "POST /api/{function} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\
                         Sec-Fetch-Site: same-origin\r\n{kind}{extra}Content-Length: {}\r\n\r\n",
                        body.len()
                    )
                    .into_bytes();
                    request.extend_from_slice(body);
                    let what = format!(
                        "POST /api/{function} {kind:?} {extra:?} {:?}",
                        String::from_utf8_lossy(&body[..body.len().min(40)])
                    );
                    record(raw_status(&address, &request).await, &what);
                }
            }
            // Truncated, then abandoned: the length announces more than is sent.
            let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
            let head = format!(
                "POST /api/{function} HTTP/1.1\r\nHost: {address}\r\nSec-Fetch-Site: same-origin\r\n\
                 Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
                body.len() + 100
            );
            stream.write_all(head.as_bytes()).await.unwrap();
            stream.write_all(body).await.unwrap();
            drop(stream);
            record(None, "aborted");
        }
    }
    // The abandoned requests, as the server counted them: none ended in a 5xx.
    let metrics = support::app::wait_until(std::time::Duration::from_secs(5), || async {
        let metrics = app.scrape().await;
        Some(metrics)
    })
    .await
    .unwrap();
    // Server functions only: the metrics are process-wide, and another test of this
    // binary makes /readyz answer 503 on purpose (migrations pending).
    let server_errors: Vec<&str> = metrics
        .lines()
        .filter(|line| {
            line.starts_with("tasks_http_requests_total")
                && line.contains("route=\"/api/")
                && line.contains("status=\"5")
        })
        .collect();
    assert!(server_errors.is_empty(), "{server_errors:?}");
    let stored: Vec<String> = sqlx::query_scalar("SELECT title FROM todos")
        .fetch_all(&app.primary)
        .await
        .unwrap();
    assert!(stored.is_empty(), "stored: {stored:?}");
    println!(
        "[hostile input] {tried} requests tried; answers by status: {statuses:?}; no 5xx \
         (answered or abandoned); nothing stored"
    );
}

/// Slowloris: hundreds of connections each sending its headers a byte at a time. A
/// normal client keeps getting pages within a second, and the slow connections are
/// closed once the header-read timeout has passed.
#[tokio::test]
async fn slow_clients_cannot_hold_the_server() {
    use std::time::{Duration, Instant};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    const SLOW: usize = 300;
    const TIMEOUT: Duration = Duration::from_secs(2);
    let app = spawn_app_with(&[("HTTP_HEADER_READ_TIMEOUT_MS", "2000")]).await;
    let address = app.address.trim_start_matches("http://").to_owned();
    let started = Instant::now();
    let mut slow = Vec::new();
    for n in 0..SLOW {
        let address = address.clone();
        slow.push(tokio::spawn(async move {
            let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
            let head = format!("GET / HTTP/1.1\r\nHost: {address}\r\nX-Slow-{n}: ");
            stream.write_all(head.as_bytes()).await.unwrap();
            // One byte every 250 ms for at most 10 s: closed by the server long before.
            for _ in 0..40 {
                tokio::time::sleep(Duration::from_millis(250)).await;
                if stream.write_all(b"z").await.is_err() {
                    break;
                }
                let mut buffer = [0u8; 256];
                match tokio::time::timeout(Duration::from_millis(1), stream.read(&mut buffer)).await
                {
                    Ok(Ok(0) | Err(_)) => break, // closed
                    Ok(Ok(_)) => break,          // answered (408) and closing
                    Err(_) => {}                 // still open
                }
            }
            Instant::now()
        }));
    }
    // Meanwhile a normal client.
    let mut slowest = Duration::ZERO;
    let client = support::app::browser_client();
    for _ in 0..10 {
        let asked = Instant::now();
        let page = client.get(app.list_url("")).send().await.unwrap();
        assert_eq!(page.status(), 200);
        page.text().await.unwrap();
        slowest = slowest.max(asked.elapsed());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        slowest < Duration::from_secs(1),
        "a normal page took {slowest:?}"
    );
    let mut latest_close = Duration::ZERO;
    for connection in slow {
        latest_close = latest_close.max(connection.await.unwrap() - started);
    }
    assert!(
        latest_close < TIMEOUT + Duration::from_secs(3),
        "a slow connection stayed open {latest_close:?}"
    );
    println!(
        "[slow clients] {SLOW} connections sending a header byte every 250 ms: all closed \
         within {} ms (header timeout {} ms); the slowest normal page took {} ms",
        latest_close.as_millis(),
        TIMEOUT.as_millis(),
        slowest.as_millis()
    );
}
