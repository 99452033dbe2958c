//! `/lists/<id>`: the page of one list.

use super::{
    name_form::NameForm, share_link::ShareLink, unknown_list::UnknownList, your_lists::YourLists,
};
use crate::{
    lists::{
        api::{open_list, RenameList},
        model::ListId,
    },
    todos::view::TodosPage,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

/// The route's view. Moving to another list (a link of "Your lists") keeps this
/// component and draws the other list anew, with no state of the one before.
#[component]
pub fn ListPage() -> impl IntoView {
    let params = use_params_map();
    let list = Memo::new(move |_| {
        params.with(|params| params.get("id").and_then(|id| id.parse::<ListId>().ok()))
    });
    move || match list.get() {
        Some(list) => view! { <OneList list /> }.into_any(),
        None => view! { <UnknownList /> }.into_any(),
    }
}

#[component]
fn OneList(list: ListId) -> impl IntoView {
    let rename = ServerAction::<RenameList>::new();
    // Read again after a rename, so the heading, the title and "Your lists" agree.
    let header = Resource::new(move || rename.version().get(), move |_| open_list(list));
    // Gone with this component's other reactive values, if the client hung up while
    // the list was read: the view must not be built on them then (it would panic).
    let alive = StoredValue::new(());
    view! {
        <Transition fallback=|| view! { <p>"Loading the list…"</p> }>
            {move || Suspend::new(async move {
                let header = header.await;
                if alive.try_get_value().is_none() {
                    return ().into_any();
                }
                match header {
                    Ok(header) => {
                        view! {
                            <Title text=document_title(&header.name) />
                            <YourLists current=list yours=header.yours />
                            <h1 class="mb-4 break-words text-3xl font-bold tracking-tight">
                                {header.name.clone()}
                            </h1>
                            <NameForm list rename name=header.name />
                            <ShareLink link=header.link />
                        }
                            .into_any()
                    }
                    Err(error) => {
                        view! {
                            <Title text="Tasks" />
                            <h1 class="mb-4 text-3xl font-bold tracking-tight">"Tasks"</h1>
                            <p role="alert" class="text-red-700">
                                {format!("Couldn't load this list: {error}")}
                            </p>
                        }
                            .into_any()
                    }
                }
            })}
        </Transition>
        <TodosPage list />
    }
}

/// The document's title for a list named `name`.
///
/// On the server it is escaped here: leptos_meta 0.8.7 writes a `<Title>`'s text into
/// the page's `<head>` as it is (`lib.rs`, `push_str(&title)`), so a name holding
/// `</title><meta http-equiv="refresh" …>` would put markup into every page of the
/// list. The browser decodes the entities inside `<title>`, so it shows the name as
/// typed; after hydration leptos_meta sets `document.title` from the raw text, which is
/// never parsed as HTML. (docs/upstream/leptos-meta-title-not-escaped.md)
fn document_title(name: &str) -> String {
    let title = format!("{name} · Tasks");
    #[cfg(feature = "ssr")]
    let title = title
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    title
}
