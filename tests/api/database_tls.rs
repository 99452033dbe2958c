//! TLS between the app and PostgreSQL, verified as the chart connects
//! (`sslmode=verify-full` and the CA in `sslrootcert`), against the local servers, which
//! offer TLS with a certificate for 127.0.0.1 signed by a CA of their own
//! (`scripts/db.sh`, `TEST_DATABASE_CA`).

use crate::support::{
    app::TestApp,
    database::{create_test_database, required_env, TestDatabase},
};

/// `url` with `sslmode=verify-full` and `ca` as the root to verify the server with.
fn verified(url: &str, ca: &str) -> String {
    let mut url = reqwest::Url::parse(url).expect("a postgres URL");
    url.query_pairs_mut()
        .append_pair("sslmode", "verify-full")
        .append_pair("sslrootcert", ca);
    url.into()
}

async fn database_verified_with(ca: &str) -> TestDatabase {
    let mut db = create_test_database().await;
    db.app_primary_url = verified(&db.app_primary_url, ca);
    db.app_replica_url = verified(&db.app_replica_url, ca);
    db
}

#[tokio::test]
async fn the_app_talks_to_both_servers_over_verified_tls() {
    let db = database_verified_with(&required_env("TEST_DATABASE_CA")).await;
    let (app, _metrics) = TestApp::start(&db, &[]).await;
    let todo = app.create_ok("sent over TLS", "").await;
    app.wait_for_replica_todos(1).await;
    assert_eq!(app.list().await, [todo]);
    // The app's pools name themselves (`tasks-write`, `tasks-read`): every one of their
    // connections must be encrypted, on each server.
    for (server, pool, name) in [
        ("primary", &app.primary, "tasks-write"),
        ("replica", &app.replica, "tasks-read"),
    ] {
        let (connections, encrypted): (i64, i64) = sqlx::query_as(
            "SELECT count(*), count(*) FILTER (WHERE ssl.ssl) \
             FROM pg_stat_activity activity JOIN pg_stat_ssl ssl USING (pid) \
             WHERE activity.application_name = $1 AND activity.datname = current_database()",
        )
        .bind(name)
        .fetch_one(pool)
        .await
        .unwrap();
        println!(
            "[database TLS] {server}: {encrypted} of {connections} {name} connections encrypted"
        );
        assert!(connections > 0, "no {name} connection on the {server}");
        assert_eq!(
            encrypted, connections,
            "plain {name} connections on the {server}"
        );
    }
}

#[tokio::test]
async fn a_server_certificate_the_ca_did_not_sign_is_refused() {
    // The servers' own certificate as the only root given: it signed nothing (and sqlx
    // adds the public roots, none of which signed it either).
    let ca = required_env("TEST_DATABASE_CA");
    let not_the_ca = std::path::Path::new(&ca).with_file_name("server.crt");
    assert!(not_the_ca.is_file(), "{} is missing", not_the_ca.display());
    let db = database_verified_with(not_the_ca.to_str().unwrap()).await;
    let (app, _metrics) = TestApp::start(&db, &[]).await;
    let response = app.create(&app.client, "never stored", "").await;
    assert_eq!(response.status(), 503);
    assert_eq!(response.text().await.unwrap(), r#""Unavailable""#);
    // Refused in the handshake: no connection of the app was ever established (nor its
    // schema migrated), and the pod is not ready.
    let connected: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_stat_activity \
         WHERE application_name LIKE 'tasks%' AND datname = current_database()",
    )
    .fetch_one(&app.primary)
    .await
    .unwrap();
    assert_eq!(connected, 0);
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
}
