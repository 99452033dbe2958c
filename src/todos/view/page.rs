//! The todo page: the create form above the list.

use super::{
    context::PageContext,
    dom::{target_id, LIST_HEADING_ID},
    list::TodoList,
    list_error::ListError,
    new_todo::NewTodoForm,
    posted_errors::PostedChangeErrors,
};
use crate::{
    lists::model::ListId,
    todos::{
        api::{list_todos, CreateTodo},
        listing::ShownPage,
    },
};
use leptos::prelude::*;

/// The todos of `list`: the create form above the list.
#[component]
pub fn TodosPage(list: ListId) -> impl IntoView {
    let create = ServerAction::<CreateTodo>::new();
    let context = PageContext::new(list);
    provide_context(context);
    let query = context.query;

    // Read again whenever the URL's page changes, a todo is created, or a change is
    // made; the server function routes the read so that this client's own writes are
    // in it (read-your-writes). What the server sends for hydration is the page less
    // what its HTML shows (`ShownPage`).
    // Gone with this component's other reactive values, if the client hung up while
    // the list was read: the list must not be built on them then (it would panic).
    let alive = StoredValue::new(());
    let page = Resource::new(
        move || (query.get(), create.version().get(), context.reload.get()),
        move |(query, _, _)| {
            // Read now, not after the await: by then the page may be gone (a client
            // that hung up), and its signals with it.
            let editing = context.edit_param.get_untracked();
            async move {
                let query = query?;
                let (after, before) = query.after_and_before();
                let page = list_todos(list, query.filter, after, before).await?;
                Ok(ShownPage { page, editing })
            }
        },
    );

    view! {
        <NewTodoForm create />
        <section
            aria-labelledby=LIST_HEADING_ID
            class="mt-10"
            on:focusin=move |event| context.focus_moved_to(target_id(&event))
        >
            <h2
                id=LIST_HEADING_ID
                tabindex="-1"
                class="mb-4 text-xl font-semibold focus-visible:outline focus-visible:outline-2 focus-visible:outline-offset-4 focus-visible:outline-indigo-700"
            >
                "Todos"
            </h2>
            <p role="status" class="sr-only">
                {move || context.announcement.get()}
            </p>
            <PostedChangeErrors />
            <Transition fallback=|| view! { <p>"Loading todos…"</p> }>
                {move || Suspend::new(async move {
                    let page = page.await;
                    if alive.try_get_value().is_none() {
                        return ().into_any();
                    }
                    match page {
                        Ok(ShownPage { page, .. }) => view! { <TodoList page /> }.into_any(),
                        Err(error) => view! { <ListError error /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}
