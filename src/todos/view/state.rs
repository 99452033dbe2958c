//! The state the list's components share: the list's own, and each todo's. It sits
//! apart from the components so that the list and its items need not import each
//! other.

use super::change::Changes;
use crate::todos::{
    listing::{Filter, TodoCounts},
    model::FieldErrors,
};
use leptos::prelude::*;

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

/// A todo as the page shows it, changed at once by the user's actions.
#[derive(Clone, Copy)]
pub(super) struct ItemState {
    pub id: i64,
    pub title: RwSignal<String>,
    pub text: RwSignal<String>,
    pub completed: RwSignal<bool>,
    pub version: RwSignal<i32>,
    /// Deleted on the page, the server not yet asked or answered.
    pub removed: RwSignal<bool>,
    /// This todo's changes: further ones wait for the one on its way.
    pub changes: Changes,
    pub editing: RwSignal<bool>,
    pub draft_title: RwSignal<String>,
    pub draft_text: RwSignal<String>,
    pub draft_errors: RwSignal<FieldErrors>,
}

impl ItemState {
    /// The id of one of this todo's elements.
    pub fn element_id(self, part: &str) -> String {
        super::dom::todo_element_id(self.id, part)
    }

    /// What the ids of this todo's edit fields start with.
    pub fn edit_fields_id_prefix(self) -> String {
        self.element_id("edit")
    }
}
