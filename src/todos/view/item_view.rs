//! A todo as shown in the list: checkbox, title, text, time, Edit and Delete.

use super::{
    context::PageContext,
    dom::{focus_element, focus_list_heading},
    item_button::ItemButton,
    list_field::ListField,
    state::{ItemState, ListState},
    todo_fields::title_field_id,
};
use crate::todos::{
    api::{delete_todo, set_todo_completed, DeleteTodo, SetTodoCompleted},
    error::TodoError,
    model::{FieldErrors, Todo},
};
use leptos::{ev::SubmitEvent, prelude::*, server_fn::ServerFn};

#[component]
pub(super) fn ItemView(
    item: ItemState,
    created_iso: String,
    created_display: String,
) -> impl IntoView {
    let context = expect_context::<PageContext>();
    let list = expect_context::<ListState>();
    let id = item.id;
    let completed = move || list.shown_completed(item.completed.get());

    let on_toggle = move |event: SubmitEvent| {
        let Some(change) = item.changes.start_counted(&event, list.counts) else {
            return;
        };
        let was = untrack(completed);
        let now = !was;
        if !list.filter.shows(now) {
            // It leaves this view: focus must not leave with it.
            focus_list_heading();
        }
        item.completed.set(now);
        list.counts
            .update(|counts| *counts = counts.with_one_marked(now));
        let title = item.title.get_untracked();
        let state_word = if now { "done" } else { "not done" };
        change.send(
            set_todo_completed(context.list, id, now),
            move |todo: Todo| {
                item.version.try_set(todo.version);
                format!("Marked “{}” as {state_word}.", todo.title)
            },
            move |refused| {
                item.completed.try_set(was);
                Some(format!(
                    "Couldn't mark “{title}” as {state_word}: {refused}"
                ))
            },
        );
    };

    let on_edit = move |event: SubmitEvent| {
        if !item.changes.take_over_submit(&event) {
            return;
        }
        item.draft_title.set(item.title.get_untracked());
        item.draft_text.set(item.text.get_untracked());
        item.draft_errors.set(FieldErrors::default());
        item.changes.error.set(None);
        item.editing.set(true);
        request_animation_frame(move || {
            focus_element(&title_field_id(&item.edit_fields_id_prefix()));
        });
    };

    let on_delete = move |event: SubmitEvent| {
        let Some(change) = item.changes.start_counted(&event, list.counts) else {
            return;
        };
        // The todo goes away with its Delete button: focus must not go with it.
        focus_list_heading();
        item.removed.set(true);
        list.counts
            .update(|counts| *counts = counts.without_one(untrack(completed)));
        let title = item.title.get_untracked();
        let deleted = format!("Deleted “{title}”.");
        change.send(
            delete_todo(context.list, id, item.version.get_untracked()),
            move |()| deleted,
            move |refused| {
                if refused == TodoError::NotFound {
                    // Deleted elsewhere already: what the user wanted is done.
                    context.announce(format!("“{title}” was already deleted."));
                    context.reload_keeping_focus();
                    return None;
                }
                item.removed.try_set(false);
                Some(format!("Couldn't delete “{title}”: {refused}"))
            },
        );
    };

    let title_id = item.element_id("title");
    let text = move || {
        item.text.with(|text| !text.is_empty()).then(|| {
            view! {
                <p class="mt-1 whitespace-pre-wrap break-words text-slate-700">
                    {move || item.text.get()}
                </p>
            }
        })
    };
    // The Edit form only opens the edit form: a GET of this very page with `edit=<id>`,
    // so without JavaScript the server renders it open.
    let this_page = context.current_query().url_params();
    view! {
        <div class="flex items-start gap-3">
            <form method="post" action=SetTodoCompleted::PATH on:submit=on_toggle class="shrink-0">
                <ListField />
                <input type="hidden" name="id" value=id />
                <input type="hidden" name="completed" value=move || (!completed()).to_string() />
                // A submit button in the role of a checkbox: it works as a form without
                // JavaScript, and is named by the todo's title.
                <button
                    type="submit"
                    role="checkbox"
                    id=item.element_id("toggle")
                    aria-checked=move || completed().to_string()
                    aria-labelledby=title_id.clone()
                    class="todo-checkbox"
                >
                    <svg aria-hidden="true" viewBox="0 0 16 16" class="size-4" class:invisible=move || !completed()>
                        <path d="M3 8.5l3 3 7-7" fill="none" stroke="currentColor" stroke-width="2.5" />
                    </svg>
                </button>
            </form>
            <div class="min-w-0 flex-1">
                <h3
                    id=title_id
                    class="break-words font-semibold"
                    class:line-through=completed
                    class:text-slate-500=completed
                >
                    {move || item.title.get()}
                </h3>
                {text}
                <time class="mt-2 block text-sm text-slate-600" datetime=created_iso>
                    {created_display}
                </time>
            </div>
            <div class="flex shrink-0 gap-2">
                <form method="get" action=context.list.href() on:submit=on_edit>
                    {this_page
                        .into_iter()
                        .map(|(name, value)| view! { <input type="hidden" name=name value=value /> })
                        .collect_view()}
                    <input type="hidden" name="edit" value=id />
                    <ItemButton item part="edit" label="Edit" class="button button-secondary" />
                </form>
                <form method="post" action=DeleteTodo::PATH on:submit=on_delete>
                    <ListField />
                    <input type="hidden" name="id" value=id />
                    <input type="hidden" name="version" value=move || item.version.get() />
                    <ItemButton item part="delete" label="Delete" class="button button-danger" />
                </form>
            </div>
        </div>
    }
    .into_any()
}
