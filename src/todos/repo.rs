//! SQL for todos. Which pool a query runs on is the caller's choice (see `db`): reads
//! take any pool, changes take the primary's.

use super::{
    listing::{Cursor, Filter, ListQuery, TodoCounts, TodoPage, PAGE_SIZE},
    model::{Todo, TodoInput},
};
use sqlx::{PgPool, Row};

/// The columns of a `Todo`, in every query that returns one.
const TODO_COLUMNS: &str = "id, title, text, created_at, completed, version";

/// What became of a change to one todo, named by id and by the version it was made
/// against.
#[derive(Debug)]
pub enum Change<T> {
    Made(T),
    /// The todo has another version now: someone changed it since.
    Conflict,
    NotFound,
}

pub async fn insert(primary: &PgPool, todo: &TodoInput) -> sqlx::Result<Todo> {
    sqlx::query_as(&format!(
        "INSERT INTO todos (title, text) VALUES ($1, $2) RETURNING {TODO_COLUMNS}"
    ))
    .bind(todo.title())
    .bind(todo.text())
    .fetch_one(primary)
    .await
}

/// One page of the list and the counts, in one statement: one round trip, and one
/// snapshot, so the count always agrees with the page. At most `PAGE_SIZE + 1` index
/// entries are read (the extra one says whether another page follows), plus one probe
/// for a page on the other side, plus the 16 counter rows.
pub async fn page(pool: &PgPool, query: ListQuery) -> sqlx::Result<TodoPage> {
    let in_view = match query.filter {
        Filter::All => "true",
        Filter::Active => "NOT completed",
        Filter::Completed => "completed",
    };
    // `window` picks the todos of this page, `beyond` asks whether any todo of the view
    // lies on the other side of the cursor. That probe is an ordered LIMIT 1, not an
    // EXISTS: for "any id >= 40" the planner would pick a sequential scan expecting an
    // early hit, and on a deep page read most of the table before finding one.
    let (window, order, beyond, cursor_id) = match query.cursor {
        Cursor::First => ("true", "DESC", "false".to_owned(), None),
        Cursor::OlderThan(id) => (
            "id < $1",
            "DESC",
            format!("(SELECT id FROM todos WHERE {in_view} AND id >= $1 ORDER BY id LIMIT 1) IS NOT NULL"),
            Some(id),
        ),
        Cursor::NewerThan(id) => (
            "id > $1",
            "ASC",
            format!("(SELECT id FROM todos WHERE {in_view} AND id <= $1 ORDER BY id DESC LIMIT 1) IS NOT NULL"),
            Some(id),
        ),
    };
    let sql = format!(
        "SELECT counts.active, counts.completed_count, counts.beyond, page.* \
         FROM (SELECT coalesce(sum(total - completed), 0)::int8 AS active, \
                      coalesce(sum(completed), 0)::int8 AS completed_count, \
                      {beyond} AS beyond \
               FROM todo_counts) AS counts \
         LEFT JOIN LATERAL ( \
             SELECT {TODO_COLUMNS} FROM todos WHERE {in_view} AND {window} \
             ORDER BY id {order} LIMIT {limit} \
         ) AS page ON true",
        limit = PAGE_SIZE + 1,
    );
    let mut statement = sqlx::query(&sql);
    if let Some(id) = cursor_id {
        statement = statement.bind(id);
    }
    let rows = statement.fetch_all(pool).await?;

    // There is always one row (the counts); its todo columns are NULL on an empty page.
    let first = rows.first().ok_or(sqlx::Error::RowNotFound)?;
    let counts = TodoCounts {
        active: first.try_get("active")?,
        completed: first.try_get("completed_count")?,
    };
    let beyond: bool = first.try_get("beyond")?;
    let mut todos = Vec::with_capacity(rows.len());
    for row in &rows {
        if row.try_get::<Option<i64>, _>("id")?.is_some() {
            todos.push(<Todo as sqlx::FromRow<_>>::from_row(row)?);
        }
    }
    let more = todos.len() > PAGE_SIZE;
    todos.truncate(PAGE_SIZE);
    if matches!(query.cursor, Cursor::NewerThan(_)) {
        todos.reverse();
    }

    let page_of = |cursor| {
        Some(ListQuery {
            filter: query.filter,
            cursor,
        })
    };
    let (first_id, last_id) = match (todos.first(), todos.last(), query.cursor) {
        (Some(first), Some(last), _) => (first.id, last.id),
        // An empty page past either end: the cursor itself bounds both sides.
        (_, _, Cursor::OlderThan(id) | Cursor::NewerThan(id)) => (id, id),
        (_, _, Cursor::First) => (0, 0),
    };
    let (newer_exists, older_exists) = match query.cursor {
        Cursor::First => (false, more),
        Cursor::OlderThan(_) => (beyond, more),
        Cursor::NewerThan(_) => (more, beyond),
    };
    Ok(TodoPage {
        todos,
        counts,
        newer: newer_exists
            .then(|| page_of(Cursor::NewerThan(first_id)))
            .flatten(),
        older: older_exists
            .then(|| page_of(Cursor::OlderThan(last_id)))
            .flatten(),
    })
}

/// Marks one todo done or not done. Setting the state it already has changes nothing,
/// not even its version: a repeated click must not invalidate an edit open elsewhere.
pub async fn set_completed(
    primary: &PgPool,
    id: i64,
    completed: bool,
) -> sqlx::Result<Change<Todo>> {
    let changed: Option<Todo> = sqlx::query_as(&format!(
        "UPDATE todos SET completed = $2, version = version + 1 \
         WHERE id = $1 AND completed <> $2 RETURNING {TODO_COLUMNS}"
    ))
    .bind(id)
    .bind(completed)
    .fetch_optional(primary)
    .await?;
    if let Some(todo) = changed {
        return Ok(Change::Made(todo));
    }
    let unchanged: Option<Todo> =
        sqlx::query_as(&format!("SELECT {TODO_COLUMNS} FROM todos WHERE id = $1"))
            .bind(id)
            .fetch_optional(primary)
            .await?;
    Ok(unchanged.map_or(Change::NotFound, Change::Made))
}

/// Replaces a todo's title and text, if it is still at `version`.
pub async fn update(
    primary: &PgPool,
    id: i64,
    version: i32,
    input: &TodoInput,
) -> sqlx::Result<Change<Todo>> {
    let updated: Option<Todo> = sqlx::query_as(&format!(
        "UPDATE todos SET title = $3, text = $4, version = version + 1 \
         WHERE id = $1 AND version = $2 RETURNING {TODO_COLUMNS}"
    ))
    .bind(id)
    .bind(version)
    .bind(input.title())
    .bind(input.text())
    .fetch_optional(primary)
    .await?;
    match updated {
        Some(todo) => Ok(Change::Made(todo)),
        None => why_unchanged(primary, id).await,
    }
}

/// Deletes a todo, if it is still at `version`: what is deleted is what the user saw.
pub async fn delete(primary: &PgPool, id: i64, version: i32) -> sqlx::Result<Change<()>> {
    let deleted = sqlx::query("DELETE FROM todos WHERE id = $1 AND version = $2")
        .bind(id)
        .bind(version)
        .execute(primary)
        .await?
        .rows_affected();
    if deleted == 1 {
        Ok(Change::Made(()))
    } else {
        why_unchanged(primary, id).await
    }
}

/// A change guarded by a version touched no row: the todo is gone, or has moved on.
async fn why_unchanged<T>(primary: &PgPool, id: i64) -> sqlx::Result<Change<T>> {
    let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM todos WHERE id = $1)")
        .bind(id)
        .fetch_one(primary)
        .await?;
    Ok(if exists {
        Change::Conflict
    } else {
        Change::NotFound
    })
}

/// Marks every todo done (or not done); returns how many changed.
pub async fn set_all_completed(primary: &PgPool, completed: bool) -> sqlx::Result<u64> {
    Ok(sqlx::query(
        "UPDATE todos SET completed = $1, version = version + 1 \
         WHERE completed <> $1",
    )
    .bind(completed)
    .execute(primary)
    .await?
    .rows_affected())
}

/// Deletes every completed todo; returns how many.
pub async fn delete_completed(primary: &PgPool) -> sqlx::Result<u64> {
    Ok(sqlx::query("DELETE FROM todos WHERE completed")
        .execute(primary)
        .await?
        .rows_affected())
}
