//! HTML forms posted by the browser itself, with JavaScript off. Every control of the
//! app is such a form; a server function answers it with a redirect back to the list
//! the form was on, never with data. Leptos's default would redirect to the raw
//! `Referer` (any origin, or nowhere without one); the functions here build a path of
//! this app instead.

use crate::lists::model::ListId;
use http::{
    header::{ACCEPT, REFERER},
    request::Parts,
    Method,
};
use leptos::{
    prelude::use_context,
    server_fn::error::{FromServerFnError, ServerFnUrlError},
};

/// Whether the request being handled is a plain HTML form post.
pub fn is_plain_form_post() -> bool {
    use_context::<Parts>().is_some_and(|parts| {
        parts.method == Method::POST
            && parts
                .headers
                .get(ACCEPT)
                .and_then(|accept| accept.to_str().ok())
                .is_some_and(|accept| accept.contains("text/html"))
    })
}

/// For a successful plain form post: back to the list the form was on, without the
/// given query parameters (a name such as `edit`, which opened the edit form that was
/// just saved, or a whole pair such as `filter=completed`) and without Leptos's error
/// parameters of an earlier attempt.
///
/// Every server function calls it on success, and [`redirect_back_with_error`] on
/// failure. Their `Location` replaces the one server_fn sets (the raw `Referer`, which
/// may name another origin or be missing): one rule decides where every form post
/// lands, always a path of this app.
pub fn redirect_back_to_list_without(list: ListId, params: &[&str]) {
    if !is_plain_form_post() {
        return;
    }
    let kept = list_query_of_referer(params);
    let path = list.href();
    let location = if kept.is_empty() {
        path
    } else {
        format!("{path}?{}", kept.join("&"))
    };
    // Built from pieces of a valid header value and a fixed path: a valid one too.
    leptos_axum::redirect(&location);
}

/// For a plain form post that failed: back to the list the form was on (every query
/// parameter kept, so an open edit form opens again), with the error in the URL the
/// way Leptos's `ActionForm` reads it back (`__path`, `__err`), so the page shows the
/// message and what was typed. Without a `Referer`, back to the list's first page;
/// without a list (the request did not name a well-formed one), to `/`, which leads to
/// the list this browser used last.
pub fn redirect_back_with_error<E: FromServerFnError + Clone>(list: Option<ListId>, error: E) {
    let Some(parts) = use_context::<Parts>() else {
        return;
    };
    let kept = list_query_of_referer(&[]);
    // A base to build the URL on; only its path and query are used.
    let base = format!("http://app/?{}", kept.join("&"));
    let Ok(url) = ServerFnUrlError::new(parts.uri.path(), error).to_url(&base) else {
        return;
    };
    let path = list.map_or_else(|| "/".to_owned(), ListId::href);
    let location = match url.query() {
        Some(query) => format!("{path}?{query}"),
        None => path,
    };
    leptos_axum::redirect(&location);
}

/// The query parameters of the page the form was posted from (its `Referer`), minus
/// `params` and Leptos's error parameters. Only the query is taken, never the
/// referer's origin or path, so a redirect built from it cannot leave the list page.
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
            let name = pair.split('=').next().unwrap_or_default();
            !name.is_empty()
                && !params.contains(&name)
                && !params.contains(pair)
                && name != "__err"
                && name != "__path"
        })
        .map(str::to_owned)
        .collect()
}
