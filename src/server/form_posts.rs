//! HTML forms posted by the browser itself, with JavaScript off. Every control of the
//! app is such a form; a server function answers it with a redirect back to the page
//! (Leptos's default: to the `Referer`), never with data.

use http::{
    header::{ACCEPT, REFERER},
    request::Parts,
    Method,
};
use leptos::prelude::use_context;

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
/// parameters of an earlier attempt. Only the referer's query is kept, never its
/// origin or path, so the redirect cannot leave the list page.
///
/// Every server function calls it on success. Its `Location` then replaces the one
/// server_fn sets (the raw `Referer`, with its error parameters stripped): one rule
/// decides where every successful form post lands.
pub fn redirect_back_to_list_without(params: &[&str]) {
    if !is_plain_form_post() {
        return;
    }
    let Some(parts) = use_context::<Parts>() else {
        return;
    };
    let referer = parts
        .headers
        .get(REFERER)
        .and_then(|referer| referer.to_str().ok())
        .unwrap_or_default();
    let query = referer
        .split('#')
        .next()
        .and_then(|url| url.split_once('?'))
        .map_or("", |(_, query)| query);
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| {
            let name = pair.split('=').next().unwrap_or_default();
            !name.is_empty()
                && !params.contains(&name)
                && !params.contains(pair)
                && name != "__err"
                && name != "__path"
        })
        .collect();
    let location = if kept.is_empty() {
        "/".to_owned()
    } else {
        format!("/?{}", kept.join("&"))
    };
    // The referer came in as a valid header value, so every part of it still is one.
    leptos_axum::redirect(&location);
}
