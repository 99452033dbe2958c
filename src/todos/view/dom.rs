//! What the page reads from or does to the document directly.
//!
//! Reading and moving focus: controls that go away with a change (a deleted todo, a
//! cleared list) would take focus with them, leaving keyboard and screen-reader users
//! at the top of the page; these helpers put it somewhere that still exists.
//!
//! Reading a todo back from the server's HTML, when hydrating (`listing::ShownPage`).

use leptos::{prelude::*, wasm_bindgen::JsCast, web_sys};

/// The id of the list's heading, where focus goes when its control disappears.
pub(super) const LIST_HEADING_ID: &str = "todos-heading";

/// The id of one of a todo's elements (`part`: `title`, `toggle`, `edit`, ...).
pub(super) fn todo_element_id(id: i64, part: &str) -> String {
    format!("todo-{id}-{part}")
}

/// The id of the focused element, if it has one.
pub(super) fn focused_element_id() -> Option<String> {
    document()
        .active_element()
        .map(|element| element.id())
        .filter(|id| !id.is_empty())
}

/// The id of the element a focus event is about ("" when it has none).
pub(super) fn target_id(event: &leptos::ev::FocusEvent) -> String {
    event
        .target()
        .and_then(|target| target.dyn_into::<web_sys::Element>().ok())
        .map(|element| element.id())
        .unwrap_or_default()
}

/// Moves focus to the element with this id; false if there is none.
pub(super) fn focus_element(id: &str) -> bool {
    document()
        .get_element_by_id(id)
        .and_then(|element| element.dyn_into::<web_sys::HtmlElement>().ok())
        .is_some_and(|element| element.focus().is_ok())
}

/// Whether focus was lost: nothing, or the page itself, has it.
pub(super) fn focus_is_lost() -> bool {
    document()
        .active_element()
        .is_none_or(|active| active.tag_name().eq_ignore_ascii_case("body"))
}

/// Where focus goes when the control that had it disappears: the list's heading.
pub(super) fn focus_list_heading() {
    focus_element(LIST_HEADING_ID);
}

/// Completes a todo that came with the server's HTML without its title, text and time
/// (`Todo::awaits_html`) from that HTML, where `item_view` put them: the title's heading
/// (by id), then a paragraph if the todo has a text, then its `<time>`.
#[cfg(feature = "hydrate")]
pub(super) fn todo_from_html(mut todo: crate::todos::model::Todo) -> crate::todos::model::Todo {
    use crate::todos::model::CreatedAt;

    let Some(title) = document().get_element_by_id(&todo_element_id(todo.id, "title")) else {
        return todo;
    };
    let is = |element: &web_sys::Element, tag: &str| element.tag_name().eq_ignore_ascii_case(tag);
    todo.title = title.text_content().unwrap_or_default();
    let mut next = title.next_element_sibling();
    if let Some(text) = next.take_if(|element| is(element, "p")) {
        todo.text = text.text_content().unwrap_or_default();
        next = text.next_element_sibling();
    }
    if let Some(time) = next.filter(|element| is(element, "time")) {
        todo.created_at = CreatedAt::from_html(
            time.get_attribute("datetime").unwrap_or_default(),
            time.text_content().unwrap_or_default(),
        );
    }
    todo
}
