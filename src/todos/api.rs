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
use crate::lists::model::ListId;
use leptos::prelude::*;
#[cfg(feature = "ssr")]
use ssr::*;

/// Stores a new todo in `list` on the primary and returns it as stored. The list comes
/// into being with its first todo; a full list takes no more (`LIST_MAX_TODOS`).
/// `key` (32 hex digits, chosen by the form once per todo it sends) makes the create
/// idempotent: a repeat stores nothing and returns the todo stored the first time.
#[server(prefix = "/api", endpoint = "create_todo")]
pub async fn create_todo(
    list: ListId,
    title: String,
    text: String,
    #[server(default)] key: Option<String>,
) -> Result<Todo, TodoError> {
    let result = async {
        let key = key
            .filter(|key| !key.is_empty())
            .map(|key| key.parse::<uuid::Uuid>().map_err(|_| TodoError::BadRequest))
            .transpose()?;
        let input = parse_input(&title, &text)?;
        let state = state()?;
        let max = state.list_max_todos;
        // Without JavaScript: back to the first page of the list, where the new todo is:
        // not on a later page, nor behind the "completed" filter (a new todo is active).
        let leaving = ["after", "before", "edit", "filter=completed"];
        let todo = write(&state.db, list, &leaving, move |primary| {
            Box::pin(async move {
                let stored = repo::insert(primary, list, &input, max, key).await?;
                Ok(stored.ok_or(TodoError::ListFull { max }))
            })
        })
        .await?;
        metrics::counter!(TODOS_CREATED).increment(1);
        Ok(todo)
    }
    .await;
    finish("create_todo", list, result)
}

/// One page of the list (`after` / `before`: see `ListQuery`), read from where this
/// client's own writes are visible.
#[server(prefix = "/api", endpoint = "list_todos")]
pub async fn list_todos(
    list: ListId,
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
            .read(last_write, |connection| {
                Box::pin(repo::page(connection, list, query))
            })
            .await?;
        Ok(page)
    }
    .await;
    finish("list_todos", list, result)
}

/// Marks a todo done or not done. It sets the state rather than flipping it, so a
/// repeated or crossed request (two tabs) leaves the todo in the state last asked for.
#[server(prefix = "/api", endpoint = "set_todo_completed")]
pub async fn set_todo_completed(list: ListId, id: i64, completed: bool) -> Result<Todo, TodoError> {
    let result = async {
        write(&database()?, list, &[], move |primary| {
            Box::pin(async move {
                repo::set_completed(primary, list, id, completed)
                    .await
                    .map(made)
            })
        })
        .await
    }
    .await;
    finish("set_todo_completed", list, result)
}

/// Replaces a todo's title and text, if nobody changed it since `version`.
#[server(prefix = "/api", endpoint = "update_todo")]
pub async fn update_todo(
    list: ListId,
    id: i64,
    version: i32,
    title: String,
    text: String,
) -> Result<Todo, TodoError> {
    let result = async {
        let input = parse_input(&title, &text)?;
        // Without JavaScript: back to the list, with the edit form closed.
        write(&database()?, list, &["edit"], move |primary| {
            Box::pin(async move {
                repo::update(primary, list, id, version, &input)
                    .await
                    .map(made)
            })
        })
        .await
    }
    .await;
    finish("update_todo", list, result)
}

/// Deletes a todo, if nobody changed it since `version`.
#[server(prefix = "/api", endpoint = "delete_todo")]
pub async fn delete_todo(list: ListId, id: i64, version: i32) -> Result<(), TodoError> {
    let result = async {
        write(&database()?, list, &[], move |primary| {
            Box::pin(async move { repo::delete(primary, list, id, version).await.map(made) })
        })
        .await
    }
    .await;
    finish("delete_todo", list, result)
}

/// Marks every todo of the list done (or, with `completed=false`, not done); returns
/// how many changed.
#[server(prefix = "/api", endpoint = "set_all_completed")]
pub async fn set_all_completed(list: ListId, completed: bool) -> Result<u64, TodoError> {
    let result = async {
        write(&database()?, list, &[], move |primary| {
            Box::pin(async move {
                repo::set_all_completed(primary, list, completed)
                    .await
                    .map(Ok)
            })
        })
        .await
    }
    .await;
    finish("set_all_completed", list, result)
}

/// Deletes every completed todo of the list; returns how many.
#[server(prefix = "/api", endpoint = "clear_completed")]
pub async fn clear_completed(list: ListId) -> Result<u64, TodoError> {
    let result = async {
        write(&database()?, list, &[], move |primary| {
            Box::pin(async move { repo::delete_completed(primary, list).await.map(Ok) })
        })
        .await
    }
    .await;
    finish("clear_completed", list, result)
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
    pub use crate::server::{
        metrics::TODOS_CREATED,
        read_your_writes,
        server_fns::{database, finish, state, write},
    };

    /// Checks a title and text with the rules the browser applied too.
    pub fn parse_input(title: &str, text: &str) -> Result<TodoInput, TodoError> {
        TodoInput::parse(title, text).map_err(|errors| TodoError::Invalid {
            errors,
            submitted: SubmittedTodo::new(title, text),
        })
    }

    /// The result of a change guarded by a version, as the client sees it. A todo of
    /// another list is not found: whether it exists elsewhere is not this list's
    /// business.
    pub fn made<T>(change: Change<T>) -> Result<T, TodoError> {
        match change {
            Change::Made(value) => Ok(value),
            Change::Conflict => Err(TodoError::Conflict),
            Change::NotFound => Err(TodoError::NotFound),
        }
    }
}
