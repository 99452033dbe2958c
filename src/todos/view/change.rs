//! How the page makes a change once hydrated: it takes the form's submit over, shows
//! the change at once (optimistically), sends it without a page load, and undoes it
//! with a message if the server refuses.

use super::context::PageContext;
use crate::todos::{error::TodoError, listing::TodoCounts};
use leptos::{prelude::*, web_sys::Event};
use std::future::Future;

/// The changes one set of controls makes (a todo's, or the buttons for all todos):
/// one at a time, with the last refusal shown beside them.
#[derive(Clone, Copy)]
pub(super) struct Changes {
    context: PageContext,
    /// A change is on its way; submits meanwhile are dropped.
    pub pending: RwSignal<bool>,
    /// Why the last change was refused.
    pub error: RwSignal<Option<String>>,
}

impl Changes {
    pub fn new(context: PageContext) -> Self {
        Self {
            context,
            pending: RwSignal::new(false),
            error: RwSignal::new(None),
        }
    }

    /// Handles a form's submit (or the click of a button that would submit one) in the
    /// page instead of posting it. False while a change is on its way: this submit is
    /// then dropped.
    pub fn take_over_submit(self, event: &Event) -> bool {
        event.prevent_default();
        !self.pending.get_untracked()
    }

    /// Starts, from a form's submit or a submit button's click, a change that also
    /// changes the list's `counts`; `None` while another change is on its way. The
    /// counts are noted first, so that undoing the change puts them back.
    pub fn start_counted(
        self,
        event: &Event,
        counts: RwSignal<TodoCounts>,
    ) -> Option<CountedChange> {
        self.take_over_submit(event).then(|| CountedChange {
            changes: self,
            counts,
            before: counts.get_untracked(),
        })
    }

    /// Sends a change the page already shows. When the server confirms it,
    /// `announce_success` says so in the live region and the list is read again. When
    /// the server refuses it, `undo` puts the page back and returns the message to show
    /// beside the controls, or `None` if the refusal needs none.
    pub fn send<T: 'static>(
        self,
        request: impl Future<Output = Result<T, TodoError>> + 'static,
        announce_success: impl FnOnce(T) -> String + 'static,
        undo: impl FnOnce(TodoError) -> Option<String> + 'static,
    ) {
        self.error.set(None);
        self.pending.set(true);
        leptos::task::spawn_local(async move {
            let result = request.await;
            self.pending.try_set(false);
            match result {
                Ok(value) => {
                    self.context.announce(announce_success(value));
                    self.context.reload_keeping_focus();
                }
                Err(refused) => {
                    if let Some(message) = undo(refused) {
                        self.error.try_set(Some(message));
                    }
                }
            }
        });
    }
}

/// A change, started but not yet sent, that changes the list's counts too.
pub(super) struct CountedChange {
    changes: Changes,
    counts: RwSignal<TodoCounts>,
    /// The counts before the change.
    pub before: TodoCounts,
}

impl CountedChange {
    /// Sends the change as [`Changes::send`] does; undoing it puts the counts back too,
    /// unless `undo` finds nothing to undo (`None`).
    pub fn send<T: 'static>(
        self,
        request: impl Future<Output = Result<T, TodoError>> + 'static,
        announce_success: impl FnOnce(T) -> String + 'static,
        undo: impl FnOnce(TodoError) -> Option<String> + 'static,
    ) {
        let Self {
            changes,
            counts,
            before,
        } = self;
        changes.send(request, announce_success, move |refused| {
            let message = undo(refused)?;
            counts.try_set(before);
            Some(message)
        });
    }
}
