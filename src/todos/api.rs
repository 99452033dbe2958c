//! Server functions of the todo feature: called over HTTP by the hydrated page, posted to
//! directly by the form when JavaScript is off, and run in-process during server
//! rendering.
//!
//! Endpoints are named explicitly so their URLs stay the same across builds: during a
//! rolling deploy, pages served by the old version keep posting to the new one.

use super::{
    error::TodoError,
    listing::{Filter, TodoPage},
    model::Todo,
};
use leptos::prelude::*;
#[cfg(feature = "ssr")]
use ssr::*;

/// Stores a new todo on the primary and returns it as stored.
#[server(prefix = "/api", endpoint = "create_todo")]
pub async fn create_todo(title: String, text: String) -> Result<Todo, TodoError> {
    let result = async {
        let input = parse_input(&title, &text)?;
        let db = database()?;
        let todo = repo::insert(db.primary(), &input).await?;
        metrics::counter!(TODOS_CREATED).increment(1);
        // Without JavaScript: back to the first page of the list, where the new todo is:
        // not on a later page, nor behind the "completed" filter (a new todo is active).
        after_change(&db, &["after", "before", "edit", "filter=completed"]).await;
        Ok(todo)
    }
    .await;
    finish("create_todo", result)
}

/// One page of the list (`after` / `before`: see `ListQuery`), read from where this
/// client's own writes are visible.
#[server(prefix = "/api", endpoint = "list_todos")]
pub async fn list_todos(
    #[server(default)] filter: Filter,
    after: Option<i64>,
    before: Option<i64>,
) -> Result<TodoPage, TodoError> {
    let result = async {
        let query = ListQuery {
            filter,
            cursor: ListQuery::cursor(after, before)?,
        };
        let db = database()?;
        let last_write = read_your_writes::last_write();
        let page = db
            .read(
                last_write,
                |pool| async move { repo::page(&pool, query).await },
            )
            .await?;
        Ok(page)
    }
    .await;
    finish("list_todos", result)
}

/// Marks a todo done or not done. It sets the state rather than flipping it, so a
/// repeated or crossed request (two tabs) leaves the todo in the state last asked for.
#[server(prefix = "/api", endpoint = "set_todo_completed")]
pub async fn set_todo_completed(id: i64, completed: bool) -> Result<Todo, TodoError> {
    let result = async {
        let db = database()?;
        let todo = made(repo::set_completed(db.primary(), id, completed).await?)?;
        after_change(&db, &[]).await;
        Ok(todo)
    }
    .await;
    finish("set_todo_completed", result)
}

/// Replaces a todo's title and text, if nobody changed it since `version`.
#[server(prefix = "/api", endpoint = "update_todo")]
pub async fn update_todo(
    id: i64,
    version: i32,
    title: String,
    text: String,
) -> Result<Todo, TodoError> {
    let result = async {
        let input = parse_input(&title, &text)?;
        let db = database()?;
        let todo = made(repo::update(db.primary(), id, version, &input).await?)?;
        // Without JavaScript: back to the list, with the edit form closed.
        after_change(&db, &["edit"]).await;
        Ok(todo)
    }
    .await;
    finish("update_todo", result)
}

/// Deletes a todo, if nobody changed it since `version`.
#[server(prefix = "/api", endpoint = "delete_todo")]
pub async fn delete_todo(id: i64, version: i32) -> Result<(), TodoError> {
    let result = async {
        let db = database()?;
        made(repo::delete(db.primary(), id, version).await?)?;
        after_change(&db, &[]).await;
        Ok(())
    }
    .await;
    finish("delete_todo", result)
}

/// Marks every todo done (or, with `completed=false`, not done); returns how many
/// changed.
#[server(prefix = "/api", endpoint = "set_all_completed")]
pub async fn set_all_completed(completed: bool) -> Result<u64, TodoError> {
    let result = async {
        let db = database()?;
        let changed = repo::set_all_completed(db.primary(), completed).await?;
        after_change(&db, &[]).await;
        Ok(changed)
    }
    .await;
    finish("set_all_completed", result)
}

/// Deletes every completed todo; returns how many.
#[server(prefix = "/api", endpoint = "clear_completed")]
pub async fn clear_completed() -> Result<u64, TodoError> {
    let result = async {
        let db = database()?;
        let deleted = repo::delete_completed(db.primary()).await?;
        after_change(&db, &[]).await;
        Ok(deleted)
    }
    .await;
    finish("clear_completed", result)
}

/// What the server functions need on the server only.
#[cfg(feature = "ssr")]
mod ssr {
    pub use super::super::{
        error::SubmittedTodo,
        listing::ListQuery,
        model::TodoInput,
        repo::{self, Change},
    };
    use super::TodoError;
    use crate::server::state::AppState;
    pub use crate::server::{
        db::Database,
        form_posts,
        metrics::{SERVER_FN_CALLS, SERVER_FN_ERRORS, TODOS_CREATED},
        read_your_writes,
    };
    use leptos::prelude::use_context;

    /// The databases, from the state leptos_axum provides to every server function. Its
    /// absence is a wiring bug, not the user's error.
    pub fn database() -> Result<Database, TodoError> {
        use_context::<AppState>()
            .map(|state| state.db)
            .ok_or_else(|| {
                tracing::error!("AppState is missing from the server function's context");
                TodoError::Internal
            })
    }

    /// Checks a title and text with the rules the browser applied too.
    pub fn parse_input(title: &str, text: &str) -> Result<TodoInput, TodoError> {
        TodoInput::parse(title, text).map_err(|errors| TodoError::Invalid {
            errors,
            submitted: SubmittedTodo::new(title, text),
        })
    }

    /// The result of a change guarded by a version, as the client sees it.
    pub fn made<T>(change: Change<T>) -> Result<T, TodoError> {
        match change {
            Change::Made(value) => Ok(value),
            Change::Conflict => Err(TodoError::Conflict),
            Change::NotFound => Err(TodoError::NotFound),
        }
    }

    /// After a write on the primary: this client's next reads must see it
    /// (read-your-writes), and a form posted without JavaScript goes back to the list,
    /// without the query parameters `leaving` (see `form_posts`). The write is done:
    /// from here on nothing may turn the request into an error, or the user would retry
    /// something that already happened.
    pub async fn after_change(db: &Database, leaving: &[&str]) {
        match db.wal_position_after_write().await {
            Ok(lsn) => read_your_writes::remember_write(lsn),
            Err(error) => tracing::warn!(
                %error,
                "change stored, but its WAL position is unknown; the next read may miss it"
            ),
        }
        form_posts::redirect_back_to_list_without(leaving);
    }

    /// Counts the call and, for an error, sets its HTTP status.
    pub fn finish<T>(function: &'static str, result: Result<T, TodoError>) -> Result<T, TodoError> {
        metrics::counter!(SERVER_FN_CALLS, "function" => function).increment(1);
        if let Err(error) = &result {
            metrics::counter!(SERVER_FN_ERRORS, "function" => function, "error" => error.kind())
                .increment(1);
            error.set_response_status();
        }
        result
    }
}
