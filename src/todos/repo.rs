//! SQL for todos. Which pool a query runs on is the caller's choice (see `db`): reads
//! take any pool, changes take the primary's.
//!
//! Every statement names the list (`list_id = $1`): a todo of another list is, to each
//! of them, a todo that does not exist. Every index leads with the list, so one list's
//! page costs the same whatever the other lists hold.

use super::{
    listing::{Cursor, Filter, ListQuery, TodoCounts, TodoPage, PAGE_SIZE},
    model::{Todo, TodoInput},
};
use crate::lists::{model::ListId, repo::list_key};
use sqlx::{PgConnection, Row};
use uuid::Uuid;

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

/// Stores a todo in `list`, creating the list with its first todo, unless the list
/// already holds `max` todos (`None`). The bound is checked against the list's counters
/// in the same statement; concurrent creates into an almost full list may each see
/// room, so it can be passed by at most their number.
///
/// With a `key` (the form's), a create whose key the list already has stores nothing
/// and returns the todo stored the first time: sending a create again is safe.
pub async fn insert(
    primary: &mut PgConnection,
    list: ListId,
    todo: &TodoInput,
    max: i64,
    key: Option<Uuid>,
) -> sqlx::Result<Option<Todo>> {
    // The list's row is inserted by the CTE of the same statement; the foreign key is
    // checked at the statement's end, when it exists.
    let inserted: Option<Todo> = sqlx::query_as(&format!(
        "WITH list AS (INSERT INTO lists (id) VALUES ($1) ON CONFLICT (id) DO NOTHING) \
         INSERT INTO todos (list_id, title, text, create_key) \
         SELECT $1, $2, $3, $5 \
         WHERE (SELECT coalesce(sum(total), 0) FROM list_counts WHERE list_id = $1) < $4 \
         ON CONFLICT (list_id, create_key) WHERE create_key IS NOT NULL DO NOTHING \
         RETURNING {TODO_COLUMNS}"
    ))
    .bind(list_key(list))
    .bind(todo.title())
    .bind(todo.text())
    .bind(max)
    .bind(key)
    .fetch_optional(&mut *primary)
    .await?;
    match (inserted, key) {
        (Some(todo), _) => Ok(Some(todo)),
        // Nothing stored: the key's todo, if this is a repeat (even of a create that
        // filled the list), else the list is full.
        (None, Some(key)) => {
            sqlx::query_as(&format!(
                "SELECT {TODO_COLUMNS} FROM todos WHERE list_id = $1 AND create_key = $2"
            ))
            .bind(list_key(list))
            .bind(key)
            .fetch_optional(primary)
            .await
        }
        (None, None) => Ok(None),
    }
}

/// One page of the list and the counts, in one statement: one round trip, and one
/// snapshot, so the count always agrees with the page. At most `PAGE_SIZE + 1` index
/// entries are read (the extra one says whether another page follows), plus one probe
/// for a page on the other side, plus the 16 counter rows.
pub async fn page(
    connection: &mut PgConnection,
    list: ListId,
    query: ListQuery,
) -> sqlx::Result<TodoPage> {
    let in_view = match query.filter {
        Filter::All => "list_id = $1",
        Filter::Active => "list_id = $1 AND NOT completed",
        Filter::Completed => "list_id = $1 AND completed",
    };
    // `window` picks the todos of this page, `beyond` asks whether any todo of the view
    // lies on the other side of the cursor. That probe is an ordered LIMIT 1, not an
    // EXISTS: for "any id >= 40" the planner would pick a sequential scan expecting an
    // early hit, and on a deep page read most of the table before finding one.
    let (window, order, beyond, cursor_id) = match query.cursor {
        Cursor::First => ("true", "DESC", "false".to_owned(), None),
        Cursor::OlderThan(id) => (
            "id < $2",
            "DESC",
            format!("(SELECT id FROM todos WHERE {in_view} AND id >= $2 ORDER BY id LIMIT 1) IS NOT NULL"),
            Some(id),
        ),
        Cursor::NewerThan(id) => (
            "id > $2",
            "ASC",
            format!("(SELECT id FROM todos WHERE {in_view} AND id <= $2 ORDER BY id DESC LIMIT 1) IS NOT NULL"),
            Some(id),
        ),
    };
    let sql = format!(
        "SELECT counts.active, counts.completed_count, counts.beyond, page.* \
         FROM (SELECT coalesce(sum(total - completed), 0)::int8 AS active, \
                      coalesce(sum(completed), 0)::int8 AS completed_count, \
                      {beyond} AS beyond \
               FROM list_counts WHERE list_id = $1) AS counts \
         LEFT JOIN LATERAL ( \
             SELECT {TODO_COLUMNS} FROM todos WHERE {in_view} AND {window} \
             ORDER BY id {order} LIMIT {limit} \
         ) AS page ON true",
        limit = PAGE_SIZE + 1,
    );
    let mut statement = sqlx::query(&sql).bind(list_key(list));
    if let Some(id) = cursor_id {
        statement = statement.bind(id);
    }
    let rows = statement.fetch_all(connection).await?;

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
    primary: &mut PgConnection,
    list: ListId,
    id: i64,
    completed: bool,
) -> sqlx::Result<Change<Todo>> {
    let changed: Option<Todo> = sqlx::query_as(&format!(
        "UPDATE todos SET completed = $3, version = version + 1 \
         WHERE list_id = $1 AND id = $2 AND completed <> $3 RETURNING {TODO_COLUMNS}"
    ))
    .bind(list_key(list))
    .bind(id)
    .bind(completed)
    .fetch_optional(&mut *primary)
    .await?;
    if let Some(todo) = changed {
        return Ok(Change::Made(todo));
    }
    let unchanged: Option<Todo> = sqlx::query_as(&format!(
        "SELECT {TODO_COLUMNS} FROM todos WHERE list_id = $1 AND id = $2"
    ))
    .bind(list_key(list))
    .bind(id)
    .fetch_optional(primary)
    .await?;
    Ok(unchanged.map_or(Change::NotFound, Change::Made))
}

/// Replaces a todo's title and text, if it is still at `version`.
pub async fn update(
    primary: &mut PgConnection,
    list: ListId,
    id: i64,
    version: i32,
    input: &TodoInput,
) -> sqlx::Result<Change<Todo>> {
    let updated: Option<Todo> = sqlx::query_as(&format!(
        "UPDATE todos SET title = $4, text = $5, version = version + 1 \
         WHERE list_id = $1 AND id = $2 AND version = $3 RETURNING {TODO_COLUMNS}"
    ))
    .bind(list_key(list))
    .bind(id)
    .bind(version)
    .bind(input.title())
    .bind(input.text())
    .fetch_optional(&mut *primary)
    .await?;
    match updated {
        Some(todo) => Ok(Change::Made(todo)),
        None => why_unchanged(primary, list, id).await,
    }
}

/// Deletes a todo, if it is still at `version`: what is deleted is what the user saw.
pub async fn delete(
    primary: &mut PgConnection,
    list: ListId,
    id: i64,
    version: i32,
) -> sqlx::Result<Change<()>> {
    let deleted = sqlx::query("DELETE FROM todos WHERE list_id = $1 AND id = $2 AND version = $3")
        .bind(list_key(list))
        .bind(id)
        .bind(version)
        .execute(&mut *primary)
        .await?
        .rows_affected();
    if deleted == 1 {
        Ok(Change::Made(()))
    } else {
        why_unchanged(primary, list, id).await
    }
}

/// A change guarded by a version touched no row: the todo is gone, or has moved on.
async fn why_unchanged<T>(
    primary: &mut PgConnection,
    list: ListId,
    id: i64,
) -> sqlx::Result<Change<T>> {
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM todos WHERE list_id = $1 AND id = $2)")
            .bind(list_key(list))
            .bind(id)
            .fetch_one(primary)
            .await?;
    Ok(if exists {
        Change::Conflict
    } else {
        Change::NotFound
    })
}

/// Marks every todo of the list done (or not done); returns how many changed.
pub async fn set_all_completed(
    primary: &mut PgConnection,
    list: ListId,
    completed: bool,
) -> sqlx::Result<u64> {
    Ok(sqlx::query(
        "UPDATE todos SET completed = $2, version = version + 1 \
         WHERE list_id = $1 AND completed <> $2",
    )
    .bind(list_key(list))
    .bind(completed)
    .execute(primary)
    .await?
    .rows_affected())
}

/// Deletes every completed todo of the list; returns how many.
pub async fn delete_completed(primary: &mut PgConnection, list: ListId) -> sqlx::Result<u64> {
    Ok(
        sqlx::query("DELETE FROM todos WHERE list_id = $1 AND completed")
            .bind(list_key(list))
            .execute(primary)
            .await?
            .rows_affected(),
    )
}
