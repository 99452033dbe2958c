//! The list a form's change is for: every form of the page posts it, so the server
//! function knows which list to change without JavaScript too.

use super::context::PageContext;
use leptos::prelude::*;

#[component]
pub(super) fn ListField() -> impl IntoView {
    let list = expect_context::<PageContext>().list;
    view! { <input type="hidden" name="list" value=list.to_string() /> }
}
