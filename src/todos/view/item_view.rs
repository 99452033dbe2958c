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
use leptos::{ev::MouseEvent, prelude::*, server_fn::ServerFn};

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

    let on_toggle = move |event: MouseEvent| {
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

    let on_edit = move |event: MouseEvent| {
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

    let on_delete = move |event: MouseEvent| {
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
            view! { <p>{move || item.text.get()}</p> }
        })
    };
    // One form per todo, for the changes that need its id and version: Delete is the
    // form's own action, the checkbox posts it to `set_todo_completed` (which takes no
    // version and ignores it). Edit belongs to the page's one Edit form (`TodoList`).
    // Buttons submit by default; once hydrated, a click is taken over and the form is
    // not posted. How it looks is in the CSS (`.todo`), keyed on the elements' places
    // and on `aria-checked` (the check mark, a done todo's title): the markup, repeated
    // for every todo, carries no class lists, icon or state classes. Hydrating, the
    // browser reads the title, text and time back from this markup
    // (`dom::todo_from_html`): keep the two in step.
    view! {
        <form method="post" action=DeleteTodo::PATH class="todo">
            <ListField />
            <input type="hidden" name="id" value=id />
            <input type="hidden" name="version" value=move || item.version.get() />
            // A submit button in the role of a checkbox: it works as a form without
            // JavaScript, and is named by the todo's title.
            <button
                formaction=SetTodoCompleted::PATH
                name="completed"
                value=move || (!completed()).to_string()
                role="checkbox"
                id=item.element_id("toggle")
                aria-checked=move || completed().to_string()
                aria-labelledby=title_id.clone()
                on:click=on_toggle
            ></button>
            <div>
                <h3 id=title_id>{move || item.title.get()}</h3>
                {text}
                <time datetime=created_iso>{created_display}</time>
            </div>
            <div>
                <ItemButton item part="edit" label="Edit" on_click=on_edit opens_edit_form=true />
                <ItemButton item part="delete" label="Delete" on_click=on_delete />
            </div>
        </form>
    }
    .into_any()
}
