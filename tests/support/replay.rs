//! WAL replay on the shared local replica, paused and resumed. Paused, it freezes the
//! replica for every test of the cluster: only binaries whose tests run alone (or
//! one at a time) use this.

use super::app::TestApp;

impl TestApp {
    /// Pauses or resumes WAL replay on the (shared, local) replica: while paused it
    /// falls behind the primary with every write.
    pub async fn set_replica_replay(&self, replaying: bool) {
        let action = if replaying { "resume" } else { "pause" };
        sqlx::query(&format!("SELECT pg_wal_replay_{action}()"))
            .execute(&self.replica)
            .await
            .unwrap();
    }
}
