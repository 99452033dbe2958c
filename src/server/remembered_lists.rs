//! The lists a browser used, newest first, kept in a cookie of the browser (never on
//! the server): "Your lists", and where `GET /` leads.
//!
//! The cookie holds list ids only (at most 20 of 26 characters); names are read from the
//! database when the list page shows them, so a rename by anyone shows everywhere. It is
//! `HttpOnly` (no script reads the capabilities), `SameSite=Lax`, and `Secure` with the
//! `__Host-` prefix when the app is served over HTTPS.

use super::{cookies::AppCookie, state::AppState};
use crate::lists::model::{ListId, REMEMBERED_MAX};
use axum::{
    extract::State,
    http::{
        header::{CACHE_CONTROL, LOCATION},
        HeaderMap, HeaderValue, StatusCode,
    },
    response::{IntoResponse, Response},
};
use cookie::time::Duration;

/// `__Host-tasks_lists` over HTTPS (see `cookies`).
const REMEMBERED: AppCookie = AppCookie {
    plain: "tasks_lists",
    secure: "__Host-tasks_lists",
};
/// Chrome caps a cookie's lifetime at 400 days; each visit renews it.
const MAX_AGE: Duration = Duration::days(400);

/// The lists remembered in the request's cookie, newest first. Malformed entries are
/// skipped, like a missing cookie.
pub fn read(headers: &HeaderMap, secure: bool) -> Vec<ListId> {
    REMEMBERED
        .read(headers, secure)
        .map(|value| {
            value
                .split('.')
                .filter_map(|id| id.parse().ok())
                .take(REMEMBERED_MAX)
                .collect()
        })
        .unwrap_or_default()
}

/// `lists` with `first` in front (moved there if it was already in), at most
/// [`REMEMBERED_MAX`].
pub fn with_first(first: ListId, lists: &[ListId]) -> Vec<ListId> {
    std::iter::once(first)
        .chain(lists.iter().copied().filter(|list| *list != first))
        .take(REMEMBERED_MAX)
        .collect()
}

/// The `Set-Cookie` value that remembers `lists`.
pub fn set_cookie(lists: &[ListId], secure: bool) -> HeaderValue {
    let value = lists
        .iter()
        .map(ListId::to_string)
        .collect::<Vec<_>>()
        .join(".");
    // Ids are ASCII letters and digits joined by dots: always a valid cookie value.
    REMEMBERED
        .set(value, MAX_AGE, secure)
        .unwrap_or_else(|| HeaderValue::from_static(""))
}

/// `GET /`: to the list this browser used last, or to a new list. Writes nothing to the
/// database: a crawler or a link preview that follows it creates nothing; the list comes
/// into being with its first write.
pub async fn home(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match read(&headers, state.secure_cookies).first() {
        Some(list) => see_other(&list.href()),
        None => new_list().await,
    }
}

/// `GET /lists/new`: to a list nobody has used yet.
pub async fn new_list() -> Response {
    match ListId::random() {
        Ok(list) => see_other(&list.href()),
        Err(error) => {
            tracing::error!(%error, "the operating system's random number generator failed");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

/// 303: the browser follows with a GET. Never stored: each visit may lead elsewhere.
fn see_other(path: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    // A path of this app, of ASCII only.
    if let Ok(location) = HeaderValue::from_str(path) {
        headers.insert(LOCATION, location);
    }
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::header::COOKIE;

    fn id(n: u128) -> ListId {
        ListId::from_u128(n)
    }

    #[test]
    fn the_cookie_round_trips_and_skips_what_is_not_an_id() {
        let lists = [id(1), id(2), id(u128::MAX)];
        let set = set_cookie(&lists, false);
        let set = set.to_str().unwrap();
        assert!(set.contains("HttpOnly") && set.contains("SameSite=Lax"));
        assert!(!set.contains("Secure"));
        let value = set.split(';').next().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(
            COOKIE,
            HeaderValue::from_str(&format!("a=b; {value}.junk")).unwrap(),
        );
        assert_eq!(read(&headers, false), lists);
        assert!(
            read(&headers, true).is_empty(),
            "the secure name is another cookie"
        );
        assert!(set_cookie(&lists, true)
            .to_str()
            .unwrap()
            .starts_with("__Host-tasks_lists="));
    }

    #[test]
    fn the_list_opened_goes_first_once_and_twenty_are_kept() {
        let many: Vec<ListId> = (0..30).map(id).collect();
        let kept = with_first(id(5), &many);
        assert_eq!(kept.len(), REMEMBERED_MAX);
        assert_eq!(kept[0], id(5));
        assert_eq!(kept.iter().filter(|list| **list == id(5)).count(), 1);
        assert_eq!(kept[1], id(0));
    }
}
