//! "Mark all as done" (or "as not done" once all are) and "Clear completed".

use super::{
    change::Changes,
    context::PageContext,
    dom::focus_list_heading,
    list_field::ListField,
    state::{BulkChange, ListState},
};
use crate::todos::{
    api::{clear_completed, set_all_completed, ClearCompleted, SetAllCompleted},
    listing::TodoCounts,
};
use leptos::{ev::SubmitEvent, prelude::*, server_fn::ServerFn};

#[component]
pub(super) fn BulkControls() -> impl IntoView {
    let state = expect_context::<ListState>();
    let context = expect_context::<PageContext>();
    let changes = Changes::new(context);
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
            set_all_completed(context.list, completed),
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
            clear_completed(context.list),
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
                    <ListField />
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
                    <ListField />
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
