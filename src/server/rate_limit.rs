//! The write rate limit: a token bucket per client address (governor's keyed GCRA
//! limiter), answered with 429 and `Retry-After`. It is per server instance, in memory:
//! with N pods a client may write N times as fast, and a restart forgets. A global
//! limit belongs at the edge: the Cloud Armor policy in `terraform/` throttles per
//! client address before requests reach any pod (docs/deploy.md).

use super::config::WriteLimit;
use axum::{
    extract::{ConnectInfo, Request},
    http::{header::RETRY_AFTER, HeaderMap, HeaderValue, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use governor::{
    clock::{Clock, DefaultClock},
    DefaultKeyedRateLimiter, Quota, RateLimiter,
};
use std::{
    net::{IpAddr, SocketAddr},
    num::NonZeroU32,
    sync::Arc,
    time::Duration,
};

/// Server functions that only read, though posted (server functions are POSTs): the
/// hydrated page calls them after every change and navigation, so they must not use up
/// a client's writes.
const READS_BY_POST: [&str; 2] = ["/api/list_todos", "/api/open_list"];

/// The limiter and how to find a request's client.
#[derive(Clone)]
pub struct WriteRateLimit {
    limiter: Arc<DefaultKeyedRateLimiter<IpAddr>>,
    trusted_proxy_hops: usize,
}

impl WriteRateLimit {
    /// `None` when the limit is off (`per_minute` 0). Spawns the task that forgets
    /// clients whose bucket is full again, so memory stays bounded by the clients of
    /// the last minute or so.
    pub fn new(limit: WriteLimit, trusted_proxy_hops: usize) -> Option<Self> {
        let per_minute = NonZeroU32::new(limit.per_minute)?;
        let burst = NonZeroU32::new(limit.burst).unwrap_or(NonZeroU32::MIN);
        let limiter = Arc::new(RateLimiter::keyed(
            Quota::per_minute(per_minute).allow_burst(burst),
        ));
        let weak = Arc::downgrade(&limiter);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(30));
            loop {
                tick.tick().await;
                let Some(limiter) = weak.upgrade() else {
                    return;
                };
                limiter.retain_recent();
                limiter.shrink_to_fit();
            }
        });
        Some(Self {
            limiter,
            trusted_proxy_hops,
        })
    }

    /// The layer's function: writes past the client's bucket get a 429.
    pub async fn check(self, request: Request, next: Next) -> Response {
        let safe = matches!(
            *request.method(),
            Method::GET | Method::HEAD | Method::OPTIONS
        ) || READS_BY_POST.contains(&request.uri().path());
        if safe {
            return next.run(request).await;
        }
        let peer = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(peer)| peer.ip());
        let Some(client) = client_address(request.headers(), peer, self.trusted_proxy_hops) else {
            return next.run(request).await;
        };
        match self.limiter.check_key(&client) {
            Ok(()) => next.run(request).await,
            Err(not_until) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                too_many(wait)
            }
        }
    }
}

/// The client's address: with `hops` trusted proxies in front, the `X-Forwarded-For`
/// entry `hops` places left of the rightmost (each proxy appends the address it got the
/// request from; the entries further left are whatever the client sent). With no
/// trusted proxy, or a header too short to hold the client's entry, the socket's peer.
pub fn client_address(headers: &HeaderMap, peer: Option<IpAddr>, hops: usize) -> Option<IpAddr> {
    if hops == 0 {
        return peer;
    }
    let forwarded: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect();
    forwarded
        .len()
        .checked_sub(1 + hops)
        .and_then(|index| forwarded[index].parse().ok())
        .or(peer)
}

fn too_many(wait: Duration) -> Response {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let seconds = seconds.max(1);
    let mut response = (
        StatusCode::TOO_MANY_REQUESTS,
        format!("Too many changes at once. Please try again in {seconds} s."),
    )
        .into_response();
    response
        .headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from(seconds));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forwarded(value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", HeaderValue::from_static(value));
        headers
    }

    #[test]
    fn the_client_is_found_left_of_the_trusted_proxies() {
        let peer = Some("10.0.0.9".parse().unwrap());
        let ip = |text: &str| Some(text.parse::<IpAddr>().unwrap());
        // GKE's load balancer appends "<client>, <load balancer>": one hop.
        let headers = forwarded("6.6.6.6, 203.0.113.7, 130.211.0.1");
        assert_eq!(client_address(&headers, peer, 1), ip("203.0.113.7"));
        assert_eq!(client_address(&headers, peer, 0), peer, "no proxy trusted");
        assert_eq!(client_address(&headers, peer, 5), peer, "header too short");
        assert_eq!(
            client_address(&forwarded("nonsense, 1.1.1.1"), peer, 1),
            peer
        );
        assert_eq!(client_address(&HeaderMap::new(), peer, 1), peer);
    }

    #[test]
    fn a_refusal_says_when_to_come_back() {
        let response = too_many(Duration::from_millis(1_200));
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[RETRY_AFTER], "2");
        assert_eq!(too_many(Duration::ZERO).headers()[RETRY_AFTER], "1");
    }
}
