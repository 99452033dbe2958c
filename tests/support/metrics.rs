//! The app with the address of its metrics listener kept, for the binaries that read
//! the (process-wide) metrics.

use super::{app::TestApp, database::create_test_database};
use std::{net::SocketAddr, ops::Deref};

/// A [`TestApp`] whose metrics can be scraped; everything else is the app's.
pub struct MeteredApp {
    app: TestApp,
    metrics_address: SocketAddr,
}

impl Deref for MeteredApp {
    type Target = TestApp;

    fn deref(&self) -> &TestApp {
        &self.app
    }
}

pub async fn spawn_app() -> MeteredApp {
    spawn_app_with(&[]).await
}

/// Like [`spawn_app`], with extra environment settings (e.g. `("HSTS", "true")`).
pub async fn spawn_app_with(settings: &[(&str, &str)]) -> MeteredApp {
    let (app, metrics_address) = TestApp::start(&create_test_database().await, settings).await;
    MeteredApp {
        app,
        metrics_address,
    }
}

impl MeteredApp {
    /// The Prometheus text the metrics listener serves.
    pub async fn scrape(&self) -> String {
        let response = reqwest::get(format!("http://{}/metrics", self.metrics_address))
            .await
            .expect("metrics request");
        assert_eq!(response.status(), 200);
        response.text().await.unwrap()
    }
}
