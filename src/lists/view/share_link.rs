//! The list's link, to share: whoever has it can use the list.

use leptos::prelude::*;

const INPUT_ID: &str = "list-link";

#[component]
pub(super) fn ShareLink(link: String) -> impl IntoView {
    // The button needs JavaScript: it appears once the page is hydrated.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    let status = RwSignal::new(String::new());
    let input = NodeRef::<leptos::html::Input>::new();
    let copied_link = link.clone();
    let on_copy = move |_| copy(copied_link.clone(), input, status);

    view! {
        <section aria-label="Share" class="mb-8 rounded-xl border border-slate-200 bg-white p-4">
            <div class="flex flex-wrap items-end gap-2">
                <div class="flex min-w-0 flex-1 flex-col gap-1">
                    <label for=INPUT_ID class="text-sm font-medium text-slate-700">
                        "Link to this list"
                    </label>
                    <input
                        id=INPUT_ID
                        node_ref=input
                        type="url"
                        readonly
                        value=link
                        class="rounded-lg border border-slate-300 bg-slate-50 px-3 py-2 font-mono text-sm"
                    />
                </div>
                <Show when=move || hydrated.get()>
                    <button type="button" class="button button-secondary" on:click=on_copy.clone()>
                        "Copy link"
                    </button>
                </Show>
            </div>
            <p class="mt-2 text-sm text-slate-700">
                "Anyone with this link can see and change this list."
            </p>
            <p role="status" class="sr-only">
                {move || status.get()}
            </p>
        </section>
    }
}

/// Copies `link` with the clipboard API where the page may use it (HTTPS, localhost);
/// elsewhere selects the link for the user to copy.
fn copy(link: String, input: NodeRef<leptos::html::Input>, status: RwSignal<String>) {
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::JsValue;
        let select = move || {
            if let Some(input) = input.get_untracked() {
                input.select();
            }
            status.set("Link selected: copy it with your keyboard or menu.".to_owned());
        };
        let clipboard = window().navigator().clipboard();
        if JsValue::from(clipboard.clone()).is_undefined() {
            select();
            return;
        }
        let written = wasm_bindgen_futures::JsFuture::from(clipboard.write_text(&link));
        leptos::task::spawn_local(async move {
            match written.await {
                Ok(_) => {
                    status.try_set("Link copied.".to_owned());
                }
                Err(_) => select(),
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (link, input, status);
}
