//! What only the API tests use: a plain spawn, and pages as a browser loads them.

use crate::support::{app::TestApp, database::create_test_database};

pub async fn spawn_app() -> TestApp {
    let (app, _metrics) = TestApp::start(&create_test_database().await, &[]).await;
    app
}

impl TestApp {
    /// This test's list's id as the database stores it.
    pub fn list_key(&self) -> uuid::Uuid {
        uuid::Uuid::from_u128(self.list.as_u128())
    }

    /// The HTML of a page, as `client` gets it (following the app's redirects, as a
    /// browser would: `/` leads to a list).
    pub async fn page(&self, client: &reqwest::Client, url: &str) -> String {
        let mut url = url.to_owned();
        for _ in 0..3 {
            let response = client.get(&url).send().await.expect("page request");
            match response.headers().get("location") {
                Some(location) if response.status().is_redirection() => {
                    url = self.url(location.to_str().expect("a valid Location"));
                }
                _ => {
                    let status = response.status();
                    let body = response.text().await.expect("page body");
                    // A page is never empty: say how it came, for the assertion after.
                    assert!(!body.is_empty(), "{url} answered {status} with no body");
                    return body;
                }
            }
        }
        panic!("more than 3 redirects from {url}")
    }
}

/// Same as [`browser_client`], but without the header that marks a request as coming
/// from the app's own page: what a script or another site sends.
pub fn foreign_client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}
