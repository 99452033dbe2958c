//! A todo's inline edit form.

use super::{
    context::PageContext,
    dom::focus_element,
    list_field::ListField,
    state::ItemState,
    todo_fields::{first_invalid_field_id, TodoFields},
};
use crate::todos::{
    api::{update_todo, UpdateTodo},
    error::TodoError,
    model::{FieldErrors, Todo, TodoInput},
};
use leptos::{
    ev::{FocusEvent, KeyboardEvent, MouseEvent, SubmitEvent},
    html,
    prelude::*,
    server_fn::ServerFn,
    wasm_bindgen::JsCast,
    web_sys,
};

/// Enter (in the title) or leaving the form saves, Escape cancels; an empty title is
/// refused like when creating, never a silent delete.
#[component]
pub(super) fn EditForm(item: ItemState) -> impl IntoView {
    let context = expect_context::<PageContext>();
    let id = item.id;
    let form = NodeRef::<html::Form>::new();
    let fields_id_prefix = item.edit_fields_id_prefix();

    // Back to showing the todo, and `?edit=` out of the URL so a reload does not open
    // the form again. `restore_focus`: to the Edit button, unless the user moved focus
    // elsewhere themselves.
    let close = move |restore_focus: bool| {
        item.editing.set(false);
        item.draft_errors.set(FieldErrors::default());
        if context.edit_param.get_untracked() == Some(id) {
            context.leave_edit_url.run(());
        }
        if restore_focus {
            request_animation_frame(move || {
                focus_element(&item.element_id("edit"));
            });
        }
    };

    let save = move |restore_focus: bool| {
        if !item.editing.get_untracked() || item.changes.pending.get_untracked() {
            return;
        }
        let (title, text) = (
            item.draft_title.get_untracked(),
            item.draft_text.get_untracked(),
        );
        let input = match TodoInput::parse(&title, &text) {
            Ok(input) => input,
            Err(errors) => {
                let first_invalid = first_invalid_field_id(&item.edit_fields_id_prefix(), &errors);
                item.draft_errors.set(errors);
                focus_element(&first_invalid);
                return;
            }
        };
        let (old_title, old_text) = (item.title.get_untracked(), item.text.get_untracked());
        close(restore_focus);
        if input.title() == old_title && input.text() == old_text {
            return;
        }
        item.title.set(input.title().to_owned());
        item.text.set(input.text().to_owned());
        item.changes.send(
            update_todo(
                context.list,
                id,
                item.version.get_untracked(),
                title.clone(),
                text.clone(),
            ),
            move |todo: Todo| {
                item.version.try_set(todo.version);
                format!("Saved “{}”.", todo.title)
            },
            move |refused| {
                // Undo, and open the form again with what was typed: an edit the server
                // refused (changed elsewhere, unreachable) is never silently dropped.
                item.title.try_set(old_title.clone());
                item.text.try_set(old_text);
                item.draft_title.try_set(title);
                item.draft_text.try_set(text);
                if let TodoError::Invalid { errors, .. } = &refused {
                    item.draft_errors.try_set(errors.clone());
                }
                item.editing.try_set(true);
                Some(format!("Couldn't save “{old_title}”: {refused}"))
            },
        );
    };

    let on_submit = move |event: SubmitEvent| {
        event.prevent_default();
        save(true);
    };
    let on_keydown = move |event: KeyboardEvent| {
        if event.key() == "Escape" {
            event.prevent_default();
            close(true);
        }
    };
    // Leaving the form (Tab out, a click elsewhere) saves; moving within it does not.
    // Chrome also reports focus leaving when the form itself is taken out of the page
    // (closed, or the list drawn anew): by then this component and its signals may be
    // gone, so nothing here may assume they still exist.
    let on_focusout = move |event: FocusEvent| {
        if !item.editing.try_get_untracked().unwrap_or(false) {
            return;
        }
        let next = event
            .related_target()
            .and_then(|target| target.dyn_into::<web_sys::Node>().ok());
        let stays_inside = form
            .try_get_untracked()
            .flatten()
            .is_some_and(|form| next.is_some_and(|next| form.contains(Some(&next))));
        if !stays_inside {
            save(false);
        }
    };
    let on_cancel = move |event: MouseEvent| {
        event.prevent_default();
        close(true);
    };

    view! {
        <form
            method="post"
            action=UpdateTodo::PATH
            node_ref=form
            aria-label=move || format!("Edit “{}”", item.title.get())
            novalidate
            on:submit=on_submit
            on:keydown=on_keydown
            on:focusout=on_focusout
            class="space-y-3"
        >
            <ListField />
            <input type="hidden" name="id" value=id />
            <input type="hidden" name="version" value=move || item.version.get() />
            <TodoFields
                id_prefix=fields_id_prefix
                title=item.draft_title
                text=item.draft_text
                errors=item.draft_errors
                set_errors=move |found| item.draft_errors.set(found)
                compact=true
                autofocus=true
            />
            <div class="flex gap-2">
                <button
                    type="submit"
                    class="button button-primary"
                >
                    "Save"
                </button>
                <a
                    href=context.current_href()
                    on:click=on_cancel
                    class="button button-secondary"
                >
                    "Cancel"
                </a>
            </div>
        </form>
    }
    .into_any()
}
