//! Lists as capability URLs (issue 13), over real HTTP against a real primary + replica:
//! one list never reaches another's todos, `/` leads to a list without writing, the
//! remembered lists, renaming, the per-list cap, cross-site refusals, the write rate
//! limit and the headers that keep a list's link from leaking.

use crate::{
    helpers::{foreign_client, spawn_app},
    support::{
        app::{browser_client, TestApp},
        database::create_test_database,
    },
};
use serde_json::Value;
use tasks::{
    lists::model::{ListHeader, ListId},
    todos::{listing::TodoPage, model::Todo},
};

fn another_list() -> ListId {
    ListId::random().unwrap()
}

/// What the primary holds of a todo: title, completed, version.
async fn on_primary(app: &TestApp, id: i64) -> Option<(String, bool, i32)> {
    sqlx::query_as("SELECT title, completed, version FROM todos WHERE id = $1")
        .bind(id)
        .fetch_optional(&app.primary)
        .await
        .unwrap()
}

async fn lists_on_primary(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM lists")
        .fetch_one(&app.primary)
        .await
        .unwrap()
}

#[tokio::test]
async fn no_server_function_reaches_the_todos_of_another_list() {
    let app = spawn_app().await;
    let mine = app.create_ok("Mine", "").await;
    let done = app.create_ok("Mine, done", "").await;
    let response = app
        .call(
            &app.client,
            "set_todo_completed",
            &[("id", &done.id.to_string()), ("completed", "true")],
        )
        .await;
    assert_eq!(response.status(), 200);
    let before = (
        on_primary(&app, mine.id).await,
        on_primary(&app, done.id).await,
    );

    let other = another_list().to_string();
    let (id, done_id) = (mine.id.to_string(), done.id.to_string());
    let (id, done_id) = (id.as_str(), done_id.as_str());
    // Each change, and the status it gets when aimed at the other list.
    let attempts = [
        (
            "set_todo_completed",
            vec![("id", id), ("completed", "true")],
            404,
        ),
        (
            "update_todo",
            vec![
                ("id", id),
                ("version", "1"),
                ("title", "Stolen"),
                ("text", ""),
            ],
            404,
        ),
        ("delete_todo", vec![("id", id), ("version", "1")], 404),
        ("delete_todo", vec![("id", done_id), ("version", "2")], 404),
        ("set_all_completed", vec![("completed", "true")], 200),
        ("clear_completed", vec![], 200),
    ];
    for (function, fields, status) in attempts {
        let mut args = vec![("list", other.as_str())];
        args.extend(fields);
        let response = app.call(&app.client, function, &args).await;
        assert_eq!(response.status(), status, "{function}");
        let body = response.text().await.unwrap();
        if status == 404 {
            // The same answer as for a todo that does not exist at all.
            assert_eq!(body, r#""NotFound""#, "{function}");
        } else {
            assert_eq!(body, "0", "{function} changed todos of another list");
        }
    }
    let page: TodoPage = app
        .call(&app.client, "list_todos", &[("list", &other)])
        .await
        .json()
        .await
        .unwrap();
    assert!(page.todos.is_empty());
    assert_eq!(page.counts.total(), 0);

    let after = (
        on_primary(&app, mine.id).await,
        on_primary(&app, done.id).await,
    );
    assert_eq!(before, after, "a todo changed through another list");
    assert_eq!(
        app.list().await.len(),
        2,
        "the list itself still shows both"
    );
}

#[tokio::test]
async fn a_malformed_list_id_is_a_404_page_and_a_refused_call() {
    let app = spawn_app().await;
    for path in [
        "/lists/nope",
        "/lists/8zzzzzzzzzzzzzzzzzzzzzzzzz",
        "/lists/0000000000000000000000000I",
    ] {
        let page = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(page.status(), 404, "{path}");
        let html = page.text().await.unwrap();
        assert!(
            html.contains("No such list") && html.contains(r#"href="/lists/new""#),
            "{html}"
        );
    }
    let response = app
        .call(
            &app.client,
            "create_todo",
            &[("list", "nope"), ("title", "t"), ("text", "")],
        )
        .await;
    assert_eq!(response.status(), 400);
    assert_eq!(app.stored_count().await, 0);
    assert_eq!(lists_on_primary(&app).await, 1, "only the migration's list");
}

#[tokio::test]
async fn root_leads_to_the_last_list_used_or_a_new_one_and_writes_nothing() {
    let app = spawn_app().await;
    let lists_before = lists_on_primary(&app).await;
    let client = browser_client();
    let location =
        |response: &reqwest::Response| response.headers()["location"].to_str().unwrap().to_owned();

    let first = client.get(app.url("/")).send().await.unwrap();
    assert_eq!(first.status(), 303);
    assert_eq!(first.headers()["cache-control"], "no-store");
    let list = location(&first);
    let id: ListId = list
        .strip_prefix("/lists/")
        .unwrap()
        .parse()
        .expect("a list id");
    // Another visitor gets another list.
    let elsewhere = location(&browser_client().get(app.url("/")).send().await.unwrap());
    assert_ne!(elsewhere, list);

    // Opening the list remembers it in this browser, in an HttpOnly cookie.
    let page = client.get(app.url(&list)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let cookie = page.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with(&format!("tasks_lists={id}")), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(page.text().await.unwrap().contains("No todos yet"));
    let again = client.get(app.url("/")).send().await.unwrap();
    assert_eq!(location(&again), list, "back to the list used last");
    let fresh = client.get(app.url("/lists/new")).send().await.unwrap();
    assert_eq!(fresh.status(), 303);
    assert_ne!(location(&fresh), list);

    assert_eq!(
        lists_on_primary(&app).await,
        lists_before,
        "a GET created a list"
    );
    assert_eq!(app.stored_count().await, 0);
}

#[tokio::test]
async fn your_lists_shows_the_lists_this_browser_used_newest_first() {
    let app = spawn_app().await;
    let client = browser_client();
    let (groceries, work, unused) = (another_list(), another_list(), another_list());
    let open = |list: ListId| {
        let client = client.clone();
        let app = &app;
        async move {
            let response = app
                .call(&client, "open_list", &[("list", &list.to_string())])
                .await;
            assert_eq!(response.status(), 200);
            response.json::<ListHeader>().await.unwrap()
        }
    };
    let rename = |list: ListId, name: &'static str| {
        let client = client.clone();
        let app = &app;
        async move {
            app.call(
                &client,
                "rename_list",
                &[("list", &list.to_string()), ("name", name)],
            )
            .await
        }
    };

    let header = open(groceries).await;
    assert_eq!(header.name, "My tasks", "a list nobody named");
    assert_eq!(header.link, format!("{}{}", app.address, groceries.href()));
    assert_eq!(rename(groceries, "  Groceries ").await.status(), 200);
    open(unused).await; // opened, never written to
    open(work).await;
    assert_eq!(rename(work, "Work").await.status(), 200);
    let header = open(work).await;
    assert_eq!(header.name, "Work");
    let names: Vec<&str> = header.yours.iter().map(|link| link.name.as_str()).collect();
    assert_eq!(names, ["Work", "Groceries"], "the unused list is forgotten");
    assert_eq!(header.yours[1].id, groceries);

    // Opening a shared link from another browser puts it first there too.
    let friend = browser_client();
    let shared = app
        .call(&friend, "open_list", &[("list", &groceries.to_string())])
        .await
        .json::<ListHeader>()
        .await
        .unwrap();
    assert_eq!(shared.name, "Groceries");
    assert_eq!(shared.yours.len(), 1);
}

#[tokio::test]
async fn a_list_name_follows_the_rules_of_a_title_and_shows_as_heading_and_title() {
    let app = spawn_app().await;
    for (name, message) in [
        (" ", "Name can't be empty."),
        ("\u{200B}", "Name can't be empty."),
        (
            "a\u{202E}b",
            "Name contains a character that changes the text's direction.",
        ),
    ] {
        let response = app
            .call(&app.client, "rename_list", &[("name", name)])
            .await;
        assert_eq!(response.status(), 422, "{name:?}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["InvalidName"]["message"], message);
    }
    let long = "n".repeat(201);
    let response = app
        .call(&app.client, "rename_list", &[("name", &long)])
        .await;
    assert_eq!(response.status(), 422);
    assert_eq!(
        lists_on_primary(&app).await,
        1,
        "a refused name created a list"
    );

    // A name is text, wherever it shows: never markup in the page (the document's
    // title included, which leptos_meta does not escape by itself).
    let hostile =
        r#"Trip </title><meta http-equiv="refresh" content="0;url=https://evil.example"> & co"#;
    let response = app
        .call(&app.client, "rename_list", &[("name", hostile)])
        .await;
    assert_eq!(response.json::<String>().await.unwrap(), hostile);
    let page = app.page(&app.client, &app.list_url("")).await;
    assert!(!page.contains("<meta http-equiv"), "{page}");
    assert!(
        page.contains(r#"<title>Trip &lt;/title&gt;&lt;meta http-equiv="refresh" content="0;url=https://evil.example"&gt; &amp; co · Tasks</title>"#),
        "{page}"
    );
    // The heading, "Your lists" and the name field show it as text too.
    assert!(
        page.matches("Trip &lt;/title&gt;&lt;meta").count() >= 3,
        "{page}"
    );
    assert!(page.contains(r#"aria-label="List name""#));
    assert!(page.contains(r#"aria-label="Your lists""#));
    assert!(page.contains("Link to this list"));
    assert!(
        page.contains(&format!(r#"value="{}""#, app.list_url(""))),
        "{page}"
    );
}

#[tokio::test]
async fn a_full_list_refuses_the_next_todo_with_422() {
    let (app, _) = TestApp::start(&create_test_database().await, &[("LIST_MAX_TODOS", "3")]).await;
    for n in 0..3 {
        app.create_ok(&format!("todo {n}"), "").await;
    }
    let refused = app.create(&app.client, "one too many", "").await;
    assert_eq!(refused.status(), 422);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["ListFull"]["max"], 3);
    assert_eq!(app.stored_count().await, 3);
    // Other lists are not affected.
    let other = another_list().to_string();
    let response = app
        .call(
            &app.client,
            "create_todo",
            &[("list", &other), ("title", "elsewhere"), ("text", "")],
        )
        .await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn writes_from_other_sites_are_refused_and_store_nothing() {
    let app = spawn_app().await;
    let list = app.list.to_string();
    let evil = "https://evil.example";
    let post = |function: &str| {
        foreign_client()
            .post(app.url(&format!("/api/{function}")))
            .form(&[
                ("list", list.as_str()),
                ("title", "forged"),
                ("text", ""),
                ("completed", "true"),
            ])
    };
    let forged = [
        (
            "Sec-Fetch-Site: cross-site",
            post("create_todo").header("sec-fetch-site", "cross-site"),
        ),
        (
            "Sec-Fetch-Site: same-site",
            post("create_todo").header("sec-fetch-site", "same-site"),
        ),
        (
            "a foreign Origin",
            post("create_todo").header("origin", evil),
        ),
        ("Origin: null", post("create_todo").header("origin", "null")),
        (
            "a foreign Referer",
            post("create_todo").header("referer", format!("{evil}/page")),
        ),
        ("no header at all", post("create_todo")),
        (
            "a foreign Origin, no-JS form",
            post("clear_completed")
                .header("origin", evil)
                .header("accept", "text/html"),
        ),
        (
            "cross-site, although Origin matches",
            post("set_all_completed")
                .header("sec-fetch-site", "cross-site")
                .header("origin", &app.address),
        ),
    ];
    let mut refused = 0;
    for (what, request) in forged {
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 403, "{what}");
        refused += 1;
    }
    assert_eq!(app.stored_count().await, 0);
    assert_eq!(lists_on_primary(&app).await, 1);

    // The app's own pages, with JavaScript and without.
    let own = [
        (
            "Sec-Fetch-Site: same-origin",
            post("create_todo").header("sec-fetch-site", "same-origin"),
        ),
        (
            "Sec-Fetch-Site: none",
            post("create_todo").header("sec-fetch-site", "none"),
        ),
        (
            "the app's Origin",
            post("create_todo").header("origin", &app.address),
        ),
        (
            "the app's Referer",
            post("create_todo").header("referer", app.list_url("?filter=active")),
        ),
        (
            "the app's Origin, no-JS form",
            post("create_todo")
                .header("origin", &app.address)
                .header("accept", "text/html"),
        ),
    ];
    for (what, request) in own {
        let response = request.send().await.unwrap();
        assert!(
            response.status() == 200 || response.status() == 302,
            "{what}: {}",
            response.status()
        );
    }
    assert_eq!(app.stored_count().await, 5);
    println!("[cross-site] {refused} forged writes refused with 403, nothing stored; 5 own writes stored");
}

#[tokio::test]
async fn the_write_rate_limit_answers_429_with_retry_after_per_client() {
    let (app, _) = TestApp::start(
        &create_test_database().await,
        &[
            ("WRITE_RATE_LIMIT_PER_MINUTE", "6"),
            ("WRITE_RATE_LIMIT_BURST", "3"),
            ("TRUSTED_PROXY_HOPS", "1"),
        ],
    )
    .await;
    // As the GKE load balancer forwards: "<what the client sent>, <client>, <balancer>".
    let create_as = |client_address: &str, spoofed: &str| {
        app.client
            .post(app.url("/api/create_todo"))
            .header(
                "x-forwarded-for",
                format!("{spoofed}, {client_address}, 130.211.0.1"),
            )
            .form(&[
                ("list", app.list.to_string()),
                ("title", "t".into()),
                ("text", String::new()),
            ])
            .send()
    };
    for n in 0..3 {
        // A different spoofed entry each time: it must not buy a new bucket.
        let response = create_as("203.0.113.7", &format!("10.9.9.{n}"))
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    let limited = create_as("203.0.113.7", "10.9.9.9").await.unwrap();
    assert_eq!(limited.status(), 429);
    let retry_after: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=10).contains(&retry_after), "{retry_after}");
    // Reads are not limited, nor are other clients.
    assert_eq!(app.list_with(&app.client).await.status(), 200);
    assert_eq!(
        app.client
            .get(app.list_url(""))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        create_as("198.51.100.2", "10.9.9.9")
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(app.stored_count().await, 4);
    println!("[rate limit] burst 3: the 4th write answered 429, Retry-After {retry_after} s");
}

#[tokio::test]
async fn pages_keep_the_link_to_themselves_and_robots_stay_out() {
    let app = spawn_app().await;
    let page = app.client.get(app.list_url("")).send().await.unwrap();
    assert_eq!(page.headers()["referrer-policy"], "same-origin");
    assert_eq!(page.headers()["x-robots-tag"], "noindex, nofollow");
    let robots = app.client.get(app.url("/robots.txt")).send().await.unwrap();
    assert_eq!(robots.status(), 200);
    assert!(robots.text().await.unwrap().contains("Disallow: /lists/"));

    // Over HTTPS the remembered lists' cookie is Secure and __Host- prefixed.
    let (secure, _) = TestApp::start(
        &create_test_database().await,
        &[("PUBLIC_URL", "https://tasks.example")],
    )
    .await;
    let response = secure.call(&secure.client, "open_list", &[]).await;
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        cookie.starts_with("__Host-tasks_lists=") && cookie.contains("Secure"),
        "{cookie}"
    );
    let header: ListHeader = response.json().await.unwrap();
    assert_eq!(
        header.link,
        format!("https://tasks.example{}", secure.list.href())
    );
}

#[tokio::test]
async fn a_small_list_counts_and_pages_exactly_beside_a_hundred_thousand_todos() {
    let app = spawn_app().await;
    let big = uuid::Uuid::new_v4();
    sqlx::query("INSERT INTO lists (id) VALUES ($1)")
        .bind(big)
        .execute(&app.primary)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO todos (list_id, title, completed) \
         SELECT $1, 'big ' || g, g % 2 = 0 FROM generate_series(1, 100000) g",
    )
    .bind(big)
    .execute(&app.primary)
    .await
    .unwrap();
    let mine: Vec<Todo> = vec![
        app.create_ok("small 1", "").await,
        app.create_ok("small 2", "").await,
        app.create_ok("small 3", "").await,
    ];
    let page = app.list_page(&[]).await;
    assert_eq!(page.todos.len(), 3);
    assert_eq!(page.todos[0], mine[2]);
    assert_eq!((page.counts.active, page.counts.completed), (3, 0));
    assert!(page.older.is_none() && page.newer.is_none());
    let active = app.list_page(&[("filter", "completed")]).await;
    assert!(active.todos.is_empty());
}

#[tokio::test]
async fn a_crafted_error_in_the_url_shows_no_text_of_its_author() {
    let app = spawn_app().await;
    // What a link made by someone else could carry: errors with their own messages.
    for (path, planted) in [
        ("/api/rename_list", "call +1 555 0100"),
        ("/api/create_todo", "Verify your account at evil.example"),
    ] {
        let error = if path.ends_with("rename_list") {
            "eyJJbnZhbGlkTmFtZSI6IHsibWVzc2FnZSI6ICJZb3VyIGxpc3Qgd2FzIGxvY2tlZDogY2FsbCArMSA1NTUgMDEwMCIsICJzdWJtaXR0ZWQiOiAiR3JvY2VyaWVzIn19"
        } else {
            "eyJJbnZhbGlkIjogeyJlcnJvcnMiOiB7InRpdGxlIjogIlZlcmlmeSB5b3VyIGFjY291bnQgYXQgZXZpbC5leGFtcGxlIiwgInRleHQiOiBudWxsfSwgInN1Ym1pdHRlZCI6IHsidGl0bGUiOiAiIiwgInRleHQiOiAiIn19fQ=="
        };
        let page = app
            .page(
                &app.client,
                &app.list_url(&format!("?__path={path}&__err={error}")),
            )
            .await;
        assert!(page.contains("No todos yet"), "{page}");
        assert!(
            !page.contains(planted),
            "{path}: the page shows the link's text: {page}"
        );
    }
    // The input it carried comes back, judged by the app's own rules: an empty title
    // gets the app's message.
    let page = app
        .page(&app.client, &app.list_url("?__path=/api/create_todo&__err=eyJJbnZhbGlkIjogeyJlcnJvcnMiOiB7InRpdGxlIjogIlZlcmlmeSB5b3VyIGFjY291bnQgYXQgZXZpbC5leGFtcGxlIiwgInRleHQiOiBudWxsfSwgInN1Ym1pdHRlZCI6IHsidGl0bGUiOiAiIiwgInRleHQiOiAiIn19fQ=="))
        .await;
    assert!(page.contains("Title can"), "{page}");
    // An error whose message would carry a number of the link's choosing.
    let page = app
        .page(
            &app.client,
            &app.list_url("?__path=/api/create_todo&__err=eyJMaXN0RnVsbCI6eyJtYXgiOjMxMzM3fX0="),
        )
        .await;
    assert!(page.contains("This list is full."), "{page}");
    assert!(
        !page.contains("31337"),
        "the page shows the link's number: {page}"
    );
}

/// Issue 14, test 8 (in part): a create sent again with the same key (a retry after a
/// 503, a double submit, a form posted twice without JavaScript) stores one todo and
/// answers with it each time; another list's same key is another todo.
#[tokio::test]
async fn a_create_sent_again_with_its_key_is_stored_once() {
    let app = spawn_app().await;
    let key = uuid::Uuid::new_v4().simple().to_string();
    let send = |list: String, title: &'static str| {
        let key = key.clone();
        let app = &app;
        async move {
            let response = app
                .call(
                    &app.client,
                    "create_todo",
                    &[
                        ("list", &list),
                        ("title", title),
                        ("text", ""),
                        ("key", &key),
                    ],
                )
                .await;
            assert_eq!(response.status(), 200);
            response.json::<Todo>().await.unwrap()
        }
    };
    let first = send(app.list.to_string(), "Buy milk").await;
    let again = send(app.list.to_string(), "Buy milk").await;
    let changed = send(app.list.to_string(), "Buy milk (typed again)").await;
    assert_eq!(again, first);
    assert_eq!(changed, first, "a repeat answers with what was stored");
    assert_eq!(app.stored_count().await, 1);
    // Without JavaScript, the same form posted twice.
    for _ in 0..2 {
        let posted = app
            .client
            .post(app.url("/api/create_todo"))
            .header("accept", "text/html")
            .form(&[
                ("list", app.list.to_string().as_str()),
                ("title", "Posted twice"),
                ("text", ""),
                ("key", "00112233445566778899aabbccddeeff"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(posted.status(), 302);
    }
    assert_eq!(app.stored_count().await, 2);
    // The same key in another list is that list's own.
    let elsewhere = send(another_list().to_string(), "Buy milk").await;
    assert_ne!(elsewhere.id, first.id);
    assert_eq!(app.stored_count().await, 3);
    // A key that is not 32 hex digits is a malformed request.
    let malformed = app
        .call(
            &app.client,
            "create_todo",
            &[("title", "t"), ("text", ""), ("key", "nope")],
        )
        .await;
    assert_eq!(malformed.status(), 400);
    assert_eq!(app.stored_count().await, 3);
}
