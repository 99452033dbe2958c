//! The HTML document and the app's routes.

use crate::lists::view::ListPage;
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, Link, MetaTags, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path, SsrMode,
};

/// The document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <AutoReload options=options.clone() />
                // Release builds name assets by content hash (`hash-files` in Cargo.toml),
                // which lets them be cached for a year.
                <HashedStylesheet options=options.clone() id="leptos" />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body class="min-h-screen bg-slate-50 text-slate-900 antialiased">
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();

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
