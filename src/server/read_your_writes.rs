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

use crate::server::{cookies::AppCookie, db::WalLsn, state::AppState};
use cookie::time::Duration;
use http::{header::SET_COOKIE, request::Parts};
use leptos::prelude::use_context;
use leptos_axum::ResponseOptions;

/// Name of the cookie that holds the WAL position of the client's latest write.
pub const COOKIE_NAME: &str = "tasks_last_write";
/// Its name when the app is served over HTTPS (`cookies`: what the prefix guarantees).
pub const SECURE_COOKIE_NAME: &str = "__Host-tasks_last_write";
const LAST_WRITE: AppCookie = AppCookie {
    plain: COOKIE_NAME,
    secure: SECURE_COOKIE_NAME,
};

/// Whether this app's cookies are `Secure` (`PUBLIC_URL` is `https://…`).
fn secure() -> bool {
    use_context::<AppState>().is_some_and(|state| state.secure_cookies)
}

/// How long after a write the client's reads check the replica's replay position.
/// Well above the replica lag limit (`DATABASE_REPLICA_MAX_LAG_SECONDS`): a replica
/// further behind serves no reads at all.
const MAX_AGE: Duration = Duration::minutes(5);

/// The WAL position of this client's latest write, from the current request's cookie.
/// A malformed cookie is ignored, like a missing one.
pub fn last_write() -> Option<WalLsn> {
    let parts = use_context::<Parts>()?;
    LAST_WRITE.read(&parts.headers, secure())?.parse().ok()
}

/// Makes the client's next reads wait for the replica to replay `lsn`, or the position
/// its cookie already holds if that is further: two writes answered out of order (two
/// tabs, a retry) must not move the client's position backwards.
pub fn remember_write(lsn: WalLsn) {
    let lsn = last_write().map_or(lsn, |earlier| earlier.max(lsn));
    let Some(response) = use_context::<ResponseOptions>() else {
        tracing::error!("no response to set the read-your-writes cookie on");
        return;
    };
    // A WAL position is hex digits and a slash: always a valid cookie value.
    if let Some(value) = LAST_WRITE.set(lsn.to_string(), MAX_AGE, secure()) {
        response.append_header(SET_COOKIE, value);
    }
}
