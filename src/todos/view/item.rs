//! One todo of the list: its checkbox, Edit and Delete, and the inline edit form.

use super::{
    change::Changes,
    focus_element, focus_list_heading,
    list::ListState,
    todo_fields::{first_invalid_field_id, title_field_id, TodoFields},
    PageContext,
};
use crate::todos::{
    api::{delete_todo, set_todo_completed, update_todo, DeleteTodo, SetTodoCompleted, UpdateTodo},
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

// Each component below returns an `AnyView`: erasing the view types at these seams
// keeps the nested types small enough for the compiler (the optimised browser build
// otherwise exceeds its query depth limit) and the generated code smaller.

/// A todo as the page shows it, changed at once by the user's actions.
#[derive(Clone, Copy)]
struct ItemState {
    id: i64,
    title: RwSignal<String>,
    text: RwSignal<String>,
    completed: RwSignal<bool>,
    version: RwSignal<i32>,
    /// Deleted on the page, the server not yet asked or answered.
    removed: RwSignal<bool>,
    /// This todo's changes: further ones wait for the one on its way.
    changes: Changes,
    editing: RwSignal<bool>,
    draft_title: RwSignal<String>,
    draft_text: RwSignal<String>,
    draft_errors: RwSignal<FieldErrors>,
}

impl ItemState {
    /// The id of one of this todo's elements.
    fn element_id(self, part: &str) -> String {
        format!("todo-{}-{part}", self.id)
    }

    /// What the ids of this todo's edit fields start with.
    fn edit_fields_id_prefix(self) -> String {
        self.element_id("edit")
    }
}

#[component]
pub(super) fn TodoItem(todo: Todo) -> impl IntoView {
    let context = expect_context::<PageContext>();
    let list = expect_context::<ListState>();
    // Opened without JavaScript through `?edit=<id>`. An invalid edit posted that way
    // comes back with what was typed and why it was refused.
    let opened_by_url = context.edit_param.get_untracked() == Some(todo.id);
    let rejected = match context.posted_update.value().get_untracked() {
        Some(Err(TodoError::Invalid { errors, submitted })) if opened_by_url => {
            Some((errors, submitted))
        }
        _ => None,
    };
    let (draft_title, draft_text, draft_errors) = match rejected {
        Some((errors, submitted)) => (submitted.title, submitted.text, errors),
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
            aria-busy=move || item.changes.pending.get().to_string()
            class="todo-item"
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
                                    href=context.current_query().href()
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

/// The todo as shown: checkbox, title, text, time, Edit and Delete.
#[component]
fn ItemView(item: ItemState, created_iso: String, created_display: String) -> impl IntoView {
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
            set_todo_completed(id, now),
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
            delete_todo(id, item.version.get_untracked()),
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
                <form method="get" action="/" on:submit=on_edit>
                    {this_page
                        .into_iter()
                        .map(|(name, value)| view! { <input type="hidden" name=name value=value /> })
                        .collect_view()}
                    <input type="hidden" name="edit" value=id />
                    <button
                        type="submit"
                        id=item.element_id("edit")
                        aria-labelledby=format!("{} {}", item.element_id("edit"), item.element_id("title"))
                        class="button button-secondary"
                    >
                        "Edit"
                    </button>
                </form>
                <form method="post" action=DeleteTodo::PATH on:submit=on_delete>
                    <input type="hidden" name="id" value=id />
                    <input type="hidden" name="version" value=move || item.version.get() />
                    <button
                        type="submit"
                        id=item.element_id("delete")
                        aria-labelledby=format!("{} {}", item.element_id("delete"), item.element_id("title"))
                        class="button button-danger"
                    >
                        "Delete"
                    </button>
                </form>
            </div>
        </div>
    }
    .into_any()
}

/// The inline edit form. Enter (in the title) or leaving the form saves, Escape
/// cancels; an empty title is refused like when creating, never a silent delete.
#[component]
fn EditForm(item: ItemState) -> impl IntoView {
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
                    href=context.current_query().href()
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
