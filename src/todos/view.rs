//! The todo page: the form that creates todos and the list that shows them.

use super::{
    api::{list_todos, CreateTodo},
    error::{SubmittedTodo, TodoError},
    model::{FieldErrors, NewTodo, Todo},
};
use leptos::{ev::SubmitEvent, html, prelude::*, server_fn::ServerFn};

#[component]
pub fn TodosPage() -> impl IntoView {
    let create = ServerAction::<CreateTodo>::new();
    // Refetched after every create; its server function routes the read so that the
    // new todo is in it (read-your-writes).
    let todos = Resource::new(move || create.version().get(), |_| list_todos());

    view! {
        <NewTodoForm create />
        <section aria-labelledby="todos-heading" class="mt-10">
            <h2 id="todos-heading" class="mb-4 text-xl font-semibold">
                "Todos"
            </h2>
            <Transition fallback=|| view! { <p>"Loading todos…"</p> }>
                {move || Suspend::new(async move {
                    match todos.await {
                        Ok(todos) => view! { <TodoList todos /> }.into_any(),
                        Err(error) => view! { <ListError error /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn TodoList(todos: Vec<Todo>) -> impl IntoView {
    let empty = todos.is_empty().then(|| {
        view! { <p class="text-slate-600">"No todos yet"</p> }
    });
    view! {
        {empty}
        <ul aria-labelledby="todos-heading" class="space-y-3">
            {todos.into_iter().map(|todo| view! { <TodoItem todo /> }).collect_view()}
        </ul>
    }
}

#[component]
fn TodoItem(todo: Todo) -> impl IntoView {
    let datetime = todo.created_at_iso();
    let when = todo.created_at_display();
    let text = (!todo.text.is_empty()).then(|| {
        view! { <p class="mt-1 whitespace-pre-wrap break-words text-slate-700">{todo.text}</p> }
    });
    view! {
        <li class="rounded-lg border border-slate-200 bg-white p-4 shadow-sm">
            <h3 class="break-words font-semibold">{todo.title}</h3>
            {text}
            <time class="mt-2 block text-sm text-slate-500" datetime=datetime>
                {when}
            </time>
        </li>
    }
}

#[component]
fn ListError(error: TodoError) -> impl IntoView {
    let message = match error {
        TodoError::Network => error.to_string(),
        _ => "Couldn't load your todos. Please reload the page.".to_owned(),
    };
    view! { <p role="alert" class="text-red-700">{message}</p> }
}

/// The create form. It is a real `<form>` posting to the server function, so it works
/// without JavaScript; once hydrated, submitting is checked in the browser with the
/// server's own rules and sent without a page load.
#[component]
fn NewTodoForm(create: ServerAction<CreateTodo>) -> impl IntoView {
    // The server's last verdict on invalid input. Without JavaScript it arrives through
    // the URL of the redirect back to this page, together with what was typed.
    let rejected = move || match create.value().get() {
        Some(Err(TodoError::Invalid { errors, submitted })) => Some((errors, submitted)),
        _ => None,
    };
    let typed = untrack(rejected)
        .map(|(_, submitted)| submitted)
        .unwrap_or_else(SubmittedTodo::default);
    let title = RwSignal::new(typed.title);
    let text = RwSignal::new(typed.text);

    // Errors found in the browser win over the server's last answer.
    let browser_errors = RwSignal::new(None::<FieldErrors>);
    let errors = Memo::new(move |_| {
        browser_errors
            .get()
            .or_else(|| rejected().map(|(errors, _)| errors))
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
    let announcement = RwSignal::new(String::new());

    // Stored: start a fresh form.
    Effect::new(move |_| {
        if let Some(Ok(todo)) = create.value().get() {
            title.set(String::new());
            text.set(String::new());
            browser_errors.set(None);
            announcement.set(format!("Added “{}”.", todo.title));
        }
    });

    let title_input = NodeRef::<html::Input>::new();
    let text_input = NodeRef::<html::Textarea>::new();
    let on_submit = move |event: SubmitEvent| {
        event.prevent_default();
        if pending.get_untracked() {
            return;
        }
        let (title_value, text_value) = (title.get_untracked(), text.get_untracked());
        match NewTodo::parse(&title_value, &text_value) {
            Ok(_) => {
                browser_errors.set(None);
                announcement.set(String::new());
                create.dispatch(CreateTodo {
                    title: title_value,
                    text: text_value,
                });
            }
            Err(found) => {
                let first_invalid_is_title = found.title.is_some();
                browser_errors.set(Some(found));
                // Take the user to the first field to fix. Should focusing fail, the
                // messages still show; nothing else to do.
                let _ = if first_invalid_is_title {
                    title_input.get().map(|input| input.focus())
                } else {
                    text_input.get().map(|input| input.focus())
                };
            }
        }
    };
    // While errors show, re-check on every keystroke so each goes away once fixed.
    let recheck = move || {
        if !errors.with_untracked(FieldErrors::is_empty) {
            let found = NewTodo::parse(&title.get_untracked(), &text.get_untracked())
                .err()
                .unwrap_or_default();
            browser_errors.set(Some(found));
        }
    };

    let title_error = Signal::derive(move || errors.with(|e| e.title.clone()));
    let text_error = Signal::derive(move || errors.with(|e| e.text.clone()));

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
            <div>
                <label for="new-todo-title" class="block font-medium">
                    "Title"
                </label>
                <input
                    id="new-todo-title"
                    name="title"
                    type="text"
                    autocomplete="off"
                    aria-required="true"
                    aria-invalid=move || title_error.with(Option::is_some).to_string()
                    aria-describedby=move || {
                        title_error.with(Option::is_some).then_some("new-todo-title-error")
                    }
                    value=untrack(move || title.get())
                    prop:value=move || title.get()
                    on:input:target=move |event| {
                        title.set(event.target().value());
                        recheck();
                    }
                    node_ref=title_input
                    class=FIELD_CLASS
                />
                <FieldError id="new-todo-title-error" message=title_error />
            </div>
            <div>
                <label for="new-todo-text" class="block font-medium">
                    "Text"
                </label>
                <textarea
                    id="new-todo-text"
                    name="text"
                    rows="4"
                    aria-invalid=move || text_error.with(Option::is_some).to_string()
                    aria-describedby=move || {
                        text_error.with(Option::is_some).then_some("new-todo-text-error")
                    }
                    prop:value=move || text.get()
                    on:input:target=move |event| {
                        text.set(event.target().value());
                        recheck();
                    }
                    node_ref=text_input
                    class=FIELD_CLASS
                >
                    {textarea_content(untrack(move || text.get()))}
                </textarea>
                <FieldError id="new-todo-text-error" message=text_error />
            </div>
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
            <p role="status" class="sr-only">
                {move || announcement.get()}
            </p>
        </form>
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

const FIELD_CLASS: &str = "mt-1 block w-full rounded-lg border border-slate-300 px-3 py-2 \
    focus:border-indigo-600 focus:outline-none focus:ring-2 focus:ring-indigo-600 \
    aria-[invalid=true]:border-red-600";

#[component]
fn FieldError(id: &'static str, message: Signal<Option<String>>) -> impl IntoView {
    move || {
        message.get().map(|message| {
            view! {
                <p id=id class="mt-1 text-sm text-red-700">
                    {message}
                </p>
            }
        })
    }
}
