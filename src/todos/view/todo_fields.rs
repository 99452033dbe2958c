//! The title and text fields of a todo, with their error messages: the same in the
//! form that creates a todo and the form that edits one.

use super::field_error::FieldError;
use crate::todos::model::FieldErrors;
use leptos::prelude::*;

/// The fields' ids start with `id_prefix`: `{id_prefix}-title` and `{id_prefix}-text`,
/// and each field's message has the field's id followed by `-error`.
#[component]
pub(super) fn TodoFields(
    id_prefix: String,
    title: RwSignal<String>,
    text: RwSignal<String>,
    /// The errors shown.
    #[prop(into)]
    errors: Signal<FieldErrors>,
    /// Takes the errors still found when the input changes while errors show.
    #[prop(into)]
    set_errors: Callback<FieldErrors>,
    /// Smaller labels and a shorter text box, for a form inside the list.
    #[prop(optional)]
    compact: bool,
    /// The title takes focus as the form appears (also in a page rendered by the server).
    #[prop(optional)]
    autofocus: bool,
) -> impl IntoView {
    // While errors show, re-check on every keystroke so each goes away once fixed.
    let recheck = move || {
        let rechecked = errors.with_untracked(|errors| {
            errors.rechecked(&title.get_untracked(), &text.get_untracked())
        });
        if let Some(found) = rechecked {
            set_errors.run(found);
        }
    };
    let title_error = Signal::derive(move || errors.with(|e| e.title.clone()));
    let text_error = Signal::derive(move || errors.with(|e| e.text.clone()));
    let (title_id, text_id) = (title_field_id(&id_prefix), text_field_id(&id_prefix));
    let (title_error_id, text_error_id) = (format!("{title_id}-error"), format!("{text_id}-error"));
    let label_class = if compact {
        "block text-sm font-medium"
    } else {
        "block font-medium"
    };

    view! {
        <div>
            <label for=title_id.clone() class=label_class>
                "Title"
            </label>
            <input
                id=title_id
                name="title"
                type="text"
                autocomplete="off"
                autofocus=autofocus
                aria-required="true"
                aria-invalid=move || title_error.with(Option::is_some).to_string()
                aria-describedby={
                    let id = title_error_id.clone();
                    move || title_error.with(Option::is_some).then(|| id.clone())
                }
                value=title.get_untracked()
                prop:value=move || title.get()
                on:input:target=move |event| {
                    title.set(event.target().value());
                    recheck();
                }
                class="field"
            />
            <FieldError id=title_error_id message=title_error />
        </div>
        <div>
            <label for=text_id.clone() class=label_class>
                "Text"
            </label>
            <textarea
                id=text_id
                name="text"
                rows=if compact { "3" } else { "4" }
                aria-invalid=move || text_error.with(Option::is_some).to_string()
                aria-describedby={
                    let id = text_error_id.clone();
                    move || text_error.with(Option::is_some).then(|| id.clone())
                }
                prop:value=move || text.get()
                on:input:target=move |event| {
                    text.set(event.target().value());
                    recheck();
                }
                class="field"
            >
                {textarea_content(text.get_untracked())}
            </textarea>
            <FieldError id=text_error_id message=text_error />
        </div>
    }
}

pub(super) fn title_field_id(id_prefix: &str) -> String {
    format!("{id_prefix}-title")
}

fn text_field_id(id_prefix: &str) -> String {
    format!("{id_prefix}-text")
}

/// The id of the first field to fix.
pub(super) fn first_invalid_field_id(id_prefix: &str, errors: &FieldErrors) -> String {
    if errors.title.is_some() {
        title_field_id(id_prefix)
    } else {
        text_field_id(id_prefix)
    }
}

/// The initial content of a `<textarea>`. Leptos writes a textarea's children into the
/// server's HTML without escaping them (tachys 0.2 marks the element as raw text), so
/// typed input such as `</textarea><script>` would become markup: escape it here. In the
/// browser the text is set as a DOM value, which needs no escaping.
fn textarea_content(text: String) -> String {
    if cfg!(feature = "ssr") {
        text.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    } else {
        text
    }
}
