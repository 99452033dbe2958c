//! Keyset paging over 100,000 todos of one list, interleaved with 100,000 of another:
//! the first page, later pages, the last page, the way back, and the filters, each
//! checked against the table; and every page read through an index, never by scanning
//! the table. How fast that is, is measured by the
//! benchmark (`scripts/bench.sh`), not here.

use crate::{
    helpers::spawn_app,
    support::app::{browser_client, wait_until, TestApp},
};
use std::time::Duration;
use tasks::todos::listing::{Cursor, Filter, ListQuery, TodoCounts, TodoPage, PAGE_SIZE};

const TODOS: i64 = 100_000;

async fn page_of(app: &TestApp, query: ListQuery) -> TodoPage {
    let params = query.url_params();
    let params: Vec<(&str, &str)> = params
        .iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect();
    // A client without the read-your-writes cookie: its reads go to the replica.
    let response = app.call(&browser_client(), "list_todos", &params).await;
    assert_eq!(response.status(), 200, "{query:?}");
    response.json().await.unwrap()
}

fn ids(page: &TodoPage) -> Vec<i64> {
    page.todos.iter().map(|todo| todo.id).collect()
}

/// Sequential scans and index-fetched rows of the todos table, as `server` counts them.
async fn table_reads(app: &TestApp) -> (i64, i64, i64) {
    sqlx::query("SELECT pg_stat_clear_snapshot()")
        .execute(&app.replica)
        .await
        .unwrap();
    sqlx::query_as(
        "SELECT coalesce(seq_scan, 0), coalesce(idx_scan, 0), coalesce(idx_tup_fetch, 0) \
         FROM pg_stat_user_tables WHERE relname = 'todos'",
    )
    .fetch_one(&app.replica)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_hundred_thousand_todos_are_paged_exactly_and_through_indexes() {
    let app = spawn_app().await;
    let other = uuid::Uuid::new_v4();
    sqlx::query("INSERT INTO lists (id) VALUES ($1), ($2)")
        .bind(app.list_key())
        .bind(other)
        .execute(&app.primary)
        .await
        .unwrap();
    // Every other id is the test's list's (its title names its id), every third of
    // those completed; the rest belong to another list, which must never show.
    sqlx::query(
        "INSERT INTO todos (list_id, title, text, completed) \
         SELECT CASE WHEN g % 2 = 0 THEN $2 ELSE $3 END, \
                CASE WHEN g % 2 = 0 THEN 'Todo ' ELSE 'Other ' END || g, \
                'Text of todo ' || g, (g / 2) % 3 = 0 \
         FROM generate_series(1, 2 * $1) g",
    )
    .bind(TODOS)
    .bind(app.list_key())
    .bind(other)
    .execute(&app.primary)
    .await
    .unwrap();
    sqlx::query("ANALYZE todos")
        .execute(&app.primary)
        .await
        .unwrap();
    // Wait for the replica by WAL position, not by counting rows: a count would scan
    // the table there, and this test checks that the app never does.
    let seeded: String = sqlx::query_scalar("SELECT pg_current_wal_lsn()::text")
        .fetch_one(&app.primary)
        .await
        .unwrap();
    wait_until(Duration::from_secs(30), || async {
        sqlx::query_scalar::<_, bool>("SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn")
            .bind(&seeded)
            .fetch_one(&app.replica)
            .await
            .ok()?
            .then_some(())
    })
    .await
    .expect("the replica replays the seed");
    let all: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM todos WHERE list_id = $1 ORDER BY id DESC")
            .bind(app.list_key())
            .fetch_all(&app.primary)
            .await
            .unwrap();
    assert_eq!(all.len() as i64, TODOS);
    let active: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM todos WHERE list_id = $1 AND NOT completed ORDER BY id DESC",
    )
    .bind(app.list_key())
    .fetch_all(&app.primary)
    .await
    .unwrap();
    let reads_before = table_reads(&app).await;

    // The first page: the 50 newest, the counts of the whole list, a way on only.
    let first = page_of(&app, ListQuery::default()).await;
    assert_eq!(ids(&first), all[..PAGE_SIZE]);
    assert_eq!(
        first.counts,
        TodoCounts {
            active: 66_667,
            completed: 33_333
        }
    );
    assert_eq!(first.newer, None);

    // Three pages on, each just after the one before.
    let mut next = first.older.expect("a second page");
    for n in 1..=3 {
        let page = page_of(&app, next).await;
        assert_eq!(
            ids(&page),
            all[n * PAGE_SIZE..(n + 1) * PAGE_SIZE],
            "page {n}"
        );
        assert!(page.newer.is_some());
        next = page.older.expect("more pages");
    }

    // The last page: the 50 oldest, no way on; and back from there.
    let last_start = all.len() - PAGE_SIZE;
    let last = page_of(
        &app,
        ListQuery {
            cursor: Cursor::OlderThan(all[last_start - 1]),
            ..ListQuery::default()
        },
    )
    .await;
    assert_eq!(ids(&last), all[last_start..]);
    assert_eq!(last.older, None);
    let before_last = page_of(&app, last.newer.expect("a way back")).await;
    assert_eq!(ids(&before_last), all[last_start - PAGE_SIZE..last_start]);
    assert!(before_last.older.is_some() && before_last.newer.is_some());

    // Deep inside a filtered view.
    let deep = ListQuery {
        filter: Filter::Active,
        cursor: Cursor::OlderThan(active[40_000]),
    };
    let page = page_of(&app, deep).await;
    assert_eq!(ids(&page), active[40_001..40_001 + PAGE_SIZE]);
    assert!(page.todos.iter().all(|todo| !todo.completed));

    // Nine pages read: through indexes only, a few hundred rows, never the table.
    let reads = wait_until(Duration::from_secs(15), || async {
        let now = table_reads(&app).await;
        (now.1 - reads_before.1 >= 9).then_some(now)
    })
    .await
    .expect("the replica served the pages");
    assert_eq!(
        reads.0, reads_before.0,
        "a sequential scan of todos ({reads_before:?} -> {reads:?})"
    );
    let fetched = reads.2 - reads_before.2;
    assert!(fetched < 1_000, "{fetched} rows read for nine pages");

    // The page itself: 50 todos, and links both ways.
    let html = app
        .page(
            &browser_client(),
            &app.list_url(&format!("?after={}", all[5_000])),
        )
        .await;
    assert_eq!(html.matches("<li id=\"todo-").count(), PAGE_SIZE);
    assert!(html.contains(&format!("Todo {}", all[5_001])));
    assert!(html.contains(r#"rel="prev""#) && html.contains(r#"rel="next""#));
    assert!(html.contains("66667 items left"));
}
