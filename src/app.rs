//! The HTML document and the app's routes.

use crate::lists::view::ListPage;
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, Link, MetaTags, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path, SsrMode,
};
use serde::{Deserialize, Serialize};

/// A form posted without JavaScript (or before the page hydrated) that a server
/// function refused. The server answers it with the list page itself, rendered with
/// this in the request's extensions (`server::form_posts`): the page shows the error and
/// what was typed, as Leptos's actions read an error back from a URL's `__path` and
/// `__err`, without a URL of tens of kilobytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusedPost {
    /// The list page it is shown on: path and view query, no error in it.
    pub page: String,
    /// The refusing server function's path (`__path`).
    pub action: String,
    /// Its error as Leptos encodes one for a URL (`__err`).
    pub error: String,
}

/// The document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                // The same for every page: a list's name never goes into metadata.
                <meta name="description" content="Tasks: a to-do list to add, complete and share tasks." />
                <AutoReload options=options.clone() />
                // Release builds name assets by content hash (`hash-files` in Cargo.toml),
                // which lets them be cached for a year.
                <HashedStylesheet options=options.clone() id="leptos" />
                {list_url_after_refused_post()}
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body class="min-h-screen bg-slate-50 text-slate-900 antialiased">
                <App />
            </body>
        </html>
    }
}

/// A refused post's page arrives at the form's action URL (`/api/…`). This script puts
/// the list page's own URL in the address bar before the app hydrates, since the router
/// routes by it; a reload or a bookmark then gets the list, not the post again. Without
/// JavaScript the address stays, and a reload asks before posting again.
fn list_url_after_refused_post() -> Option<impl IntoView> {
    #[cfg(feature = "ssr")]
    {
        let page = use_context::<http::request::Parts>()?
            .extensions
            .get::<RefusedPost>()?
            .page
            .clone();
        // A list id and checked query pairs (`form_posts`); anything else, which would
        // need escaping inside a script, is not put in one.
        let plain = |byte: u8| byte.is_ascii_alphanumeric() || b"/?&=%._-".contains(&byte);
        if !page.bytes().all(plain) {
            return None;
        }
        let script = format!("history.replaceState(null,\"\",\"{page}\")");
        Some(view! { <script nonce=leptos::nonce::use_nonce() inner_html=script></script> })
    }
    #[cfg(not(feature = "ssr"))]
    None::<()>
}

/// The refusal of a form posted without JavaScript, for the server functions' actions
/// (`ServerAction::new` reads a `ServerActionError` from the context). Sent with the
/// page, so the hydrated app shows the same error the server rendered.
fn provide_refused_post_error() {
    let refused = SharedValue::new(|| {
        #[cfg(feature = "ssr")]
        return use_context::<http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<RefusedPost>().cloned());
        #[cfg(not(feature = "ssr"))]
        None::<RefusedPost>
    })
    .into_inner();
    if let Some(refused) = refused {
        provide_context(leptos::server::ServerActionError::new(
            &refused.action,
            &refused.error,
        ));
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    provide_refused_post_error();

    view! {
        <Link rel="icon" type_="image/svg+xml" href="/favicon.svg" />
        <Title text="Tasks" />
        <Router>
            <div class="mx-auto max-w-2xl px-4 py-10">
                <header class="mb-6">
                    // `/` is a server route (it leads to a list): the browser loads it.
                    <a href="/" rel="external" class="text-sm font-semibold uppercase tracking-wide text-indigo-800">
                        "Tasks"
                    </a>
                </header>
                <main>
                    <Routes fallback=NotFound>
                        // Async: the server waits for the list before sending the page,
                        // so it is complete in the first response and readable without
                        // JavaScript (streamed chunks would need a script to show).
                        // `/` and `/lists/new` are server routes (`server::startup`).
                        <Route path=path!("/lists/:id") view=ListPage ssr=SsrMode::Async />
                    </Routes>
                </main>
            </div>
        </Router>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found · Tasks" />
        <h1 class="text-3xl font-bold tracking-tight">"Page not found"</h1>
        <p class="mt-4">
            <a class="text-indigo-700 underline" href="/" rel="external">
                "Back to your todos"
            </a>
        </p>
    }
}
