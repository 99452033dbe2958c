//! Lists: each list is a capability URL (`/lists/<id>`). Whoever has the link can read
//! and change the list; nobody can find it without the link. The todo feature works
//! inside one list; this feature names lists, remembers which ones a browser used, and
//! draws the list page around the todos.

pub mod api;
pub mod model;
#[cfg(feature = "ssr")]
pub mod repo;
pub mod view;
