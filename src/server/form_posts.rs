//! HTML forms posted by the browser itself, with JavaScript off (or not yet loaded).
//! Every control of the app is such a form. A server function answers a successful one
//! with a redirect back to the list the form was on; a refused one with that list page
//! itself, status 4xx, showing why and what was typed ([`answer_refusals_with_page`]).
//! Leptos's default would redirect to the raw `Referer` (any origin, or nowhere without
//! one) with the error, typed input included, in the URL: a `Location` header of tens
//! of kilobytes for a long text, beyond what some proxies pass.

use crate::{app::RefusedPost, lists::model::ListId};
use axum::{
    body::Body,
    extract::{Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
    Router,
};
use http::{
    header::{
        ACCEPT, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, REFERER, RETRY_AFTER,
        TRANSFER_ENCODING,
    },
    request::Parts,
    HeaderMap, HeaderValue, Method, StatusCode,
};
use leptos::{
    prelude::use_context,
    server_fn::error::{FromServerFnError, ServerFnUrlError},
};
use std::sync::{Arc, Mutex};
use tower::ServiceExt;

/// The query parameters a list page reads (`todos::listing`, the edit form). Only these
/// are carried from the `Referer` into a redirect or a re-rendered page.
const LIST_PAGE_PARAMS: [&str; 4] = ["filter", "after", "before", "edit"];

/// Longer values, or ones with other characters, are not ones the app made (a filter
/// name, an id): dropped, which keeps every `Location` the app sends well under a
/// kilobyte and every path it builds a valid URI.
const PARAM_VALUE_MAX_BYTES: usize = 32;

/// Whether the request being handled is a plain HTML form post.
pub fn is_plain_form_post() -> bool {
    use_context::<Parts>().is_some_and(|parts| is_plain_post(&parts.method, &parts.headers))
}

/// A `POST` whose answer the browser will show as a page: what a `<form>` sends, where
/// the hydrated app's `fetch` asks for the server function's own encoding.
fn is_plain_post(method: &Method, headers: &HeaderMap) -> bool {
    method == Method::POST
        && headers
            .get(ACCEPT)
            .and_then(|accept| accept.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"))
}

/// For a successful plain form post: back to the list the form was on, without the
/// given query parameters (a name such as `edit`, which opened the edit form that was
/// just saved, or a whole pair such as `filter=completed`) and without Leptos's error
/// parameters of an earlier attempt.
///
/// Every server function calls it on success, and [`answer_with_error`] on failure.
/// Its `Location` replaces the one server_fn sets (the raw `Referer`, which may name
/// another origin or be missing): always a path of this app.
pub fn redirect_back_to_list_without(list: ListId, params: &[&str]) {
    if !is_plain_form_post() {
        return;
    }
    // Built from pieces of a valid header value and a fixed path: a valid one too.
    leptos_axum::redirect(&list_page(list, params));
}

/// For a plain form post that failed: the page of the list the form was on (the
/// `Referer`'s view of it: filter, page, open edit form), showing the error and what
/// was typed, with the error's status. [`answer_refusals_with_page`] renders it; the
/// error reaches the page the way Leptos's `ActionForm` reads one back from a URL
/// (`ServerActionError`), without being put in one.
///
/// Without a list (the request did not name a well-formed one, so it cannot carry typed
/// input either), a redirect to `/`, which leads to the list this browser used last.
pub fn answer_with_error<E: FromServerFnError>(list: Option<ListId>, error: E, status: StatusCode) {
    let Some(parts) = use_context::<Parts>() else {
        return;
    };
    let action = parts.uri.path().to_owned();
    let Some(error) = ServerFnUrlError::new(&action, error)
        .to_url("http://app/")
        .ok()
        .and_then(|url| {
            url.query_pairs()
                .find(|(name, _)| name == "__err")
                .map(|(_, value)| value.into_owned())
        })
    else {
        return;
    };
    let slot = parts.extensions.get::<RefusalSlot>();
    match (list, slot) {
        (Some(list), Some(slot)) => {
            let refused = RefusedPost {
                page: list_page(list, &[]),
                action,
                error,
            };
            *slot
                .0
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some((refused, status));
        }
        _ => leptos_axum::redirect("/"),
    }
}

/// Where a refused post's answer is kept until [`answer_refusals_with_page`] renders it:
/// put into each plain form post's extensions, which the server function sees (Leptos
/// provides the request's `Parts`, extensions included, as context).
#[derive(Clone, Default)]
struct RefusalSlot(Arc<Mutex<Option<(RefusedPost, StatusCode)>>>);

/// Middleware on the app's routes: a plain form post that a server function refused
/// ([`answer_with_error`]) is answered with the list page, rendered by `pages` (the
/// app's own routes) as for a `GET` of it with the same headers (cookies: the reader's
/// own writes), and the refusal's status unless the page has a status of its own (an
/// unknown list's 404). The browser shows it at the form's action URL; the page's shell
/// puts the list's own URL in the address bar when scripts run (`app::shell`).
pub async fn answer_refusals_with_page(
    State(pages): State<Router>,
    mut request: Request,
    next: Next,
) -> Response {
    if !is_plain_post(request.method(), request.headers()) {
        return next.run(request).await;
    }
    let slot = RefusalSlot::default();
    request.extensions_mut().insert(slot.clone());
    let mut headers = request.headers().clone();
    let answer = next.run(request).await;
    let refused = slot
        .0
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .take();
    let Some((refused, status)) = refused else {
        return answer;
    };
    for body_header in [
        CONTENT_TYPE,
        CONTENT_LENGTH,
        CONTENT_ENCODING,
        TRANSFER_ENCODING,
    ] {
        headers.remove(body_header);
    }
    let Ok(mut page_request) = Request::get(&refused.page).body(Body::empty()) else {
        // Not reached: the path is built from a list id and checked query pairs.
        return answer;
    };
    *page_request.headers_mut() = headers;
    page_request.extensions_mut().insert(refused);
    let mut page = match pages.oneshot(page_request).await {
        Ok(page) => page,
        Err(infallible) => match infallible {},
    };
    if page.status() == StatusCode::OK {
        *page.status_mut() = status;
        if status == StatusCode::SERVICE_UNAVAILABLE {
            page.headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from_static("1"));
        }
    }
    page.into_response()
}

/// The path of `list`'s page in the view the form was posted from (the `Referer`'s list
/// parameters), minus `params`.
fn list_page(list: ListId, params: &[&str]) -> String {
    let kept = list_query_of_referer(params);
    let path = list.href();
    if kept.is_empty() {
        path
    } else {
        format!("{path}?{}", kept.join("&"))
    }
}

/// The list page's query parameters of the page the form was posted from (its
/// `Referer`), minus `params`. Only the query is taken, never the referer's origin or
/// path, so a path built from it cannot leave the list page.
fn list_query_of_referer(params: &[&str]) -> Vec<String> {
    let referer = use_context::<Parts>()
        .and_then(|parts| parts.headers.get(REFERER).cloned())
        .and_then(|referer| referer.to_str().ok().map(str::to_owned))
        .unwrap_or_default();
    let query = referer
        .split('#')
        .next()
        .and_then(|url| url.split_once('?'))
        .map_or("", |(_, query)| query);
    query
        .split('&')
        .filter(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            LIST_PAGE_PARAMS.contains(&name)
                && value.len() <= PARAM_VALUE_MAX_BYTES
                && value
                    .bytes()
                    .all(|byte| byte.is_ascii_alphanumeric() || b"-_.%".contains(&byte))
                && !params.contains(&name)
                && !params.contains(pair)
        })
        .map(str::to_owned)
        .collect()
}
