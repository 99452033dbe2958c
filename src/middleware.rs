//! The HTTP layers around every route: request ids and logs, metrics, limits, security
//! and caching headers, compression.

use crate::{
    config::HttpSettings,
    metrics::{HTTP_REQUESTS, HTTP_REQUEST_DURATION},
};
use axum::{
    body::Body,
    extract::{MatchedPath, Request},
    http::{
        header::{CACHE_CONTROL, CONTENT_LENGTH, CONTENT_SECURITY_POLICY, CONTENT_TYPE},
        HeaderName, HeaderValue, Method, StatusCode,
    },
    middleware::{self, Next},
    response::{IntoResponse, Response},
    Router,
};
use leptos::prelude::use_context;
use std::time::{Duration, Instant};
use tower_http::{
    compression::{CompressionLayer, CompressionLevel},
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    set_header::SetResponseHeaderLayer,
    timeout::TimeoutLayer,
    trace::TraceLayer,
};
use tracing::{field::Empty, Span};

/// Largest request body accepted. A todo is at most a few KiB of form data; anything
/// much larger is a mistake or an attack.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Wraps every route of `router`. `hash_files`: whether asset names under `/pkg` carry a
/// content hash (release builds), so they may be cached forever.
pub fn apply(router: Router, settings: &HttpSettings, hash_files: bool) -> Router {
    let x_request_id = HeaderName::from_static("x-request-id");
    let mut router = router
        // Innermost first: the layers added last see the request first.
        .layer(middleware::from_fn(move |req, next| {
            cache_control(req, next, hash_files)
        }))
        // Pages and server-function answers: gzip, not brotli. Brotli's encoder keeps a
        // window of megabytes per response; under 32 concurrent page loads it tripled
        // resident memory and cut throughput by two thirds (docs/performance.md), for a
        // few hundred bytes saved per page. Static assets are unaffected: they are
        // served precompressed (brotli q11) as built.
        .layer(
            CompressionLayer::new()
                .no_br()
                .quality(CompressionLevel::Precise(4)),
        )
        .layer(middleware::from_fn(limit_body))
        // 503, not 408: browsers silently resend a request answered with 408, and a
        // create that did commit would then be stored twice.
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            settings.request_timeout,
        ))
        // Outside the limits above, so that 413s and timeouts are counted too.
        .layer(middleware::from_fn(record_metrics));
    for (name, value) in SECURITY_HEADERS {
        router = router.layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        ));
    }
    if settings.hsts {
        router = router.layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("strict-transport-security"),
            HeaderValue::from_static("max-age=63072000; includeSubDomains"),
        ));
    }
    router
        .layer(PropagateRequestIdLayer::new(x_request_id.clone()))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_request(())
                .on_response(|response: &Response, latency: Duration, span: &Span| {
                    span.record("status", response.status().as_u16());
                    span.record("latency_ms", latency.as_secs_f64() * 1000.0);
                    tracing::info!("request served");
                }),
        )
        // Keeps the caller's x-request-id, or makes one; echoed by the layer above.
        .layer(SetRequestIdLayer::new(x_request_id, MakeRequestUuid))
}

/// Sent with every response. The Content-Security-Policy, which needs the page's nonce,
/// is set while the page renders: see [`set_content_security_policy`].
const SECURITY_HEADERS: [(&str, &str); 5] = [
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    // Same-origin requests keep the full Referer: a form posted without JavaScript is
    // redirected back to the page it came from.
    ("referrer-policy", "strict-origin-when-cross-origin"),
    (
        "permissions-policy",
        "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    ),
    ("cross-origin-opener-policy", "same-origin"),
];

/// Sets the Content-Security-Policy of the page being rendered. Run as Leptos context
/// for every rendered page: leptos_axum makes a fresh nonce per page, and its
/// `HydrationScripts` put it on the one inline script the app needs.
pub fn set_content_security_policy() {
    let (Some(nonce), Some(response)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) else {
        return;
    };
    // `cargo leptos watch` reloads the page through a websocket on its reload port.
    let live_reload = if std::env::var("LEPTOS_WATCH").is_ok() {
        let port = std::env::var("LEPTOS_RELOAD_PORT").unwrap_or_else(|_| "3001".into());
        format!(" ws://127.0.0.1:{port} ws://localhost:{port}")
    } else {
        String::new()
    };
    let policy = format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; font-src 'self'; \
         connect-src 'self'{live_reload}; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    );
    match HeaderValue::from_str(&policy) {
        Ok(value) => response.insert_header(CONTENT_SECURITY_POLICY, value),
        Err(error) => tracing::error!(%error, "Content-Security-Policy is not a valid header"),
    }
}

fn request_span(request: &Request<Body>) -> Span {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("fallback", MatchedPath::as_str);
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|id| id.to_str().ok())
        .unwrap_or_default();
    tracing::info_span!(
        "request",
        method = %request.method(),
        route,
        request_id,
        status = Empty,
        latency_ms = Empty,
    )
}

/// Counts each request and its latency, by route template (never the raw path, which
/// would make a time series per URL).
async fn record_metrics(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "fallback".to_owned(), |path| path.as_str().to_owned());
    let method = match *request.method() {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::HEAD => "HEAD",
        _ => "other",
    };
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!(HTTP_REQUESTS, "method" => method, "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!(HTTP_REQUEST_DURATION, "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}

/// Answers a body over [`MAX_BODY_BYTES`] with 413 and a message: at once when its
/// length is announced, else once that much has been read.
async fn limit_body(request: Request, next: Next) -> Response {
    let announced = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|length| length.to_str().ok()?.parse::<usize>().ok());
    let request = match announced {
        Some(length) if length > MAX_BODY_BYTES => return body_too_large(),
        Some(_) => request, // hyper stops reading at the announced length
        None => {
            let (parts, body) = request.into_parts();
            match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
                Ok(bytes) => Request::from_parts(parts, Body::from(bytes)),
                Err(_) => return body_too_large(),
            }
        }
    };
    next.run(request).await
}

fn body_too_large() -> Response {
    (
        StatusCode::PAYLOAD_TOO_LARGE,
        format!(
            "Request body too large: the limit is {} KiB.",
            MAX_BODY_BYTES / 1024
        ),
    )
        .into_response()
}

/// Hashed assets are cached for a year (their name changes with their content); HTML
/// is revalidated on every use; API and probe answers are never stored; other static
/// files (the favicon) are cached for an hour.
async fn cache_control(request: Request, next: Next, hash_files: bool) -> Response {
    let path = request.uri().path();
    let is_asset = path.starts_with("/pkg/");
    let is_dynamic = path.starts_with("/api/") || path == "/healthz" || path == "/readyz";
    let mut response = next.run(request).await;
    if response.headers().contains_key(CACHE_CONTROL) {
        return response;
    }
    let is_html = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|kind| kind.to_str().ok())
        .is_some_and(|kind| kind.starts_with("text/html"));
    let policy = if is_dynamic {
        "no-store"
    } else if is_html || !response.status().is_success() {
        "no-cache"
    } else if is_asset && hash_files {
        "public, max-age=31536000, immutable"
    } else if is_asset {
        "no-cache"
    } else {
        "public, max-age=3600"
    };
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static(policy));
    response
}
