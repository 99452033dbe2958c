//! SQL for lists. A list's row appears with its first write (a todo, a name); a list
//! without one is empty and named by default.

use super::model::{ListId, ListLink, DEFAULT_NAME};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// How a list's id is stored: PostgreSQL's 16-byte `uuid`.
pub fn list_key(list: ListId) -> Uuid {
    Uuid::from_u128(list.as_u128())
}

/// The names of those of `lists` that exist, in the order given.
pub async fn names(connection: &mut PgConnection, lists: &[ListId]) -> sqlx::Result<Vec<ListLink>> {
    let keys: Vec<Uuid> = lists.iter().copied().map(list_key).collect();
    let rows: Vec<(Uuid, String)> = sqlx::query_as("SELECT id, name FROM lists WHERE id = ANY($1)")
        .bind(&keys)
        .fetch_all(connection)
        .await?;
    Ok(lists
        .iter()
        .filter_map(|list| {
            let key = list_key(*list);
            rows.iter()
                .find(|(id, _)| *id == key)
                .map(|(_, name)| ListLink {
                    id: *list,
                    name: name.clone(),
                })
        })
        .collect())
}

/// Names a list (creating it, if it has never been written to).
pub async fn rename(primary: &mut PgConnection, list: ListId, name: &str) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO lists (id, name) VALUES ($1, $2) \
         ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name",
    )
    .bind(list_key(list))
    .bind(name)
    .execute(primary)
    .await?;
    Ok(())
}

/// A list as the operator sees it (`tasks lists`).
#[derive(Debug)]
pub struct ListSummary {
    pub id: ListId,
    pub name: String,
    pub todos: i64,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// Every list with its number of todos, oldest first.
pub async fn all(pool: &PgPool) -> sqlx::Result<Vec<ListSummary>> {
    let rows: Vec<(Uuid, String, i64, chrono::DateTime<chrono::Utc>)> = sqlx::query_as(
        "SELECT lists.id, lists.name, \
                coalesce((SELECT sum(total) FROM list_counts \
                          WHERE list_counts.list_id = lists.id), 0)::int8, \
                lists.created_at \
         FROM lists ORDER BY lists.created_at, lists.id",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, name, todos, created_at)| ListSummary {
            id: ListId::from_u128(id.as_u128()),
            name,
            todos,
            created_at,
        })
        .collect())
}

/// The name a list shows: its own, or the default.
pub fn shown_name(found: &[ListLink], list: ListId) -> String {
    found
        .iter()
        .find(|link| link.id == list)
        .map_or_else(|| DEFAULT_NAME.to_owned(), |link| link.name.clone())
}
