//! The links to the newer and older pages of the list.

use super::context::PageContext;
use crate::todos::listing::ListQuery;
use leptos::prelude::*;

/// Shown only where there is another page.
#[component]
pub(super) fn Pager(newer: Option<ListQuery>, older: Option<ListQuery>) -> impl IntoView {
    const LINK_CLASS: &str = "rounded-lg border border-slate-300 bg-white px-3 py-1.5 text-sm font-semibold text-indigo-800 hover:bg-slate-100 focus-visible:outline focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-700";
    let list = expect_context::<PageContext>().list;
    (newer.is_some() || older.is_some()).then(|| {
        view! {
            <nav aria-label="Pages" class="mt-6 flex">
                {newer
                    .map(|page| {
                        view! {
                            <a href=page.href(list) rel="prev" class=LINK_CLASS>
                                <span aria-hidden="true">"← "</span>
                                "Previous page"
                            </a>
                        }
                    })}
                {older
                    .map(|page| {
                        view! {
                            <a href=page.href(list) rel="next" class=format!("ml-auto {LINK_CLASS}")>
                                "Next page"
                                <span aria-hidden="true">" →"</span>
                            </a>
                        }
                    })}
            </nav>
        }
    })
}
