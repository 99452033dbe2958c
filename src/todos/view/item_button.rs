//! A submit button for one todo's action, such as Edit or Delete.

use super::state::ItemState;
use leptos::prelude::*;

/// Its accessible name is its label followed by the todo's title ("Delete Buy milk"),
/// so that the buttons of different todos can be told apart. Its id is the todo's
/// element id for `part`.
#[component]
pub(super) fn ItemButton(
    item: ItemState,
    part: &'static str,
    label: &'static str,
    class: &'static str,
) -> impl IntoView {
    let id = item.element_id(part);
    let labelled_by = format!("{id} {}", item.element_id("title"));
    view! {
        <button type="submit" id=id aria-labelledby=labelled_by class=class>
            {label}
        </button>
    }
}
