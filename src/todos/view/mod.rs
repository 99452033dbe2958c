//! The todo page: the form that creates todos, and one page of the list with the
//! controls around it.
//!
//! Every control is a real `<form>` posting to its server function (or, for Edit, a
//! link-like GET form), so the whole page works without JavaScript: the server answers
//! each post with a redirect back to the page, or, if it refused the post, with the
//! page itself showing why (`server::form_posts`). Once hydrated, the same forms are
//! handled in the browser: checked with the server's own rules, applied to the page at
//! once (optimistically), sent without a page load, and rolled back with a message if
//! the server refuses. After every change the page re-reads the list, so it always
//! ends up showing what is stored.
//!
//! One component per file; a file imports the components it draws, never the one that
//! draws it. What several components share sits beside them and imports no component:
//! the page's context (`context`), the list's and each todo's state (`state`), how a
//! change is made (`change`), and focus (`dom`).
//!
//! The larger components end in `.into_any()`: erasing the view types at these seams
//! keeps the nested types small enough for the compiler (the optimised browser build
//! otherwise exceeds its query depth limit) and the generated code smaller.

mod bulk;
mod change;
mod context;
mod create_key;
mod dom;
mod edit_form;
mod field_error;
mod filters;
mod item;
mod item_button;
mod item_view;
mod list;
mod list_error;
mod list_field;
mod new_todo;
mod page;
mod pager;
mod posted_errors;
mod state;
mod todo_fields;

pub use page::TodosPage;
