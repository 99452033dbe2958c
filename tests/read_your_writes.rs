//! Read-your-writes with the replica held back on purpose.
//!
//! Pausing WAL replay freezes the replica for the whole local cluster, so this test has
//! a binary of its own: cargo runs test binaries one after another, never alongside.

mod support {
    pub mod app;
    pub mod database;
    pub mod metrics;
    pub mod replay;
}

use sqlx::postgres::PgConnectOptions;
use support::{app::browser_client, metrics::spawn_app};
use tasks::{server::read_your_writes::COOKIE_NAME, todos::listing::TodoPage};

#[tokio::test]
async fn a_writer_reads_from_the_primary_until_the_replica_has_its_write() {
    let app = spawn_app().await;
    app.set_replica_replay(false).await;
    // Resume even if an assertion fails, or every later test would read a frozen replica.
    // Drop runs outside the test's runtime: use a runtime and connection of its own.
    struct ResumeOnDrop(PgConnectOptions);
    impl Drop for ResumeOnDrop {
        fn drop(&mut self) {
            let replica = self.0.clone();
            let resumed = std::thread::spawn(move || {
                tokio::runtime::Runtime::new()
                    .unwrap()
                    .block_on(async move {
                        use sqlx::Connection;
                        let mut replica = sqlx::PgConnection::connect_with(&replica).await?;
                        sqlx::query("SELECT pg_wal_replay_resume()")
                            .execute(&mut replica)
                            .await
                    })
            })
            .join();
            if !matches!(resumed, Ok(Ok(_))) {
                eprintln!("could not resume WAL replay on the replica: run `scripts/db.sh psql replica -c 'SELECT pg_wal_replay_resume()'`");
            }
        }
    }
    let _resume = ResumeOnDrop((*app.replica.connect_options()).clone());

    let writer = &app.client;
    let created = app
        .create(writer, "written while the replica is paused", "")
        .await;
    assert_eq!(created.status(), 200);
    let set_cookie = created.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        set_cookie.starts_with(&format!("{COOKIE_NAME}=")),
        "{set_cookie}"
    );
    assert!(
        set_cookie.contains("HttpOnly") && set_cookie.contains("Max-Age=300"),
        "{set_cookie}"
    );

    // The writer sees its todo (read on the primary), several times over...
    for _ in 0..5 {
        let listed = app.list_with(writer).await;
        assert!(listed.headers().get("set-cookie").is_none());
        let titles: Vec<String> = listed
            .json::<TodoPage>()
            .await
            .unwrap()
            .todos
            .into_iter()
            .map(|todo| todo.title)
            .collect();
        assert_eq!(titles, ["written while the replica is paused"]);
    }
    // ...the server-rendered page included,
    let page = writer.get(app.list_url("")).send().await.unwrap();
    let page = page.text().await.unwrap();
    assert!(page.contains("written while the replica is paused"));
    // ...while a client that wrote nothing reads the (paused) replica, which lacks it.
    let bystander = browser_client();
    let page: TodoPage = app.list_with(&bystander).await.json().await.unwrap();
    assert!(
        page.todos.is_empty(),
        "the bystander's read did not come from the replica"
    );

    app.set_replica_replay(true).await;
    app.wait_for_replica_todos(1).await;

    // Caught up: the writer's next read is served by the replica (this binary's only
    // test, so the process-wide read counter is this test's alone).
    let caught_up = r#"tasks_db_reads_total{server="replica",reason="replica_caught_up"}"#;
    let count = |metrics: &str| {
        metrics
            .lines()
            .find_map(|line| line.strip_prefix(caught_up)?.trim().parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    let before = count(&app.scrape().await);
    let listed = app.list_with(writer).await;
    assert!(
        listed.headers().get("set-cookie").is_none(),
        "the cookie is never deleted early"
    );
    let page: TodoPage = listed.json().await.unwrap();
    assert_eq!(page.todos.len(), 1);
    assert_eq!(count(&app.scrape().await) - before, 1.0);
}
