//! The HTTP layers around every route: request ids and logs, metrics, limits, security
//! and caching headers, compression.

use super::{
    config::HttpSettings,
    cross_site::refuse_cross_site_writes,
    in_flight::InFlight,
    metrics::{HTTP_REQUESTS, HTTP_REQUEST_DURATION},
    rate_limit::WriteRateLimit,
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
use leptos::prelude::{use_context, Owner};
use std::{
    future::Future,
    pin::pin,
    time::{Duration, Instant},
};
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
/// content hash (release builds), so they may be cached forever. `in_flight` registers
/// each request while it is answered.
pub fn apply(
    router: Router,
    settings: &HttpSettings,
    hash_files: bool,
    in_flight: InFlight,
) -> Router {
    let x_request_id = HeaderName::from_static("x-request-id");
    let mut router = router
        // Innermost first: the layers added last see the request first.
        .layer(middleware::from_fn(isolate_reactive_owner))
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
        .layer(middleware::from_fn(check_form_bodies))
        .layer(middleware::from_fn(limit_body))
        // 503, not 408: browsers silently resend a request answered with 408, and a
        // create that did commit would then be stored twice.
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            settings.request_timeout,
        ))
        .layer(middleware::from_fn(keep_lists_out_of_search_engines));
    // Before the body is read: a refused write costs no more than its headers.
    let public_url = settings.public_url.clone();
    router = router.layer(middleware::from_fn(move |req, next| {
        refuse_cross_site_writes(public_url.clone(), req, next)
    }));
    if let Some(limit) = WriteRateLimit::new(settings.write_limit, settings.trusted_proxy_hops) {
        router = router.layer(middleware::from_fn(move |req, next| {
            limit.clone().check(req, next)
        }));
    }
    let mut router = router
        // Outside the timeout: a request the timeout could not end stays registered.
        .layer(middleware::from_fn(move |req, next| {
            in_flight.clone().track(req, next)
        }))
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
        .layer(middleware::from_fn(drop_unusable_request_id))
}

/// Removes a caller's `x-request-id` unless it is 1 to 64 of `A-Z a-z 0-9 . _ -`, so
/// that a fresh one is made instead. The id is logged with every line of the request
/// and echoed back: arbitrary bytes or lengths would let any client write into the logs.
async fn drop_unusable_request_id(mut request: Request, next: Next) -> Response {
    let usable = |id: &HeaderValue| {
        let id = id.as_bytes();
        (1..=64).contains(&id.len())
            && id
                .iter()
                .all(|byte| byte.is_ascii_alphanumeric() || b"._-".contains(byte))
    };
    if let Some(id) = request.headers().get("x-request-id") {
        if !usable(id) {
            request.headers_mut().remove("x-request-id");
        }
    }
    next.run(request).await
}

/// Server functions take form-encoded bodies only, each field once by its plain name:
/// it is all the hydrated app and HTML forms send. Anything else (JSON, multipart,
/// `text/plain`, no type) is a 415 before decoding, which also narrows what a
/// cross-site request can send; a repeated or encoded field name (which the decoder
/// would quietly resolve to one of the values) or a body the client stopped sending is
/// a 400. Runs inside [`limit_body`], so the body read here is at most 64 KiB.
async fn check_form_bodies(request: Request, next: Next) -> Response {
    let is_server_function_call =
        request.method() == Method::POST && request.uri().path().starts_with("/api/");
    if !is_server_function_call {
        return next.run(request).await;
    }
    let is_form = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|kind| kind.to_str().ok())
        .and_then(|kind| kind.split(';').next())
        .is_some_and(|kind| {
            kind.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !is_form {
        return (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported content type: send application/x-www-form-urlencoded.",
        )
            .into_response();
    }
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY_BYTES).await else {
        return (
            StatusCode::BAD_REQUEST,
            "The request body could not be read.",
        )
            .into_response();
    };
    if !has_plain_distinct_field_names(&body) {
        return (
            StatusCode::BAD_REQUEST,
            "Malformed form: send each field once, by its plain name.",
        )
            .into_response();
    }
    if !decodes_to_utf8(&body) {
        // The decoder would replace such bytes with U+FFFD and store that.
        return (StatusCode::BAD_REQUEST, "The form is not valid UTF-8.").into_response();
    }
    next.run(Request::from_parts(parts, Body::from(body))).await
}

/// Whether a form body's values, percent-decoded, are UTF-8 (overlong and truncated
/// sequences are not) and its `%` escapes are well formed.
fn decodes_to_utf8(body: &[u8]) -> bool {
    let mut decoded = Vec::with_capacity(body.len());
    let mut bytes = body.iter();
    while let Some(&byte) = bytes.next() {
        match byte {
            b'%' => {
                let hex = [bytes.next().copied(), bytes.next().copied()];
                let digit = |d: Option<u8>| (d? as char).to_digit(16);
                match (digit(hex[0]), digit(hex[1])) {
                    (Some(high), Some(low)) => decoded.push((high * 16 + low) as u8),
                    _ => return false,
                }
            }
            b'+' => decoded.push(b' '),
            other => decoded.push(other),
        }
    }
    std::str::from_utf8(&decoded).is_ok()
}

/// Whether every field of a form body is named once, in `A-Z a-z 0-9 _`.
fn has_plain_distinct_field_names(body: &[u8]) -> bool {
    let mut seen: Vec<&[u8]> = Vec::new();
    body.split(|byte| *byte == b'&')
        .filter(|pair| !pair.is_empty())
        .all(|pair| {
            let name = pair.split(|byte| *byte == b'=').next().unwrap_or_default();
            let plain = !name.is_empty()
                && name
                    .iter()
                    .all(|byte| byte.is_ascii_alphanumeric() || *byte == b'_');
            let first = !seen.contains(&name);
            seen.push(name);
            plain && first
        })
}

/// Sent with every response. The Content-Security-Policy of a page, which needs the
/// page's nonce, is set while the page renders: see [`set_content_security_policy`].
const SECURITY_HEADERS: [(&str, &str); 5] = [
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    // A list's URL is its capability: it must not travel to other sites in a Referer.
    // Same-origin requests keep the full Referer (a form posted without JavaScript is
    // redirected back to the page it came from), and browsers send a real `Origin` with
    // same-origin posts under this policy (`no-referrer` would make it `null`).
    ("referrer-policy", "same-origin"),
    (
        "permissions-policy",
        "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    ),
    ("cross-origin-opener-policy", "same-origin"),
];

/// Sets the Content-Security-Policy of the page being rendered. Called as the document
/// renders (`startup::document`), which leptos_axum does in the page's root reactive
/// owner: the nonce (fresh per page; `HydrationScripts` puts it on the one inline
/// script the app needs) and the response options are provided in that very owner, so
/// they are found without walking up to any other owner (see
/// [`isolate_reactive_owner`] for why that matters).
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

/// Runs each request with no reactive owner left over on its worker thread, before and
/// after every poll.
///
/// Why: Leptos keeps "the current owner" in a thread-local. `Owner::new_root`, which
/// leptos_axum calls to render each page, sets it and never restores it, so it stays set
/// on that Tokio worker after the poll returns. leptos_axum's server-function handler
/// (and its static-file fallback) then call `Owner::new()`, which adopts whatever owner
/// the thread-local names: another request's page, still rendering elsewhere. Context
/// lookups walk from the new owner up into that other request's tree, and
/// reactive_graph 0.2.16's `with_context` holds the read lock of the owner it started
/// from while it walks. When the other request finishes at that moment (its client went
/// away), the walk drops the last reference to its owner; the owner's `Drop` cleans its
/// children, including ours, and asks for the write lock the walk still holds: the
/// worker thread waits for itself forever. With this layer every owner a handler makes
/// is a root of its own, so no request's tree ever reaches into another's.
async fn isolate_reactive_owner(request: Request, next: Next) -> Response {
    without_leftover_owner(next.run(request)).await
}

/// Polls `future` with the thread-local reactive owner cleared before and after each
/// poll (owners a poll sets up for itself, like a page's root, are left alone while it
/// runs).
async fn without_leftover_owner<F: Future>(future: F) -> F::Output {
    fn clear_current_owner() {
        if let Some(owner) = Owner::current() {
            owner.unset();
        }
    }
    let mut future = pin!(future);
    std::future::poll_fn(|cx| {
        clear_current_owner();
        let polled = future.as_mut().poll(cx);
        clear_current_owner();
        polled
    })
    .await
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

/// List pages are capabilities: a search engine that learns one URL (a link pasted on a
/// public page) must not index the list. `robots.txt` disallows `/lists/` as well, but
/// a disallowed URL may still be indexed from links; `noindex` keeps it out.
async fn keep_lists_out_of_search_engines(request: Request, next: Next) -> Response {
    let is_list = request.uri().path().starts_with("/lists/");
    let mut response = next.run(request).await;
    if is_list {
        response.headers_mut().insert(
            HeaderName::from_static("x-robots-tag"),
            HeaderValue::from_static("noindex, nofollow"),
        );
    }
    response
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_fields_must_be_named_once_and_plainly() {
        assert!(has_plain_distinct_field_names(b""));
        assert!(has_plain_distinct_field_names(b"title=a&text=b%26c"));
        assert!(has_plain_distinct_field_names(
            b"id=1&version=2&completed=true"
        ));
        assert!(!has_plain_distinct_field_names(b"title=a&title=b"));
        assert!(!has_plain_distinct_field_names(b"title=a&ti%74le=b"));
        assert!(!has_plain_distinct_field_names(b"=x"));
        assert!(!has_plain_distinct_field_names(b"title[]=a"));
    }

    #[test]
    fn form_values_must_decode_to_utf8() {
        assert!(decodes_to_utf8(b"title=caf%C3%A9+au+lait&text=%E2%80%94"));
        assert!(!decodes_to_utf8(b"title=%C0%AF"), "overlong /");
        assert!(!decodes_to_utf8(b"title=%FF"));
        assert!(!decodes_to_utf8(b"title=\xff"));
        assert!(!decodes_to_utf8(b"title=%E2%80"), "truncated");
        assert!(!decodes_to_utf8(b"title=%G1"), "not hex");
        assert!(!decodes_to_utf8(b"title=%4"), "cut short");
    }
    use futures::executor::block_on;
    use leptos::prelude::{provide_context, with_context};
    use std::{sync::Mutex, time::Duration};

    #[test]
    fn a_request_never_adopts_the_owner_another_request_left_on_its_thread() {
        // What leptos_axum's page rendering leaves behind on a worker thread.
        let other_request = Owner::new();
        other_request.set();
        let adopted = block_on(async { Owner::new().parent().is_some() });
        assert!(
            adopted,
            "without the layer, a new owner becomes a child of the leftover one"
        );

        let adopted = block_on(without_leftover_owner(async {
            Owner::new().parent().is_some()
        }));
        assert!(
            !adopted,
            "an owner made inside the layer is a root of its own"
        );
        assert!(Owner::current().is_none(), "nothing is left behind either");
        drop(other_request);
    }

    /// The upstream defect the layer keeps us away from, reduced to reactive_graph
    /// alone (0.2.16, the newest 0.2.x, used by Leptos 0.8.23): a context lookup that
    /// walks into a parent owner and holds the last reference to it when it returns
    /// deadlocks its own thread. The walk keeps the read lock of the owner it started
    /// from; the parent's `Drop` cleans that owner up and asks for its write lock.
    /// reactive_graph 0.3.0-rc1 (Leptos 0.9 release candidates) rewrote the walk so no
    /// lock is held across it. When this test fails, the defect is fixed in the version
    /// in Cargo.lock, and `isolate_reactive_owner` may be reconsidered.
    #[test]
    fn upstream_context_walk_deadlocks_when_it_drops_the_last_reference_to_a_parent() {
        #[derive(Clone)]
        struct Marker;
        let (finished, walked) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let parent = Owner::new(); // a root: this fresh thread has no owner
            parent.with(|| provide_context(Marker));
            let child = parent.with(Owner::new);
            let parent = Mutex::new(Some(parent));
            child.with(|| {
                // Another request finishing elsewhere, modelled deterministically: its
                // owner's last other reference goes away while the walk is inside it.
                with_context::<Marker, _>(|_| drop(parent.lock().unwrap().take()))
            });
            let _ = finished.send(());
        });
        assert!(
            walked.recv_timeout(Duration::from_secs(2)).is_err(),
            "the context walk finished: the upstream deadlock is fixed in this version"
        );
        // The deadlocked thread is left behind; the test process ends with it.
    }
}
