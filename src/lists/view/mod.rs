//! The list page: which list the URL names, the lists this browser used, the list's
//! name and link, and the todos of the list (`todos::view`). One component per file, as
//! in `todos::view`.

mod name_form;
mod page;
mod share_link;
mod unknown_list;
mod your_lists;

pub use page::ListPage;
