//! The refusals of changes posted without JavaScript.

use super::context::PageContext;
use crate::todos::{
    api::{ClearCompleted, DeleteTodo, SetAllCompleted, SetTodoCompleted},
    error::TodoError,
};
use leptos::prelude::*;

/// The page the server answers a refused post with carries the refusal, and each
/// server action reads its own.
#[component]
pub(super) fn PostedChangeErrors() -> impl IntoView {
    let context = expect_context::<PageContext>();
    let set_completed = ServerAction::<SetTodoCompleted>::new();
    let delete = ServerAction::<DeleteTodo>::new();
    let set_all = ServerAction::<SetAllCompleted>::new();
    let clear = ServerAction::<ClearCompleted>::new();
    let message = move || {
        let refused = [
            set_completed.value().get().and_then(Result::err),
            delete.value().get().and_then(Result::err),
            set_all.value().get().and_then(Result::err),
            clear.value().get().and_then(Result::err),
            // An invalid edit shows in its own form instead.
            context
                .posted_update
                .value()
                .get()
                .and_then(Result::err)
                .filter(|error| !matches!(error, TodoError::Invalid { .. })),
        ];
        refused
            .into_iter()
            .flatten()
            .next()
            .map(|error| error.to_string())
    };
    move || {
        message().map(|message| {
            view! {
                <p role="alert" class="mb-4 rounded-lg border border-red-200 bg-red-50 p-3 text-red-800">
                    {message}
                    " "
                    <a class="font-semibold underline" href=context.current_href()>
                        "Reload"
                    </a>
                </p>
            }
        })
    }
}
