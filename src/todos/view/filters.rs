//! All / Active / Completed.

use super::context::PageContext;
use crate::todos::listing::{Filter, ListQuery};
use leptos::prelude::*;

/// Plain links, so a view can be reloaded and shared.
#[component]
pub(super) fn FilterLinks(current: Filter) -> impl IntoView {
    let list = expect_context::<PageContext>().list;
    let links = Filter::EVERY
        .into_iter()
        .map(|filter| {
            let is_current = filter == current;
            view! {
                <li>
                    <a
                        href=ListQuery::first_page_of(filter).href(list)
                        aria-current=is_current.then_some("page")
                        class="rounded-md border border-transparent px-2 py-1 text-sm text-slate-700 hover:border-slate-300 focus-visible:outline focus-visible:outline-2 focus-visible:outline-indigo-700 aria-[current=page]:border-indigo-700 aria-[current=page]:font-semibold aria-[current=page]:text-indigo-800"
                    >
                        {filter.label()}
                    </a>
                </li>
            }
        })
        .collect_view();
    view! {
        <nav aria-label="Filter todos">
            <ul class="flex gap-1">{links}</ul>
        </nav>
    }
}
