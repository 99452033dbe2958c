//! The todo page: the form that creates todos, and one page of the list with the
//! controls around it.
//!
//! Every control is a real `<form>` posting to its server function (or, for Edit, a
//! link-like GET form), so the whole page works without JavaScript: the server answers
//! each post with a redirect back to the page. Once hydrated, the same forms are
//! handled in the browser: checked with the server's own rules, applied to the page at
//! once (optimistically), sent without a page load, and rolled back with a message if
//! the server refuses. After every change the page re-reads the list, so it always
//! ends up showing what is stored.

mod change;
mod field_error;
mod item;
mod list;
mod new_todo;
mod todo_fields;

use super::{
    api::{
        list_todos, ClearCompleted, CreateTodo, DeleteTodo, SetAllCompleted, SetTodoCompleted,
        UpdateTodo,
    },
    error::TodoError,
    listing::ListQuery,
};
use leptos::{prelude::*, web_sys};
use leptos_router::{
    hooks::{use_navigate, use_query_map},
    NavigateOptions,
};
use list::TodoList;
use new_todo::NewTodoForm;

/// What every part of the page shares.
#[derive(Clone, Copy)]
struct PageContext {
    /// The list page the URL asks for.
    query: Memo<Result<ListQuery, TodoError>>,
    /// `?edit=<id>`: the todo whose edit form is open without JavaScript.
    edit_param: Memo<Option<i64>>,
    /// Raised after each change: the list is read again.
    reload: RwSignal<u64>,
    /// The text of the page's live region, read out by screen readers.
    announcement: RwSignal<String>,
    /// The id of the element to focus once the list is shown again, if focus was lost.
    focus_after_reload: StoredValue<Option<String>>,
    /// The outcome of an edit posted without JavaScript (its errors come back in the URL).
    posted_update: ServerAction<UpdateTodo>,
    /// Drops `?edit=` from the URL (client-side), once that edit form is closed.
    leave_edit_url: Callback<()>,
}

impl PageContext {
    fn current_query(self) -> ListQuery {
        self.query.get_untracked().unwrap_or_default()
    }

    fn announce(self, message: String) {
        self.announcement.try_set(message);
    }

    /// Reads the list again (after a change), keeping focus where it was.
    fn reload_keeping_focus(self) {
        let focused = focused_element_id();
        self.focus_after_reload.try_update_value(|id| *id = focused);
        self.reload.try_update(|count| *count += 1);
    }
}

#[component]
pub fn TodosPage() -> impl IntoView {
    let url_query = use_query_map();
    let query = Memo::new(move |_| {
        url_query.with(|params| ListQuery::from_url_query(|name| params.get(name)))
    });
    let edit_param = Memo::new(move |_| {
        url_query.with(|params| params.get("edit").and_then(|id| id.parse().ok()))
    });
    let create = ServerAction::<CreateTodo>::new();
    let navigate = use_navigate();
    let leave_edit_url = Callback::new(move |()| {
        let list = query.get_untracked().unwrap_or_default().href();
        navigate(
            &list,
            NavigateOptions {
                replace: true,
                scroll: false,
                ..Default::default()
            },
        );
    });
    let context = PageContext {
        query,
        edit_param,
        reload: RwSignal::new(0),
        announcement: RwSignal::new(String::new()),
        focus_after_reload: StoredValue::new(None),
        posted_update: ServerAction::new(),
        leave_edit_url,
    };
    provide_context(context);

    // Read again whenever the URL's page changes, a todo is created, or a change is
    // made; the server function routes the read so that this client's own writes are
    // in it (read-your-writes).
    let page = Resource::new(
        move || (query.get(), create.version().get(), context.reload.get()),
        |(query, _, _)| async move {
            let query = query?;
            let (after, before) = query.after_and_before();
            list_todos(query.filter, after, before).await
        },
    );

    view! {
        <NewTodoForm create />
        <section aria-labelledby="todos-heading" class="mt-10">
            <h2
                id="todos-heading"
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
                    match page.await {
                        Ok(page) => view! { <TodoList page /> }.into_any(),
                        Err(error) => view! { <ListError error /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// Errors of changes posted without JavaScript: the server's redirect back to the page
/// carries them in its URL, and each server action reads its own.
#[component]
fn PostedChangeErrors() -> impl IntoView {
    let context = expect_context::<PageContext>();
    let set_completed = ServerAction::<SetTodoCompleted>::new();
    let delete = ServerAction::<DeleteTodo>::new();
    let set_all = ServerAction::<SetAllCompleted>::new();
    let clear = ServerAction::<ClearCompleted>::new();
    let message = move || {
        let refused = [
            set_completed.value().get().and_then(Result::err),
            delete.value().get().and_then(Result::err),
            set_all.value().get().and_then(Result::err),
            clear.value().get().and_then(Result::err),
            // An invalid edit shows in its own form instead.
            context
                .posted_update
                .value()
                .get()
                .and_then(Result::err)
                .filter(|error| !matches!(error, TodoError::Invalid { .. })),
        ];
        refused
            .into_iter()
            .flatten()
            .next()
            .map(|error| error.to_string())
    };
    move || {
        message().map(|message| {
            view! {
                <p role="alert" class="mb-4 rounded-lg border border-red-200 bg-red-50 p-3 text-red-800">
                    {message}
                    " "
                    <a class="font-semibold underline" href=context.current_query().href()>
                        "Reload"
                    </a>
                </p>
            }
        })
    }
}

#[component]
fn ListError(error: TodoError) -> impl IntoView {
    // The page's status says what went wrong too (a malformed URL is a 400).
    #[cfg(feature = "ssr")]
    error.set_response_status();
    let message = match error {
        TodoError::Network => error.to_string(),
        TodoError::BadRequest => "This page address isn't valid.".to_owned(),
        _ => "Couldn't load your todos. Please reload the page.".to_owned(),
    };
    view! {
        <p role="alert" class="text-red-700">
            {message}
            " "
            <a class="font-semibold underline" href="/">
                "Show all todos"
            </a>
        </p>
    }
}

/// The id of the focused element, if it has one.
fn focused_element_id() -> Option<String> {
    document()
        .active_element()
        .map(|element| element.id())
        .filter(|id| !id.is_empty())
}

/// Moves focus to the element with this id; false if there is none.
fn focus_element(id: &str) -> bool {
    use leptos::wasm_bindgen::JsCast;
    document()
        .get_element_by_id(id)
        .and_then(|element| element.dyn_into::<web_sys::HtmlElement>().ok())
        .is_some_and(|element| element.focus().is_ok())
}

/// Whether focus was lost: nothing, or the page itself, has it.
fn focus_is_lost() -> bool {
    document()
        .active_element()
        .is_none_or(|active| active.tag_name().eq_ignore_ascii_case("body"))
}

/// Where focus goes when the control that had it disappears: the list's heading.
fn focus_list_heading() {
    focus_element("todos-heading");
}
