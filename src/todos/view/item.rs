//! One todo of the list: shown, or open in its edit form, with why its last change
//! was refused.

use super::{
    change::Changes,
    context::PageContext,
    edit_form::EditForm,
    item_view::ItemView,
    state::{ItemState, ListState},
};
use crate::todos::{
    error::TodoError,
    model::{FieldErrors, Todo},
};
use leptos::prelude::*;

#[component]
pub(super) fn TodoItem(todo: Todo) -> impl IntoView {
    // Hydrating: the title, text and time are in the server's HTML, not in the data.
    #[cfg(feature = "hydrate")]
    let todo = if todo.awaits_html() {
        super::dom::todo_from_html(todo)
    } else {
        todo
    };
    let context = expect_context::<PageContext>();
    let list = expect_context::<ListState>();
    // Opened without JavaScript through `?edit=<id>`. An invalid edit posted that way
    // comes back with what was typed and why it was refused.
    let opened_by_url = context.edit_param.get_untracked() == Some(todo.id);
    let rejected = match context.posted_update.value().get_untracked() {
        Some(Err(TodoError::Invalid { submitted, .. })) if opened_by_url => Some(submitted),
        _ => None,
    };
    let (draft_title, draft_text, draft_errors) = match rejected {
        // The messages are worked out from what was typed, never read from the URL.
        Some(submitted) => {
            let errors = submitted.errors();
            (submitted.title, submitted.text, errors)
        }
        None => (
            todo.title.clone(),
            todo.text.clone(),
            FieldErrors::default(),
        ),
    };
    let item = ItemState {
        id: todo.id,
        title: RwSignal::new(todo.title.clone()),
        text: RwSignal::new(todo.text.clone()),
        completed: RwSignal::new(todo.completed),
        version: RwSignal::new(todo.version),
        removed: RwSignal::new(false),
        changes: Changes::new(context),
        editing: RwSignal::new(opened_by_url),
        draft_title: RwSignal::new(draft_title),
        draft_text: RwSignal::new(draft_text),
        draft_errors: RwSignal::new(draft_errors),
    };
    let created_iso = todo.created_at.iso().to_owned();
    let created_display = todo.created_at.display().to_owned();
    let shown = move || !item.removed.get() && list.shows(item.completed.get());

    view! {
        <li
            id=format!("todo-{}", todo.id)
            hidden=move || !shown()
            aria-busy=move || item.changes.pending.get().then_some("true")
        >
            <Show
                when=move || item.editing.get()
                fallback=move || {
                    view! {
                        <ItemView
                            item
                            created_iso=created_iso.clone()
                            created_display=created_display.clone()
                        />
                    }
                }
            >
                <EditForm item />
            </Show>
            {move || {
                item.changes
                    .error
                    .get()
                    .map(|message| {
                        view! {
                            <p role="alert" class="mt-2 text-sm text-red-700">
                                {message}
                                " "
                                <a
                                    class="font-semibold underline"
                                    href=context.current_href()
                                >
                                    "Reload"
                                </a>
                            </p>
                        }
                    })
            }}
        </li>
    }
    .into_any()
}
