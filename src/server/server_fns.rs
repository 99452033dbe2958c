//! What every server function of the app does on the server: find the app's state,
//! make a write visible to its author's next reads and answer a form posted without
//! JavaScript, and count its outcome.

use super::{
    db::Database,
    form_posts,
    metrics::{SERVER_FN_CALLS, SERVER_FN_ERRORS},
    read_your_writes,
    state::AppState,
};
use crate::{lists::model::ListId, todos::error::TodoError};
use leptos::prelude::use_context;

/// The app's state, which leptos_axum provides to every server function. Its absence
/// is a wiring bug, not the user's error.
pub fn state() -> Result<AppState, TodoError> {
    use_context::<AppState>().ok_or_else(|| {
        tracing::error!("AppState is missing from the server function's context");
        TodoError::Internal
    })
}

/// The databases.
pub fn database() -> Result<Database, TodoError> {
    state().map(|state| state.db)
}

/// Runs `write` on the primary (see `Database::write`). Once it is done, this client's
/// next reads must see it (read-your-writes), and a form posted without JavaScript
/// goes back to `list`'s page without the query parameters `leaving` (see
/// `form_posts`). A write that failed, or changed nothing (`Err` of the closure's
/// result), does neither.
pub async fn write<T>(
    db: &Database,
    list: ListId,
    leaving: &[&str],
    write: impl for<'c> FnOnce(
        &'c mut sqlx::PgConnection,
    )
        -> futures::future::BoxFuture<'c, sqlx::Result<Result<T, TodoError>>>,
) -> Result<T, TodoError> {
    let written = db.write(write).await?;
    let value = written.value?;
    match written.wal_position {
        Some(lsn) => read_your_writes::remember_write(lsn),
        None => tracing::warn!(
            "change stored, but its WAL position is unknown; the next read may miss it"
        ),
    }
    form_posts::redirect_back_to_list_without(list, leaving);
    Ok(value)
}

/// Counts the call of `function` on `list` and, for an error, sets its HTTP status (or
/// the redirect of a form posted without JavaScript back to the list).
pub fn finish<T>(
    function: &'static str,
    list: ListId,
    result: Result<T, TodoError>,
) -> Result<T, TodoError> {
    metrics::counter!(SERVER_FN_CALLS, "function" => function).increment(1);
    if let Err(error) = &result {
        metrics::counter!(SERVER_FN_ERRORS, "function" => function, "error" => error.kind())
            .increment(1);
        error.set_response_status(Some(list));
    }
    result
}
