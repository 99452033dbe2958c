//! Renaming the list: a real form, so it works without JavaScript; once hydrated,
//! checked in the browser with the server's rules and sent without a page load.

use crate::{
    lists::{
        api::RenameList,
        model::{parse_name, ListId},
    },
    todos::error::TodoError,
};
use leptos::{ev::SubmitEvent, prelude::*, server_fn::ServerFn};

const INPUT_ID: &str = "list-name";
const ERROR_ID: &str = "list-name-error";

#[component]
pub(super) fn NameForm(
    list: ListId,
    rename: ServerAction<RenameList>,
    name: String,
) -> impl IntoView {
    // Without JavaScript a refused name comes back with the page, with what was typed.
    let refused = move || match rename.value().get() {
        Some(Err(TodoError::InvalidName { submitted, .. })) => Some(submitted),
        _ => None,
    };
    let typed = untrack(refused).unwrap_or(name);
    let value = RwSignal::new(typed);
    let browser_error = RwSignal::new(None::<String>);
    // The message is worked out here from what was typed, never taken from the URL's
    // error: a crafted link could put any text there.
    let error = move || {
        browser_error
            .get()
            .or_else(|| refused().and_then(|submitted| parse_name(&submitted).err()))
    };
    let failure = move || match rename.value().get() {
        Some(Err(error)) if !matches!(error, TodoError::InvalidName { .. }) => {
            Some(error.to_string())
        }
        _ => None,
    };
    let pending = rename.pending();

    let on_submit = move |event: SubmitEvent| {
        event.prevent_default();
        if pending.get_untracked() {
            return;
        }
        match parse_name(&value.get_untracked()) {
            Ok(name) => {
                browser_error.set(None);
                rename.dispatch(RenameList { list, name });
            }
            Err(problem) => browser_error.set(Some(problem)),
        }
    };

    view! {
        <form
            method="post"
            action=RenameList::PATH
            aria-label="List name"
            aria-busy=move || pending.get().to_string()
            novalidate
            on:submit=on_submit
            class="mb-6 flex flex-wrap items-end gap-2"
        >
            <input type="hidden" name="list" value=list.to_string() />
            <div class="flex min-w-0 flex-1 flex-col gap-1">
                <label for=INPUT_ID class="text-sm font-medium text-slate-700">
                    "Name"
                </label>
                <input
                    id=INPUT_ID
                    name="name"
                    type="text"
                    autocomplete="off"
                    prop:value=move || value.get()
                    value=untrack(move || value.get())
                    on:input=move |event| value.set(event_target_value(&event))
                    aria-invalid=move || error().is_some().to_string()
                    aria-describedby=move || error().map(|_| ERROR_ID)
                    class="rounded-lg border border-slate-300 px-3 py-2 aria-[invalid=true]:border-red-700"
                />
            </div>
            <button type="submit" class="button button-secondary" disabled=move || pending.get()>
                "Rename"
            </button>
            {move || {
                error()
                    .map(|message| {
                        view! {
                            <p id=ERROR_ID class="w-full text-sm text-red-700">
                                {message}
                            </p>
                        }
                    })
            }}
            {move || {
                failure()
                    .map(|message| {
                        view! {
                            <p role="alert" class="w-full text-sm text-red-700">
                                {message}
                            </p>
                        }
                    })
            }}
        </form>
    }
}
