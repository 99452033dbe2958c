//! What only the API tests use: a plain spawn, and pages as a browser loads them.

use crate::support::{app::TestApp, database::create_test_database};

pub async fn spawn_app() -> TestApp {
    let (app, _metrics) = TestApp::start(&create_test_database().await, &[]).await;
    app
}

impl TestApp {
    /// The HTML of a page, as `client` gets it.
    pub async fn page(&self, client: &reqwest::Client, url: &str) -> String {
        let response = client.get(url).send().await.expect("page request");
        response.text().await.expect("page body")
    }
}
