//! The todo server functions and page over real HTTP, against a real primary + replica.

use crate::{
    helpers::spawn_app,
    support::app::{browser_client, wait_until},
};
use futures::future::join_all;
use serde_json::Value;
use std::{collections::HashSet, time::Duration};
use tasks::todos::model::{TEXT_MAX_CHARS, TITLE_MAX_CHARS};

#[tokio::test]
async fn create_stores_the_trimmed_todo_and_returns_it() {
    let app = spawn_app().await;

    let todo = app
        .create_ok("  Water the plants \n", "  the ones by the window ")
        .await;

    assert_eq!(todo.title, "Water the plants");
    assert_eq!(todo.text, "the ones by the window");
    let (title, text): (String, String) =
        sqlx::query_as("SELECT title, text FROM todos WHERE id = $1")
            .bind(todo.id)
            .fetch_one(&app.primary)
            .await
            .unwrap();
    assert_eq!(
        (title.as_str(), text.as_str()),
        ("Water the plants", "the ones by the window")
    );
}

#[tokio::test]
async fn a_client_always_sees_its_own_new_todo_and_the_list_is_newest_first() {
    let app = spawn_app().await;

    let mut created = Vec::new();
    for n in 0..10 {
        // Each create is followed at once by a list: the replica may not have replayed
        // the insert yet, and the todo must be there all the same.
        created.push(app.create_ok(&format!("todo {n}"), "").await);
        let listed = app.list().await;
        assert_eq!(
            listed.first(),
            created.last(),
            "own write missing right after create {n}"
        );
    }

    let listed = app.list().await;
    created.reverse();
    assert_eq!(listed, created);
}

#[tokio::test]
async fn every_invalid_input_is_rejected_with_422_and_nothing_is_stored() {
    let app = spawn_app().await;
    let long_title = "t".repeat(TITLE_MAX_CHARS + 1);
    let long_text = "x".repeat(TEXT_MAX_CHARS + 1);
    let cases = [
        ("", "text", "title", "Title can't be empty."),
        ("   \t\n", "", "title", "Title can't be empty."),
        (
            "a\0b",
            "",
            "title",
            "Title contains a NUL character, which can't be stored.",
        ),
        (
            long_title.as_str(),
            "",
            "title",
            "Title must be at most 200 characters (it has 201).",
        ),
        (
            "fine",
            long_text.as_str(),
            "text",
            "Text must be at most 4000 characters (it has 4001).",
        ),
    ];

    for (title, text, field, message) in cases {
        let response = app.create(&app.client, title, text).await;
        assert_eq!(
            response.status(),
            422,
            "input {title:?}/{} chars",
            text.len()
        );
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["Invalid"]["errors"][field], message, "{body}");
    }
    assert_eq!(app.stored_count().await, 0);
}

#[tokio::test]
async fn a_request_our_form_never_sends_is_a_400() {
    let app = spawn_app().await;

    let response = app
        .client
        .post(app.url("/api/create_todo"))
        .form(&[("text", "no title field at all")])
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 400);
    assert_eq!(app.stored_count().await, 0);
}

#[tokio::test]
async fn a_refused_form_post_without_javascript_is_answered_with_the_page_the_error_and_the_input()
{
    let app = spawn_app().await;
    let referer = app.list_url("?filter=active");
    let list = app.list.to_string();
    let post = |title: &'static str| {
        app.client
            .post(app.url("/api/create_todo"))
            .header("accept", "text/html,application/xhtml+xml")
            .header("referer", &referer)
            .form(&[
                ("list", list.as_str()),
                ("title", title),
                ("text", "kept </textarea><script>window.pwned=1</script>"),
            ])
            .send()
    };

    let rejected = post("   ").await.unwrap();
    // The answer is the list page itself: no redirect, nothing in a URL.
    assert_eq!(rejected.status(), 422);
    assert!(rejected.headers().get("location").is_none());
    let page = rejected.text().await.unwrap();
    assert_eq!(app.stored_count().await, 0);
    // In the view the form was posted from, whose URL scripts put in the address bar.
    let view = format!("{}?filter=active", app.list.href());
    assert!(
        page.contains(&format!(r#"history.replaceState(null,"","{view}")"#)),
        "{page}"
    );
    assert!(page.contains(r#"aria-current="page""#) && page.contains("No active todos"));
    // It shows the message and what was typed.
    assert!(
        page.contains("Title can&#x27;t be empty.") || page.contains("Title can't be empty."),
        "{page}"
    );
    assert!(
        page.contains("kept &lt;/textarea&gt;&lt;script&gt;window.pwned=1&lt;/script&gt;"),
        "typed text not kept, or not escaped: {page}"
    );
    assert!(!page.contains("<script>window.pwned"));

    let accepted = post("Buy bread").await.unwrap();
    assert_eq!(accepted.status(), 302);
    // Back to the view it was posted from.
    let location = accepted.headers()["location"].to_str().unwrap();
    assert_eq!(location, view);
    assert_eq!(app.stored_count().await, 1);
    let page = app.page(&app.client, &app.list_url("")).await;
    assert!(page.contains("Buy bread"));
}

/// The typed input of a refused post comes back on the page, never in a header: a text
/// of 4,001 four-byte characters made a `Location` of about 43 KB when it travelled in
/// the URL, beyond what some proxies pass. A `Referer` with a long query adds nothing.
#[tokio::test]
async fn a_refused_long_input_comes_back_on_the_page_and_no_location_grows_with_input() {
    let app = spawn_app().await;
    let list = app.list.to_string();
    let long_text = "🦀".repeat(TEXT_MAX_CHARS + 1);
    let long_referer = app.list_url(&format!("?filter=active&edit={}", "9".repeat(3000)));
    let post = |title: &str, text: &str| {
        app.client
            .post(app.url("/api/create_todo"))
            .header("accept", "text/html")
            .header("referer", &long_referer)
            .form(&[("list", list.as_str()), ("title", title), ("text", text)])
            .send()
    };

    let refused = post("Too long", &long_text).await.unwrap();
    assert_eq!(refused.status(), 422);
    let header_bytes: usize = refused
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    assert!(header_bytes < 4096, "{header_bytes} bytes of headers");
    let page = refused.text().await.unwrap();
    assert!(
        page.contains(&long_text),
        "the typed text is not on the page"
    );
    assert_eq!(app.stored_count().await, 0);

    let accepted = post("Short", "").await.unwrap();
    assert_eq!(accepted.status(), 302);
    // The over-long `edit` value is not one the app made: dropped.
    assert_eq!(
        accepted.headers()["location"],
        format!("{}?filter=active", app.list.href()).as_str()
    );
}

/// The list travels once: as HTML. The data sent along for hydration carries ids,
/// versions and states, not the titles and texts the HTML already shows (it used to
/// carry them again, 13.6 KB of a 92 KB page).
#[tokio::test]
async fn a_list_page_carries_each_title_and_text_once() {
    let app = spawn_app().await;
    let todo = app
        .create_ok("Sent once please", "And this text once too")
        .await;

    let page = app.page(&app.client, &app.list_url("")).await;
    assert_eq!(page.matches("Sent once please").count(), 1, "{page}");
    assert_eq!(page.matches("And this text once too").count(), 1, "{page}");
    // Its id, version and state are in the hydration data.
    assert!(
        page.contains(&format!("[{},{},false]", todo.id, todo.version)),
        "{page}"
    );

    // Opened in its edit form, it is sent in full: the form's fields are not where the
    // browser would read it back from.
    let editing = app
        .page(&app.client, &app.list_url(&format!("?edit={}", todo.id)))
        .await;
    assert!(
        editing.contains(r#"\"title\":\"Sent once please\""#),
        "{editing}"
    );
}

#[tokio::test]
async fn two_hundred_concurrent_creates_are_each_stored_exactly_once() {
    let app = spawn_app().await;

    let responses = join_all((0..200).map(|n| {
        let app = &app;
        async move {
            let client = browser_client();
            let response = app.create(&client, &format!("concurrent {n}"), "").await;
            response.status()
        }
    }))
    .await;

    assert!(
        responses.iter().all(|status| *status == 200),
        "{responses:?}"
    );
    let titles: Vec<String> = sqlx::query_scalar("SELECT title FROM todos")
        .fetch_all(&app.primary)
        .await
        .unwrap();
    assert_eq!(titles.len(), 200);
    let distinct: HashSet<_> = titles.iter().collect();
    let expected: HashSet<String> = (0..200).map(|n| format!("concurrent {n}")).collect();
    assert_eq!(distinct, expected.iter().collect());
}

#[tokio::test]
async fn reads_without_a_recent_write_are_served_by_the_replica() {
    let app = spawn_app().await;
    app.create_ok("seen by both", "").await;
    // Wait until the replica has the row, then measure reads from a client without the
    // read-your-writes cookie.
    app.wait_for_replica_todos(1).await;
    let replica_before = app.todo_scans(&app.replica).await;
    let primary_before = app.todo_scans(&app.primary).await;

    let reader = browser_client();
    for _ in 0..20 {
        let response = app.list_with(&reader).await;
        assert_eq!(response.status(), 200);
    }

    // Table statistics are published by each server a moment after a transaction ends.
    let replica_scans = wait_until(Duration::from_secs(15), || async {
        let now = app.todo_scans(&app.replica).await;
        (now - replica_before >= 20).then_some(now - replica_before)
    })
    .await;
    assert!(
        replica_scans.is_some(),
        "the replica did not serve the 20 reads"
    );
    // Not exactly zero: the migration's index builds scan the table once each, and their
    // statistics may be published after `primary_before` was taken.
    let primary_scans = app.todo_scans(&app.primary).await - primary_before;
    assert!(
        primary_scans < 20,
        "the primary served the reads ({primary_scans} scans)"
    );
}

#[tokio::test]
async fn the_page_is_rendered_on_the_server_with_todos_as_text() {
    let app = spawn_app().await;

    let empty = app.client.get(app.list_url("")).send().await.unwrap();
    assert_eq!(empty.status(), 200);
    let empty = empty.text().await.unwrap();
    assert!(empty.contains("<title>My tasks · Tasks</title>"), "{empty}");
    assert!(empty.contains("No todos yet"));

    let todo = app
        .create_ok("<script>window.pwned = 1</script>", "<b>bold?</b>")
        .await;
    let page = app
        .client
        .get(app.list_url(""))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("&lt;script&gt;window.pwned = 1&lt;/script&gt;"),
        "{page}"
    );
    assert!(!page.contains("<script>window.pwned"));
    assert!(page.contains("&lt;b&gt;bold?&lt;/b&gt;"));
    assert!(page.contains(&format!(r#"datetime="{}""#, todo.created_at.iso())));
    assert!(!page.contains("No todos yet"));
}

#[tokio::test]
async fn database_errors_are_generic_and_leak_nothing() {
    let app = spawn_app().await;
    sqlx::query("ALTER TABLE todos RENAME TO todos_moved")
        .execute(&app.primary)
        .await
        .unwrap();
    wait_until(Duration::from_secs(5), || async {
        let gone: bool = sqlx::query_scalar("SELECT to_regclass('todos') IS NULL")
            .fetch_one(&app.replica)
            .await
            .ok()?;
        gone.then_some(())
    })
    .await
    .expect("the rename reaches the replica");

    let create = app.create(&app.client, "anything", "").await;
    assert_eq!(create.status(), 500);
    let body = create.text().await.unwrap();
    assert_eq!(body, r#""Internal""#);

    let list = app.list_with(&browser_client()).await;
    assert_eq!(list.status(), 500);
    let body = list.text().await.unwrap();
    assert!(
        !body.contains("todos") && !body.contains("relation"),
        "{body}"
    );
}

#[tokio::test]
async fn unknown_pages_are_404() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/no/such/page"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert!(response.text().await.unwrap().contains("Page not found"));
}
