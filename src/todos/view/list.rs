//! One page of the list and the controls around it: the count, the filters, "Mark all
//! as done", "Clear completed", and the links to the pages before and after.

use super::{
    change::Changes, focus_element, focus_is_lost, focus_list_heading, item::TodoItem, PageContext,
};
use crate::todos::{
    api::{clear_completed, set_all_completed, ClearCompleted, SetAllCompleted},
    listing::{Filter, ListQuery, TodoCounts, TodoPage},
};
use leptos::{ev::SubmitEvent, prelude::*, server_fn::ServerFn};

/// A change to every todo that the page shows before the server confirms it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum BulkChange {
    AllCompleted(bool),
    ClearCompleted,
}

/// What the items of a page share with the controls around them.
#[derive(Clone, Copy)]
pub(super) struct ListState {
    pub filter: Filter,
    /// The counts of the whole list, changed at once by every change on the page.
    pub counts: RwSignal<TodoCounts>,
    pub bulk: RwSignal<Option<BulkChange>>,
}

impl ListState {
    /// Whether a todo stored as `completed` shows as completed: a bulk change on its
    /// way applies to it too.
    pub fn shown_completed(self, completed: bool) -> bool {
        match self.bulk.get() {
            Some(BulkChange::AllCompleted(all)) => all,
            _ => completed,
        }
    }

    /// Whether a todo stored as `completed` belongs on this page now.
    pub fn shows(self, completed: bool) -> bool {
        let completed = self.shown_completed(completed);
        let cleared = completed && self.bulk.get() == Some(BulkChange::ClearCompleted);
        self.filter.shows(completed) && !cleared
    }
}

#[component]
pub(super) fn TodoList(page: TodoPage) -> impl IntoView {
    let context = expect_context::<PageContext>();
    let query = context.current_query();
    let state = ListState {
        filter: query.filter,
        counts: RwSignal::new(page.counts),
        bulk: RwSignal::new(None),
    };
    provide_context(state);

    // The list was drawn anew after a change. If the control that had focus went with
    // the old list, focus its successor (same id) or, if it left this view, the heading.
    // The effect runs once this list exists, the frame after it replaced the old one.
    Effect::new(move |_| {
        if let Some(Some(id)) = context.focus_after_reload.try_update_value(Option::take) {
            request_animation_frame(move || {
                if focus_is_lost() && !focus_element(&id) {
                    focus_list_heading();
                }
            });
        }
    });

    let empty = page.todos.is_empty().then(|| {
        view! { <p class="mb-3 text-slate-600">{query.filter.empty_message()}</p> }
    });
    view! {
        <div class="mb-4 flex flex-wrap items-center justify-between gap-3">
            <p role="status" class="text-sm font-medium text-slate-700">
                {move || state.counts.get().items_left()}
            </p>
            <FilterLinks current=query.filter />
        </div>
        <BulkControls />
        {empty}
        <ul aria-labelledby="todos-heading" class="space-y-3">
            {page.todos.into_iter().map(|todo| view! { <TodoItem todo /> }).collect_view()}
        </ul>
        <Pager newer=page.newer older=page.older />
    }
    .into_any()
}

/// All / Active / Completed: plain links, so a view can be reloaded and shared.
#[component]
fn FilterLinks(current: Filter) -> impl IntoView {
    let links = Filter::EVERY
        .into_iter()
        .map(|filter| {
            let is_current = filter == current;
            view! {
                <li>
                    <a
                        href=ListQuery::first_page_of(filter).href()
                        aria-current=is_current.then_some("page")
                        class="rounded-md border border-transparent px-2 py-1 text-sm text-slate-700 hover:border-slate-300 focus-visible:outline focus-visible:outline-2 focus-visible:outline-indigo-700 aria-[current=page]:border-indigo-700 aria-[current=page]:font-semibold aria-[current=page]:text-indigo-800"
                    >
                        {filter.label()}
                    </a>
                </li>
            }
        })
        .collect_view();
    view! {
        <nav aria-label="Filter todos">
            <ul class="flex gap-1">{links}</ul>
        </nav>
    }
}

/// "Mark all as done" (or "as not done" once all are) and "Clear completed".
#[component]
fn BulkControls() -> impl IntoView {
    let state = expect_context::<ListState>();
    let changes = Changes::new(expect_context::<PageContext>());
    let counts = state.counts;
    // The button marks all as done while any todo is active.
    let marks_done = move || counts.with(|counts| counts.active > 0);

    let on_mark_all = move |event: SubmitEvent| {
        let Some(change) = changes.start_counted(&event, counts) else {
            return;
        };
        let completed = untrack(marks_done);
        let total = change.before.total();
        state.bulk.set(Some(BulkChange::AllCompleted(completed)));
        counts.set(if completed {
            TodoCounts {
                active: 0,
                completed: total,
            }
        } else {
            TodoCounts {
                active: total,
                completed: 0,
            }
        });
        let state_word = if completed { "done" } else { "not done" };
        change.send(
            set_all_completed(completed),
            move |_| format!("Marked all todos as {state_word}."),
            move |refused| {
                state.bulk.try_set(None);
                Some(format!(
                    "Couldn't mark all todos as {state_word}: {refused}"
                ))
            },
        );
    };

    let on_clear = move |event: SubmitEvent| {
        let Some(change) = changes.start_counted(&event, counts) else {
            return;
        };
        // This button goes away with the completed todos: focus must not go with it.
        focus_list_heading();
        state.bulk.set(Some(BulkChange::ClearCompleted));
        counts.set(TodoCounts {
            completed: 0,
            ..change.before
        });
        change.send(
            clear_completed(),
            |deleted| {
                let noun = if deleted == 1 { "todo" } else { "todos" };
                format!("Cleared {deleted} completed {noun}.")
            },
            move |refused| {
                state.bulk.try_set(None);
                Some(format!("Couldn't clear the completed todos: {refused}"))
            },
        );
    };

    view! {
        <div class="mb-4 flex flex-wrap gap-2" aria-busy=move || changes.pending.get().to_string()>
            <Show when=move || counts.with(|counts| counts.total() > 0)>
                <form method="post" action=SetAllCompleted::PATH on:submit=on_mark_all>
                    <input type="hidden" name="completed" value=move || marks_done().to_string() />
                    <button
                        type="submit"
                        id="mark-all"
                        class="button button-secondary"
                    >
                        {move || if marks_done() { "Mark all as done" } else { "Mark all as not done" }}
                    </button>
                </form>
            </Show>
            <Show when=move || counts.with(|counts| counts.completed > 0)>
                <form method="post" action=ClearCompleted::PATH on:submit=on_clear>
                    <button
                        type="submit"
                        id="clear-completed"
                        class="button button-secondary"
                    >
                        "Clear completed"
                    </button>
                </form>
            </Show>
        </div>
        {move || {
            changes
                .error
                .get()
                .map(|message| {
                    view! {
                        <p role="alert" class="mb-4 text-sm text-red-700">
                            {message}
                        </p>
                    }
                })
        }}
    }
    .into_any()
}

/// Links to the newer and older pages, where there are any.
#[component]
fn Pager(newer: Option<ListQuery>, older: Option<ListQuery>) -> impl IntoView {
    const LINK_CLASS: &str = "rounded-lg border border-slate-300 bg-white px-3 py-1.5 text-sm font-semibold text-indigo-800 hover:bg-slate-100 focus-visible:outline focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-700";
    (newer.is_some() || older.is_some()).then(|| {
        view! {
            <nav aria-label="Pages" class="mt-6 flex">
                {newer
                    .map(|page| {
                        view! {
                            <a href=page.href() rel="prev" class=LINK_CLASS>
                                <span aria-hidden="true">"← "</span>
                                "Previous page"
                            </a>
                        }
                    })}
                {older
                    .map(|page| {
                        view! {
                            <a href=page.href() rel="next" class=format!("ml-auto {LINK_CLASS}")>
                                "Next page"
                                <span aria-hidden="true">" →"</span>
                            </a>
                        }
                    })}
            </nav>
        }
    })
}
