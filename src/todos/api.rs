//! Server functions of the todo feature: called over HTTP by the hydrated page, posted to
//! directly by the form when JavaScript is off, and run in-process during server
//! rendering.
//!
//! Endpoints are named explicitly so their URLs stay the same across builds: during a
//! rolling deploy, pages served by the old version keep posting to the new one.

use super::{error::TodoError, model::Todo};
use leptos::prelude::*;
#[cfg(feature = "ssr")]
use {
    super::{error::SubmittedTodo, model::NewTodo, repo},
    crate::{read_your_writes, startup::AppState},
};

/// Stores a new todo on the primary and returns it as stored.
#[server(prefix = "/api", endpoint = "create_todo")]
pub async fn create_todo(title: String, text: String) -> Result<Todo, TodoError> {
    let result = async {
        let new_todo = NewTodo::parse(&title, &text).map_err(|errors| TodoError::Invalid {
            errors,
            submitted: SubmittedTodo::new(&title, &text),
        })?;
        let db = AppState::from_context()?.db;
        let todo = repo::insert(db.primary(), &new_todo).await?;
        metrics::counter!(crate::metrics::TODOS_CREATED).increment(1);

        // The todo is stored: from here on nothing may turn this into an error, or the
        // user would retry and store it twice.
        match db.wal_position_after_write().await {
            Ok(lsn) => read_your_writes::remember_write(lsn),
            Err(error) => tracing::warn!(
                %error,
                "todo stored, but its WAL position is unknown; the next read may miss it"
            ),
        }
        Ok(todo)
    }
    .await;
    finish("create_todo", result)
}

/// All todos, newest first, read from where this client's own writes are visible.
#[server(prefix = "/api", endpoint = "list_todos")]
pub async fn list_todos() -> Result<Vec<Todo>, TodoError> {
    let result = async {
        let db = AppState::from_context()?.db;
        let last_write = read_your_writes::last_write();
        let todos = db
            .read(last_write, |pool| async move {
                repo::list_newest_first(&pool).await
            })
            .await?;
        Ok(todos)
    }
    .await;
    finish("list_todos", result)
}

/// Counts the call and, for an error, sets its HTTP status.
#[cfg(feature = "ssr")]
fn finish<T>(function: &'static str, result: Result<T, TodoError>) -> Result<T, TodoError> {
    use crate::metrics::{SERVER_FN_CALLS, SERVER_FN_ERRORS};
    metrics::counter!(SERVER_FN_CALLS, "function" => function).increment(1);
    if let Err(error) = &result {
        metrics::counter!(SERVER_FN_ERRORS, "function" => function, "error" => error.kind())
            .increment(1);
        error.set_response_status();
    }
    result
}
