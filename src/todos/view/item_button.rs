//! A submit button for one todo's action, such as Edit or Delete, and the page's one
//! Edit form that every Edit button submits.

use super::{context::PageContext, state::ItemState};
use leptos::{ev::MouseEvent, prelude::*};

/// The id of the page's Edit form.
const EDIT_FORM_ID: &str = "edit-todo";

/// Its accessible name is its label followed by the todo's title ("Delete Buy milk"),
/// so that the buttons of different todos can be told apart. Its id is the todo's
/// element id for `part`. With `opens_edit_form`, it submits the page's Edit form (see
/// [`EditTodoForm`]) with `edit=<id>` instead of the form it sits in.
#[component]
pub(super) fn ItemButton(
    item: ItemState,
    part: &'static str,
    label: &'static str,
    on_click: impl FnMut(MouseEvent) + 'static,
    #[prop(optional)] opens_edit_form: bool,
) -> impl IntoView {
    let id = item.element_id(part);
    let labelled_by = format!("{id} {}", item.element_id("title"));
    view! {
        <button
            form=opens_edit_form.then_some(EDIT_FORM_ID)
            name=opens_edit_form.then_some("edit")
            value=opens_edit_form.then_some(item.id)
            id=id
            aria-labelledby=labelled_by
            on:click=on_click
        >
            {label}
        </button>
    }
}

/// The page's Edit form: a GET of this very page with `edit=<id>`, the id given by the
/// Edit button that submits it, so without JavaScript the server renders that todo's
/// edit form open. One for the page instead of one per todo.
#[component]
pub(super) fn EditTodoForm() -> impl IntoView {
    let context = expect_context::<PageContext>();
    let this_page = context.current_query().url_params();
    view! {
        <form id=EDIT_FORM_ID action=context.list.href()>
            {this_page
                .into_iter()
                .map(|(name, value)| view! { <input type="hidden" name=name value=value /> })
                .collect_view()}
        </form>
    }
}
