//! The requests this process is answering right now, so that a request that outlives
//! every timeout can be seen: on the metrics port (a gauge to alert on), in the
//! liveness probe, and in the last log line of a shutdown that could not finish.
//!
//! The request timeout answers every request within `REQUEST_TIMEOUT_MS` as long as the
//! worker thread running it is alive. A request still registered well after that was
//! never polled again: its worker is blocked (a deadlock, a blocking call on the async
//! runtime). Nothing inside the process can answer it any more; only a restart can.

use axum::{
    extract::{MatchedPath, Request},
    middleware::Next,
    response::Response,
};
use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex, MutexGuard,
    },
    time::{Duration, Instant},
};

/// Cheap to clone: every clone sees the same requests.
#[derive(Clone)]
pub struct InFlight {
    inner: Arc<Registry>,
}

struct Registry {
    next_id: AtomicU64,
    requests: Mutex<HashMap<u64, Started>>,
    /// A request older than this has outlived the request timeout by a margin.
    stuck_after: Duration,
}

struct Started {
    method: String,
    /// The route template, never the raw path: paths may carry what logs must not.
    route: String,
    at: Instant,
}

/// What [`InFlight::snapshot`] saw.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub in_flight: usize,
    /// `METHOD route (age)` of each request older than the stuck limit, oldest first.
    pub stuck: Vec<String>,
}

impl InFlight {
    /// `request_timeout`: the limit after which the timeout layer answers a request;
    /// a request is counted as stuck once it is twice that old.
    pub fn new(request_timeout: Duration) -> Self {
        Self {
            inner: Arc::new(Registry {
                next_id: AtomicU64::new(0),
                requests: Mutex::default(),
                stuck_after: request_timeout * 2,
            }),
        }
    }

    /// Middleware: registers the request until its response head is ready (or it is
    /// dropped, for instance by the timeout layer or a client that went away).
    pub async fn track(self, request: Request, next: Next) -> Response {
        let route = request
            .extensions()
            .get::<MatchedPath>()
            .map_or_else(|| "fallback".to_owned(), |path| path.as_str().to_owned());
        let _registered = self.register(request.method().as_str(), route);
        next.run(request).await
    }

    fn register(&self, method: &str, route: String) -> Registered {
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        self.inner.lock().insert(
            id,
            Started {
                method: method.to_owned(),
                route,
                at: Instant::now(),
            },
        );
        Registered {
            registry: self.inner.clone(),
            id,
        }
    }

    pub fn snapshot(&self) -> Snapshot {
        // One statement each: the lock must be released before the next one takes it.
        let in_flight = self.inner.lock().len();
        let stuck = self.describe_older_than(self.inner.stuck_after);
        Snapshot { in_flight, stuck }
    }

    /// Every request in flight as `METHOD route (age)`, oldest first: for the log line
    /// of a shutdown that could not finish.
    pub fn describe_all(&self) -> Vec<String> {
        self.describe_older_than(Duration::ZERO)
    }

    fn describe_older_than(&self, min_age: Duration) -> Vec<String> {
        let requests = self.inner.lock();
        let now = Instant::now();
        let mut old: Vec<&Started> = requests
            .values()
            .filter(|started| now - started.at >= min_age)
            .collect();
        old.sort_by_key(|started| started.at);
        old.iter()
            .map(|started| {
                format!(
                    "{} {} ({:.1} s)",
                    started.method,
                    started.route,
                    (now - started.at).as_secs_f64()
                )
            })
            .collect()
    }
}

impl Registry {
    /// The map stays consistent whatever a panicking holder did: entries are inserted
    /// and removed whole.
    fn lock(&self) -> MutexGuard<'_, HashMap<u64, Started>> {
        self.requests
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Removes its request from the registry when dropped.
struct Registered {
    registry: Arc<Registry>,
    id: u64,
}

impl Drop for Registered {
    fn drop(&mut self) {
        self.registry.lock().remove(&self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_requests_until_dropped_and_names_the_stuck_ones() {
        let in_flight = InFlight::new(Duration::from_millis(5));
        let old = in_flight.register("GET", "/".into());
        std::thread::sleep(Duration::from_millis(12));
        let young = in_flight.register("POST", "/api/create_todo".into());

        let snapshot = in_flight.snapshot();
        assert_eq!(snapshot.in_flight, 2);
        assert_eq!(snapshot.stuck.len(), 1, "{snapshot:?}");
        assert!(snapshot.stuck[0].starts_with("GET / ("), "{snapshot:?}");
        let all = in_flight.describe_all();
        assert!(all[0].starts_with("GET /") && all[1].starts_with("POST /api/create_todo"));

        drop(old);
        drop(young);
        assert_eq!(in_flight.snapshot(), Snapshot::default());
    }
}
