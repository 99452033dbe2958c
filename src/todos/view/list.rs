//! One page of the list and the controls around it: the count, the filters, the
//! buttons for all todos, and the links to the pages before and after.

use super::{
    bulk::BulkControls,
    context::PageContext,
    dom::{focus_element, focus_is_lost, focus_list_heading, LIST_HEADING_ID},
    filters::FilterLinks,
    item::TodoItem,
    item_button::EditTodoForm,
    pager::Pager,
    state::ListState,
};
use crate::todos::listing::TodoPage;
use leptos::prelude::*;

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
        <EditTodoForm />
        <ul aria-labelledby=LIST_HEADING_ID class="todos">
            {page.todos.into_iter().map(|todo| view! { <TodoItem todo /> }).collect_view()}
        </ul>
        <Pager newer=page.newer older=page.older />
    }
    .into_any()
}
