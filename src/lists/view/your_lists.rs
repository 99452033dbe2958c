//! "Your lists": the lists this browser used, and a new one.

use crate::lists::model::{ListId, ListLink};
use leptos::prelude::*;

#[component]
pub(super) fn YourLists(current: ListId, yours: Vec<ListLink>) -> impl IntoView {
    let links = yours
        .into_iter()
        .map(|link| {
            view! {
                <li>
                    <a
                        href=link.id.href()
                        aria-current=(link.id == current).then_some("page")
                        class="block max-w-[16rem] truncate rounded-md px-2 py-1 text-sm text-slate-700 hover:bg-slate-100 focus-visible:outline focus-visible:outline-2 focus-visible:outline-indigo-700 aria-[current=page]:font-semibold aria-[current=page]:text-indigo-800"
                    >
                        {link.name}
                    </a>
                </li>
            }
        })
        .collect_view();
    view! {
        <nav aria-label="Your lists" class="mb-8 flex flex-wrap items-center gap-2">
            <ul class="flex flex-wrap gap-1">{links}</ul>
            // A server route that picks a fresh id: the browser loads it.
            <a href="/lists/new" rel="external" class="button button-secondary">
                "New list"
            </a>
        </nav>
    }
}
