//! The message under a field that was refused.

use leptos::prelude::*;

#[component]
pub(super) fn FieldError(id: String, message: Signal<Option<String>>) -> impl IntoView {
    move || {
        message.get().map(|message| {
            view! {
                <p id=id.clone() class="mt-1 text-sm text-red-700">
                    {message}
                </p>
            }
        })
    }
}
