//! Completing, editing, deleting and filtering todos through their server functions,
//! over real HTTP against a real primary + replica: valid and invalid input, concurrent
//! edits, missing ids, and the same controls posted as plain HTML forms (no JavaScript).

use crate::{
    helpers::spawn_app,
    support::app::{browser_client, wait_until, TestApp},
};
use serde_json::Value;
use std::time::Duration;
use tasks::{
    server::read_your_writes::COOKIE_NAME,
    todos::{
        listing::{TodoCounts, TodoPage},
        model::Todo,
    },
};

async fn call_ok(app: &TestApp, function: &str, args: &[(&str, &str)]) -> Value {
    let response = app.call(&app.client, function, args).await;
    let status = response.status();
    let body = response.text().await.unwrap();
    assert_eq!(status, 200, "{function} {args:?}: {body}");
    serde_json::from_str(&body).unwrap()
}

async fn set_completed(app: &TestApp, todo: &Todo, completed: bool) -> Todo {
    let value = call_ok(
        app,
        "set_todo_completed",
        &[
            ("id", &todo.id.to_string()),
            ("completed", &completed.to_string()),
        ],
    )
    .await;
    serde_json::from_value(value).unwrap()
}

/// `(status, body)` of a call expected to be refused.
async fn refused(app: &TestApp, function: &str, args: &[(&str, &str)]) -> (u16, Value) {
    let response = app.call(&app.client, function, args).await;
    let status = response.status().as_u16();
    let body = response.text().await.unwrap();
    assert!(!body.contains("SQL") && !body.contains("todos"), "{body}");
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

async fn stored(app: &TestApp, id: i64) -> Option<(String, String, bool, i32)> {
    sqlx::query_as("SELECT title, text, completed, version FROM todos WHERE id = $1")
        .bind(id)
        .fetch_optional(&app.primary)
        .await
        .unwrap()
}

async fn counts(app: &TestApp) -> TodoCounts {
    app.list_page(&[]).await.counts
}

#[tokio::test]
async fn marking_done_and_not_done_moves_the_count_and_raises_the_version() {
    let app = spawn_app().await;
    let todo = app.create_ok("Water the plants", "").await;
    app.create_ok("Call Bob", "").await;
    assert_eq!(
        counts(&app).await,
        TodoCounts {
            active: 2,
            completed: 0
        }
    );

    let done = set_completed(&app, &todo, true).await;
    assert!(done.completed);
    assert_eq!(done.version, todo.version + 1);
    assert_eq!(
        counts(&app).await,
        TodoCounts {
            active: 1,
            completed: 1
        }
    );
    assert_eq!(
        stored(&app, todo.id).await.unwrap(),
        ("Water the plants".into(), String::new(), true, 2)
    );

    // Asking for the state it has changes nothing, not even the version.
    let again = set_completed(&app, &todo, true).await;
    assert_eq!(again, done);

    let undone = set_completed(&app, &todo, false).await;
    assert!(!undone.completed);
    assert_eq!(undone.version, 3);
    assert_eq!(counts(&app).await.active, 2);
}

#[tokio::test]
async fn every_change_sets_the_read_your_writes_cookie_and_is_read_back_at_once() {
    let app = spawn_app().await;
    let todo = app.create_ok("Seen at once", "").await;

    let writer = browser_client();
    let id = todo.id.to_string();
    let response = app
        .call(
            &writer,
            "set_todo_completed",
            &[("id", &id), ("completed", "true")],
        )
        .await;
    assert_eq!(response.status(), 200);
    let cookie = response.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.starts_with(&format!("{COOKIE_NAME}=")), "{cookie}");

    // The same client's next read already has the change, wherever it is served.
    let page: TodoPage = app.list_with(&writer).await.json().await.unwrap();
    assert!(page.todos[0].completed);
}

#[tokio::test]
async fn marking_a_missing_todo_is_a_404_and_a_malformed_id_a_400() {
    let app = spawn_app().await;
    let (status, body) = refused(
        &app,
        "set_todo_completed",
        &[("id", "987654"), ("completed", "true")],
    )
    .await;
    assert_eq!((status, body), (404, Value::from("NotFound")));

    for args in [
        &[("id", "abc"), ("completed", "true")][..],
        &[("id", "1"), ("completed", "maybe")],
        &[("completed", "true")],
    ] {
        let (status, _) = refused(&app, "set_todo_completed", args).await;
        assert_eq!(status, 400, "{args:?}");
    }
}

#[tokio::test]
async fn an_edit_is_trimmed_checked_and_raises_the_version() {
    let app = spawn_app().await;
    let todo = app.create_ok("Draft", "old text").await;

    let value = call_ok(
        &app,
        "update_todo",
        &[
            ("id", &todo.id.to_string()),
            ("version", "1"),
            ("title", "  Final title "),
            ("text", " new text\n"),
        ],
    )
    .await;
    let edited: Todo = serde_json::from_value(value).unwrap();
    assert_eq!(
        (edited.title.as_str(), edited.text.as_str(), edited.version),
        ("Final title", "new text", 2)
    );
    assert_eq!(edited.created_at, todo.created_at);
    assert_eq!(
        stored(&app, todo.id).await.unwrap(),
        ("Final title".into(), "new text".into(), false, 2)
    );
}

#[tokio::test]
async fn an_invalid_edit_is_a_422_with_the_messages_and_changes_nothing() {
    let app = spawn_app().await;
    let todo = app.create_ok("Keep me", "as I am").await;
    let id = todo.id.to_string();
    let long_text = "x".repeat(4001);

    for (title, text, field, message) in [
        ("", "text", "title", "Title can't be empty."),
        ("  ", "", "title", "Title can't be empty."),
        (
            "fine",
            long_text.as_str(),
            "text",
            "Text must be at most 4000 characters (it has 4001).",
        ),
    ] {
        let (status, body) = refused(
            &app,
            "update_todo",
            &[
                ("id", &id),
                ("version", "1"),
                ("title", title),
                ("text", text),
            ],
        )
        .await;
        assert_eq!(status, 422);
        assert_eq!(body["Invalid"]["errors"][field], message, "{body}");
    }
    assert_eq!(
        stored(&app, todo.id).await.unwrap(),
        ("Keep me".into(), "as I am".into(), false, 1)
    );
}

#[tokio::test]
async fn of_two_edits_made_from_the_same_version_the_second_is_refused_not_lost() {
    let app = spawn_app().await;
    let todo = app.create_ok("Shared", "").await;
    let id = todo.id.to_string();
    let edit = |client: reqwest::Client, title: &'static str| {
        let id = id.clone();
        let app = &app;
        async move {
            app.call(
                &client,
                "update_todo",
                &[
                    ("id", &id),
                    ("version", "1"),
                    ("title", title),
                    ("text", ""),
                ],
            )
            .await
            .status()
            .as_u16()
        }
    };

    // Two tabs opened the same version; both save, at the same time.
    let (first, second) = tokio::join!(
        edit(browser_client(), "From tab one"),
        edit(browser_client(), "From tab two")
    );
    let mut statuses = [first, second];
    statuses.sort();
    assert_eq!(statuses, [200, 409]);

    let (title, _, _, version) = stored(&app, todo.id).await.unwrap();
    assert!(title == "From tab one" || title == "From tab two");
    assert_eq!(version, 2);

    // The refused tab is told why; what it then saves from the new version goes in.
    let (status, body) = refused(
        &app,
        "update_todo",
        &[
            ("id", &id),
            ("version", "1"),
            ("title", "Stale"),
            ("text", ""),
        ],
    )
    .await;
    assert_eq!((status, body), (409, Value::from("Conflict")));
    call_ok(
        &app,
        "update_todo",
        &[
            ("id", &id),
            ("version", "2"),
            ("title", "Merged"),
            ("text", ""),
        ],
    )
    .await;
    assert_eq!(stored(&app, todo.id).await.unwrap().0, "Merged");
}

#[tokio::test]
async fn marking_done_elsewhere_makes_an_older_edit_conflict() {
    let app = spawn_app().await;
    let todo = app.create_ok("Toggled elsewhere", "").await;
    set_completed(&app, &todo, true).await;

    let (status, _) = refused(
        &app,
        "update_todo",
        &[
            ("id", &todo.id.to_string()),
            ("version", "1"),
            ("title", "Edited here"),
            ("text", ""),
        ],
    )
    .await;
    assert_eq!(status, 409);
    assert_eq!(stored(&app, todo.id).await.unwrap().0, "Toggled elsewhere");
}

#[tokio::test]
async fn editing_a_missing_todo_is_a_404() {
    let app = spawn_app().await;
    let (status, body) = refused(
        &app,
        "update_todo",
        &[
            ("id", "424242"),
            ("version", "1"),
            ("title", "Ghost"),
            ("text", ""),
        ],
    )
    .await;
    assert_eq!((status, body), (404, Value::from("NotFound")));
}

#[tokio::test]
async fn delete_removes_the_todo_unless_it_changed_or_is_gone() {
    let app = spawn_app().await;
    let todo = app.create_ok("Delete me", "").await;
    let kept = app.create_ok("Keep me", "").await;
    let id = todo.id.to_string();

    // Changed since this client saw it: not deleted.
    set_completed(&app, &todo, true).await;
    let (status, _) = refused(&app, "delete_todo", &[("id", &id), ("version", "1")]).await;
    assert_eq!(status, 409);
    assert!(stored(&app, todo.id).await.is_some());

    call_ok(&app, "delete_todo", &[("id", &id), ("version", "2")]).await;
    assert!(stored(&app, todo.id).await.is_none());
    assert_eq!(app.list().await, [kept]);
    assert_eq!(
        counts(&app).await,
        TodoCounts {
            active: 1,
            completed: 0
        }
    );

    let (status, body) = refused(&app, "delete_todo", &[("id", &id), ("version", "2")]).await;
    assert_eq!((status, body), (404, Value::from("NotFound")));
    let (status, _) = refused(&app, "delete_todo", &[("id", "x"), ("version", "1")]).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn mark_all_and_clear_completed_act_on_every_todo_and_keep_the_counts() {
    let app = spawn_app().await;
    let mut todos = Vec::new();
    for n in 0..5 {
        todos.push(app.create_ok(&format!("todo {n}"), "").await);
    }
    set_completed(&app, &todos[0], true).await;

    let changed = call_ok(&app, "set_all_completed", &[("completed", "true")]).await;
    assert_eq!(changed, 4, "only the four active todos change");
    assert_eq!(
        counts(&app).await,
        TodoCounts {
            active: 0,
            completed: 5
        }
    );

    let changed = call_ok(&app, "set_all_completed", &[("completed", "false")]).await;
    assert_eq!(changed, 5);
    assert_eq!(counts(&app).await.active, 5);

    for todo in &todos[..2] {
        set_completed(&app, todo, true).await;
    }
    let cleared = call_ok(&app, "clear_completed", &[]).await;
    assert_eq!(cleared, 2);
    let left: Vec<String> = app.list().await.into_iter().map(|t| t.title).collect();
    assert_eq!(left, ["todo 4", "todo 3", "todo 2"]);
    assert_eq!(
        counts(&app).await,
        TodoCounts {
            active: 3,
            completed: 0
        }
    );
    assert_eq!(call_ok(&app, "clear_completed", &[]).await, 0);

    let (status, _) = refused(&app, "set_all_completed", &[("completed", "yes")]).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn the_counts_stay_exact_under_concurrent_changes() {
    let app = &spawn_app().await;
    let todos: Vec<Todo> = futures::future::join_all((0..40).map(|n| async move {
        let response = app.create(&browser_client(), &format!("c{n}"), "").await;
        response.json::<Todo>().await.unwrap()
    }))
    .await;
    futures::future::join_all(todos.iter().step_by(2).map(|todo| async move {
        let response = app
            .call(
                &browser_client(),
                "set_todo_completed",
                &[("id", &todo.id.to_string()), ("completed", "true")],
            )
            .await;
        assert_eq!(response.status(), 200);
    }))
    .await;

    let (active, completed): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE NOT completed), count(*) FILTER (WHERE completed) \
         FROM todos",
    )
    .fetch_one(&app.primary)
    .await
    .unwrap();
    assert_eq!((active, completed), (20, 20));
    // This client wrote nothing, so it reads from the replica once that has caught up.
    let expected = TodoCounts { active, completed };
    let agreed = wait_until(Duration::from_secs(10), || async {
        (counts(app).await == expected).then_some(())
    })
    .await;
    assert!(
        agreed.is_some(),
        "the list's counts never matched {expected:?}"
    );
}

#[tokio::test]
async fn filters_show_active_or_completed_todos_and_a_bad_filter_is_a_400() {
    let app = spawn_app().await;
    app.create_ok("first", "").await;
    let second = app.create_ok("second", "").await;
    app.create_ok("third", "").await;
    set_completed(&app, &second, true).await;

    let titles = |todos: Vec<Todo>| todos.into_iter().map(|t| t.title).collect::<Vec<_>>();
    let active = app.list_page(&[("filter", "active")]).await;
    assert_eq!(titles(active.todos), ["third", "first"]);
    let completed = app.list_page(&[("filter", "completed")]).await;
    assert_eq!(titles(completed.todos), ["second"]);
    let all = app.list_page(&[("filter", "all")]).await;
    assert_eq!(titles(all.todos), ["third", "second", "first"]);

    for query in [
        &[("filter", "done")][..],
        &[("after", "1"), ("before", "2")],
        &[("after", "one")],
    ] {
        let response = app.call(&app.client, "list_todos", query).await;
        assert_eq!(response.status(), 400, "{query:?}");
    }
    // The page says so too, with a 400.
    let page = app
        .client
        .get(app.list_url("?filter=done"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 400);
    assert!(page.text().await.unwrap().contains("This page address isn"));
}

/// A plain HTML form post, as a browser without JavaScript sends it from `page`.
async fn form_post(
    app: &TestApp,
    function: &str,
    page: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/api/{function}")))
        .header("accept", "text/html,application/xhtml+xml")
        .header("referer", app.list_url(page))
        .form(&[&[("list", app.list.to_string().as_str())], fields].concat())
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn without_javascript_each_control_posts_a_form_and_comes_back_to_the_same_page() {
    let app = spawn_app().await;
    let todo = app.create_ok("No script", "").await;
    let id = todo.id.to_string();

    let toggled = form_post(
        &app,
        "set_todo_completed",
        "?filter=active",
        &[("id", &id), ("completed", "true")],
    )
    .await;
    assert_eq!(toggled.status(), 302);
    // A path of the app, never the Referer's origin.
    assert_eq!(
        toggled.headers()["location"],
        format!("{}?filter=active", app.list.href()).as_str()
    );
    assert!(stored(&app, todo.id).await.unwrap().2);

    // The page the browser comes back to shows the todo checked (in the right view).
    let completed_view = app
        .page(&app.client, &app.list_url("?filter=completed"))
        .await;
    assert!(
        completed_view.contains(r#"aria-checked="true""#),
        "{completed_view}"
    );
    assert!(completed_view.contains("No script"));

    // Edit opens the form on the server (a GET with `edit=<id>`); saving closes it.
    let edit_page = app
        .page(&app.client, &app.list_url(&format!("?edit={id}")))
        .await;
    assert!(
        edit_page.contains(r#"action="/api/update_todo""#),
        "{edit_page}"
    );
    let saved = form_post(
        &app,
        "update_todo",
        &format!("?filter=completed&edit={id}"),
        &[
            ("id", &id),
            ("version", "2"),
            ("title", "No script, edited"),
            ("text", "plain form"),
        ],
    )
    .await;
    assert_eq!(saved.status(), 302);
    assert_eq!(
        saved.headers()["location"],
        format!("{}?filter=completed", app.list.href()).as_str()
    );
    assert_eq!(stored(&app, todo.id).await.unwrap().0, "No script, edited");

    let deleted = form_post(&app, "delete_todo", "", &[("id", &id), ("version", "3")]).await;
    assert_eq!(deleted.status(), 302);
    assert!(stored(&app, todo.id).await.is_none());

    app.create_ok("a", "").await;
    let marked = form_post(&app, "set_all_completed", "", &[("completed", "true")]).await;
    assert_eq!(marked.status(), 302);
    let cleared = form_post(&app, "clear_completed", "", &[]).await;
    assert_eq!(cleared.status(), 302);
    assert_eq!(app.stored_count().await, 0);
}

#[tokio::test]
async fn without_javascript_a_refused_edit_comes_back_with_the_message_and_the_input() {
    let app = spawn_app().await;
    let todo = app.create_ok("Original", "").await;
    let id = todo.id.to_string();
    let edit_page = format!("?edit={id}");

    let invalid = form_post(
        &app,
        "update_todo",
        &edit_page,
        &[
            ("id", &id),
            ("version", "1"),
            ("title", "   "),
            ("text", "typed <b>text</b>"),
        ],
    )
    .await;
    assert_eq!(invalid.status(), 422);
    assert!(invalid.headers().get("location").is_none());
    let page = invalid.text().await.unwrap();
    // The edit form is open again, in the view it was posted from.
    assert!(
        page.contains(&format!("{}{edit_page}", app.list.href())),
        "{page}"
    );
    assert!(
        page.contains("Title can&#x27;t be empty.") || page.contains("Title can't be empty."),
        "{page}"
    );
    assert!(page.contains("typed &lt;b&gt;text&lt;/b&gt;"), "{page}");
    assert_eq!(stored(&app, todo.id).await.unwrap().0, "Original");

    // A stale version: the page says the todo changed elsewhere.
    let stale = form_post(
        &app,
        "update_todo",
        &edit_page,
        &[
            ("id", &id),
            ("version", "7"),
            ("title", "Stale"),
            ("text", ""),
        ],
    )
    .await;
    assert_eq!(stale.status(), 409);
    let page = stale.text().await.unwrap();
    assert!(page.contains("changed elsewhere"), "{page}");
    assert_eq!(stored(&app, todo.id).await.unwrap().0, "Original");
}

/// Every form posted without JavaScript, whatever its `Referer` (another site's, or
/// none), is answered on success with a redirect to a path of this app (the list), and
/// on refusal with the list page showing the message; never with a `Location` elsewhere.
#[tokio::test]
async fn without_javascript_every_form_post_lands_on_the_app_whatever_the_referer() {
    let app = spawn_app().await;
    let post = |function: &'static str,
                referer: Option<&'static str>,
                fields: Vec<(&'static str, String)>| {
        let mut request = app
            .client
            .post(app.url(&format!("/api/{function}")))
            .header("accept", "text/html,application/xhtml+xml")
            .form(&fields);
        if let Some(referer) = referer {
            request = request.header("referer", referer);
        }
        request.send()
    };
    let mut checked = 0;
    let list = app.list.to_string();
    for referer in [Some("https://evil.example/?filter=active"), None] {
        let todo = app.create_ok("Landing", "").await;
        let (id, version) = (todo.id.to_string(), todo.version);
        let field = |name, value: &str| (name, value.to_owned());
        let in_list = |mut fields: Vec<(&'static str, String)>| {
            fields.insert(0, ("list", list.clone()));
            fields
        };
        let successes = [
            (
                "create_todo",
                vec![field("title", "New"), field("text", "")],
            ),
            (
                "set_todo_completed",
                vec![field("id", &id), field("completed", "true")],
            ),
            (
                "update_todo",
                vec![
                    field("id", &id),
                    field("version", &(version + 1).to_string()),
                    field("title", "Edited"),
                    field("text", ""),
                ],
            ),
            // Already done: marking all leaves its version as the edit made it.
            ("set_all_completed", vec![field("completed", "true")]),
            (
                "delete_todo",
                vec![
                    field("id", &id),
                    field("version", &(version + 2).to_string()),
                ],
            ),
            ("clear_completed", vec![]),
        ];
        for (function, fields) in successes {
            let answer = post(function, referer, in_list(fields)).await.unwrap();
            assert_eq!(answer.status(), 302, "{function} from {referer:?}");
            let location = answer.headers()["location"].to_str().unwrap();
            assert!(
                location.starts_with(&app.list.href()) && !location.contains("__err"),
                "{function} from {referer:?}: {location}"
            );
            checked += 1;
        }
        let failures = [
            (
                "create_todo",
                vec![field("title", " "), field("text", "")],
                422,
                "Title can",
            ),
            (
                "update_todo",
                vec![
                    field("id", "999999"),
                    field("version", "1"),
                    field("title", "x"),
                    field("text", ""),
                ],
                404,
                "no longer exists",
            ),
        ];
        // The Referer's view of the list, when it names one (only its query is read).
        let view = match referer {
            Some(_) => format!("{}?filter=active", app.list.href()),
            None => app.list.href(),
        };
        for (function, fields, status, message) in failures {
            let answer = post(function, referer, in_list(fields)).await.unwrap();
            assert_eq!(answer.status(), status, "{function} from {referer:?}");
            assert!(answer.headers().get("location").is_none(), "{function}");
            let page = answer.text().await.unwrap();
            assert!(page.contains(message), "{function}: {page}");
            assert!(
                page.contains(&format!(r#"history.replaceState(null,"","{view}")"#)),
                "{function} from {referer:?}: {page}"
            );
            checked += 1;
        }
        // A body that did not decode names no list it can be trusted with: to `/`, which
        // leads to the list this browser used last.
        let undecodable = vec![field("id", "not-a-number"), field("version", "1")];
        let answer = post("delete_todo", referer, in_list(undecodable))
            .await
            .unwrap();
        assert_eq!(answer.status(), 302);
        assert_eq!(answer.headers()["location"], "/");
        checked += 1;
    }
    println!("[form posts] {checked} posts from a foreign Referer or none: all landed on the app");
}
