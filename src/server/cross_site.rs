//! Refuses state-changing requests that do not come from the app's own pages
//! (cross-site request forgery): a `<form>` on any other web site could otherwise post
//! to a list's server functions from a visitor's browser.
//!
//! A request that changes something (any method but GET, HEAD and OPTIONS) is accepted
//! when the browser says it comes from this origin:
//! 1. `Sec-Fetch-Site: same-origin` or `none` (typed in or bookmarked). Browsers set it
//!    on every request to a secure origin (HTTPS, or localhost) and scripts cannot
//!    forge it; any other value (`cross-site`, `same-site`) is refused.
//! 2. Without it (older browsers, plain HTTP on another host): `Origin` names this
//!    app's origin. Browsers send it with every POST; `null` (a sandboxed frame, a
//!    `data:` page) is refused.
//! 3. Without either: the origin of `Referer`. The app's `Referrer-Policy: same-origin`
//!    keeps the referer on same-origin requests.
//!
//! Nothing at all (a script or bot without a browser) is refused too: the app's own
//! pages always send one of them.
//!
//! This app's origin is `PUBLIC_URL` when set; otherwise the request's `Host` (any
//! scheme: behind a TLS-terminating proxy the app cannot tell).

use axum::{
    extract::Request,
    http::{
        header::{HOST, ORIGIN, REFERER},
        HeaderMap, Method, StatusCode,
    },
    middleware::Next,
    response::{IntoResponse, Response},
};

/// The layer's function: `public_url` is `PUBLIC_URL`, if set.
pub async fn refuse_cross_site_writes(
    public_url: Option<String>,
    request: Request,
    next: Next,
) -> Response {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if safe || comes_from_this_app(request.headers(), public_url.as_deref()) {
        next.run(request).await
    } else {
        (
            StatusCode::FORBIDDEN,
            "Refused: changes can only be made from this app's own pages.",
        )
            .into_response()
    }
}

/// Whether the headers say the request comes from a page of this app (rules above).
pub fn comes_from_this_app(headers: &HeaderMap, public_url: Option<&str>) -> bool {
    let header = |name| headers.get(name).and_then(|value| value.to_str().ok());
    if let Some(site) = header("sec-fetch-site") {
        return site.eq_ignore_ascii_case("same-origin") || site.eq_ignore_ascii_case("none");
    }
    let claimed = match (header(ORIGIN.as_str()), header(REFERER.as_str())) {
        (Some(origin), _) => origin,
        (None, Some(referer)) => referer,
        (None, None) => return false,
    };
    let Some((scheme, authority)) = origin_of(claimed) else {
        return false;
    };
    match public_url {
        Some(public_url) => origin_of(public_url)
            .is_some_and(|(own_scheme, own)| own_scheme == scheme && own == authority),
        None => header(HOST.as_str()).is_some_and(|host| {
            without_default_port(&host.to_ascii_lowercase(), &scheme) == authority
        }),
    }
}

/// The scheme and authority (lower case, default port dropped) of an origin or URL:
/// `https://Tasks.example:443/lists/x` → (`https`, `tasks.example`). `None` for `null`
/// and anything that is not an http(s) URL with a host.
fn origin_of(url: &str) -> Option<(String, String)> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next()?.to_ascii_lowercase();
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    let authority = without_default_port(&authority, &scheme);
    Some((scheme, authority))
}

fn without_default_port(authority: &str, scheme: &str) -> String {
    let default = if scheme == "https" { ":443" } else { ":80" };
    authority
        .strip_suffix(default)
        .unwrap_or(authority)
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn fetch_metadata_decides_when_present() {
        let own = |site| {
            comes_from_this_app(
                &headers(&[("sec-fetch-site", site), ("host", "a.test")]),
                None,
            )
        };
        assert!(own("same-origin"));
        assert!(own("none"));
        assert!(!own("cross-site"));
        assert!(!own("same-site"));
        // Even with a matching Origin: the browser's word wins.
        assert!(!comes_from_this_app(
            &headers(&[
                ("sec-fetch-site", "cross-site"),
                ("origin", "http://a.test"),
                ("host", "a.test")
            ]),
            None
        ));
    }

    #[test]
    fn origin_then_referer_must_name_the_host_or_the_public_url() {
        let check = |pairs: &[(&'static str, &'static str)], public| {
            comes_from_this_app(&headers(pairs), public)
        };
        assert!(check(
            &[("origin", "http://a.test:80"), ("host", "a.test")],
            None
        ));
        assert!(check(
            &[("origin", "https://A.test"), ("host", "a.test")],
            None
        ));
        assert!(!check(
            &[("origin", "http://evil.test"), ("host", "a.test")],
            None
        ));
        assert!(!check(&[("origin", "null"), ("host", "a.test")], None));
        assert!(!check(
            &[("origin", "http://a.test.evil.test"), ("host", "a.test")],
            None
        ));
        assert!(check(
            &[("referer", "http://a.test/lists/x?y"), ("host", "a.test")],
            None
        ));
        assert!(!check(
            &[("referer", "http://evil.test/a.test"), ("host", "a.test")],
            None
        ));
        assert!(!check(&[("host", "a.test")], None), "no header at all");
        let public = Some("https://tasks.example");
        assert!(check(
            &[
                ("origin", "https://tasks.example"),
                ("host", "10.0.0.1:8080")
            ],
            public
        ));
        assert!(!check(
            &[
                ("origin", "http://tasks.example"),
                ("host", "tasks.example")
            ],
            public
        ));
        assert!(!check(
            &[
                ("origin", "https://10.0.0.1:8080"),
                ("host", "10.0.0.1:8080")
            ],
            public
        ));
    }
}
