//! The API-level integration tests in one binary: the todo server functions and page,
//! changes to todos, and paging, over real HTTP against a real primary + replica.
//! Nothing here changes process-wide state (metrics counts, the replica's replay, a
//! database server's reachability): tests that do have binaries of their own.

#[path = "../support"]
mod support {
    pub mod app;
    pub mod database;
    pub mod todos;
}

mod database_tls;
mod helpers;
mod lists;
mod paging;
mod todo_changes;
mod todos_api;
