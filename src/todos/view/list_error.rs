//! What shows instead of the list when it cannot be read.

use super::context::PageContext;
use crate::todos::error::TodoError;
use leptos::prelude::*;

#[component]
pub(super) fn ListError(error: TodoError) -> impl IntoView {
    // The page's status says what went wrong too (a malformed URL is a 400).
    let list = expect_context::<PageContext>().list;
    #[cfg(feature = "ssr")]
    error.set_response_status(Some(list));
    let message = match error {
        TodoError::Network => error.to_string(),
        TodoError::BadRequest => "This page address isn't valid.".to_owned(),
        _ => "Couldn't load your todos. Please reload the page.".to_owned(),
    };
    view! {
        <p role="alert" class="text-red-700">
            {message}
            " "
            <a class="font-semibold underline" href=list.href()>
                "Show all todos"
            </a>
        </p>
    }
}
