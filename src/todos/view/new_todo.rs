//! The form that creates a todo.

use super::{
    context::PageContext,
    create_key::new_create_key,
    dom::focus_element,
    list_field::ListField,
    todo_fields::{first_invalid_field_id, TodoFields},
};
use crate::todos::{
    api::CreateTodo,
    error::{SubmittedTodo, TodoError},
    model::{FieldErrors, TodoInput},
};
use leptos::{ev::SubmitEvent, prelude::*, server_fn::ServerFn};

/// What the ids of the form's fields start with.
const FIELDS_ID_PREFIX: &str = "new-todo";

/// The create form. It is a real `<form>` posting to the server function, so it works
/// without JavaScript; once hydrated, submitting is checked in the browser with the
/// server's own rules and sent without a page load.
#[component]
pub(super) fn NewTodoForm(create: ServerAction<CreateTodo>) -> impl IntoView {
    // The server's last verdict on invalid input. Without JavaScript it arrives with the
    // page the server answers the post with (or in a URL's `__err`), together with what
    // was typed; the messages shown are worked out from that input here, never read
    // from the error, which a crafted URL could fill with any text.
    let rejected = move || match create.value().get() {
        Some(Err(TodoError::Invalid { submitted, .. })) => Some(submitted),
        _ => None,
    };
    let typed = untrack(rejected).unwrap_or_else(SubmittedTodo::default);
    let title = RwSignal::new(typed.title);
    let text = RwSignal::new(typed.text);

    // Errors found in the browser win over the server's last answer.
    let browser_errors = RwSignal::new(None::<FieldErrors>);
    let errors = Memo::new(move |_| {
        browser_errors
            .get()
            .or_else(|| rejected().map(|submitted| submitted.errors()))
            .unwrap_or_default()
    });
    let failure = move || match create.value().get() {
        Some(Err(error)) if !matches!(error, TodoError::Invalid { .. }) => Some(error.to_string()),
        _ => None,
    };
    let pending = create.pending();
    // Effects run only in the browser, after hydration: this marks a page the browser has
    // taken over, so tests can tell it from one that is merely server-rendered.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    let context = expect_context::<PageContext>();
    // The key of the todo being sent: the server-rendered form's for a post without
    // JavaScript; once hydrated, one made at the first submit and kept until the
    // server stores it, so that sending again after a failure stores it once.
    let posted_key = new_create_key();
    let sending_key = StoredValue::new(None::<String>);

    // Stored: start a fresh form.
    Effect::new(move |_| {
        if let Some(Ok(todo)) = create.value().get() {
            sending_key.set_value(None);
            title.set(String::new());
            text.set(String::new());
            browser_errors.set(None);
            context.announce(format!("Added “{}”.", todo.title));
        }
    });

    let on_submit = move |event: SubmitEvent| {
        event.prevent_default();
        if pending.get_untracked() {
            return;
        }
        let (title_value, text_value) = (title.get_untracked(), text.get_untracked());
        match TodoInput::parse(&title_value, &text_value) {
            Ok(_) => {
                browser_errors.set(None);
                let key = sending_key.get_value().unwrap_or_else(new_create_key);
                sending_key.set_value(Some(key.clone()));
                create.dispatch(CreateTodo {
                    list: context.list,
                    title: title_value,
                    text: text_value,
                    key: Some(key),
                });
            }
            Err(found) => {
                let first_invalid = first_invalid_field_id(FIELDS_ID_PREFIX, &found);
                browser_errors.set(Some(found));
                // Take the user to the first field to fix. Should focusing fail, the
                // messages still show; nothing else to do.
                focus_element(&first_invalid);
            }
        }
    };

    view! {
        <form
            method="post"
            action=CreateTodo::PATH
            aria-label="New todo"
            aria-busy=move || pending.get().to_string()
            data-hydrated=move || hydrated.get().to_string()
            novalidate
            on:submit=on_submit
            class="space-y-4 rounded-xl border border-slate-200 bg-white p-6 shadow-sm"
        >
            <ListField />
            <input type="hidden" name="key" value=posted_key />
            <TodoFields
                id_prefix=FIELDS_ID_PREFIX.to_owned()
                title
                text
                errors
                set_errors=move |found| browser_errors.set(Some(found))
            />
            {move || {
                failure()
                    .map(|message| {
                        view! {
                            <p role="alert" class="text-red-700">
                                {message}
                            </p>
                        }
                    })
            }}
            <button
                type="submit"
                disabled=move || pending.get()
                class="inline-flex items-center gap-2 rounded-lg bg-indigo-700 px-4 py-2 font-semibold text-white hover:bg-indigo-800 focus-visible:outline focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-700 disabled:cursor-wait disabled:opacity-70"
            >
                "Add todo"
                <Show when=move || pending.get()>
                    <span
                        aria-hidden="true"
                        class="size-4 animate-spin rounded-full border-2 border-white border-t-transparent"
                    ></span>
                </Show>
            </button>
        </form>
    }
}
