//! What every part of the todo page shares: the list page the URL asks for, the
//! page's live region, and reading the list again after a change.

use super::dom::focused_element_id;
use crate::{
    lists::model::ListId,
    todos::{api::UpdateTodo, error::TodoError, listing::ListQuery},
};
use leptos::prelude::*;
use leptos_router::{
    hooks::{use_navigate, use_query_map},
    NavigateOptions,
};

/// Provided by the page to every component on it.
#[derive(Clone, Copy)]
pub(super) struct PageContext {
    /// The list this page shows; every change names it.
    pub list: ListId,
    /// The page of the list the URL asks for.
    pub query: Memo<Result<ListQuery, TodoError>>,
    /// `?edit=<id>`: the todo whose edit form is open without JavaScript.
    pub edit_param: Memo<Option<i64>>,
    /// Raised after each change: the list is read again.
    pub reload: RwSignal<u64>,
    /// The text of the page's live region, read out by screen readers.
    pub announcement: RwSignal<String>,
    /// The id of the element to focus once the list is shown again, if focus was lost.
    pub focus_after_reload: StoredValue<Option<String>>,
    /// The outcome of an edit posted without JavaScript (its errors come back with the page).
    pub posted_update: ServerAction<UpdateTodo>,
    /// Drops `?edit=` from the URL (client-side), once that edit form is closed.
    pub leave_edit_url: Callback<()>,
}

impl PageContext {
    /// The context of the page at the current URL, for the page's own component to
    /// provide.
    pub fn new(list: ListId) -> Self {
        let url_query = use_query_map();
        let query = Memo::new(move |_| {
            url_query.with(|params| ListQuery::from_url_query(|name| params.get(name)))
        });
        let edit_param = Memo::new(move |_| {
            url_query.with(|params| params.get("edit").and_then(|id| id.parse().ok()))
        });
        let navigate = use_navigate();
        let leave_edit_url = Callback::new(move |()| {
            let page = query.get_untracked().unwrap_or_default().href(list);
            navigate(
                &page,
                NavigateOptions {
                    replace: true,
                    scroll: false,
                    ..Default::default()
                },
            );
        });
        Self {
            list,
            query,
            edit_param,
            reload: RwSignal::new(0),
            announcement: RwSignal::new(String::new()),
            focus_after_reload: StoredValue::new(None),
            posted_update: ServerAction::new(),
            leave_edit_url,
        }
    }

    pub fn current_query(self) -> ListQuery {
        self.query.get_untracked().unwrap_or_default()
    }

    /// The URL of the page shown.
    pub fn current_href(self) -> String {
        self.current_query().href(self.list)
    }

    pub fn announce(self, message: String) {
        self.announcement.try_set(message);
    }

    /// Reads the list again (after a change), keeping focus where it was.
    pub fn reload_keeping_focus(self) {
        let focused = focused_element_id();
        self.focus_after_reload.try_update_value(|id| *id = focused);
        self.reload.try_update(|count| *count += 1);
    }

    /// Focus moved to the element with `id` (a `focusin` in the list's section). While
    /// a re-read is on its way, that element is where focus must be once the list is
    /// drawn anew, not the one focused when the re-read began: the user may have
    /// tabbed on meanwhile.
    pub fn focus_moved_to(self, id: String) {
        self.focus_after_reload.try_update_value(|pending| {
            if pending.is_some() && !id.is_empty() {
                *pending = Some(id);
            }
        });
    }
}
