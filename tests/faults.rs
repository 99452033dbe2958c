//! Fault tests: steady traffic from several clients while a database vanishes, lags or
//! comes back, or while the server is told to stop. Each prints what users saw so the
//! numbers can be quoted (run with `-- --nocapture`).
//!
//! Database faults are injected with a proxy between the app and each real server
//! (`support::proxy`), and replay is paused on the real replica; tests here run one at
//! a time (`SERIAL`), since a paused replica is paused for everyone.

mod support {
    pub mod app;
    pub mod database;
    pub mod own_cluster;
    pub mod proxy;
    pub mod replay;
    pub mod todos;
}

use futures::future::join_all;
use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};
use support::{
    app::{browser_client, wait_until, TestApp},
    database::{create_test_database, required_env, with_database, TestDatabase},
    own_cluster::OwnCluster,
    proxy::{server_of, spawn_app_behind_proxies, with_server, FaultProxy},
};
use tasks::todos::{listing::TodoPage, model::Todo};

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

/// The app's (only) replica as `/readyz` reports it (`READYZ_DETAILS`, set by the
/// tests): the last health check's findings and whether it serves reads.
async fn replica_report(app: &TestApp) -> serde_json::Value {
    let body: serde_json::Value = app
        .client
        .get(app.url("/readyz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["replicas"][0].clone()
}

/// Whether the app routes reads to its (only) replica, as `/readyz` reports.
async fn replica_serving(app: &TestApp) -> bool {
    replica_report(app).await["serving_reads"] == true
}

/// The Prometheus text of the metrics listener at `metrics`.
async fn scrape_metrics(metrics: std::net::SocketAddr) -> String {
    reqwest::get(format!("http://{metrics}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
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
    let (app, proxies) = spawn_app_behind_proxies(true, true, &FAST_CHECKS).await;
    let app = Arc::new(app);
    let (stop, seen) = (Arc::new(AtomicBool::new(false)), Arc::new(Seen::default()));
    let clients = drive_traffic(&app, 4, 2, &stop, &seen);

    tokio::time::sleep(Duration::from_millis(700)).await;
    proxies.replica.down();
    let down = wait_until(Duration::from_secs(5), || async {
        (!replica_serving(&app).await).then_some(())
    })
    .await;
    assert!(
        down.is_some(),
        "the replica was never taken out of rotation"
    );
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    proxies.replica.up();
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
    // Late past both limits: a streaming replica within either one (time or bytes) is
    // current, as in GitLab's load balancer.
    let settings = [
        ("DATABASE_REPLICA_CHECK_INTERVAL_MS", "200"),
        ("DATABASE_REPLICA_MAX_LAG_SECONDS", "1"),
        ("DATABASE_REPLICA_MAX_LAG_BYTES", "1024"),
    ];
    let (app, _proxies) = spawn_app_behind_proxies(true, true, &settings).await;
    let app = Arc::new(app);
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
    let (app, proxies) = spawn_app_behind_proxies(true, true, &FAST_CHECKS).await;
    let app = Arc::new(app);
    let (stop, seen) = (Arc::new(AtomicBool::new(false)), Arc::new(Seen::default()));
    let clients = drive_traffic(&app, 4, 2, &stop, &seen);

    tokio::time::sleep(Duration::from_millis(700)).await;
    proxies.primary.down();
    // Readiness all along: a primary outage is every pod's, and the replica still
    // serves reads; taking the pod out of the load balancer would fail those too.
    let (mut ready, mut unready) = (0, 0);
    let down_since = Instant::now();
    while down_since.elapsed() < Duration::from_millis(3_000) {
        let status = app
            .client
            .get(app.url("/readyz"))
            .send()
            .await
            .unwrap()
            .status();
        if status == 200 {
            ready += 1;
        } else {
            unready += 1;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!("[primary stopped] /readyz while the primary was down: {ready} ready, {unready} not");
    assert_eq!(
        unready, 0,
        "the pod reported itself unready for a shared primary outage"
    );
    let failed_while_down = seen.create_failures.lock().unwrap().len();
    proxies.primary.up();
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
    let (app, proxies) = spawn_app_behind_proxies(false, true, &FAST_CHECKS).await;

    let live = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(live.status(), 200);
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
    let started = Instant::now();
    let create = app.create(&app.client, "too early", "").await;
    assert_eq!(create.status(), 503);
    assert!(started.elapsed() <= Duration::from_millis(2_500));

    proxies.primary.up();
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
    let (app, proxies) = spawn_app_behind_proxies(true, false, &FAST_CHECKS).await;

    // Once the first health check is done (before it, the app is "starting").
    let (status, body) = wait_until(Duration::from_secs(5), || async {
        let ready = app.client.get(app.url("/readyz")).send().await.ok()?;
        let status = ready.status();
        let body: serde_json::Value = ready.json().await.ok()?;
        (body["reason"] != "starting").then_some((status, body))
    })
    .await
    .expect("the first health check never ended");
    assert_eq!(
        status, 200,
        "a replica problem alone must not make the app unready: {body}"
    );
    assert_eq!(body["replicas"][0]["status"], "unreachable");
    let todo = app.create_ok("served by the primary", "").await;
    assert_eq!(app.list_with(&browser_client()).await.status(), 200);
    assert_eq!(app.list().await, [todo]);

    proxies.replica.up();
    let back = wait_until(Duration::from_secs(5), || async {
        replica_serving(&app).await.then_some(())
    })
    .await;
    assert!(back.is_some());
    app.wait_for_replica_todos(1).await;
    assert_reads_reach_the_replica(&app, 20).await;
}

/// The `tasks` binary, started on its own test database and a free port.
struct ServerProcess {
    child: tokio::process::Child,
    address: String,
    /// Where `/metrics` is served, when `METRICS_ADDR` is not `off`.
    metrics_address: Option<String>,
    /// The server's last log lines that are not about a request served, for failure
    /// messages.
    last_log: Arc<Mutex<std::collections::VecDeque<String>>>,
}

impl ServerProcess {
    async fn start(db: &TestDatabase, env: &[(&str, &str)]) -> Self {
        use tokio::io::{AsyncBufReadExt, BufReader};
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_tasks"))
            .env("DATABASE_URL", &db.app_primary_url)
            .env("DATABASE_REPLICA_URL", &db.app_replica_url)
            .env("LEPTOS_OUTPUT_NAME", "tasks")
            .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
            .env("RUST_LOG", "info")
            // Tests write fast from one address; the limit has a test of its own.
            .env("WRITE_RATE_LIMIT_PER_MINUTE", "0")
            .envs(env.iter().copied())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let mut log = BufReader::new(child.stderr.take().unwrap()).lines();
        let mut metrics_address = None;
        // Logged at `info`, which RUST_LOG must let through.
        let listening = tokio::time::timeout(Duration::from_secs(30), async {
            loop {
                let line = log
                    .next_line()
                    .await
                    .unwrap()
                    .expect("the server exited before listening");
                if let Some(rest) = line.split("metrics on http://").nth(1) {
                    metrics_address = rest.split('/').next().map(str::to_owned);
                }
                if let Some(rest) = line.split("listening on http://").nth(1) {
                    break rest.trim().to_owned();
                }
            }
        });
        let address = listening
            .await
            .expect("the server logged no \"listening on\" line within 30 s");
        let last_log = Arc::new(Mutex::new(std::collections::VecDeque::new()));
        tokio::spawn({
            let last_log = last_log.clone();
            async move {
                while let Ok(Some(line)) = log.next_line().await {
                    if line.contains("request served") {
                        continue;
                    }
                    let mut last = last_log.lock().unwrap();
                    if last.len() == 20 {
                        last.pop_front();
                    }
                    last.push_back(line);
                }
            }
        });
        Self {
            child,
            address,
            metrics_address,
            last_log,
        }
    }

    /// The last log lines, one per line, for an assertion's message.
    fn last_log(&self) -> String {
        let last = self.last_log.lock().unwrap();
        last.iter().cloned().collect::<Vec<_>>().join("\n")
    }

    fn terminate(&self) -> Instant {
        let killed = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().unwrap().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        Instant::now()
    }
}

#[tokio::test]
async fn sigterm_under_traffic_finishes_in_flight_requests_and_exits_0() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let _serial = SERIAL.lock().await;
    let db = create_test_database().await;
    let mut server = ServerProcess::start(
        &db,
        &[("METRICS_ADDR", "off"), ("SHUTDOWN_GRACE_SECS", "10")],
    )
    .await;
    let address = server.address.clone();
    let list = tasks::lists::model::ListId::random().unwrap().to_string();

    // Requests certain to be in flight at SIGTERM: creates whose bodies are half sent.
    let body = format!("list={list}&title=in+flight+{{n}}&text=");
    let mut in_flight = Vec::new();
    for n in 0..5 {
        let body = body.replace("{n}", &n.to_string());
        let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
        let head = format!(
            "POST /api/create_todo HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\
             Sec-Fetch-Site: same-origin\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        stream.write_all(&body.as_bytes()[..40]).await.unwrap();
        in_flight.push((stream, body));
    }
    // And steady reads meanwhile.
    let stop = Arc::new(AtomicBool::new(false));
    let reads_ok = Arc::new(AtomicU64::new(0));
    let reader = tokio::spawn({
        let (stop, reads_ok, url, list) = (
            stop.clone(),
            reads_ok.clone(),
            format!("http://{address}/api/list_todos"),
            list.clone(),
        );
        async move {
            let client = browser_client();
            while !stop.load(Ordering::Relaxed) {
                let sent = client.post(&url).form(&[("list", &list)]).send().await;
                if sent.is_ok_and(|response| response.status() == 200) {
                    reads_ok.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;

    let signalled = server.terminate();
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);

    let mut last_answered = Duration::ZERO;
    for (mut stream, body) in in_flight {
        stream.write_all(&body.as_bytes()[40..]).await.unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        assert!(
            response.starts_with("HTTP/1.1 200"),
            "an in-flight request failed: {response}"
        );
        last_answered = signalled.elapsed();
    }
    let status = tokio::time::timeout(Duration::from_secs(12), server.child.wait())
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
        "[SIGTERM under traffic] 5 in-flight creates answered 200 (the last {} ms after \
         SIGTERM) and stored; {} reads served; exited 0 {} ms after SIGTERM",
        last_answered.as_millis(),
        reads_ok.load(Ordering::Relaxed),
        signalled.elapsed().as_millis()
    );
}

/// The value of the sample `name` (no labels) in Prometheus text, if present.
fn gauge(metrics: &str, name: &str) -> Option<f64> {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|value| value.trim().parse().ok())
}

/// What one stress client does on its turn `n`: requests whose answer it waits for, and
/// requests it abandons part-way, as clients that close a tab or lose their network do.
#[derive(Clone, Copy, Debug)]
enum StressRequest {
    Page,
    CreateHydrated,
    CreateWithoutJavaScript,
    ListHydrated,
    /// Reads a few bytes of a page, then closes.
    PageAbortedMidResponse,
    /// Sends a page request and closes without reading.
    PageAbortedBeforeResponse,
    /// Sends half a create's body, then closes.
    CreateAbortedMidBody,
    /// Sends a list request and closes without reading.
    ListAbortedBeforeResponse,
}

impl StressRequest {
    const ALL: [Self; 8] = [
        Self::Page,
        Self::CreateHydrated,
        Self::PageAbortedMidResponse,
        Self::CreateWithoutJavaScript,
        Self::ListHydrated,
        Self::PageAbortedBeforeResponse,
        Self::CreateAbortedMidBody,
        Self::ListAbortedBeforeResponse,
    ];
}

/// Sends `request` and returns the status of the answer, or `None` for an abandoned one.
/// Panics if a request that waits for its answer gets none.
async fn stress_request(
    client: &reqwest::Client,
    address: &str,
    list: &str,
    request: StressRequest,
    n: usize,
) -> Option<u16> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let url = |path: &str| format!("http://{address}{path}");
    let page = url(&format!("/lists/{list}"));
    let form = [
        ("list", list.to_owned()),
        ("title", format!("stress {n}")),
        ("text", String::new()),
    ];
    let answered = match request {
        StressRequest::Page => client.get(&page).send().await,
        StressRequest::CreateHydrated => {
            client
                .post(url("/api/create_todo"))
                .form(&form)
                .send()
                .await
        }
        StressRequest::CreateWithoutJavaScript => {
            client
                .post(url("/api/create_todo"))
                .header("accept", "text/html")
                .header("referer", &page)
                .form(&form)
                .send()
                .await
        }
        StressRequest::ListHydrated => {
            client
                .post(url("/api/list_todos"))
                .form(&[("list", list)])
                .send()
                .await
        }
        aborted => {
            let Ok(mut stream) = tokio::net::TcpStream::connect(address).await else {
                return None;
            };
            let head = match aborted {
                StressRequest::CreateAbortedMidBody => format!(
                    "POST /api/create_todo HTTP/1.1\r\nHost: {address}\r\n\
                     Sec-Fetch-Site: same-origin\r\n\
                     Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 80\r\n\r\n\
                     list={list}&title=half"
                ),
                StressRequest::ListAbortedBeforeResponse => format!(
                    "POST /api/list_todos HTTP/1.1\r\nHost: {address}\r\n\
                     Sec-Fetch-Site: same-origin\r\n\
                     Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 31\r\n\r\n\
                     list={list}"
                ),
                _ => format!(
                    "GET /lists/{list} HTTP/1.1\r\nHost: {address}\r\nAccept: text/html\r\n\r\n"
                ),
            };
            let _ = stream.write_all(head.as_bytes()).await;
            if matches!(aborted, StressRequest::PageAbortedMidResponse) {
                let mut first_bytes = [0u8; 64];
                let _ = stream.read(&mut first_bytes).await;
            } else {
                // Long enough for the server to start on it.
                tokio::time::sleep(Duration::from_millis(n as u64 % 7)).await;
            }
            return None; // dropped: the connection closes
        }
    };
    let response = answered.unwrap_or_else(|error| panic!("{request:?} got no answer: {error}"));
    let status = response.status().as_u16();
    // The whole body, as a browser reads it.
    response
        .bytes()
        .await
        .unwrap_or_else(|error| panic!("{request:?} answer cut off: {error}"));
    Some(status)
}

/// Issue 19's conditions: a worker thread of the server deadlocked under many concurrent
/// page loads and server-function calls, a share of them abandoned by their clients,
/// and SIGTERM then never completed. For `STRESS_SECS` (60 s by default) clients mix
/// pages, hydrated and no-JavaScript server-function calls and abandoned requests; then
/// the server is stopped. Passes only if every request that waited got an answer, no
/// request stayed in flight past the request timeout (the server's own gauge, scraped
/// every second), and the process exits within its grace period.
#[tokio::test]
async fn aborted_and_concurrent_requests_for_a_minute_then_sigterm_exits_in_time() {
    let _serial = SERIAL.lock().await;
    let seconds: u64 = std::env::var("STRESS_SECS")
        .ok()
        .and_then(|secs| secs.parse().ok())
        .unwrap_or(60);
    let db = create_test_database().await;
    let mut server = ServerProcess::start(
        &db,
        &[
            ("METRICS_ADDR", "127.0.0.1:0"),
            ("SHUTDOWN_GRACE_SECS", "10"),
            ("REQUEST_TIMEOUT_MS", "5000"),
        ],
    )
    .await;
    let metrics_url = format!(
        "http://{}/metrics",
        server
            .metrics_address
            .clone()
            .expect("metrics address logged")
    );
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let statuses = Arc::new(Mutex::new(HashMap::<u16, u64>::new()));
    let abandoned = Arc::new(AtomicU64::new(0));

    let list = tasks::lists::model::ListId::random().unwrap().to_string();
    let mut clients = Vec::new();
    for client_number in 0..12 {
        let (address, statuses, abandoned, list) = (
            server.address.clone(),
            statuses.clone(),
            abandoned.clone(),
            list.clone(),
        );
        clients.push(tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .timeout(Duration::from_secs(20))
                .default_headers(
                    [(
                        reqwest::header::HeaderName::from_static("sec-fetch-site"),
                        reqwest::header::HeaderValue::from_static("same-origin"),
                    )]
                    .into_iter()
                    .collect(),
                )
                .build()
                .unwrap();
            // Bounded in count as well as in time.
            for n in 0..50_000 {
                if Instant::now() >= deadline {
                    break;
                }
                let request = StressRequest::ALL[(n + client_number) % StressRequest::ALL.len()];
                match stress_request(&client, &address, &list, request, n).await {
                    Some(status) => *statuses.lock().unwrap().entry(status).or_default() += 1,
                    None => {
                        abandoned.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }
    // The watchdog gauge, all along.
    let scraper = reqwest::Client::new();
    let mut most_stuck = 0.0_f64;
    let mut scrapes = 0;
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let metrics = scraper
            .get(&metrics_url)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        most_stuck = most_stuck.max(gauge(&metrics, "tasks_http_requests_stuck").unwrap());
        scrapes += 1;
    }
    for client in clients {
        client
            .await
            .expect("every request that waited got its answer");
    }
    // Abandoned requests end as soon as the server notices; none may linger.
    let drained = wait_until(Duration::from_secs(6), || async {
        let metrics = scraper
            .get(&metrics_url)
            .send()
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        (gauge(&metrics, "tasks_http_requests_in_flight")? == 0.0).then_some(())
    })
    .await;
    assert!(
        drained.is_some(),
        "requests stayed in flight after the traffic ended"
    );
    assert_eq!(
        most_stuck, 0.0,
        "a request stayed in flight past the request timeout"
    );

    let signalled = server.terminate();
    let status = tokio::time::timeout(Duration::from_secs(10), server.child.wait())
        .await
        .expect("the server did not exit within its grace period (10 s)")
        .unwrap();
    assert_eq!(status.code(), Some(0), "server log:\n{}", server.last_log());
    let statuses = statuses.lock().unwrap();
    let answered: u64 = statuses.values().sum();
    assert!(
        statuses.keys().all(|status| *status < 500),
        "server errors: {statuses:?}"
    );
    println!(
        "[stress then SIGTERM] {seconds} s, 12 clients: {answered} requests answered \
         (by status: {statuses:?}), {} abandoned by their clients; requests stuck at any of \
         {scrapes} scrapes: 0; exited 0 {} ms after SIGTERM",
        abandoned.load(Ordering::Relaxed),
        signalled.elapsed().as_millis()
    );
}

/// The hard end of the grace period: a handler that blocks the only worker thread of
/// its runtime for good (as the deadlock of issue 19 did) cannot keep the process alive.
/// The test runs itself again as a child process (`STUCK_SERVER_CHILD`) that serves
/// such a handler behind the app's own middleware and shutdown watchdog, sends it a
/// request, and SIGTERMs it.
#[test]
fn a_stuck_handler_cannot_hold_the_process_past_the_grace_period() {
    const ROLE: &str = "STUCK_SERVER_CHILD";
    const TEST: &str = "a_stuck_handler_cannot_hold_the_process_past_the_grace_period";
    const GRACE: Duration = Duration::from_secs(2);
    if std::env::var_os(ROLE).is_some() {
        return serve_a_stuck_handler(GRACE);
    }
    use std::io::{BufRead, BufReader, Read, Write};
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", TEST, "--nocapture", "--test-threads=1"])
        .env(ROLE, "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let address = loop {
        let mut line = String::new();
        assert!(
            stdout.read_line(&mut line).unwrap() > 0,
            "the child exited before listening"
        );
        // The test harness may print "test NAME ... " on the same line.
        if let Some(address) = line.split("stuck server on ").nth(1) {
            break address.trim().to_owned();
        }
    };
    let mut request = std::net::TcpStream::connect(&address).unwrap();
    write!(request, "GET /stuck HTTP/1.1\r\nHost: {address}\r\n\r\n").unwrap();
    std::thread::sleep(Duration::from_millis(300)); // the handler is now blocking

    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let signalled = Instant::now();
    let limit = GRACE + tasks::server::shutdown::HARD_EXIT_MARGIN + Duration::from_secs(3);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if signalled.elapsed() > limit {
            child.kill().unwrap();
            panic!("the process outlived its grace period and margin ({limit:?})");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let took = signalled.elapsed();
    let mut log = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    assert_eq!(
        status.code(),
        Some(tasks::server::shutdown::EXIT_STUCK),
        "{log}"
    );
    assert!(
        took >= GRACE,
        "it exited before the grace period was over: {took:?}"
    );
    assert!(
        log.contains("shutdown did not complete") && log.contains("GET /stuck"),
        "the last log line names what was stuck: {log}"
    );
    println!(
        "[stuck handler] exited with status {} {} ms after SIGTERM (grace {} s + margin {} s), \
         naming GET /stuck",
        tasks::server::shutdown::EXIT_STUCK,
        took.as_millis(),
        GRACE.as_secs(),
        tasks::server::shutdown::HARD_EXIT_MARGIN.as_secs()
    );
}

/// The child of the test above: one worker thread, a handler that blocks it for good.
fn serve_a_stuck_handler(grace: Duration) {
    use axum::{routing::get, Router};
    use tasks::server::{
        config::{ConnectionLimits, HttpSettings, LogFormat, WriteLimit},
        in_flight::InFlight,
        middleware, shutdown, telemetry,
    };
    telemetry::init(LogFormat::Text);
    let settings = HttpSettings {
        metrics_addr: None,
        request_timeout: Duration::from_millis(500),
        hsts: false,
        readyz_details: false,
        public_url: None,
        shutdown_grace: grace,
        connections: ConnectionLimits {
            header_read_timeout: Duration::from_secs(10),
            max_connections: 16,
            http2_keep_alive_interval: Duration::from_secs(20),
            http2_keep_alive_timeout: Duration::from_secs(10),
        },
        write_limit: WriteLimit {
            per_minute: 0,
            burst: 1,
        },
        trusted_proxy_hops: 0,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let in_flight = InFlight::new(settings.request_timeout);
        let router = Router::new().route(
            "/stuck",
            get(|| async {
                // Blocks the worker thread, as a deadlock does: no timer or signal
                // handled by the runtime can end it.
                std::thread::sleep(Duration::from_secs(3600));
                "never"
            }),
        );
        let router = middleware::apply(router, &settings, false, in_flight.clone());
        let stop = shutdown::on_signal(grace, in_flight).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        println!("stuck server on {}", listener.local_addr().unwrap());
        axum::serve(listener, router)
            .with_graceful_shutdown(stop)
            .await
            .unwrap();
    });
    unreachable!("the watchdog ends this process");
}

/// The mechanism behind issue 19's deadlock, shown on the real router: a request must
/// never be run under the reactive owner of another request in flight. On one thread
/// (this test's runtime runs the server too), a page waits for the database, holding
/// its owner; a server-function call arrives meanwhile. Before the fix, the call's
/// owner became a child of the page's (leptos_axum's `Owner::new_root` leaves it as
/// the thread's current owner) and its context lookups walked into the page's tree:
/// the call's answer then carried a Content-Security-Policy with the page's nonce.
/// That walk is the one that deadlocked when the page finished at the wrong moment.
#[tokio::test]
async fn a_request_never_runs_under_another_requests_reactive_owner() {
    let _serial = SERIAL.lock().await;
    // Replica down: the page reads from the primary, where a lock makes it wait.
    let (app, _proxies) = spawn_app_behind_proxies(true, false, &FAST_CHECKS).await;
    let mut lock = app.primary.begin().await.unwrap();
    sqlx::query("LOCK TABLE todos IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *lock)
        .await
        .unwrap();
    let page = tokio::spawn({
        let (client, url) = (browser_client(), app.list_url(""));
        async move { client.get(url).send().await.unwrap().text().await.unwrap() }
    });
    tokio::time::sleep(Duration::from_millis(300)).await; // the page waits on the lock
                                                          // Answered at once (a malformed id), without the database.
    let call = app
        .client
        .post(app.url("/api/update_todo"))
        .form(&[
            ("list", app.list.to_string().as_str()),
            ("id", "x"),
            ("version", "1"),
            ("title", "t"),
            ("text", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(call.status(), 400);
    let call_policy = call
        .headers()
        .get("content-security-policy")
        .map(|policy| policy.to_str().unwrap().to_owned());
    lock.rollback().await.unwrap();
    let page = page.await.unwrap();
    let page_nonce = page
        .split("nonce=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the page's hydration script has a nonce");
    assert!(
        !call_policy
            .as_deref()
            .is_some_and(|policy| policy.contains(page_nonce)),
        "the server-function call ran under the page's owner: its answer carries the \
         page's nonce ({call_policy:?})"
    );
    println!(
        "[owner isolation] server-function call during a page render: answered 400 with \
         CSP {call_policy:?}; the page's nonce {page_nonce} stayed the page's"
    );
}

// --- issue 14: the topology the app ships to -----------------------------------------

/// The value of the sample `name` (with its labels, as printed) in Prometheus text, 0
/// when absent.
fn counter_value(metrics: &str, name: &str) -> f64 {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(name)?.trim().parse().ok())
        .unwrap_or(0.0)
}

/// Waits until `admin_url`'s server holds `database` with the app's schema: the
/// delayed replica applies everything 2 s late.
async fn wait_for_schema(admin_url: &str, database: &str) {
    let url = format!("{}/{database}", admin_url.rsplit_once('/').unwrap().0);
    let ready = wait_until(Duration::from_secs(30), || async {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .connect(&url)
            .await
            .ok()?;
        let has: bool = sqlx::query_scalar("SELECT to_regclass('list_counts') IS NOT NULL")
            .fetch_one(&pool)
            .await
            .ok()?;
        pool.close().await;
        has.then_some(())
    })
    .await;
    assert!(ready.is_some(), "the schema never reached {url}");
}

/// Issue 14, test 1. The app's one replica URL is a round-robin TCP proxy over two
/// replicas, one applying WAL 2 s late. Each client creates a todo and lists at once,
/// hundreds of times: the replay check and the read must run on the same server, or a
/// check passed on the caught-up replica lets the lagging one serve the read, without
/// the client's own todo.
#[tokio::test]
async fn read_your_writes_holds_behind_a_load_balanced_pair_of_replicas() {
    let _serial = SERIAL.lock().await;
    let mut db = create_test_database().await;
    let database = db.app_primary_url.rsplit_once('/').unwrap().1.to_owned();
    let balancer = FaultProxy::round_robin(
        vec![
            server_of(&db.app_replica_url),
            server_of(&required_env("TEST_DELAYED_REPLICA_URL")),
        ],
        true,
    )
    .await;
    db.app_replica_url = with_server(&db.app_replica_url, balancer.addr);
    let (app, metrics) = TestApp::start(&db, &[]).await;
    wait_for_schema(&required_env("TEST_ADMIN_DELAYED_REPLICA_URL"), &database).await;
    let scrape = || scrape_metrics(metrics);
    let before = scrape().await;

    const CLIENTS: usize = 8;
    const CYCLES: usize = 40;
    let misses = join_all((0..CLIENTS).map(|client_number| {
        let app = &app;
        async move {
            let client = browser_client();
            let mut misses = 0;
            for cycle in 0..CYCLES {
                let title = format!("client {client_number} cycle {cycle}");
                let created = app.create(&client, &title, "").await;
                assert_eq!(created.status(), 200);
                let created: Todo = created.json().await.unwrap();
                let listed = app.list_with(&client).await;
                assert_eq!(listed.status(), 200);
                let page: TodoPage = listed.json().await.unwrap();
                if !page.todos.iter().any(|todo| todo.id == created.id) {
                    misses += 1;
                }
            }
            misses
        }
    }))
    .await;
    let after = scrape().await;
    let reads = |reason: &str| {
        let name = format!(r#"tasks_db_reads_total{{server="replica",reason="{reason}"}}"#);
        counter_value(&after, &name) - counter_value(&before, &name)
    };
    let (caught_up, behind) = (reads("replica_caught_up"), {
        let name = r#"tasks_db_reads_total{server="primary",reason="replica_behind_client"}"#;
        counter_value(&after, name) - counter_value(&before, name)
    });
    let total_misses: usize = misses.iter().sum();
    println!(
        "[load-balanced replicas] {} create-then-list cycles by {CLIENTS} clients: {total_misses} \
         reads missed the client's own todo; {caught_up} reads served by a replica that had \
         replayed the write, {behind} sent to the primary because the replica reached had not",
        CLIENTS * CYCLES
    );
    assert_eq!(total_misses, 0, "own writes missing: {misses:?}");
    assert!(caught_up > 0.0, "the replicas served no read");
    assert!(
        behind > 0.0,
        "the delayed replica was never reached: the test proves nothing"
    );
    drop(balancer);
}

/// The app with the delayed replica (WAL applied 2 s late) as its only replica, once
/// that replica holds the test's schema; and the address of its metrics listener.
async fn spawn_app_on_the_delayed_replica(
    settings: &[(&str, &str)],
) -> (TestApp, std::net::SocketAddr) {
    let mut db = create_test_database().await;
    let database = db.app_primary_url.rsplit_once('/').unwrap().1.to_owned();
    let on_delayed = |url: String| format!("{}/{database}", url.rsplit_once('/').unwrap().0);
    db.app_replica_url = on_delayed(required_env("TEST_DELAYED_REPLICA_URL"));
    // `TestApp::start` waits for this server to replay the database and schema.
    db.admin_replica_url = on_delayed(required_env("TEST_ADMIN_DELAYED_REPLICA_URL"));
    TestApp::start(&db, settings).await
}

/// Issue 14, test 2. After a quiet period a few bytes of housekeeping WAL wait for
/// replay while the last replayed transaction grows old: the replica must not be taken
/// for late. 40 s without a write; the replica stays in rotation all along and serves
/// the next read.
#[tokio::test]
async fn an_idle_primary_leaves_the_replica_in_rotation() {
    let _serial = SERIAL.lock().await;
    let (app, metrics) = spawn_app_on_the_delayed_replica(&FAST_CHECKS).await;
    app.create_ok("the last write for a while", "").await;
    let idle = Duration::from_secs(
        std::env::var("IDLE_SECS")
            .ok()
            .and_then(|secs| secs.parse().ok())
            .unwrap_or(40),
    );
    // An earlier test may have cut this replica's stream: it must stream again first.
    wait_for_both_replicas_streaming().await;
    let caught_up = wait_until(Duration::from_secs(20), || async {
        replica_serving(&app).await.then_some(())
    })
    .await;
    assert!(
        caught_up.is_some(),
        "the replica never served reads to begin with"
    );
    let started = Instant::now();
    let (mut checks, mut out) = (0, Vec::new());
    while started.elapsed() < idle {
        checks += 1;
        let report = replica_report(&app).await;
        if report["serving_reads"] != true {
            out.push(format!("{} ms: {report}", started.elapsed().as_millis()));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let out_checks = out.len();
    let scrape = || scrape_metrics(metrics);
    let served = r#"tasks_db_reads_total{server="replica",reason="no_recent_write"}"#;
    let before = counter_value(&scrape().await, served);
    let page: TodoPage = app.list_with(&browser_client()).await.json().await.unwrap();
    assert_eq!(page.todos.len(), 1);
    let after = counter_value(&scrape().await, served);
    println!(
        "[idle primary] {} s without a write: the replica was out of rotation in {out_checks} \
         of {checks} checks {out:?}; the next read was served by the replica: {}",
        idle.as_secs(),
        after - before == 1.0
    );
    assert_eq!(
        out_checks, 0,
        "the replica left rotation while the primary was idle"
    );
    assert_eq!(
        after - before,
        1.0,
        "the next read did not come from the replica"
    );
}

/// Waits until the primary streams to both local replicas (the delayed one reconnects
/// after a test cut its stream).
async fn wait_for_both_replicas_streaming() {
    use sqlx::Connection;
    let mut admin = sqlx::PgConnection::connect(&required_env("TEST_ADMIN_DATABASE_URL"))
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let streaming: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'",
        )
        .fetch_one(&mut admin)
        .await
        .unwrap();
        if streaming >= 2 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the replicas do not both stream again"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Puts the delayed replica's `primary_conninfo` back when dropped, even when the test
/// fails: every later test needs it streaming.
struct RestoreConninfo {
    admin_url: String,
    original: String,
}

impl Drop for RestoreConninfo {
    fn drop(&mut self) {
        let (url, original) = (self.admin_url.clone(), self.original.clone());
        std::thread::spawn(move || {
            tokio::runtime::Runtime::new().unwrap().block_on(async {
                use sqlx::Connection;
                let mut admin = sqlx::PgConnection::connect(&url).await.unwrap();
                set_primary_conninfo(&mut admin, &original).await;
            })
        })
        .join()
        .unwrap();
    }
}

async fn set_primary_conninfo(admin: &mut sqlx::PgConnection, conninfo: &str) {
    // ALTER SYSTEM takes no parameters: the value is quoted as a literal here.
    let literal = format!("'{}'", conninfo.replace('\'', "''"));
    sqlx::query(&format!("ALTER SYSTEM SET primary_conninfo = {literal}"))
        .execute(&mut *admin)
        .await
        .unwrap();
    sqlx::query("SELECT pg_reload_conf()")
        .execute(&mut *admin)
        .await
        .unwrap();
}

/// Issue 14, test 3. The replica's WAL receiver loses its stream (its `primary_conninfo`
/// names a port nothing listens on) while the primary keeps writing. It replays what it
/// had and then looks caught up (nothing received waits for replay); it must leave
/// rotation once it is staler than the limit, and come back once it streams again.
#[tokio::test]
async fn a_replica_that_lost_its_stream_leaves_rotation_past_the_limit() {
    use sqlx::Connection;
    let _serial = SERIAL.lock().await;
    let limit_secs = 3;
    let (app, _metrics) = spawn_app_on_the_delayed_replica(&[
        FAST_CHECKS[0],
        ("DATABASE_REPLICA_MAX_LAG_SECONDS", "3"),
    ])
    .await;
    let admin_url = required_env("TEST_ADMIN_DELAYED_REPLICA_URL");
    let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
    let original: String = sqlx::query_scalar("SHOW primary_conninfo")
        .fetch_one(&mut admin)
        .await
        .unwrap();
    // The delayed replica may still be catching up with an earlier test's writes.
    let serving = wait_until(Duration::from_secs(20), || async {
        replica_serving(&app).await.then_some(())
    })
    .await;
    assert!(serving.is_some(), "the replica serves reads to begin with");
    let restore = RestoreConninfo {
        admin_url: admin_url.clone(),
        original: original.clone(),
    };
    set_primary_conninfo(&mut admin, "host=127.0.0.1 port=1 user=replicator").await;
    let stalled = Instant::now();

    // The primary keeps writing; watch the replica's verdict.
    let mut left_after = None;
    let mut creates = 0;
    while stalled.elapsed() < Duration::from_secs(30) {
        app.create_ok(&format!("written while the stream is lost {creates}"), "")
            .await;
        creates += 1;
        if !replica_serving(&app).await {
            left_after = Some(stalled.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let left_after = left_after.expect("the replica stayed in rotation without its stream");
    drop(restore);
    wait_for_both_replicas_streaming().await;
    let back = wait_until(Duration::from_secs(30), || async {
        replica_serving(&app).await.then_some(())
    })
    .await;
    println!(
        "[stalled stream] the replica's WAL receiver cut, {creates} creates meanwhile: out \
         of rotation after {} ms (limit {limit_secs} s, plus the 2 s apply delay); back in \
         rotation once streaming again: {}",
        left_after.as_millis(),
        back.is_some()
    );
    assert!(
        left_after < Duration::from_secs(limit_secs + 2 + 5),
        "out only after {left_after:?}"
    );
    assert!(
        back.is_some(),
        "the replica did not return to rotation once streaming"
    );
}

/// Issue 14, test 5. A burst of reads far above the pool's size: every answer is a 200,
/// or a 503 with `Retry-After` (shed load), the replica is never taken for dead (its
/// probe has a connection of its own), and creates, on the primary's pool, keep
/// succeeding.
#[tokio::test]
async fn a_read_burst_over_the_pool_size_is_shed_without_losing_the_replica_or_creates() {
    let _serial = SERIAL.lock().await;
    let (app, _proxies) = spawn_app_behind_proxies(
        true,
        true,
        &[
            FAST_CHECKS[0],
            ("DATABASE_MAX_CONNECTIONS", "2"),
            ("DATABASE_ACQUIRE_TIMEOUT_MS", "100"),
        ],
    )
    .await;
    app.create_ok("before the burst", "").await;
    let burst = async {
        join_all((0..300).map(|_| async {
            let response = app.list_with(&browser_client()).await;
            let status = response.status().as_u16();
            let retry_after = response.headers().get("retry-after").is_some();
            (status, retry_after)
        }))
        .await
    };
    let creates = async {
        let creator = browser_client();
        let mut statuses = Vec::new();
        for n in 0..20 {
            statuses.push(
                app.create(&creator, &format!("during the burst {n}"), "")
                    .await
                    .status()
                    .as_u16(),
            );
        }
        statuses
    };
    let watch = async {
        let mut out = 0;
        for _ in 0..20 {
            if !replica_serving(&app).await {
                out += 1;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        out
    };
    let (reads, creates, out) = tokio::join!(burst, creates, watch);
    let mut histogram = HashMap::<u16, usize>::new();
    for (status, _) in &reads {
        *histogram.entry(*status).or_default() += 1;
    }
    let shed_without_retry_after = reads
        .iter()
        .filter(|(status, retry_after)| *status == 503 && !retry_after)
        .count();
    println!(
        "[pool exhaustion] 300 concurrent reads on a pool of 2: {histogram:?}; 20 creates \
         meanwhile: {creates:?}; the replica out of rotation in {out} of 20 checks"
    );
    assert!(
        reads
            .iter()
            .all(|(status, _)| *status == 200 || *status == 503),
        "{histogram:?}"
    );
    assert!(
        histogram.contains_key(&503),
        "the burst never exhausted the pool: it proves nothing"
    );
    assert_eq!(shed_without_retry_after, 0, "a 503 without Retry-After");
    assert!(creates.iter().all(|status| *status == 200), "{creates:?}");
    assert_eq!(out, 0, "the replica was taken out for load");
    assert!(replica_serving(&app).await);
}

/// Issue 14: a statement ended by the statement timeout (57014) is load or contention,
/// not a fault of the request: 503 with `Retry-After`, never a 500.
#[tokio::test]
async fn a_statement_timeout_answers_503_with_retry_after() {
    let _serial = SERIAL.lock().await;
    let (app, _metrics) = TestApp::start(
        &create_test_database().await,
        &[("DATABASE_STATEMENT_TIMEOUT_MS", "300")],
    )
    .await;
    let mut lock = app.primary.begin().await.unwrap();
    sqlx::query("LOCK TABLE todos IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *lock)
        .await
        .unwrap();
    let create = app.create(&app.client, "waits for the lock", "").await;
    lock.rollback().await.unwrap();
    assert_eq!(create.status(), 503);
    assert_eq!(create.headers()["retry-after"], "1");
    assert_eq!(create.text().await.unwrap(), r#""Unavailable""#);
    assert_eq!(app.stored_count().await, 0);
}

/// Pooled connections are pinged only once idle for a second (`PING_IF_IDLE_FOR`), not
/// on every checkout, which cost a round trip in three of a create. A connection the
/// server closed while it sat idle (a restart, a failover) is still never handed to a
/// write: the first write afterwards succeeds.
#[tokio::test]
async fn the_first_write_after_the_server_closed_the_idle_connections_succeeds() {
    let _serial = SERIAL.lock().await;
    let db = create_test_database().await;
    let (app, _metrics) = TestApp::start(&db, &[]).await;
    app.create_ok("opens a write connection", "").await;
    use sqlx::Connection;
    let mut admin = sqlx::PgConnection::connect(&db.admin_primary_url)
        .await
        .unwrap();
    let closed = sqlx::query_scalar::<_, bool>(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE application_name = 'tasks-write' AND datname = current_database()",
    )
    .fetch_all(&mut admin)
    .await
    .unwrap()
    .len();
    assert!(closed >= 1, "no write connection to close");
    tokio::time::sleep(Duration::from_millis(1200)).await;
    app.create_ok("the first write afterwards", "").await;
    assert_eq!(app.stored_count().await, 2);
    println!(
        "[idle ping] {closed} write connection(s) closed by the server; the next create succeeded"
    );
}

/// A client that hangs up while its page waits for the database: the render goes on
/// after the page's reactive values were dropped with the request. Building the view
/// on them panicked ("a reactive value that has already been disposed", in the
/// benchmark's log when wrk closed its connections); the page's suspense now checks
/// first and builds nothing.
#[tokio::test]
async fn a_page_whose_client_hung_up_mid_read_leaves_no_panic() {
    let _serial = SERIAL.lock().await;
    // No replica: the reads go to the primary, where the lock below holds them.
    let (app, _metrics) = TestApp::start(
        &create_test_database().await,
        &[("DATABASE_REPLICA_URL", "")],
    )
    .await;
    app.create_ok("read under a lock", "").await;
    let panics = Arc::new(AtomicU64::new(0));
    let previous_hook = std::panic::take_hook();
    let counted = panics.clone();
    std::panic::set_hook(Box::new(move |info| {
        counted.fetch_add(1, Ordering::SeqCst);
        eprintln!("panic: {info}");
    }));
    // The list's reads wait for this lock.
    let mut lock = app.primary.begin().await.unwrap();
    sqlx::query("LOCK TABLE todos IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *lock)
        .await
        .unwrap();
    for _ in 0..5 {
        let page = app.client.get(app.list_url("")).send();
        if let Ok(answer) = tokio::time::timeout(Duration::from_millis(300), page).await {
            let answer = answer.unwrap();
            let status = answer.status();
            panic!(
                "the page did not wait for the lock: {status} {}",
                answer.text().await.unwrap()
            );
        }
    }
    lock.rollback().await.unwrap();
    // The abandoned renders finish their reads and go on.
    tokio::time::sleep(Duration::from_secs(2)).await;
    drop(std::panic::take_hook());
    std::panic::set_hook(previous_hook);
    assert_eq!(
        panics.load(Ordering::SeqCst),
        0,
        "panics after clients hung up"
    );
    // The server still answers.
    let page = app.client.get(app.list_url("")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("read under a lock"));
    println!("[hung-up clients] 5 pages abandoned mid-read: no panic");
}

/// Issue 14, test 4. The replica's network starts dropping packets (a proxy that stops
/// forwarding without closing anything) under steady reads: no read fails, and reads
/// move to the primary within about 2 s (the replica read deadline, then the probe).
#[tokio::test]
async fn a_blackholed_replica_costs_no_failed_read_and_leaves_rotation_within_2_s() {
    let _serial = SERIAL.lock().await;
    let (app, proxies) = spawn_app_behind_proxies(true, true, &FAST_CHECKS).await;
    app.create_ok("read through a blackhole", "").await;
    app.wait_for_replica_todos(1).await;
    assert!(replica_serving(&app).await);

    let stop = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(Seen::default());
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let (stop, seen) = (stop.clone(), seen.clone());
            let url = app.url("/api/list_todos");
            let list = app.list.to_string();
            tokio::spawn(async move {
                let client = browser_client();
                let mut slowest = Duration::ZERO;
                while !stop.load(Ordering::Relaxed) {
                    let asked = Instant::now();
                    let response = client.post(&url).form(&[("list", &list)]).send().await;
                    slowest = slowest.max(asked.elapsed());
                    match response {
                        Ok(response) if response.status() == 200 => {
                            seen.reads_ok.fetch_add(1, Ordering::Relaxed)
                        }
                        _ => seen.reads_failed.fetch_add(1, Ordering::Relaxed),
                    };
                }
                slowest
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    proxies.replica.blackhole();
    let blackholed = Instant::now();
    let out_after = wait_until(Duration::from_secs(10), || async {
        (!replica_serving(&app).await).then(|| blackholed.elapsed())
    })
    .await
    .expect("the blackholed replica stayed in rotation");
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.store(true, Ordering::Relaxed);
    let mut slowest = Duration::ZERO;
    for reader in readers {
        slowest = slowest.max(reader.await.unwrap());
    }
    let (ok, failed) = (
        seen.reads_ok.load(Ordering::Relaxed),
        seen.reads_failed.load(Ordering::Relaxed),
    );
    println!(
        "[blackhole] the replica's packets dropped under 4 readers: {ok} reads ok, {failed} \
         failed; out of rotation after {} ms; the slowest read took {} ms",
        out_after.as_millis(),
        slowest.as_millis()
    );
    assert_eq!(failed, 0, "reads failed");
    assert!(
        out_after < Duration::from_millis(2_500),
        "out only after {out_after:?}"
    );
    assert!(
        slowest < Duration::from_millis(2_500),
        "a read waited {slowest:?}"
    );
}

/// Issue 14, test 8 (in part). The read-your-writes cookie is the client's to edit: a
/// position far beyond the primary's is ignored (after one check on the primary), so
/// that client's reads still come from a replica instead of the primary for good.
#[tokio::test]
async fn a_forged_read_your_writes_position_does_not_send_reads_to_the_primary() {
    let _serial = SERIAL.lock().await;
    let (app, metrics) = TestApp::start(&create_test_database().await, &[]).await;
    app.create_ok("seen by everyone", "").await;
    app.wait_for_replica_todos(1).await;
    let scrape = || scrape_metrics(metrics);
    let from_replica = r#"tasks_db_reads_total{server="replica",reason="no_recent_write"}"#;
    let ignored = r#"tasks_db_reads_total{server="none",reason="client_position_ignored"}"#;
    let before = scrape().await;
    let forger = reqwest::Client::new();
    for _ in 0..5 {
        let response = forger
            .post(app.url("/api/list_todos"))
            .header("sec-fetch-site", "same-origin")
            .header("cookie", "tasks_last_write=FFFFFFFF/FFFFFFFF")
            .form(&[("list", app.list.to_string())])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let page: TodoPage = response.json().await.unwrap();
        assert_eq!(page.todos.len(), 1);
    }
    let after = scrape().await;
    let delta = |name: &str| counter_value(&after, name) - counter_value(&before, name);
    println!(
        "[forged position] 5 reads with a WAL position of FFFFFFFF/FFFFFFFF: {} served by \
         the replica, the position ignored {} times",
        delta(from_replica),
        delta(ignored)
    );
    assert_eq!(delta(from_replica), 5.0);
    assert_eq!(delta(ignored), 5.0);
}

/// A blackholed primary: packets to it dropped, nothing refused. A write (here a create)
/// gets a 503 within its deadline (`DATABASE_WRITE_TIMEOUT_MS`), not the request
/// timeout's generic answer 15 s later; reads go on from the replica.
#[tokio::test]
async fn a_write_to_a_blackholed_primary_answers_503_within_its_deadline() {
    let _serial = SERIAL.lock().await;
    let settings = [("DATABASE_WRITE_TIMEOUT_MS", "1500")];
    let (app, proxies) = spawn_app_behind_proxies(true, true, &settings).await;
    app.create_ok("before the blackhole", "").await;
    proxies.primary.blackhole();
    let asked = Instant::now();
    let response = app.create(&app.client, "into the blackhole", "").await;
    let took = asked.elapsed();
    let status = response.status();
    let retry_after = response.headers().get("retry-after").cloned();
    let body = response.text().await.unwrap();
    println!(
        "[blackholed primary] a create answered {status} after {} ms (deadline 1500 ms)",
        took.as_millis()
    );
    assert_eq!(status, 503, "{body}");
    assert_eq!(body, r#""Unavailable""#);
    assert_eq!(retry_after.as_ref().map(|v| v.to_str().unwrap()), Some("1"));
    assert!(took < Duration::from_millis(2_500), "it took {took:?}");
    assert_eq!(app.list_with(&app.client).await.status(), 200);
}

/// Issue 14, test 6: a failover drill on a primary and replicas of the test's own
/// (promoting a replica of the shared servers would break them for every other test).
///
/// The app reaches the primary through an address that moves, as CloudNativePG's `-rw`
/// Service does, and its replica directly. Under reads and creates the primary crashes
/// (immediate stop), the address moves to the replica, the replica is promoted. Writes
/// must resume within 15 s, every create acknowledged before or after must be on the
/// new primary exactly once, `/readyz` must not take the pod out at any moment, and the
/// app's read connections to the promoted server must be closed (they would otherwise
/// linger until their idle timeout, minutes).
///
/// The cluster replicates synchronously, as the chart's does (`synchronous`, quorum):
/// here to both standbys (`ANY 2`), as the test, not the most advanced standby,
/// chooses which one is promoted. With asynchronous replication a crash can lose the
/// last acknowledged commits, and this test would rightly fail now and then.
#[tokio::test]
async fn failover_drill_writes_resume_and_no_acknowledged_create_is_lost() {
    let _serial = SERIAL.lock().await;
    let cluster = tokio::task::spawn_blocking(|| Arc::new(OwnCluster::up("drill")))
        .await
        .unwrap();
    let admin = |name: &str| with_database(&cluster.env(name), "tasks");
    let admin_primary = sqlx::PgPool::connect(&admin("TEST_ADMIN_DATABASE_URL"))
        .await
        .unwrap();
    for statement in [
        "ALTER SYSTEM SET synchronous_standby_names = 'ANY 2 (*)'",
        "SELECT pg_reload_conf()",
    ] {
        sqlx::query(statement)
            .execute(&admin_primary)
            .await
            .unwrap();
    }
    let synchronous = wait_until(Duration::from_secs(10), || async {
        let quorum: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'quorum'",
        )
        .fetch_one(&admin_primary)
        .await
        .ok()?;
        (quorum == 2).then_some(())
    })
    .await;
    assert!(
        synchronous.is_some(),
        "the standbys never became synchronous"
    );
    admin_primary.close().await;

    let (old_primary, replica) = (
        server_of(&cluster.env("DATABASE_URL")),
        server_of(&cluster.env("DATABASE_REPLICA_URL")),
    );
    let read_write_service = FaultProxy::start(old_primary, true).await;
    let db = TestDatabase {
        app_primary_url: with_server(&cluster.env("DATABASE_URL"), read_write_service.addr),
        app_replica_url: cluster.env("DATABASE_REPLICA_URL"),
        admin_primary_url: admin("TEST_ADMIN_DATABASE_URL"),
        admin_replica_url: admin("TEST_ADMIN_REPLICA_URL"),
    };
    let (app, _metrics) = TestApp::start(&db, &FAST_CHECKS).await;
    let app = Arc::new(app);
    let started = wait_until(Duration::from_secs(10), || async {
        let readyz = app.client.get(app.url("/readyz")).send().await.ok()?;
        (readyz.status() == 200).then_some(())
    })
    .await;
    assert!(started.is_some(), "the app never became ready");
    let (stop, seen) = (Arc::new(AtomicBool::new(false)), Arc::new(Seen::default()));
    let clients = drive_traffic(&app, 2, 3, &stop, &seen);
    let readiness = tokio::spawn({
        let (app, stop) = (app.clone(), stop.clone());
        async move {
            let (mut ready, mut not_ready) = (0, Vec::new());
            while !stop.load(Ordering::Relaxed) {
                match app.client.get(app.url("/readyz")).send().await {
                    Ok(response) if response.status() == 200 => ready += 1,
                    Ok(response) => not_ready.push(response.text().await.unwrap_or_default()),
                    Err(error) => not_ready.push(error.to_string()),
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            (ready, not_ready)
        }
    });
    // The replica is the promoted server to come; `app.replica` is a superuser pool on it.
    let read_connections = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'tasks-read'",
        )
        .fetch_one(&app.replica)
        .await
        .unwrap()
    };
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let read_connections_before = read_connections().await;

    let acknowledged_before = seen.acknowledged.lock().unwrap().len();
    let crash = {
        let cluster = cluster.clone();
        tokio::task::spawn_blocking(move || cluster.stop("primary", "immediate"))
    };
    crash.await.unwrap();
    let crashed = Instant::now();
    read_write_service.retarget(replica);
    let promoted: bool = sqlx::query_scalar("SELECT pg_promote(true, 60)")
        .fetch_one(&app.replica)
        .await
        .unwrap();
    assert!(promoted, "the replica was not promoted");
    let promoted_after = crashed.elapsed();
    let acknowledged_at_promotion = seen.acknowledged.lock().unwrap().len();
    let resumed = wait_until(Duration::from_secs(15), || async {
        (seen.acknowledged.lock().unwrap().len() > acknowledged_at_promotion)
            .then(|| crashed.elapsed())
    })
    .await;
    let reads_closed = wait_until(Duration::from_secs(5), || async {
        (read_connections().await == 0).then(|| crashed.elapsed())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop_traffic(&stop, clients).await;
    let (ready, not_ready) = readiness.await.unwrap();

    let stored: HashMap<String, i64> =
        sqlx::query_as::<_, (String, i64)>("SELECT title, count(*) FROM todos GROUP BY title")
            .fetch_all(&app.replica)
            .await
            .unwrap()
            .into_iter()
            .collect();
    seen.report("failover drill", &stored);
    println!(
        "[failover drill] {acknowledged_before} creates acknowledged before the crash; \
         promoted {} ms after it; writes resumed after {:?} ms; the app's {} read \
         connections to the promoted server closed after {:?} ms; /readyz {ready} ready, \
         {} not",
        promoted_after.as_millis(),
        resumed.map(|at| at.as_millis()),
        read_connections_before,
        reads_closed.map(|at| at.as_millis()),
        not_ready.len(),
    );
    assert!(acknowledged_before > 0, "no create before the crash");
    assert!(resumed.is_some(), "writes did not resume within 15 s");
    assert!(
        not_ready.is_empty(),
        "/readyz took the pod out during the failover: {not_ready:?}"
    );
    assert!(
        read_connections_before > 0,
        "the app held no read connection on the replica: the check proves nothing"
    );
    assert!(
        reads_closed.is_some(),
        "the app's read connections to the promoted server stayed open"
    );
    assert_eq!(seen.own_write_missing.load(Ordering::Relaxed), 0);
    for (status, body, _) in seen.create_failures.lock().unwrap().iter() {
        assert_eq!(*status, 503, "{body}");
    }
    assert_every_acknowledged_create_stored_once(&seen, &stored);
}
