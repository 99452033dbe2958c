//! The app's cookies, one way for all of them: read by name from a request, and set
//! `Path=/`, `HttpOnly`, `SameSite=Lax`, and over HTTPS `Secure` with the `__Host-`
//! prefix (browsers accept such a cookie only from a secure origin, with `Path=/` and
//! no `Domain`, so no other host or plain-HTTP page can set or shadow it).

use cookie::{time::Duration, Cookie, SameSite};
use http::{header::COOKIE, HeaderMap, HeaderValue};

/// A cookie of the app: its two names (plain, and `__Host-` prefixed for HTTPS).
pub struct AppCookie {
    pub plain: &'static str,
    pub secure: &'static str,
}

impl AppCookie {
    /// Its name when cookies are (or are not) `Secure`.
    pub fn name(&self, secure: bool) -> &'static str {
        if secure {
            self.secure
        } else {
            self.plain
        }
    }

    /// Its value in a request's `Cookie` headers, if there.
    pub fn read(&self, headers: &HeaderMap, secure: bool) -> Option<String> {
        let name = self.name(secure);
        headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|header| header.to_str().ok())
            .flat_map(Cookie::split_parse)
            .filter_map(Result::ok)
            .find(|cookie| cookie.name() == name)
            .map(|cookie| cookie.value().to_owned())
    }

    /// The `Set-Cookie` value that stores `value` for `max_age`; `None` if `value` is
    /// not a valid cookie value.
    pub fn set(&self, value: String, max_age: Duration, secure: bool) -> Option<HeaderValue> {
        let cookie = Cookie::build((self.name(secure), value))
            .path("/")
            .secure(secure)
            .http_only(true)
            .same_site(SameSite::Lax)
            .max_age(max_age)
            .build();
        HeaderValue::from_str(&cookie.to_string()).ok()
    }
}
