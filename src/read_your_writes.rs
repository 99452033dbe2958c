//! Read-your-writes across a lagging replica, kept in a cookie.
//!
//! After a client writes, the server sets a cookie holding the primary's WAL position
//! at that moment. While the cookie is there, that client's reads go to the replica only
//! once it has replayed that position (`Database::read`); the cookie is dropped as soon
//! as a read finds the replica caught up. The same idea as GitLab's database load
//! balancer, but the state lives with the client, so any server instance can honour it.

use crate::db::WalLsn;
use cookie::{time::Duration, Cookie, SameSite};
use http::{
    header::{COOKIE, SET_COOKIE},
    request::Parts,
    HeaderValue,
};
use leptos::prelude::use_context;
use leptos_axum::ResponseOptions;

/// Name of the cookie that holds the WAL position of the client's latest write.
pub const COOKIE_NAME: &str = "tasks_last_write";

/// Bound on how long a write can pin a client's reads to the primary, should no read
/// ever find the replica caught up (say, a replica rebuilt from another cluster).
const MAX_AGE: Duration = Duration::minutes(10);

/// The WAL position of this client's latest write, from the current request's cookie.
/// A malformed cookie is ignored, like a missing one.
pub fn last_write() -> Option<WalLsn> {
    let parts = use_context::<Parts>()?;
    parts
        .headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|header| header.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|cookie| cookie.name() == COOKIE_NAME)
        .and_then(|cookie| cookie.value().parse().ok())
}

/// Makes the client's next reads wait for the replica to replay `lsn`.
pub fn remember_write(lsn: WalLsn) {
    set_cookie(base_cookie(lsn.to_string()).max_age(MAX_AGE).build());
}

/// Lets the client's reads go to the replica freely again.
pub fn forget_write() {
    set_cookie(base_cookie(String::new()).max_age(Duration::ZERO).build());
}

fn base_cookie(value: String) -> cookie::CookieBuilder<'static> {
    Cookie::build((COOKIE_NAME, value))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
}

fn set_cookie(cookie: Cookie<'static>) {
    let Some(response) = use_context::<ResponseOptions>() else {
        tracing::error!("no response to set the read-your-writes cookie on");
        return;
    };
    match HeaderValue::from_str(&cookie.to_string()) {
        Ok(value) => response.append_header(SET_COOKIE, value),
        Err(error) => tracing::error!(%error, "read-your-writes cookie is not a valid header"),
    }
}
