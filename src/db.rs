//! The two connection pools and the rule that decides which one serves a read.
//!
//! Writes always go to the primary. Reads go to the replica, except when the client has
//! written something the replica has not replayed yet (read-your-writes, see
//! `read_your_writes`) or when the replica fails; then the primary serves them.

use crate::config::{describe, DatabaseSettings};
use sqlx::{
    migrate::MigrateError,
    postgres::{PgConnectOptions, PgPoolOptions},
    PgPool,
};
use std::{fmt, future::Future, str::FromStr, time::Duration};

/// The application's databases. Cheap to clone: pools are shared handles.
#[derive(Clone)]
pub struct Database {
    primary: PgPool,
    replica: Option<PgPool>,
}

/// What a routed read returned, and whether the replica has caught up with the client's
/// last write (after which that client's reads need no special routing).
pub struct RoutedRead<T> {
    pub value: T,
    pub last_write_on_replica: bool,
}

impl Database {
    /// Creates both pools without connecting: connections open on first use, so a
    /// replica that is down at start-up does not stop the server.
    pub fn connect_lazy(settings: &DatabaseSettings) -> Self {
        let pool = |options: &PgConnectOptions, role: &str| {
            tracing::info!(role, target = %describe(options), "database pool configured");
            PgPoolOptions::new()
                .max_connections(settings.max_connections)
                .min_connections(0)
                .acquire_timeout(settings.acquire_timeout)
                .idle_timeout(Some(Duration::from_secs(300)))
                .max_lifetime(Some(Duration::from_secs(1800)))
                .connect_lazy_with(options.clone())
        };
        Self {
            primary: pool(&settings.primary, "primary"),
            replica: settings
                .replica
                .as_ref()
                .map(|options| pool(options, "replica")),
        }
    }

    /// The pool for writes.
    pub fn primary(&self) -> &PgPool {
        &self.primary
    }

    /// Applies pending migrations on the primary; the replica receives them through
    /// replication. sqlx holds an advisory lock meanwhile, so several instances starting
    /// together apply each migration once.
    pub async fn migrate(&self) -> Result<(), MigrateError> {
        sqlx::migrate!("./migrations").run(&self.primary).await
    }

    /// The primary's WAL position after a write has committed. A replica that has
    /// replayed up to it shows that write. Insert position, not flush position: it is
    /// never behind the commit record just written.
    pub async fn wal_position_after_write(&self) -> sqlx::Result<WalLsn> {
        let lsn: String = sqlx::query_scalar("SELECT pg_current_wal_insert_lsn()::text")
            .fetch_one(&self.primary)
            .await?;
        lsn.parse()
            .map_err(|_| sqlx::Error::Protocol(format!("unexpected WAL position {lsn:?}")))
    }

    /// Runs the read `query` where it sees the client's `last_write`: on the replica when
    /// there is no such write or the replica has replayed it, else on the primary. A
    /// failing replica costs a retry on the primary, not an error for the user.
    pub async fn read<T, Q, F>(
        &self,
        last_write: Option<WalLsn>,
        query: Q,
    ) -> sqlx::Result<RoutedRead<T>>
    where
        Q: Fn(PgPool) -> F,
        F: Future<Output = sqlx::Result<T>>,
    {
        let Some(replica) = &self.replica else {
            let value = query(self.primary.clone()).await?;
            return Ok(RoutedRead {
                value,
                last_write_on_replica: true,
            });
        };

        let replica_usable = match last_write {
            None => true,
            Some(lsn) => has_replayed(replica, lsn).await.unwrap_or_else(|error| {
                tracing::warn!(%error, "could not ask the replica for its replay position; reading from the primary");
                false
            }),
        };
        if replica_usable {
            match query(replica.clone()).await {
                Ok(value) => {
                    tracing::debug!(served_by = "replica", "read");
                    return Ok(RoutedRead {
                        value,
                        last_write_on_replica: true,
                    });
                }
                Err(error) => {
                    tracing::warn!(%error, "read on the replica failed; retrying on the primary");
                }
            }
        }
        tracing::debug!(served_by = "primary", "read");
        let value = query(self.primary.clone()).await?;
        Ok(RoutedRead {
            value,
            last_write_on_replica: false,
        })
    }

    /// Closes both pools, waiting for connections in use to be returned.
    pub async fn close(&self) {
        self.primary.close().await;
        if let Some(replica) = &self.replica {
            replica.close().await;
        }
    }
}

/// Whether `replica` has replayed the WAL up to `lsn`. `pg_last_wal_replay_lsn()` is NULL
/// on a server that is not in recovery (for instance a promoted replica): that counts as
/// "not known to have it", so the read goes to the primary.
async fn has_replayed(replica: &PgPool, lsn: WalLsn) -> sqlx::Result<bool> {
    sqlx::query_scalar("SELECT coalesce(pg_last_wal_replay_lsn() >= $1::text::pg_lsn, false)")
        .bind(lsn.to_string())
        .fetch_one(replica)
        .await
}

/// A PostgreSQL WAL position (`pg_lsn`), written as two hexadecimal halves: `16/B374D848`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct WalLsn(u64);

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("not a WAL position: expected two hexadecimal numbers separated by '/'")]
pub struct InvalidWalLsn;

impl FromStr for WalLsn {
    type Err = InvalidWalLsn;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (high, low) = text.split_once('/').ok_or(InvalidWalLsn)?;
        let half = |digits: &str| {
            if digits.is_empty()
                || digits.len() > 8
                || !digits.bytes().all(|b| b.is_ascii_hexdigit())
            {
                return Err(InvalidWalLsn);
            }
            u32::from_str_radix(digits, 16).map_err(|_| InvalidWalLsn)
        };
        Ok(Self((u64::from(half(high)?) << 32) | u64::from(half(low)?)))
    }
}

impl fmt::Display for WalLsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:X}/{:X}", self.0 >> 32, self.0 & 0xFFFF_FFFF)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wal_positions_round_trip_and_order_numerically() {
        let small: WalLsn = "0/16B3748".parse().unwrap();
        let large: WalLsn = "16/B374D848".parse().unwrap();
        assert_eq!(small.to_string(), "0/16B3748");
        assert_eq!(large.to_string(), "16/B374D848");
        assert!(small < large);
        assert!("1/0".parse::<WalLsn>().unwrap() > "0/FFFFFFFF".parse().unwrap());
    }

    #[test]
    fn malformed_wal_positions_are_rejected() {
        for text in [
            "",
            "/",
            "0/",
            "/1",
            "12",
            "g/1",
            "1/1/1",
            "123456789/0",
            "+1/0",
            "0/ 1",
        ] {
            assert_eq!(text.parse::<WalLsn>(), Err(InvalidWalLsn), "{text:?}");
        }
    }
}
