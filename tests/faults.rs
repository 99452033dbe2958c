//! Fault tests: steady traffic from several clients while a database vanishes, lags or
//! comes back, or while the server is told to stop. Each prints what users saw so the
//! numbers can be quoted (run with `-- --nocapture`).
//!
//! Database faults are injected with a proxy between the app and each real server
//! (`support::proxy`), and replay is paused on the real replica; tests here run one at
//! a time (`SERIAL`), since a paused replica is paused for everyone.

mod support;

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};
use support::{browser_client, spawn_app_behind_proxies, wait_until, TestApp};
use tasks::todos::listing::TodoPage;

static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Fast health checks, so that tests need not wait long for routing to react.
const FAST_CHECKS: [(&str, &str); 1] = [("DATABASE_REPLICA_CHECK_INTERVAL_MS", "200")];

#[derive(Default)]
struct Seen {
    reads_ok: AtomicU64,
    reads_failed: AtomicU64,
    own_write_missing: AtomicU64,
    acknowledged: Mutex<Vec<String>>,
    /// Status, body and duration of each failed create.
    create_failures: Mutex<Vec<(u16, String, Duration)>>,
}

impl Seen {
    fn report(&self, test: &str, stored: &HashMap<String, i64>) {
        let acknowledged = self.acknowledged.lock().unwrap();
        let failures = self.create_failures.lock().unwrap();
        let slowest = failures
            .iter()
            .map(|(_, _, took)| *took)
            .max()
            .unwrap_or_default();
        println!(
            "[{test}] reads: {} ok, {} failed; own write missing: {}; creates: {} acknowledged \
             ({} stored), {} failed (slowest failure {} ms); rows stored in all: {}",
            self.reads_ok.load(Ordering::Relaxed),
            self.reads_failed.load(Ordering::Relaxed),
            self.own_write_missing.load(Ordering::Relaxed),
            acknowledged.len(),
            acknowledged
                .iter()
                .filter(|title| stored.contains_key(*title))
                .count(),
            failures.len(),
            slowest.as_millis(),
            stored.values().sum::<i64>(),
        );
    }
}

/// Runs `readers` clients listing and `writers` clients creating (each writer checks
/// that its own new todo is listed right after), until `stop` is set. Bounded: at most
/// 5,000 requests per client.
fn drive_traffic(
    app: &Arc<TestApp>,
    readers: usize,
    writers: usize,
    stop: &Arc<AtomicBool>,
    seen: &Arc<Seen>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let mut clients = Vec::new();
    for _ in 0..readers {
        let (app, stop, seen) = (app.clone(), stop.clone(), seen.clone());
        clients.push(tokio::spawn(async move {
            let client = browser_client();
            for _ in 0..5_000 {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let response = app.list_with(&client).await;
                if response.status() == 200 {
                    seen.reads_ok.fetch_add(1, Ordering::Relaxed);
                } else {
                    seen.reads_failed.fetch_add(1, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }));
    }
    for writer in 0..writers {
        let (app, stop, seen) = (app.clone(), stop.clone(), seen.clone());
        clients.push(tokio::spawn(async move {
            let client = browser_client();
            for n in 0..5_000 {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let title = format!("writer {writer} todo {n}");
                let started = Instant::now();
                let response = app.create(&client, &title, "").await;
                let status = response.status().as_u16();
                if status == 200 {
                    seen.acknowledged.lock().unwrap().push(title.clone());
                    let listed = app.list_with(&client).await;
                    if listed.status() == 200 {
                        seen.reads_ok.fetch_add(1, Ordering::Relaxed);
                        let page: TodoPage = listed.json().await.unwrap();
                        if !page.todos.iter().any(|todo| todo.title == title) {
                            seen.own_write_missing.fetch_add(1, Ordering::Relaxed);
                        }
                    } else {
                        seen.reads_failed.fetch_add(1, Ordering::Relaxed);
                    }
                } else {
                    let body = response.text().await.unwrap_or_default();
                    seen.create_failures
                        .lock()
                        .unwrap()
                        .push((status, body, started.elapsed()));
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }));
    }
    clients
}

async fn stop_traffic(stop: &AtomicBool, clients: Vec<tokio::task::JoinHandle<()>>) {
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        client.await.unwrap();
    }
}

/// How many rows carry each title, on the primary.
async fn stored_titles(app: &TestApp) -> HashMap<String, i64> {
    sqlx::query_as::<_, (String, i64)>("SELECT title, count(*) FROM todos GROUP BY title")
        .fetch_all(&app.primary)
        .await
        .unwrap()
        .into_iter()
        .collect()
}

fn assert_every_acknowledged_create_stored_once(seen: &Seen, stored: &HashMap<String, i64>) {
    for title in seen.acknowledged.lock().unwrap().iter() {
        assert_eq!(
            stored.get(title),
            Some(&1),
            "acknowledged {title:?} stored {:?} times",
            stored.get(title)
        );
    }
}

/// Whether the app routes reads to its (only) replica, as `/readyz` reports.
async fn replica_serving(app: &TestApp) -> bool {
    let body: serde_json::Value = app
        .client
        .get(app.url("/readyz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["replicas"][0]["serving_reads"] == true
}

/// Waits until `n` reads by a client without writes raise the replica's scan count by
/// `n`: the replica serves reads again.
async fn assert_reads_reach_the_replica(app: &TestApp, n: i64) {
    let before = app.todo_scans(&app.replica).await;
    let reader = browser_client();
    for _ in 0..n {
        assert_eq!(app.list_with(&reader).await.status(), 200);
    }
    let served = wait_until(Duration::from_secs(15), || async {
        (app.todo_scans(&app.replica).await - before >= n).then_some(())
    })
    .await;
    assert!(served.is_some(), "the replica did not serve the {n} reads");
}

#[tokio::test]
async fn replica_stopped_mid_traffic() {
    let _serial = SERIAL.lock().await;
    let app = Arc::new(spawn_app_behind_proxies(true, true, &FAST_CHECKS).await);
    let (stop, seen) = (Arc::new(AtomicBool::new(false)), Arc::new(Seen::default()));
    let clients = drive_traffic(&app, 4, 2, &stop, &seen);

    tokio::time::sleep(Duration::from_millis(700)).await;
    app.replica_proxy.as_ref().unwrap().down();
    let down = wait_until(Duration::from_secs(5), || async {
        (!replica_serving(&app).await).then_some(())
    })
    .await;
    assert!(
        down.is_some(),
        "the replica was never taken out of rotation"
    );
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    app.replica_proxy.as_ref().unwrap().up();
    let back = wait_until(Duration::from_secs(5), || async {
        replica_serving(&app).await.then_some(())
    })
    .await;
    assert!(back.is_some(), "the replica did not return to rotation");
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop_traffic(&stop, clients).await;

    let stored = stored_titles(&app).await;
    seen.report("replica stopped", &stored);
    assert_eq!(seen.reads_failed.load(Ordering::Relaxed), 0, "reads failed");
    assert_eq!(seen.own_write_missing.load(Ordering::Relaxed), 0);
    assert!(
        seen.create_failures.lock().unwrap().is_empty(),
        "creates failed"
    );
    assert_every_acknowledged_create_stored_once(&seen, &stored);
    assert_reads_reach_the_replica(&app, 20).await;
}

#[tokio::test]
async fn replica_lagging_behind_its_limit() {
    let _serial = SERIAL.lock().await;
    let settings = [
        ("DATABASE_REPLICA_CHECK_INTERVAL_MS", "200"),
        ("DATABASE_REPLICA_MAX_LAG_SECONDS", "1"),
    ];
    let app = Arc::new(spawn_app_behind_proxies(true, true, &settings).await);
    let (stop, seen) = (Arc::new(AtomicBool::new(false)), Arc::new(Seen::default()));
    let clients = drive_traffic(&app, 3, 2, &stop, &seen);

    tokio::time::sleep(Duration::from_millis(500)).await;
    app.set_replica_replay(false).await;
    let moved = wait_until(Duration::from_secs(8), || async {
        (!replica_serving(&app).await).then_some(())
    })
    .await;
    app.set_replica_replay(true).await; // before asserting: never leave the shared replica paused
    assert!(moved.is_some(), "reads never left the lagging replica");
    let back = wait_until(Duration::from_secs(8), || async {
        replica_serving(&app).await.then_some(())
    })
    .await;
    assert!(
        back.is_some(),
        "reads did not return once the replica caught up"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop_traffic(&stop, clients).await;

    let stored = stored_titles(&app).await;
    seen.report("replica lagging", &stored);
    assert_eq!(seen.reads_failed.load(Ordering::Relaxed), 0);
    assert_eq!(
        seen.own_write_missing.load(Ordering::Relaxed),
        0,
        "a writer missed its own todo"
    );
    assert!(seen.create_failures.lock().unwrap().is_empty());
    assert_every_acknowledged_create_stored_once(&seen, &stored);
    assert_reads_reach_the_replica(&app, 20).await;
}

#[tokio::test]
async fn primary_stopped_mid_traffic() {
    let _serial = SERIAL.lock().await;
    let app = Arc::new(spawn_app_behind_proxies(true, true, &FAST_CHECKS).await);
    let (stop, seen) = (Arc::new(AtomicBool::new(false)), Arc::new(Seen::default()));
    let clients = drive_traffic(&app, 4, 2, &stop, &seen);

    tokio::time::sleep(Duration::from_millis(700)).await;
    app.primary_proxy.as_ref().unwrap().down();
    tokio::time::sleep(Duration::from_millis(3_000)).await;
    let failed_while_down = seen.create_failures.lock().unwrap().len();
    app.primary_proxy.as_ref().unwrap().up();
    let acknowledged_at_recovery = seen.acknowledged.lock().unwrap().len();
    let recovered = wait_until(Duration::from_secs(10), || async {
        (seen.acknowledged.lock().unwrap().len() > acknowledged_at_recovery).then_some(())
    })
    .await;
    stop_traffic(&stop, clients).await;

    let stored = stored_titles(&app).await;
    seen.report("primary stopped", &stored);
    assert!(
        recovered.is_some(),
        "creates did not succeed again once the primary returned"
    );
    assert_eq!(
        seen.reads_failed.load(Ordering::Relaxed),
        0,
        "reads failed while the primary was down"
    );
    assert!(
        failed_while_down > 0,
        "no create was attempted while the primary was down"
    );
    for (status, body, took) in seen.create_failures.lock().unwrap().iter() {
        assert_eq!(*status, 503, "{body}");
        assert_eq!(body, r#""Unavailable""#);
        assert!(
            *took <= Duration::from_millis(2_500),
            "a failing create took {took:?}"
        );
    }
    assert_every_acknowledged_create_stored_once(&seen, &stored);
}

#[tokio::test]
async fn starts_while_the_primary_is_down_and_recovers() {
    let _serial = SERIAL.lock().await;
    let app = spawn_app_behind_proxies(false, true, &FAST_CHECKS).await;

    let live = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(live.status(), 200);
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
    let started = Instant::now();
    let create = app.create(&app.client, "too early", "").await;
    assert_eq!(create.status(), 503);
    assert!(started.elapsed() <= Duration::from_millis(2_500));

    app.primary_proxy.as_ref().unwrap().up();
    let appeared = Instant::now();
    let ready = wait_until(Duration::from_secs(20), || async {
        let status = app
            .client
            .get(app.url("/readyz"))
            .send()
            .await
            .ok()?
            .status();
        (status == 200).then_some(())
    })
    .await;
    assert!(
        ready.is_some(),
        "the app never became ready once the primary appeared"
    );
    let todo = app.create_ok("after recovery", "").await;
    assert_eq!(app.list().await, [todo]);
    println!(
        "[primary down at start] ready {} ms after the primary appeared",
        appeared.elapsed().as_millis()
    );
}

#[tokio::test]
async fn starts_while_the_replica_is_down_and_recovers() {
    let _serial = SERIAL.lock().await;
    let app = spawn_app_behind_proxies(true, false, &FAST_CHECKS).await;

    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(
        ready.status(),
        200,
        "a replica problem alone must not make the app unready"
    );
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["replicas"][0]["status"], "unreachable");
    let todo = app.create_ok("served by the primary", "").await;
    assert_eq!(app.list_with(&browser_client()).await.status(), 200);
    assert_eq!(app.list().await, [todo]);

    app.replica_proxy.as_ref().unwrap().up();
    let back = wait_until(Duration::from_secs(5), || async {
        replica_serving(&app).await.then_some(())
    })
    .await;
    assert!(back.is_some());
    app.wait_for_replica_todos(1).await;
    assert_reads_reach_the_replica(&app, 20).await;
}

#[tokio::test]
async fn sigterm_under_traffic_finishes_in_flight_requests_and_exits_0() {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
    let _serial = SERIAL.lock().await;
    let db = support::create_test_database().await;
    let mut server = tokio::process::Command::new(env!("CARGO_BIN_EXE_tasks"))
        .env("DATABASE_URL", &db.app_primary_url)
        .env("DATABASE_REPLICA_URL", &db.app_replica_url)
        .env("LEPTOS_OUTPUT_NAME", "tasks")
        .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
        .env("METRICS_ADDR", "off")
        .env("SHUTDOWN_GRACE_SECS", "10")
        .env("RUST_LOG", "info")
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut log = BufReader::new(server.stderr.take().unwrap()).lines();
    let address = loop {
        let line = log
            .next_line()
            .await
            .unwrap()
            .expect("the server exited before listening");
        if let Some(rest) = line.split("listening on http://").nth(1) {
            break rest.trim().to_owned();
        }
    };
    tokio::spawn(async move { while let Ok(Some(_)) = log.next_line().await {} });

    // Requests certain to be in flight at SIGTERM: creates whose bodies are half sent.
    let body = "title=in+flight+{n}&text=";
    let mut in_flight = Vec::new();
    for n in 0..5 {
        let body = body.replace("{n}", &n.to_string());
        let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
        let head = format!(
            "POST /api/create_todo HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        stream.write_all(&body.as_bytes()[..5]).await.unwrap();
        in_flight.push((stream, body));
    }
    // And steady reads meanwhile.
    let stop = Arc::new(AtomicBool::new(false));
    let reads_ok = Arc::new(AtomicU64::new(0));
    let reader = tokio::spawn({
        let (stop, reads_ok, url) = (
            stop.clone(),
            reads_ok.clone(),
            format!("http://{address}/api/list_todos"),
        );
        async move {
            let client = reqwest::Client::new();
            while !stop.load(Ordering::Relaxed) {
                let sent = client
                    .post(&url)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .send()
                    .await;
                if sent.is_ok_and(|response| response.status() == 200) {
                    reads_ok.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;

    let killed = std::process::Command::new("kill")
        .args(["-TERM", &server.id().unwrap().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let signalled = Instant::now();
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);

    let mut answered = 0;
    for (mut stream, body) in in_flight {
        stream.write_all(&body.as_bytes()[5..]).await.unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        assert!(
            response.starts_with("HTTP/1.1 200"),
            "an in-flight request failed: {response}"
        );
        answered += 1;
    }
    let status = tokio::time::timeout(Duration::from_secs(12), server.wait())
        .await
        .expect("the server did not exit within its grace period")
        .unwrap();
    reader.await.unwrap();
    assert_eq!(status.code(), Some(0));
    let stored: i64 =
        sqlx::query_scalar("SELECT count(*) FROM todos WHERE title LIKE 'in flight %'")
            .fetch_one(&db.admin_primary().await)
            .await
            .unwrap();
    assert_eq!(stored, 5);
    println!(
        "[SIGTERM under traffic] {answered} of 5 in-flight creates answered 200 and stored; \
         {} reads served; exited 0 {} ms after SIGTERM",
        reads_ok.load(Ordering::Relaxed),
        signalled.elapsed().as_millis()
    );
}
