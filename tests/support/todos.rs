//! The todo list as the app's own client gets it, typed, and as each server's table
//! statistics count its reads.

use super::app::TestApp;
use sqlx::PgPool;
use tasks::todos::{listing::TodoPage, model::Todo};

impl TestApp {
    pub async fn create_ok(&self, title: &str, text: &str) -> Todo {
        let response = self.create(&self.client, title, text).await;
        assert_eq!(
            response.status(),
            200,
            "create failed: {:?}",
            response.text().await
        );
        response.json().await.unwrap()
    }

    /// The todos of the first page of all todos.
    pub async fn list(&self) -> Vec<Todo> {
        self.list_page(&[]).await.todos
    }

    /// A page of the list: `query` holds `filter`, `after` or `before`.
    pub async fn list_page(&self, query: &[(&str, &str)]) -> TodoPage {
        let response = self.call(&self.client, "list_todos", query).await;
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    /// How often `server` has scanned this test's todos table (sequential plus index
    /// scans), as its statistics say. Statistics are published shortly after each
    /// transaction, so callers poll.
    pub async fn todo_scans(&self, server: &PgPool) -> i64 {
        sqlx::query("SELECT pg_stat_clear_snapshot()")
            .execute(server)
            .await
            .unwrap();
        sqlx::query_scalar(
            "SELECT coalesce(seq_scan, 0) + coalesce(idx_scan, 0) FROM pg_stat_user_tables \
             WHERE relname = 'todos'",
        )
        .fetch_one(server)
        .await
        .unwrap()
    }
}
