//! A `/lists/…` URL that cannot name a list (not 26 characters of the id's alphabet).

use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub(super) fn UnknownList() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="No such list · Tasks" />
        <h1 class="text-3xl font-bold tracking-tight">"No such list"</h1>
        <p class="mt-4">
            "This address doesn't name a list. Check the link you were given, or "
            // A server route: the browser must load it, not the client-side router.
            <a class="font-semibold text-indigo-700 underline" href="/lists/new" rel="external">
                "start a new list"
            </a>
            "."
        </p>
    }
}
