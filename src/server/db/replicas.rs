//! Replicas and their health: which replicas may serve reads right now.
//!
//! A background task probes every replica at a short, jittered interval, each probe
//! bounded by a tight timeout. A replica serves reads only while it is reachable, in
//! recovery (a standby, not a promoted server) and current (`ReplicaStatus::problem`). A
//! connection error on a read takes it out at once; the next good probe brings it back.
//! Every change of state is logged with its reason.

use super::{server_pool::ServerPool, wal::WalLsn, within_status_timeout};
use crate::server::config::LagLimits;
use serde::Serialize;
use std::{
    sync::{
        atomic::{AtomicBool, AtomicU32, Ordering},
        Mutex,
    },
    time::Duration,
};

pub(super) struct Replica {
    pub(super) pool: ServerPool,
    /// One connection of its own for the health probe: a pool exhausted by reads must
    /// not make a healthy replica look dead.
    probe: ServerPool,
    /// `host:port/database`, for logs, probes and metric labels.
    pub(super) target: String,
    healthy: AtomicBool,
    /// Why the replica is unhealthy, for the log line of the change.
    reason: Mutex<String>,
    /// What the last health check found, for `/readyz` details and the metrics: they
    /// report it rather than probe again, so no one asking can load the replica or
    /// hold the probe's connection.
    last_status: Mutex<Option<ReplicaStatus>>,
    /// Health checks in a row that got no answer in time.
    unanswered_checks: AtomicU32,
}

/// Health checks in a row that must go unanswered before a replica leaves rotation: one
/// late answer is as likely a busy process (its timers late under load) as a dead
/// replica, and taking the replica out would send every read to the primary. A read
/// that fails to connect, or gets no answer within its deadline, takes it out at once.
pub(super) const UNANSWERED_CHECKS_TO_LEAVE: u32 = 2;

/// What a probe found on a replica; `/readyz` reports it as is.
#[derive(Debug, Clone, Serialize)]
pub struct ReplicaStatus {
    /// Kept out of `/readyz`, which is public: host names are for logs and metrics.
    #[serde(skip_serializing)]
    pub target: String,
    pub status: ReplicaState,
    pub replay_lag_bytes: Option<u64>,
    pub replay_lag_seconds: Option<f64>,
    /// Whether its WAL receiver runs (and, where the role may see it, streams). A
    /// replica that lost its stream replays everything it received and then looks
    /// caught up (receive = replay) while it falls behind the primary.
    pub streaming: bool,
    /// Seconds since it last replayed a transaction: how stale it is once it has
    /// stopped receiving while the primary moved on.
    #[serde(skip_serializing)]
    pub since_last_replay_seconds: Option<f64>,
    /// Whether reads are routed to it.
    pub serving_reads: bool,
}

/// What a probe found a replica to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplicaState {
    /// A reachable standby.
    Ok,
    /// No answer within the status timeout.
    Unreachable,
    /// Answers, but is not a standby of the primary: perhaps promoted.
    NotInRecovery,
}

impl Replica {
    pub(super) fn new(pool: ServerPool, probe: ServerPool, target: String) -> Self {
        Self {
            pool,
            probe,
            target,
            // Optimistic until the first probe: a read that fails takes it out at once.
            healthy: AtomicBool::new(true),
            reason: Mutex::new(String::new()),
            last_status: Mutex::new(None),
            unanswered_checks: AtomicU32::new(0),
        }
    }

    pub(super) async fn close(&self) {
        self.pool.close().await;
        self.probe.close().await;
    }

    /// Records what a health check found, and decides whether the replica serves reads.
    pub(super) fn checked(&self, status: ReplicaStatus, limits: LagLimits) {
        let unanswered = if status.status == ReplicaState::Unreachable {
            self.unanswered_checks.fetch_add(1, Ordering::Relaxed) + 1
        } else {
            self.unanswered_checks.store(0, Ordering::Relaxed);
            0
        };
        if unanswered == 0 || unanswered >= UNANSWERED_CHECKS_TO_LEAVE {
            self.set_health(status.problem(limits));
        }
        // Promoted, or gone: the connections open to that address reach a server that
        // is no standby any more (or none at all). After a failover the address (a
        // load-balanced Service) leads elsewhere; only new connections follow it.
        let wrong_server = status.status == ReplicaState::NotInRecovery
            || unanswered >= UNANSWERED_CHECKS_TO_LEAVE;
        if wrong_server {
            self.close_connections(match status.status {
                ReplicaState::NotInRecovery => "not in recovery",
                _ => "unreachable",
            });
        }
        *self
            .last_status
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(status);
    }

    /// What the last health check found (with whether it serves reads now); before
    /// the first one, "unreachable".
    pub(super) fn last_status(&self) -> ReplicaStatus {
        let last = self
            .last_status
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone();
        ReplicaStatus {
            serving_reads: self.is_healthy(),
            ..last.unwrap_or_else(|| ReplicaStatus::unknown(self.target.clone()))
        }
    }

    /// Whether the replica answered the last health checks (whatever it answered):
    /// no more than one check in a row went unanswered.
    pub(super) fn answers(&self) -> bool {
        self.unanswered_checks.load(Ordering::Relaxed) < UNANSWERED_CHECKS_TO_LEAVE
            && self
                .last_status
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .is_some()
    }

    pub(super) fn is_healthy(&self) -> bool {
        self.healthy.load(Ordering::Relaxed)
    }

    /// A read found the replica unreachable or unanswering: it serves no reads until a
    /// health check finds it well, and its connections (as stuck or broken as that
    /// one, likely) are closed.
    pub(super) fn take_out_of_rotation(&self, problem: String) {
        self.set_health(Some(problem));
        self.close_connections("a read failed to reach it");
    }

    /// Closes the request pool's connections, if any are open, and the probe's.
    fn close_connections(&self, why: &str) {
        self.probe.reset();
        if self.pool.has_connections() && self.pool.reset() {
            tracing::warn!(replica = %self.target, reason = why, "closed every connection to the replica");
        }
    }

    /// Records the outcome of a probe or a read, logging when the state changes.
    pub(super) fn set_health(&self, problem: Option<String>) {
        let healthy = problem.is_none();
        let was_healthy = self.healthy.swap(healthy, Ordering::Relaxed);
        let mut reason = self
            .reason
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match problem {
            Some(problem) if was_healthy || *reason != problem => {
                if was_healthy {
                    tracing::warn!(replica = %self.target, reason = %problem, "replica marked unhealthy: reads go elsewhere");
                }
                *reason = problem;
            }
            None if !was_healthy => {
                tracing::info!(replica = %self.target, previously = %reason, "replica healthy again: serving reads");
                reason.clear();
            }
            _ => {}
        }
    }

    /// Probes the replica. `primary_lsn` (the primary's current WAL position, when the
    /// primary answered) gives the lag in bytes.
    pub(super) async fn probe(&self, primary_lsn: Option<WalLsn>) -> ReplicaStatus {
        // `pg_stat_wal_receiver` shows a role without pg_read_all_stats only the
        // receiver's pid (its status is NULL then): a running receiver counts as
        // streaming unless the status, where visible, says otherwise.
        let found = within_status_timeout(
            sqlx::query_as::<_, (bool, Option<String>, Option<f64>, Option<f64>, bool)>(
                "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text, \
                 CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 \
                 ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp()) END::float8, \
                 extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8, \
                 EXISTS (SELECT 1 FROM pg_stat_wal_receiver \
                         WHERE coalesce(status, 'streaming') = 'streaming')",
            )
            .fetch_one(&self.probe.get()),
        )
        .await;
        let mut status = ReplicaStatus {
            target: self.target.clone(),
            status: ReplicaState::Unreachable,
            replay_lag_bytes: None,
            replay_lag_seconds: None,
            streaming: false,
            since_last_replay_seconds: None,
            serving_reads: self.is_healthy(),
        };
        match found {
            None => {}
            Some((false, ..)) => status.status = ReplicaState::NotInRecovery,
            Some((true, replayed, lag_seconds, since_last_replay, streaming)) => {
                let replayed = replayed.and_then(|lsn| lsn.parse::<WalLsn>().ok());
                status.status = ReplicaState::Ok;
                status.replay_lag_bytes = primary_lsn
                    .zip(replayed)
                    .map(|(primary, replayed)| primary.bytes_after(replayed));
                status.replay_lag_seconds = lag_seconds.map(|seconds| seconds.max(0.0));
                status.since_last_replay_seconds =
                    since_last_replay.map(|seconds| seconds.max(0.0));
                status.streaming = streaming;
            }
        }
        status
    }
}

impl ReplicaStatus {
    fn unknown(target: String) -> Self {
        Self {
            target,
            status: ReplicaState::Unreachable,
            replay_lag_bytes: None,
            replay_lag_seconds: None,
            streaming: false,
            since_last_replay_seconds: None,
            serving_reads: false,
        }
    }

    /// Why this replica must not serve reads, if it must not.
    ///
    /// While it streams, a replica is current when its lag in time *or* in bytes is
    /// within its limit (GitLab's database load balancer does the same): after a quiet
    /// period a few bytes of housekeeping WAL wait for replay while the age of the last
    /// replayed transaction, the time measure, counts the quiet period, not lag.
    ///
    /// A replica whose stream is lost replays what it received and then looks current
    /// (nothing received waits for replay) while the primary moves on. It must then be
    /// within both limits, its time lag measured as the time since it last replayed a
    /// transaction. With the primary unknown (unreachable), how far behind it is cannot
    /// be told: it goes on serving reads, the freshest data there is.
    pub(super) fn problem(&self, limits: LagLimits) -> Option<String> {
        match self.status {
            ReplicaState::Ok => {}
            ReplicaState::Unreachable => {
                return Some("unreachable or too slow to answer".to_owned())
            }
            ReplicaState::NotInRecovery => {
                return Some("not in recovery: not a standby of the primary".to_owned())
            }
        }
        let seconds_over = |seconds: Option<f64>| seconds.filter(|s| *s > limits.max_seconds);
        let bytes_over = self.replay_lag_bytes.filter(|b| *b > limits.max_bytes);
        let too_late = |seconds: f64| {
            format!(
                "replay lag {seconds:.1} s is over the {} s limit",
                limits.max_seconds
            )
        };
        let too_far = |bytes: u64| {
            format!(
                "replay lag {bytes} bytes is over the {} bytes limit",
                limits.max_bytes
            )
        };
        if self.streaming {
            return match (seconds_over(self.replay_lag_seconds), self.replay_lag_bytes) {
                // Unknown bytes (primary unreachable): time alone decides.
                (Some(seconds), None) => Some(too_late(seconds)),
                (Some(seconds), Some(_)) => {
                    bytes_over.map(|bytes| format!("{} and {}", too_late(seconds), too_far(bytes)))
                }
                (None, _) => None,
            };
        }
        match self.replay_lag_bytes {
            None | Some(0) => None,
            Some(_) => {
                let stale = seconds_over(self.since_last_replay_seconds);
                stale
                    .map(|seconds| format!("not streaming: {}", too_late(seconds)))
                    .or_else(|| {
                        bytes_over.map(|bytes| format!("not streaming: {}", too_far(bytes)))
                    })
            }
        }
    }
}

/// A probe interval varied by up to ±20%, so that many app instances do not probe in
/// step.
pub(super) fn jittered(interval: Duration) -> Duration {
    use std::hash::{BuildHasher, Hasher};
    // RandomState is seeded randomly per instance: enough randomness for jitter.
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    let factor = 0.8 + (random % 401) as f64 / 1000.0;
    interval.mul_f64(factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(status: ReplicaState, seconds: Option<f64>, bytes: Option<u64>) -> ReplicaStatus {
        ReplicaStatus {
            target: "r:5432/db".into(),
            status,
            replay_lag_bytes: bytes,
            replay_lag_seconds: seconds,
            streaming: true,
            since_last_replay_seconds: seconds,
            serving_reads: true,
        }
    }

    fn stalled(since_last_replay: f64, bytes: Option<u64>) -> ReplicaStatus {
        ReplicaStatus {
            streaming: false,
            replay_lag_seconds: Some(0.0), // receive = replay: looks caught up
            since_last_replay_seconds: Some(since_last_replay),
            ..status(ReplicaState::Ok, Some(0.0), bytes)
        }
    }

    #[test]
    fn an_idle_primary_does_not_make_a_streaming_replica_look_late() {
        // 48 bytes of housekeeping WAL pending after 16.5 s without a transaction.
        assert_eq!(
            status(ReplicaState::Ok, Some(16.5), Some(48)).problem(LIMITS),
            None
        );
        // Late in time and in bytes: late.
        assert!(status(ReplicaState::Ok, Some(16.5), Some(5000))
            .problem(LIMITS)
            .is_some());
        // Far in bytes but recent in time: a burst being replayed, current.
        assert_eq!(
            status(ReplicaState::Ok, Some(0.2), Some(5000)).problem(LIMITS),
            None
        );
    }

    #[test]
    fn a_replica_that_lost_its_stream_is_judged_by_its_staleness() {
        assert_eq!(
            stalled(12.0, Some(500)).problem(LIMITS).unwrap(),
            "not streaming: replay lag 12.0 s is over the 10 s limit"
        );
        assert!(stalled(1.0, Some(5000)).problem(LIMITS).is_some());
        assert_eq!(stalled(1.0, Some(500)).problem(LIMITS), None);
        // Nothing missing, or the primary unknown: keeps serving.
        assert_eq!(stalled(60.0, Some(0)).problem(LIMITS), None);
        assert_eq!(stalled(60.0, None).problem(LIMITS), None);
    }

    const LIMITS: LagLimits = LagLimits {
        max_seconds: 10.0,
        max_bytes: 1000,
    };

    #[test]
    fn a_reachable_standby_within_limits_is_healthy() {
        assert_eq!(
            status(ReplicaState::Ok, Some(0.0), Some(0)).problem(LIMITS),
            None
        );
        assert_eq!(
            status(ReplicaState::Ok, Some(10.0), Some(1000)).problem(LIMITS),
            None
        );
        // Lag in bytes is unknown while the primary is down: judged by time alone.
        assert_eq!(
            status(ReplicaState::Ok, Some(1.0), None).problem(LIMITS),
            None
        );
    }

    #[test]
    fn unreachable_promoted_or_lagging_replicas_are_not() {
        assert!(status(ReplicaState::Unreachable, None, None)
            .problem(LIMITS)
            .is_some());
        assert!(status(ReplicaState::NotInRecovery, None, None)
            .problem(LIMITS)
            .is_some());
        let slow = status(ReplicaState::Ok, Some(12.5), None)
            .problem(LIMITS)
            .unwrap();
        assert_eq!(slow, "replay lag 12.5 s is over the 10 s limit");
        let behind = status(ReplicaState::Ok, Some(12.5), Some(1001))
            .problem(LIMITS)
            .unwrap();
        assert_eq!(
            behind,
            "replay lag 12.5 s is over the 10 s limit and replay lag 1001 bytes is over the 1000 bytes limit"
        );
    }

    #[test]
    fn jitter_stays_within_twenty_percent() {
        for _ in 0..1000 {
            let d = jittered(Duration::from_millis(1000));
            assert!((800..=1200).contains(&d.as_millis()), "{d:?}");
        }
    }
}
