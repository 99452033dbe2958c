//! The connection pools and the rules that decide which server serves a read.
//!
//! Writes always go to the primary. Reads go to a healthy replica (`replicas`), except
//! when the client has written something that replica has not replayed yet
//! (read-your-writes, see `read_your_writes`) or when it fails; then to the next
//! healthy replica, and finally to the primary.

mod replicas;
mod server_pool;
mod wal;

pub use replicas::{ReplicaState, ReplicaStatus};
pub use wal::WalLsn;

use crate::server::{
    config::{DatabaseSettings, LagLimits, MigrationSettings},
    metrics::{
        DB_POOL_CONNECTIONS, DB_POOL_MAX_CONNECTIONS, DB_READS, DB_REPLICA_LAG_BYTES,
        DB_REPLICA_LAG_SECONDS, DB_REPLICA_UP,
    },
};
use futures::future::BoxFuture;
use replicas::{Replica, UNANSWERED_CHECKS_TO_LEAVE};
use server_pool::ServerPool;
use sqlx::{
    migrate::{MigrateError, Migrator},
    postgres::{PgConnectOptions, PgPoolOptions},
    Connection, PgConnection, PgExecutor, PgPool,
};
use std::{
    future::Future,
    sync::{
        atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

/// The migrations in `migrations/`, embedded in the binary.
static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Bound on the status queries behind probes, health checks and metrics: a slow
/// database must not make them hang.
const STATUS_TIMEOUT: Duration = Duration::from_secs(1);

/// A pooled connection idle at least this long is pinged before it is handed out; one
/// used more recently is not. Under load every connection was used milliseconds ago,
/// and a ping on each checkout was one round trip in three of a create. One idle for
/// longer may have been closed meanwhile (a restarted server, a failover, a NAT's
/// timeout): the ping finds out, and the pool opens another instead.
const PING_IF_IDLE_FOR: Duration = Duration::from_secs(1);

/// The application's databases. Cheap to clone: everything inside is shared.
#[derive(Clone)]
pub struct Database {
    primary: Arc<ServerPool>,
    /// One connection for the primary's health checks and readiness, apart from the
    /// pool requests use.
    primary_probe: Arc<ServerPool>,
    /// Health checks in a row that found no primary at the primary's address.
    primary_failed_checks: Arc<AtomicU32>,
    replicas: Arc<[Replica]>,
    /// Where the next read starts looking among the replicas (round robin).
    next_replica: Arc<AtomicUsize>,
    /// The last health check's verdict on the primary (readiness, and logging its
    /// changes).
    primary_up: Arc<AtomicBool>,
    /// Whether a health check has run yet.
    checked: Arc<AtomicBool>,
    /// Whether the primary, when last reached, had every migration of this build.
    schema_current: Arc<AtomicBool>,
    /// The furthest WAL position of the primary this process has seen (health checks,
    /// its own writes): a client's read-your-writes position beyond it is checked once
    /// against the primary, and ignored if the primary has not reached it (forged).
    primary_reached: Arc<AtomicU64>,
    check_interval: Duration,
    lag_limits: LagLimits,
    replica_read_timeout: Duration,
    write_timeout: Duration,
}

/// What a write returned, and the primary's WAL position once it had committed.
pub struct Written<T> {
    pub value: T,
    /// `None` if it could not be read (the write itself is done all the same).
    pub wal_position: Option<WalLsn>,
}

impl Database {
    /// Creates the pools without connecting: connections open on first use, so a
    /// database that is down at start-up does not stop the server.
    pub fn connect_lazy(settings: &DatabaseSettings) -> Self {
        // Each pool names itself to the server (`pg_stat_activity.application_name`):
        // `tasks-write`, `tasks-read`, `tasks-probe`, so an operator (and a test) can tell
        // which connections are which.
        let pool = |options: &PgConnectOptions, role: &str| {
            tracing::info!(role, target = %describe(options), "database pool configured");
            let name = if role == "primary" {
                "tasks-write"
            } else {
                "tasks-read"
            };
            let pool_options = PgPoolOptions::new()
                .max_connections(settings.max_connections)
                .min_connections(0)
                .acquire_timeout(settings.acquire_timeout)
                .idle_timeout(Some(settings.idle_timeout))
                .max_lifetime(Some(settings.max_lifetime))
                .test_before_acquire(false)
                .before_acquire(|connection, connection_state| {
                    Box::pin(async move {
                        if connection_state.idle_for >= PING_IF_IDLE_FOR {
                            connection.ping().await?;
                        }
                        Ok(true)
                    })
                });
            ServerPool::lazy(pool_options, options.clone().application_name(name))
        };
        let probe = |options: &PgConnectOptions| {
            let pool_options = PgPoolOptions::new()
                .max_connections(1)
                .min_connections(0)
                .acquire_timeout(STATUS_TIMEOUT)
                .max_lifetime(Some(settings.max_lifetime));
            ServerPool::lazy(
                pool_options,
                options.clone().application_name("tasks-probe"),
            )
        };
        Self {
            primary: Arc::new(pool(&settings.primary, "primary")),
            primary_probe: Arc::new(probe(&settings.primary)),
            primary_failed_checks: Arc::new(AtomicU32::new(0)),
            replicas: settings
                .replicas
                .iter()
                .map(|options| {
                    Replica::new(pool(options, "replica"), probe(options), describe(options))
                })
                .collect(),
            next_replica: Arc::new(AtomicUsize::new(0)),
            primary_up: Arc::new(AtomicBool::new(true)),
            checked: Arc::new(AtomicBool::new(false)),
            schema_current: Arc::new(AtomicBool::new(false)),
            primary_reached: Arc::new(AtomicU64::new(0)),
            check_interval: settings.replica_check_interval,
            lag_limits: settings.replica_lag_limits,
            replica_read_timeout: settings.replica_read_timeout,
            write_timeout: settings.write_timeout,
        }
    }

    /// The primary's pool, for what is not a request's write (the operator's commands).
    pub fn primary(&self) -> PgPool {
        self.primary.get()
    }

    /// Applies pending migrations on the primary; replicas receive them through
    /// replication. sqlx holds an advisory lock meanwhile, so several instances starting
    /// together apply each migration once.
    pub async fn migrate(&self) -> Result<(), MigrateError> {
        MIGRATOR.run(&self.primary.get()).await
    }

    /// `tasks migrate` (the deploy's migration Job): applies pending migrations on one
    /// connection of its own, whose statements wait at most `lock_timeout` for a lock
    /// and run at most `statement_timeout`. Each migration runs in a transaction: one
    /// that gives up (a long transaction holds its table) leaves nothing half-applied,
    /// and the app's queries queue behind its lock request for no longer than the lock
    /// timeout. The Job retries.
    pub async fn migrate_with_timeouts(
        primary: &PgConnectOptions,
        migrations: MigrationSettings,
    ) -> Result<(), MigrateError> {
        use sqlx::Connection;
        let options = primary.clone().options([
            (
                "lock_timeout",
                migrations.lock_timeout.as_millis().to_string(),
            ),
            (
                "statement_timeout",
                migrations.statement_timeout.as_millis().to_string(),
            ),
        ]);
        let mut connection = PgConnection::connect_with(&options).await?;
        let applied = MIGRATOR.run(&mut connection).await;
        let _ = connection.close().await;
        applied
    }

    /// Runs `write` on one connection of the primary, then reads there the primary's
    /// WAL position, which a replica must have replayed to show the write
    /// (read-your-writes). One connection for both: one checkout, and the position is
    /// the primary's that took the write.
    ///
    /// The position is read after the commit, in a statement of its own: one read in
    /// the write's own statement (`RETURNING pg_current_wal_insert_lsn()`) would come
    /// before the commit record, and a replica that replayed up to it could still miss
    /// the write. Insert position, not flush position: never behind the commit record.
    ///
    /// The whole write has a deadline (`DATABASE_WRITE_TIMEOUT_MS`): with packets to the
    /// primary dropped, the server never answers and its statement timeout never fires.
    /// A write that ran out of time may or may not have committed; the error is a 503
    /// and creates carry a key that makes their retry safe.
    pub async fn write<T>(
        &self,
        write: impl for<'c> FnOnce(&'c mut PgConnection) -> BoxFuture<'c, sqlx::Result<T>>,
    ) -> sqlx::Result<Written<T>> {
        let deadline = tokio::time::Instant::now() + self.write_timeout;
        let pool = self.primary.get();
        let mut connection = tokio::time::timeout_at(deadline, pool.acquire())
            .await
            .map_err(|_| timed_out("no connection to the primary within the write deadline"))??;
        let value = match tokio::time::timeout_at(deadline, write(&mut connection)).await {
            Ok(Ok(value)) => value,
            Ok(Err(error)) => {
                if is_read_only_server(&error) {
                    self.primary_lost("a write reached a read-only server");
                }
                return Err(error);
            }
            Err(_) => {
                // Its state is unknown (a statement may still be under way): never reused.
                connection.close_on_drop();
                return Err(timed_out("the primary did not answer a write in time"));
            }
        };
        // Committed: from here on nothing may turn the request into an error, or the
        // user would retry something that already happened.
        let wal_position = match within_status_timeout(fetch_wal_position(
            &mut *connection,
            "SELECT pg_current_wal_insert_lsn()::text",
        ))
        .await
        {
            Some(lsn) => {
                self.primary_reached_at_least(lsn);
                Some(lsn)
            }
            None => {
                connection.close_on_drop();
                None
            }
        };
        Ok(Written {
            value,
            wal_position,
        })
    }

    /// The primary's address no longer leads to a working primary (unreachable, or a
    /// server in recovery: a failover happened): its connections are closed, so that
    /// the next ones reach whichever server the address leads to now.
    fn primary_lost(&self, why: &str) {
        if self.primary.has_connections() && self.primary.reset() {
            tracing::warn!(reason = why, "closed every connection to the primary");
        }
    }

    fn primary_reached_at_least(&self, lsn: WalLsn) {
        self.primary_reached
            .fetch_max(lsn.as_u64(), Ordering::Relaxed);
    }

    /// The client's read-your-writes position if it is one the primary has reached: a
    /// cookie is the client's to edit, and a position far in the future would send
    /// every read of that client to the primary. A position beyond what this process
    /// has seen (another pod's write, after the last health check) costs one query on
    /// the primary.
    async fn credible(&self, last_write: Option<WalLsn>) -> Option<WalLsn> {
        let lsn = last_write?;
        if lsn.as_u64() <= self.primary_reached.load(Ordering::Relaxed) {
            return Some(lsn);
        }
        match self.primary_wal_position().await {
            Some(primary) if lsn <= primary => Some(lsn),
            Some(_) => {
                tracing::warn!(
                    "a client's read-your-writes position is beyond the primary's: ignored"
                );
                count_read("none", "client_position_ignored");
                None
            }
            // The primary cannot tell: keep the promise, reads will wait for replicas.
            None => Some(lsn),
        }
    }

    /// Runs the read `query` where it sees the client's `last_write`: on a healthy
    /// replica that has replayed it (or any healthy replica when there is no such
    /// write), else on the primary. A replica that fails is taken out of rotation and
    /// the read moves on, so the user sees no error.
    ///
    /// The replay check and the query run on one connection, so on one server: behind
    /// a load-balanced address (CloudNativePG's `-ro` Service balances each new
    /// connection over all replicas), two connections of one pool may reach two
    /// replicas, and a check passed on a caught-up one would say nothing of a lagging
    /// one that then runs the query.
    pub async fn read<T, Q>(&self, last_write: Option<WalLsn>, query: Q) -> sqlx::Result<T>
    where
        Q: for<'c> Fn(&'c mut PgConnection) -> BoxFuture<'c, sqlx::Result<T>>,
    {
        if self.replicas.is_empty() {
            count_read("primary", "no_replica");
            return query(&mut *self.primary.get().acquire().await?).await;
        }
        let last_write = self.credible(last_write).await;

        // Why the primary has to serve this read, if it comes to that.
        let mut fallback_reason = "no_healthy_replica";
        let start = self.next_replica.fetch_add(1, Ordering::Relaxed);
        let count = self.replicas.len();
        for offset in 0..count {
            let replica = &self.replicas[(start + offset) % count];
            if !replica.is_healthy() {
                continue;
            }
            let pool = replica.pool.get();
            let mut connection = match pool.acquire().await {
                Ok(connection) => connection,
                // Every connection busy: the app is over its capacity for reads.
                // Moving them to the primary would exhaust its pool too, and creates
                // would fail; the read is answered 503 with Retry-After instead. (A
                // timeout with room in the pool was a connect that got no answer.)
                Err(error) if is_overloaded(&error) && pool_is_full(&pool) => {
                    self.replica_failed(replica, &error);
                    count_read("none", "replica_pool_exhausted");
                    return Err(error);
                }
                Err(error) => {
                    self.replica_failed(replica, &error);
                    fallback_reason = "replica_error";
                    continue;
                }
            };
            // The check and the query, bounded: a replica that stopped answering (packets
            // dropped, not refused) leaves rotation and the read moves on. The
            // connection, in an unknown state, is closed rather than reused.
            let deadline = tokio::time::Instant::now() + self.replica_read_timeout;
            let read = async {
                if let Some(lsn) = last_write {
                    if !has_replayed(&mut connection, lsn).await? {
                        return Ok(None);
                    }
                }
                query(&mut connection).await.map(Some)
            };
            let outcome = match tokio::time::timeout_at(deadline, read).await {
                Ok(outcome) => outcome,
                // Every connection busy and this read still slow: the app (or the
                // replica) is overloaded, not cut off. Shed it (503), as when no
                // connection is free; the probe decides the replica's health.
                Err(_) if pool_is_full(&pool) => {
                    connection.close_on_drop();
                    count_read("none", "replica_overloaded");
                    return Err(timed_out("a read on a busy replica took too long"));
                }
                Err(_) => {
                    connection.close_on_drop();
                    replica.take_out_of_rotation(format!(
                        "a read got no answer within {} ms",
                        self.replica_read_timeout.as_millis()
                    ));
                    fallback_reason = "replica_error";
                    continue;
                }
            };
            match outcome {
                Ok(Some(value)) => {
                    let reason = if last_write.is_some() {
                        "replica_caught_up"
                    } else {
                        "no_recent_write"
                    };
                    count_read("replica", reason);
                    return Ok(value);
                }
                Ok(None) => fallback_reason = "replica_behind_client",
                Err(error) => {
                    self.replica_failed(replica, &error);
                    fallback_reason = "replica_error";
                }
            }
        }
        // Reads never take the primary's last connection from writes: with every
        // connection busy, the read is shed (503) instead of queueing before creates.
        let primary = self.primary.get();
        if pool_is_full(&primary) && primary.num_idle() == 0 {
            count_read("none", "primary_busy");
            return Err(sqlx::Error::PoolTimedOut);
        }
        count_read("primary", fallback_reason);
        query(&mut *primary.acquire().await?).await
    }

    /// A read failed on `replica`: a connection problem takes it out of rotation until
    /// a health check finds it well again; any other error just moves the read on.
    fn replica_failed(&self, replica: &Replica, error: &sqlx::Error) {
        if is_overloaded(error) {
            // Load (or a connect that hangs): not proof of death. Its probe, on a
            // connection of its own, and the read deadline decide its health.
            tracing::warn!(replica = %replica.target, %error, "replica busy: this read is shed");
        } else if is_unavailable(error) {
            replica.take_out_of_rotation(format!("a read failed: {error}"));
        } else {
            tracing::warn!(replica = %replica.target, %error, "read on the replica failed; trying elsewhere");
        }
    }

    /// Checks the primary and every replica forever, at a jittered interval. Spawn it
    /// once per process serving traffic; abort it before closing the pools.
    pub async fn check_health_forever(self) {
        loop {
            self.check_health().await;
            tokio::time::sleep(replicas::jittered(self.check_interval)).await;
        }
    }

    /// One round of health checks: logs the primary going or coming back, and decides
    /// which replicas serve reads.
    async fn check_health(&self) {
        let primary_lsn = self.primary_wal_position().await;
        let primary_up = primary_lsn.is_some();
        if primary_up {
            self.primary_failed_checks.store(0, Ordering::Relaxed);
        } else {
            // The probe's next connection is a new one: after a failover, the
            // primary's address leads to another server than the one it was open to.
            self.primary_probe.reset();
            let failed = self.primary_failed_checks.fetch_add(1, Ordering::Relaxed) + 1;
            if failed >= UNANSWERED_CHECKS_TO_LEAVE {
                self.primary_lost("health checks in a row found no primary");
            }
        }
        if self.primary_up.swap(primary_up, Ordering::Relaxed) != primary_up {
            if primary_up {
                tracing::info!("primary back: writes can succeed again");
            } else {
                tracing::warn!(
                    reason = "unreachable or too slow to answer",
                    "primary lost: writes fail until it returns; reads continue on replicas"
                );
            }
        }
        if primary_up {
            match self.primary_readiness().await {
                PrimaryReadiness::Ok => self.schema_current.store(true, Ordering::Relaxed),
                PrimaryReadiness::MigrationsPending => {
                    self.schema_current.store(false, Ordering::Relaxed)
                }
                // Lost since: what is known of the schema stays as it was.
                PrimaryReadiness::Unreachable => {}
            }
        }
        let lag_limits = self.lag_limits;
        let probes = self.replicas.iter().map(|replica| async move {
            let status = replica.probe(primary_lsn).await;
            replica.checked(status, lag_limits);
        });
        futures::future::join_all(probes).await;
        self.checked.store(true, Ordering::Relaxed);
    }

    /// Whether this process can serve, from the health checks' last verdicts: no query
    /// runs here, so the probe costs nothing and says the same to every caller.
    ///
    /// Not ready only for what this pod alone can fix by being replaced or waited for:
    /// not checked yet, the schema not (yet) that of this build, or no database at all
    /// reachable. A primary outage with a replica reachable is shared by every pod:
    /// taking them all out of the load balancer would fail the reads that the replicas
    /// still serve (and creates answer 503 meanwhile).
    pub fn readiness(&self) -> Result<(), NotReady> {
        if !self.checked.load(Ordering::Relaxed) {
            return Err(NotReady::Starting);
        }
        if !self.schema_current.load(Ordering::Relaxed) {
            return Err(NotReady::MigrationsPending);
        }
        let primary_up = self.primary_up.load(Ordering::Relaxed);
        // Reachable, not necessarily serving reads: a lagging or just promoted replica
        // is as much every pod's as a lost primary.
        let replica_answers = self.replicas.iter().any(Replica::answers);
        if primary_up || replica_answers {
            Ok(())
        } else {
            Err(NotReady::NoDatabase)
        }
    }

    async fn primary_wal_position(&self) -> Option<WalLsn> {
        let lsn = within_status_timeout(fetch_wal_position(
            &self.primary_probe.get(),
            "SELECT pg_current_wal_insert_lsn()::text",
        ))
        .await?;
        self.primary_reached_at_least(lsn);
        Some(lsn)
    }

    /// Closes every pool, waiting for connections in use to be returned.
    pub async fn close(&self) {
        self.primary.close().await;
        self.primary_probe.close().await;
        for replica in self.replicas.iter() {
            replica.close().await;
        }
    }

    /// Whether the primary answers within [`STATUS_TIMEOUT`] and has every migration of
    /// this build applied.
    pub async fn primary_readiness(&self) -> PrimaryReadiness {
        let latest_known = MIGRATOR.iter().map(|migration| migration.version).max();
        let applied = tokio::time::timeout(
            STATUS_TIMEOUT,
            sqlx::query_scalar::<_, Option<i64>>(
                "SELECT max(version) FROM _sqlx_migrations WHERE success",
            )
            .fetch_one(&self.primary_probe.get()),
        )
        .await;
        match applied {
            Ok(Ok(applied)) if applied >= latest_known => PrimaryReadiness::Ok,
            Ok(Ok(_)) => PrimaryReadiness::MigrationsPending,
            // No migrations table yet counts as pending, any other failure as unreachable.
            Ok(Err(sqlx::Error::Database(error))) if error.code().as_deref() == Some("42P01") => {
                PrimaryReadiness::MigrationsPending
            }
            Ok(Err(_)) | Err(_) => PrimaryReadiness::Unreachable,
        }
    }

    /// Probes every replica now, each query bounded by [`STATUS_TIMEOUT`].
    pub fn replica_statuses(&self) -> Vec<ReplicaStatus> {
        self.replicas.iter().map(Replica::last_status).collect()
    }

    /// Samples each pool's connections into the pool gauges.
    pub fn record_pool_gauges(&self) {
        let pools = std::iter::once(("primary", self.primary.get())).chain(
            self.replicas
                .iter()
                .map(|replica| ("replica", replica.pool.get())),
        );
        // Several replicas share the `replica` label: sum them.
        let mut totals: Vec<(&str, f64, f64, f64)> = Vec::new();
        for (name, pool) in pools {
            let idle = pool.num_idle() as f64;
            let open = f64::from(pool.size());
            let max = f64::from(pool.options().get_max_connections());
            match totals
                .iter_mut()
                .find(|(total_name, ..)| *total_name == name)
            {
                Some(total) => {
                    total.1 += idle;
                    total.2 += open - idle;
                    total.3 += max;
                }
                None => totals.push((name, idle, open - idle, max)),
            }
        }
        for (name, idle, in_use, max) in totals {
            metrics::gauge!(DB_POOL_CONNECTIONS, "pool" => name, "state" => "idle").set(idle);
            metrics::gauge!(DB_POOL_CONNECTIONS, "pool" => name, "state" => "in_use").set(in_use);
            metrics::gauge!(DB_POOL_MAX_CONNECTIONS, "pool" => name).set(max);
        }
    }

    /// Samples each replica's state into the replica gauges.
    pub fn record_replica_gauges(&self) {
        for status in self.replica_statuses() {
            let up = if status.serving_reads { 1.0 } else { 0.0 };
            metrics::gauge!(DB_REPLICA_UP, "replica" => status.target.clone()).set(up);
            // NaN when unknown, never the last value seen: a stale 0 would hide trouble.
            let bytes = status
                .replay_lag_bytes
                .map_or(f64::NAN, |bytes| bytes as f64);
            let seconds = status.replay_lag_seconds.unwrap_or(f64::NAN);
            metrics::gauge!(DB_REPLICA_LAG_BYTES, "replica" => status.target.clone()).set(bytes);
            metrics::gauge!(DB_REPLICA_LAG_SECONDS, "replica" => status.target.clone())
                .set(seconds);
        }
    }
}

/// Why the process is not ready (`/readyz`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NotReady {
    /// No health check has run yet.
    Starting,
    /// The primary lacks a migration of this build (or was never reached to tell).
    MigrationsPending,
    /// Neither the primary nor any replica answers (health checks in a row).
    NoDatabase,
}

/// What `/readyz` reports of the primary.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PrimaryReadiness {
    /// Answers, with every migration of this build applied.
    Ok,
    Unreachable,
    /// Answers, but lacks a migration this build knows.
    MigrationsPending,
}

/// `host:port/database` of a connection target: what logs may say about it (never the
/// URL, which holds the password).
pub fn describe(options: &PgConnectOptions) -> String {
    format!(
        "{}:{}/{}",
        options.get_host(),
        options.get_port(),
        options.get_database().unwrap_or("(default database)")
    )
}

/// Whether `error` means the app has more work than connections: every connection of
/// the pool was busy for the whole acquire timeout.
pub fn is_overloaded(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::PoolTimedOut)
}

/// Whether every connection the pool may open is open (so a timeout waiting for one
/// was the wait for a busy one, not a connect that got no answer).
fn pool_is_full(pool: &PgPool) -> bool {
    pool.size() >= pool.options().get_max_connections()
}

/// Whether `error` means the server could not be reached or cannot take the request
/// now (as opposed to a problem with the request itself): answered 503, worth a retry.
pub fn is_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_) => true,
        // Class 08: connection exceptions. 57P01-57P03: shutting down or starting up.
        // 25006: a write reached a read-only server (e.g. during a failover). 57014: the
        // statement timeout (or a cancel) ended it; 55P03: a lock was not granted in
        // time. Both are load or contention, not a fault of the request.
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            code.starts_with("08")
                // Class 53: insufficient resources (too many connections, disk full).
                || code.starts_with("53")
                || matches!(
                    code.as_ref(),
                    "57P01" | "57P02" | "57P03" | "25006" | "57014" | "55P03"
                )
        }),
        _ => false,
    }
}

/// Runs `query`, which returns one WAL position as text.
async fn fetch_wal_position<'e>(
    executor: impl PgExecutor<'e>,
    query: &'static str,
) -> sqlx::Result<WalLsn> {
    let lsn: String = sqlx::query_scalar(query).fetch_one(executor).await?;
    lsn.parse()
        .map_err(|_| sqlx::Error::Protocol(format!("unexpected WAL position {lsn:?}")))
}

/// An error for a database call that ran out of time: unavailable (503), not a fault.
fn timed_out(what: &str) -> sqlx::Error {
    sqlx::Error::Io(std::io::Error::new(std::io::ErrorKind::TimedOut, what))
}

/// Whether `error` says the server that took a write is read-only: a standby, so the
/// primary's address leads to the wrong server (during or after a failover).
fn is_read_only_server(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.code().as_deref() == Some("25006"))
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
/// "not known to have it", so the read goes elsewhere.
async fn has_replayed(replica: &mut PgConnection, lsn: WalLsn) -> sqlx::Result<bool> {
    sqlx::query_scalar("SELECT coalesce(pg_last_wal_replay_lsn() >= $1::text::pg_lsn, false)")
        .bind(lsn.to_string())
        .fetch_one(replica)
        .await
}
