//! SQL for todos. Which pool a query runs on is the caller's choice (see `db`).

use super::model::{NewTodo, Todo};
use sqlx::PgPool;

pub async fn insert(primary: &PgPool, todo: &NewTodo) -> sqlx::Result<Todo> {
    sqlx::query_as(
        "INSERT INTO todos (title, text) VALUES ($1, $2) \
         RETURNING id, title, text, created_at",
    )
    .bind(todo.title())
    .bind(todo.text())
    .fetch_one(primary)
    .await
}

/// Every todo, newest first (served by the `todos_newest_first` index).
pub async fn list_newest_first(pool: &PgPool) -> sqlx::Result<Vec<Todo>> {
    sqlx::query_as(
        "SELECT id, title, text, created_at FROM todos ORDER BY created_at DESC, id DESC",
    )
    .fetch_all(pool)
    .await
}
