//! The two connection pools and the rule that decides which one serves a read.
//!
//! Writes always go to the primary. Reads go to the replica, except when the client has
//! written something the replica has not replayed yet (read-your-writes, see
//! `read_your_writes`) or when the replica fails; then the primary serves them.

use crate::{
    config::{describe, DatabaseSettings},
    metrics::{
        DB_POOL_CONNECTIONS, DB_POOL_MAX_CONNECTIONS, DB_READS, DB_REPLICA_LAG_BYTES,
        DB_REPLICA_LAG_SECONDS, DB_REPLICA_UP,
    },
};
use serde::Serialize;
use sqlx::{
    migrate::{MigrateError, Migrator},
    postgres::{PgConnectOptions, PgPoolOptions},
    PgPool,
};
use std::{fmt, future::Future, str::FromStr, time::Duration};

/// The migrations in `migrations/`, embedded in the binary.
static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Bound on the status queries behind probes and metrics: a slow database must not make
/// a probe hang.
const STATUS_TIMEOUT: Duration = Duration::from_secs(1);

/// The application's databases. Cheap to clone: pools are shared handles.
#[derive(Clone)]
pub struct Database {
    primary: PgPool,
    replica: Option<Replica>,
}

#[derive(Clone)]
struct Replica {
    pool: PgPool,
    /// `host:port/database`, for logs, probes and metric labels.
    target: String,
}

/// What `/readyz` reports about a replica.
#[derive(Debug, Serialize)]
pub struct ReplicaStatus {
    pub target: String,
    /// `ok`, `unreachable`, or `not_in_recovery` (not a standby: perhaps promoted).
    pub status: &'static str,
    pub replay_lag_bytes: Option<u64>,
    pub replay_lag_seconds: Option<f64>,
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
            replica: settings.replica.as_ref().map(|options| Replica {
                pool: pool(options, "replica"),
                target: describe(options),
            }),
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
        MIGRATOR.run(&self.primary).await
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
            count_read("primary", "no_replica");
            let value = query(self.primary.clone()).await?;
            return Ok(RoutedRead {
                value,
                last_write_on_replica: true,
            });
        };

        // Why the primary has to serve this read, if it does.
        let fallback_reason = match last_write {
            None => None,
            Some(lsn) => match has_replayed(&replica.pool, lsn).await {
                Ok(true) => None,
                Ok(false) => Some("replica_behind_client"),
                Err(error) => {
                    tracing::warn!(%error, replica = %replica.target, "could not ask the replica for its replay position; reading from the primary");
                    Some("replica_error")
                }
            },
        };
        let fallback_reason = match fallback_reason {
            Some(reason) => reason,
            None => match query(replica.pool.clone()).await {
                Ok(value) => {
                    let reason = if last_write.is_some() {
                        "replica_caught_up"
                    } else {
                        "no_recent_write"
                    };
                    count_read("replica", reason);
                    return Ok(RoutedRead {
                        value,
                        last_write_on_replica: true,
                    });
                }
                Err(error) => {
                    tracing::warn!(%error, replica = %replica.target, "read on the replica failed; retrying on the primary");
                    "replica_error"
                }
            },
        };
        count_read("primary", fallback_reason);
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
            replica.pool.close().await;
        }
    }

    /// `ok` when the primary answers within [`STATUS_TIMEOUT`] and has every migration of
    /// this build applied; else `unreachable` or `migrations_pending`.
    pub async fn primary_readiness(&self) -> &'static str {
        let latest_known = MIGRATOR.iter().map(|migration| migration.version).max();
        let applied = tokio::time::timeout(
            STATUS_TIMEOUT,
            sqlx::query_scalar::<_, Option<i64>>(
                "SELECT max(version) FROM _sqlx_migrations WHERE success",
            )
            .fetch_one(&self.primary),
        )
        .await;
        match applied {
            Ok(Ok(applied)) if applied >= latest_known => "ok",
            Ok(Ok(_)) => "migrations_pending",
            // No migrations table yet counts as pending, any other failure as unreachable.
            Ok(Err(sqlx::Error::Database(error))) if error.code().as_deref() == Some("42P01") => {
                "migrations_pending"
            }
            Ok(Err(_)) | Err(_) => "unreachable",
        }
    }

    /// The state of each replica, each query bounded by [`STATUS_TIMEOUT`].
    pub async fn replica_statuses(&self) -> Vec<ReplicaStatus> {
        let Some(replica) = &self.replica else {
            return Vec::new();
        };
        let (replica_side, primary_lsn) = tokio::join!(
            within_status_timeout(
                sqlx::query_as::<_, (bool, Option<String>, Option<f64>)>(
                    "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text, \
                     CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 \
                     ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp()) END::float8",
                )
                .fetch_one(&replica.pool)
            ),
            within_status_timeout(
                sqlx::query_scalar::<_, String>("SELECT pg_current_wal_lsn()::text")
                    .fetch_one(&self.primary)
            ),
        );
        let status = match replica_side {
            None => ReplicaStatus {
                target: replica.target.clone(),
                status: "unreachable",
                replay_lag_bytes: None,
                replay_lag_seconds: None,
            },
            Some((false, _, _)) => ReplicaStatus {
                target: replica.target.clone(),
                status: "not_in_recovery",
                replay_lag_bytes: None,
                replay_lag_seconds: None,
            },
            Some((true, replayed, lag_seconds)) => {
                let replayed = replayed.and_then(|lsn| lsn.parse::<WalLsn>().ok());
                let primary = primary_lsn.and_then(|lsn| lsn.parse::<WalLsn>().ok());
                ReplicaStatus {
                    target: replica.target.clone(),
                    status: "ok",
                    replay_lag_bytes: primary
                        .zip(replayed)
                        .map(|(primary, replayed)| primary.bytes_after(replayed)),
                    replay_lag_seconds: lag_seconds.map(|seconds| seconds.max(0.0)),
                }
            }
        };
        vec![status]
    }

    /// Samples each pool's connections into the pool gauges.
    pub fn record_pool_gauges(&self) {
        let pools = std::iter::once(("primary", &self.primary)).chain(
            self.replica
                .as_ref()
                .map(|replica| ("replica", &replica.pool)),
        );
        for (name, pool) in pools {
            let idle = pool.num_idle() as f64;
            let open = f64::from(pool.size());
            metrics::gauge!(DB_POOL_CONNECTIONS, "pool" => name, "state" => "idle").set(idle);
            metrics::gauge!(DB_POOL_CONNECTIONS, "pool" => name, "state" => "in_use")
                .set(open - idle);
            metrics::gauge!(DB_POOL_MAX_CONNECTIONS, "pool" => name)
                .set(f64::from(pool.options().get_max_connections()));
        }
    }

    /// Samples each replica's state into the replica gauges.
    pub async fn record_replica_gauges(&self) {
        for status in self.replica_statuses().await {
            let up = if status.status == "ok" { 1.0 } else { 0.0 };
            metrics::gauge!(DB_REPLICA_UP, "replica" => status.target.clone()).set(up);
            if let Some(bytes) = status.replay_lag_bytes {
                metrics::gauge!(DB_REPLICA_LAG_BYTES, "replica" => status.target.clone())
                    .set(bytes as f64);
            }
            if let Some(seconds) = status.replay_lag_seconds {
                metrics::gauge!(DB_REPLICA_LAG_SECONDS, "replica" => status.target.clone())
                    .set(seconds);
            }
        }
    }
}

/// The query's result, or `None` if it failed or took longer than [`STATUS_TIMEOUT`].
async fn within_status_timeout<T>(query: impl Future<Output = sqlx::Result<T>>) -> Option<T> {
    tokio::time::timeout(STATUS_TIMEOUT, query).await.ok()?.ok()
}

fn count_read(server: &'static str, reason: &'static str) {
    tracing::debug!(served_by = server, reason, "read");
    metrics::counter!(DB_READS, "server" => server, "reason" => reason).increment(1);
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

impl WalLsn {
    /// Bytes of WAL from `earlier` to `self`; 0 if `earlier` is not earlier.
    pub fn bytes_after(self, earlier: WalLsn) -> u64 {
        self.0.saturating_sub(earlier.0)
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
        let next: WalLsn = "1/10".parse().unwrap();
        assert_eq!(next.bytes_after("0/FFFFFFF0".parse().unwrap()), 0x20);
        assert_eq!(small.bytes_after(large), 0);
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
