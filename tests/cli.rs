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

/// A new, empty database owned by the app's role on the local primary: its name and
/// the app's URL of it.
fn empty_database(runtime: &tokio::runtime::Runtime) -> (String, String) {
    use sqlx::{Connection, Executor};
    let admin_url = std::env::var("TEST_ADMIN_DATABASE_URL")
        .expect("TEST_ADMIN_DATABASE_URL is not set: run through scripts/test.sh");
    let app_url = std::env::var("DATABASE_URL").expect("DATABASE_URL is not set");
    let database = format!("test_{}", uuid::Uuid::new_v4().simple());
    runtime.block_on(async {
        let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
        admin
            .execute(format!(r#"CREATE DATABASE "{database}" OWNER tasks"#).as_str())
            .await
            .unwrap();
    });
    let url = format!("{}/{database}", app_url.rsplit_once('/').unwrap().0);
    (database, url)
}

#[test]
fn migrate_applies_the_schema_and_exits() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (_, url) = empty_database(&runtime);

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

    // A list's id is a capability: it must appear in no log line, in any of its forms.
    let list = tasks::lists::model::ListId::random().unwrap();
    let list_forms = [
        list.to_string(),
        uuid::Uuid::from_u128(list.as_u128()).to_string(),
        uuid::Uuid::from_u128(list.as_u128()).simple().to_string(),
    ];
    runtime.block_on(async {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let post = |function: &str, fields: &[(&str, &str)]| {
            let mut form = vec![("list", list.to_string())];
            form.extend(
                fields
                    .iter()
                    .map(|(name, value)| (*name, value.to_string())),
            );
            client
                .post(format!("{address}/api/{function}"))
                .header("origin", &address)
                .form(&form)
        };
        let created = post("create_todo", &[("title", "logged"), ("text", "")])
            .header("x-request-id", "log-test-request")
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 200);
        let page = format!("{address}{}", list.href());
        assert_eq!(client.get(&page).send().await.unwrap().status(), 200);
        // Plain form posts: redirected on success (and when the body names no list),
        // answered with the list page and the refusal's status otherwise.
        for (function, fields, status) in [
            ("rename_list", &[("name", "Logged list")][..], 302),
            ("rename_list", &[("name", " ")], 422),
            ("open_list", &[], 302),
            (
                "set_todo_completed",
                &[("id", "999999"), ("completed", "true")],
                404,
            ),
            ("delete_todo", &[("id", "x"), ("version", "1")], 302),
        ] {
            let answer = post(function, fields)
                .header("accept", "text/html")
                .header("referer", format!("{page}?filter=active"))
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status(), status, "{function}");
        }
        let forged = client
            .post(format!("{address}/api/clear_completed"))
            .header("origin", "https://evil.example")
            .form(&[("list", list.to_string())])
            .send()
            .await
            .unwrap();
        assert_eq!(forged.status(), 403);
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
    // Pages are logged by their route's template.
    assert!(
        all.contains(r#""route":"/lists/{id}""#),
        "no list page logged by its template: {all}"
    );
    for form in &list_forms {
        assert!(
            !all.contains(form.as_str()),
            "a list id was logged ({form}): {all}"
        );
    }
    println!(
        "[logs] {} JSON lines at debug level; the list id appears in none of its {} forms",
        lines.len(),
        list_forms.len()
    );
}

/// Issue 13's data migration, on a database that holds todos from before lists: every
/// todo moves into one list, its counts are exact, the previous release's inserts
/// (which name no list) still work during a rolling deploy, and `tasks lists` prints
/// that list's link for the operator.
#[test]
fn todos_from_before_lists_move_into_one_list_that_tasks_lists_prints() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (_, url) = empty_database(&runtime);
    let list = runtime.block_on(async {
        use sqlx::{Connection, Executor};
        let mut db = sqlx::PgConnection::connect(&url).await.unwrap();
        // The schema of the previous release, with its todos.
        for migration in [
            include_str!("../migrations/20261128000000_create_todos.sql"),
            include_str!("../migrations/20261128100000_complete_edit_and_page_todos.sql"),
        ] {
            sqlx::raw_sql(migration).execute(&mut db).await.unwrap();
        }
        db.execute(
            "INSERT INTO todos (title, completed) \
             SELECT 'before ' || g, g % 4 = 0 FROM generate_series(1, 40) g",
        )
        .await
        .unwrap();
        sqlx::raw_sql(include_str!("../migrations/20261202000000_lists.sql"))
            .execute(&mut db)
            .await
            .unwrap();
        // The previous release's insert, during the rollout.
        db.execute("INSERT INTO todos (title, text) VALUES ('old release', '')")
            .await
            .unwrap();
        let lists: Vec<(uuid::Uuid, i64, i64, i64)> = sqlx::query_as(
            "SELECT lists.id, \
                    (SELECT count(*) FROM todos WHERE list_id = lists.id), \
                    (SELECT sum(total)::int8 FROM list_counts WHERE list_id = lists.id), \
                    (SELECT sum(completed)::int8 FROM list_counts WHERE list_id = lists.id) \
             FROM lists",
        )
        .fetch_all(&mut db)
        .await
        .unwrap();
        assert_eq!(lists.len(), 1, "{lists:?}");
        let (id, stored, total, completed) = lists[0];
        assert_eq!((stored, total, completed), (41, 41, 10));
        tasks::lists::model::ListId::from_u128(id.as_u128())
    });

    let output = tasks()
        .env("DATABASE_URL", &url)
        .env("PUBLIC_URL", "https://tasks.example")
        .arg("lists")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let row = stdout
        .lines()
        .find(|line| line.ends_with(&format!("https://tasks.example{}", list.href())))
        .unwrap_or_else(|| panic!("the list is not printed: {stdout}"));
    assert!(
        row.starts_with("41\t") && row.contains("\tMy tasks\t"),
        "{row}"
    );
    println!(
        "[migration] 40 todos from before lists and 1 from the old release in one list: {row}"
    );
}

/// Issue 14, test 7. A new release migrates while a long transaction of the old one
/// holds `todos` (a slow report, a stuck request): the migration's `ALTER TABLE` waits
/// for its lock at most `MIGRATION_LOCK_TIMEOUT_MS`, then gives up (the Job retries),
/// and nothing is half-applied. The app's reads, which queue behind a waiting lock
/// request, are held no longer than that. Once the transaction ends, the retry applies.
#[test]
fn a_migration_that_cannot_get_its_lock_gives_up_in_time_and_leaves_nothing_half_applied() {
    use sqlx::{Connection, Executor};
    use std::time::{Duration, Instant};
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (database, url) = empty_database(&runtime);
    // The previous release's schema, recorded by its migrator: the migrations before
    // lists, from a directory of their own.
    let previous = std::env::temp_dir().join(format!("tasks-previous-{database}"));
    std::fs::create_dir_all(&previous).unwrap();
    for name in [
        "20261128000000_create_todos.sql",
        "20261128100000_complete_edit_and_page_todos.sql",
    ] {
        std::fs::copy(format!("migrations/{name}"), previous.join(name)).unwrap();
    }
    let (mut holder, reader) = runtime.block_on(async {
        let mut db = sqlx::PgConnection::connect(&url).await.unwrap();
        sqlx::migrate::Migrator::new(previous.as_path())
            .await
            .unwrap()
            .run(&mut db)
            .await
            .unwrap();
        db.execute("INSERT INTO todos (title) VALUES ('from the previous release')")
            .await
            .unwrap();
        // The long transaction: it has read todos, so it holds their ACCESS SHARE lock.
        db.execute("BEGIN").await.unwrap();
        db.execute("SELECT count(*) FROM todos").await.unwrap();
        let reader = sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .connect(&url)
            .await
            .unwrap();
        (db, reader)
    });
    let _ = std::fs::remove_dir_all(&previous);

    // The app's reads all along, timed.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reads = runtime.spawn({
        let (stop, reader) = (stop.clone(), reader.clone());
        async move {
            let mut slowest = Duration::ZERO;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let asked = Instant::now();
                sqlx::query("SELECT count(*) FROM todos")
                    .execute(&reader)
                    .await
                    .unwrap();
                slowest = slowest.max(asked.elapsed());
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            slowest
        }
    });
    let migrate = || {
        tasks()
            .env("DATABASE_URL", &url)
            .env("MIGRATION_LOCK_TIMEOUT_MS", "500")
            .arg("migrate")
            .output()
            .unwrap()
    };
    let started = Instant::now();
    let refused = migrate();
    let gave_up_after = started.elapsed();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let slowest_read = runtime.block_on(reads).unwrap();
    let stderr = String::from_utf8_lossy(&refused.stderr).into_owned();
    assert!(
        !refused.status.success(),
        "migrated through a held lock: {stderr}"
    );
    assert!(stderr.contains("lock timeout"), "{stderr}");
    let (lists_exist, latest): (bool, i64) = runtime.block_on(async {
        sqlx::query_as(
            "SELECT to_regclass('lists') IS NOT NULL, \
                    (SELECT max(version) FROM _sqlx_migrations WHERE success)",
        )
        .fetch_one(&reader)
        .await
        .unwrap()
    });
    assert!(!lists_exist, "the migration was half-applied");
    assert_eq!(latest, 20261128100000);

    // The transaction ends; the Job's retry applies the migration.
    runtime.block_on(async { holder.execute("COMMIT").await.unwrap() });
    let retried = migrate();
    assert!(
        retried.status.success(),
        "{}",
        String::from_utf8_lossy(&retried.stderr)
    );
    let stored: i64 = runtime.block_on(async {
        sqlx::query_scalar("SELECT count(*) FROM todos JOIN lists ON lists.id = todos.list_id")
            .fetch_one(&reader)
            .await
            .unwrap()
    });
    assert_eq!(stored, 1, "the todo of the previous release is in a list");
    println!(
        "[migration under a held lock] gave up after {} ms (lock timeout 500 ms), nothing \
         applied; the slowest read meanwhile took {} ms; the retry applied it",
        gave_up_after.as_millis(),
        slowest_read.as_millis()
    );
    assert!(gave_up_after < Duration::from_secs(3), "{gave_up_after:?}");
    assert!(
        slowest_read < Duration::from_millis(1_500),
        "{slowest_read:?}"
    );
}
