//! Read-your-writes across a lagging replica, kept in a cookie.
//!
//! After a client writes, the server sets a cookie holding the primary's WAL position
//! at that moment. While the cookie lives, that client's reads go to a replica only
//! once it has replayed that position (`Database::read`), else to the primary. The same
//! idea as GitLab's database load balancer, but the state lives with the client, so any
//! server instance can honour it.
//!
//! The cookie is never deleted early: a read that found the replica caught up with an
//! older position could race a newer write's cookie and delete it. It simply expires.

use crate::server::db::WalLsn;
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

/// How long after a write the client's reads check the replica's replay position.
/// Well above the replica lag limit (`DATABASE_REPLICA_MAX_LAG_SECONDS`): a replica
/// further behind serves no reads at all.
const MAX_AGE: Duration = Duration::minutes(5);

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
    let cookie = Cookie::build((COOKIE_NAME, lsn.to_string()))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .max_age(MAX_AGE)
        .build();
    let Some(response) = use_context::<ResponseOptions>() else {
        tracing::error!("no response to set the read-your-writes cookie on");
        return;
    };
    match HeaderValue::from_str(&cookie.to_string()) {
        Ok(value) => response.append_header(SET_COOKIE, value),
        Err(error) => tracing::error!(%error, "read-your-writes cookie is not a valid header"),
    }
}
