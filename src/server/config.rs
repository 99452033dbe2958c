//! Server configuration, read once at start-up from environment variables.
//!
//! Every variable is listed in the README's configuration table. A missing or malformed
//! value stops the server with one line naming the variable; values that hold
//! passwords are never echoed back in those messages.

//! It imports nothing else of the crate: every other server module may depend on it.

use sqlx::postgres::PgConnectOptions;
use std::{net::SocketAddr, str::FromStr, time::Duration};

/// Everything the server reads from its environment (Leptos reads its own `LEPTOS_*`
/// variables; see `startup`).
pub struct Settings {
    pub database: DatabaseSettings,
    pub http: HttpSettings,
    /// At most this many todos in one list (`LIST_MAX_TODOS`).
    pub list_max_todos: i64,
    pub migrations: MigrationSettings,
    pub log_format: LogFormat,
}

/// How the HTTP side behaves beyond what Leptos configures.
#[derive(Clone, Debug)]
pub struct HttpSettings {
    /// Where Prometheus scrapes `/metrics`: a listener of its own, off the public port.
    /// `None` (METRICS_ADDR=off) serves no metrics.
    pub metrics_addr: Option<SocketAddr>,
    /// Longest time a request may take before it is answered with 503 (not 408, which
    /// browsers silently resend).
    pub request_timeout: Duration,
    /// Send `Strict-Transport-Security`: only when clients reach the app over TLS.
    pub hsts: bool,
    /// `/readyz` adds the primary's and each replica's state, probed for the request
    /// (`READYZ_DETAILS`): for tests and debugging, not for a public listener.
    pub readyz_details: bool,
    /// The app's address as browsers see it (`PUBLIC_URL`), when configured: an
    /// `https://` one makes cookies `Secure` with the `__Host-` prefix.
    pub public_url: Option<String>,
    /// After SIGTERM, how long requests in flight may take to finish before the server
    /// exits anyway. Keep it below the pod's `terminationGracePeriodSeconds`.
    pub shutdown_grace: Duration,
    pub connections: ConnectionLimits,
    pub write_limit: WriteLimit,
    /// How many proxies in front of the app append to `X-Forwarded-For` after the
    /// client's own address (`TRUSTED_PROXY_HOPS`): the client is the entry this many
    /// places left of the rightmost. 0: no proxy is trusted, the client is the socket's
    /// peer. Entries further left are written by the client and never trusted.
    pub trusted_proxy_hops: usize,
}

/// Writes (any request but GET, HEAD and OPTIONS) each client address may make: a
/// token bucket per address, per server instance. The global limit belongs at the
/// edge (Cloud Armor).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WriteLimit {
    /// Tokens added per minute. 0 turns the limit off (benchmarks only).
    pub per_minute: u32,
    /// Bucket size: writes a client may make at once after a pause.
    pub burst: u32,
}

/// What one client connection may hold of the public listener.
#[derive(Clone, Copy, Debug)]
pub struct ConnectionLimits {
    /// Time to send a request's headers; also how long an idle keep-alive connection
    /// stays open.
    pub header_read_timeout: Duration,
    /// Open connections at most; more wait in the kernel's accept backlog.
    pub max_connections: usize,
    /// HTTP/2: how often an idle connection is pinged, and how long the answer may take
    /// before the connection is closed.
    pub http2_keep_alive_interval: Duration,
    pub http2_keep_alive_timeout: Duration,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines, for development.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// How to reach the databases, and the bounds every pool works within.
///
/// No `Debug`: the connect options hold passwords. Use `db::describe` to log a target.
pub struct DatabaseSettings {
    /// Takes every write, and reads when no replica is set or a replica can't serve.
    pub primary: PgConnectOptions,
    /// Streaming hot-standby replicas of the primary, which serve reads.
    pub replicas: Vec<PgConnectOptions>,
    /// How often each replica's health is checked (jittered by ±20%).
    pub replica_check_interval: Duration,
    /// Beyond these, a replica serves no reads until it catches up.
    pub replica_lag_limits: LagLimits,
    /// Upper bound on open connections, per pool.
    pub max_connections: u32,
    /// How long a request may wait for a connection (including connecting) before it
    /// fails, instead of hanging when a database is unreachable.
    pub acquire_timeout: Duration,
    /// How long a read on a replica may take before the app gives up on it, takes the
    /// replica out of rotation and reads elsewhere: a replica whose network drops
    /// packets (rather than refusing) would otherwise hold the read until the request
    /// timeout.
    pub replica_read_timeout: Duration,
    /// How long a write on the primary (getting a connection, its statements, and
    /// reading the WAL position after it) may take before the request gets a 503. The
    /// statement timeout is the server's bound; this one also holds when packets to
    /// the primary are dropped and the server never answers. Shorter than the request
    /// timeout, so the answer is a clear 503, not the generic timeout.
    pub write_timeout: Duration,
    /// Server-side limit on any single statement.
    pub statement_timeout: Duration,
    /// Idle connections above the minimum are closed after this long.
    pub idle_timeout: Duration,
    /// Connections are replaced after this long, so none outlives a failover or a
    /// credentials rotation by much.
    pub max_lifetime: Duration,
}

/// When and how the schema is migrated.
#[derive(Clone, Copy, Debug)]
pub struct MigrationSettings {
    /// `tasks serve` applies pending migrations as it starts (`MIGRATE_ON_START`, the
    /// default: local development, compose). The chart turns it off and migrates in a
    /// Job before the new pods start (`tasks migrate`); a pod then reports
    /// `migrations_pending` on `/readyz` until the schema is this build's.
    pub on_start: bool,
    /// `tasks migrate`: how long a statement may wait for a lock before the migration
    /// gives up (and the Job retries) rather than queueing every query of the app
    /// behind its lock request.
    pub lock_timeout: Duration,
    /// `tasks migrate`: how long a statement may run (an index build on a large table
    /// takes longer than any request may).
    pub statement_timeout: Duration,
}

/// How far behind the primary a replica may be and still serve reads.
#[derive(Clone, Copy, Debug)]
pub struct LagLimits {
    pub max_seconds: f64,
    pub max_bytes: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{name} is not set: it must be {expected}")]
    Missing {
        name: &'static str,
        expected: &'static str,
    },
    // `reason` comes from URL parsing, which never repeats the URL (or its password).
    #[error("{name} is not a valid PostgreSQL URL: {reason}")]
    InvalidUrl { name: &'static str, reason: String },
    #[error("{name} must be {expected}, but is {value:?}")]
    Invalid {
        name: &'static str,
        expected: &'static str,
        value: String,
    },
}

impl Settings {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup`, so tests can supply their own environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env { lookup };

        let statement_timeout = env.millis("DATABASE_STATEMENT_TIMEOUT_MS", 5_000)?;
        let request_timeout = env.millis("REQUEST_TIMEOUT_MS", 15_000)?;
        // 6 s by default, and always ending before the request timeout.
        let default_write_timeout = Duration::from_secs(6).min(request_timeout / 2);
        let connect_options = |name: &'static str, url: &str| {
            parse_postgres_url(name, url).map(|options| tune_connection(options, statement_timeout))
        };
        let primary_url = env.get("DATABASE_URL").ok_or(ConfigError::Missing {
            name: "DATABASE_URL",
            expected: "the PostgreSQL URL of the primary database, \
                       e.g. postgres://user:password@127.0.0.1:5432/tasks",
        })?;
        let primary = connect_options("DATABASE_URL", &primary_url)?;
        let replicas = env
            .get("DATABASE_REPLICA_URL")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|url| !url.is_empty())
            .map(|url| connect_options("DATABASE_REPLICA_URL", url))
            .collect::<Result<Vec<_>, _>>()?;
        let max_connections: u32 = env.number("DATABASE_MAX_CONNECTIONS", 10)?;
        if max_connections == 0 {
            return Err(ConfigError::Invalid {
                name: "DATABASE_MAX_CONNECTIONS",
                expected: "a whole number of at least 1",
                value: "0".into(),
            });
        }
        let database = DatabaseSettings {
            primary,
            replicas,
            replica_check_interval: env.millis("DATABASE_REPLICA_CHECK_INTERVAL_MS", 1_000)?,
            replica_lag_limits: LagLimits {
                max_seconds: env.number("DATABASE_REPLICA_MAX_LAG_SECONDS", 10.0)?,
                max_bytes: env.number("DATABASE_REPLICA_MAX_LAG_BYTES", 16 * 1024 * 1024)?,
            },
            max_connections,
            acquire_timeout: env.millis("DATABASE_ACQUIRE_TIMEOUT_MS", 2_000)?,
            replica_read_timeout: env.millis("DATABASE_REPLICA_READ_TIMEOUT_MS", 1_000)?,
            write_timeout: env.millis(
                "DATABASE_WRITE_TIMEOUT_MS",
                default_write_timeout.as_millis() as u64,
            )?,
            statement_timeout,
            idle_timeout: env.secs("DATABASE_IDLE_TIMEOUT_SECS", 300)?,
            max_lifetime: env.secs("DATABASE_MAX_LIFETIME_SECS", 1_800)?,
        };

        let metrics_addr = match env.get("METRICS_ADDR").as_deref() {
            None => Some(SocketAddr::from(([0, 0, 0, 0], 9090))),
            Some("off") => None,
            Some(addr) => Some(addr.parse().map_err(|_| ConfigError::Invalid {
                name: "METRICS_ADDR",
                expected: "an address such as 0.0.0.0:9090, or off",
                value: addr.to_owned(),
            })?),
        };
        let http = HttpSettings {
            metrics_addr,
            request_timeout,
            hsts: env.flag("HSTS")?,
            readyz_details: env.flag("READYZ_DETAILS")?,
            public_url: env.get("PUBLIC_URL").map(parse_public_url).transpose()?,
            shutdown_grace: env.secs("SHUTDOWN_GRACE_SECS", 20)?,
            connections: ConnectionLimits {
                header_read_timeout: env.millis("HTTP_HEADER_READ_TIMEOUT_MS", 10_000)?,
                max_connections: env.number("HTTP_MAX_CONNECTIONS", 2_048)?,
                http2_keep_alive_interval: env.secs("HTTP2_KEEP_ALIVE_INTERVAL_SECS", 20)?,
                http2_keep_alive_timeout: env.secs("HTTP2_KEEP_ALIVE_TIMEOUT_SECS", 10)?,
            },
            write_limit: WriteLimit {
                per_minute: env.number("WRITE_RATE_LIMIT_PER_MINUTE", 600)?,
                burst: env.number("WRITE_RATE_LIMIT_BURST", 120)?,
            },
            trusted_proxy_hops: env.number("TRUSTED_PROXY_HOPS", 0)?,
        };
        if http.write_limit.per_minute > 0 && http.write_limit.burst == 0 {
            return Err(ConfigError::Invalid {
                name: "WRITE_RATE_LIMIT_BURST",
                expected: "a whole number of at least 1",
                value: "0".into(),
            });
        }
        if database.write_timeout >= http.request_timeout {
            return Err(ConfigError::Invalid {
                name: "DATABASE_WRITE_TIMEOUT_MS",
                expected: "fewer milliseconds than REQUEST_TIMEOUT_MS",
                value: database.write_timeout.as_millis().to_string(),
            });
        }
        let list_max_todos: i64 = env.number("LIST_MAX_TODOS", 10_000)?;
        if list_max_todos < 1 {
            return Err(ConfigError::Invalid {
                name: "LIST_MAX_TODOS",
                expected: "a whole number of at least 1",
                value: list_max_todos.to_string(),
            });
        }
        if http.connections.max_connections == 0 {
            return Err(ConfigError::Invalid {
                name: "HTTP_MAX_CONNECTIONS",
                expected: "a whole number of at least 1",
                value: "0".into(),
            });
        }
        let log_format = match env.get("LOG_FORMAT").as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    name: "LOG_FORMAT",
                    expected: "text or json",
                    value: other.to_owned(),
                })
            }
        };

        let migrations = MigrationSettings {
            on_start: match env.get("MIGRATE_ON_START") {
                None => true,
                Some(_) => env.flag("MIGRATE_ON_START")?,
            },
            lock_timeout: env.millis("MIGRATION_LOCK_TIMEOUT_MS", 5_000)?,
            statement_timeout: env.millis("MIGRATION_STATEMENT_TIMEOUT_MS", 600_000)?,
        };

        Ok(Self {
            database,
            http,
            list_max_todos,
            migrations,
            log_format,
        })
    }
}

/// Reads variables through a lookup, so that each setting names its variable once:
/// `env.millis("REQUEST_TIMEOUT_MS", 15_000)?`. A blank value counts as unset.
struct Env<F> {
    lookup: F,
}

impl<F: Fn(&str) -> Option<String>> Env<F> {
    fn get(&self, name: &str) -> Option<String> {
        (self.lookup)(name).filter(|value| !value.trim().is_empty())
    }

    fn number<T: FromStr>(&self, name: &'static str, default: T) -> Result<T, ConfigError> {
        match self.get(name) {
            None => Ok(default),
            Some(value) => value.trim().parse().map_err(|_| ConfigError::Invalid {
                name,
                expected: "a number",
                value,
            }),
        }
    }

    fn millis(&self, name: &'static str, default: u64) -> Result<Duration, ConfigError> {
        self.number(name, default).map(Duration::from_millis)
    }

    fn secs(&self, name: &'static str, default: u64) -> Result<Duration, ConfigError> {
        self.number(name, default).map(Duration::from_secs)
    }

    /// `true`/`1` or `false`/`0`; unset is false.
    fn flag(&self, name: &'static str) -> Result<bool, ConfigError> {
        match self.get(name).as_deref().map(str::trim) {
            None | Some("false" | "0") => Ok(false),
            Some("true" | "1") => Ok(true),
            Some(other) => Err(ConfigError::Invalid {
                name,
                expected: "true or false",
                value: other.to_owned(),
            }),
        }
    }
}

/// `http(s)://host[:port]`, nothing more (no path, query or user): an origin.
fn parse_public_url(url: String) -> Result<String, ConfigError> {
    let invalid = || ConfigError::Invalid {
        name: "PUBLIC_URL",
        expected: "an origin such as https://tasks.example.com",
        value: url.clone(),
    };
    let trimmed = url.trim().trim_end_matches('/');
    let host = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"))
        .ok_or_else(invalid)?;
    let host_is_plain = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c));
    if host_is_plain {
        Ok(trimmed.to_ascii_lowercase())
    } else {
        Err(invalid())
    }
}

impl HttpSettings {
    /// Whether browsers reach the app over HTTPS, as `PUBLIC_URL` says.
    pub fn served_over_https(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|url| url.starts_with("https://"))
    }
}

fn parse_postgres_url(name: &'static str, url: &str) -> Result<PgConnectOptions, ConfigError> {
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err(ConfigError::InvalidUrl {
            name,
            reason: "it must start with postgres:// or postgresql://".into(),
        });
    }
    PgConnectOptions::from_str(url).map_err(|error| ConfigError::InvalidUrl {
        name,
        reason: error.to_string(),
    })
}

/// Settings every connection of the app asks the server for.
///
/// TCP keepalive: sqlx 0.8.6 opens its sockets with `TCP_NODELAY` only (sqlx-core
/// `src/net/socket/mod.rs`), and offers no keepalive option, so the app side of a
/// silent peer is bounded by deadlines instead (`DATABASE_REPLICA_READ_TIMEOUT_MS`,
/// `DATABASE_WRITE_TIMEOUT_MS`, the status timeout of health checks). The server side
/// gets keepalive here: a pod that vanished without closing its connections (its node
/// lost) stops holding server connections after about a minute (30 s idle, then 3
/// probes 10 s apart) instead of the kernel's default of over two hours, which counts
/// against `max_connections`. PostgreSQL ignores these on Unix-domain sockets.
fn tune_connection(options: PgConnectOptions, statement_timeout: Duration) -> PgConnectOptions {
    options.application_name("tasks").options([
        (
            "statement_timeout",
            statement_timeout.as_millis().to_string(),
        ),
        ("tcp_keepalives_idle", "30".to_owned()),
        ("tcp_keepalives_interval", "10".to_owned()),
        ("tcp_keepalives_count", "3".to_owned()),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn only_the_primary_url_is_required() {
        let settings = settings(&[("DATABASE_URL", "postgres://u:p@db:5433/tasks")]).unwrap();
        let db = settings.database;
        assert_eq!((db.primary.get_host(), db.primary.get_port()), ("db", 5433));
        assert!(db.replicas.is_empty());
        assert_eq!(db.replica_check_interval, Duration::from_secs(1));
        assert_eq!(db.replica_lag_limits.max_seconds, 10.0);
        assert_eq!(db.replica_lag_limits.max_bytes, 16 * 1024 * 1024);
        assert_eq!(db.max_connections, 10);
        assert_eq!(db.acquire_timeout, Duration::from_secs(2));
        assert_eq!(db.statement_timeout, Duration::from_secs(5));
        assert_eq!(db.idle_timeout, Duration::from_secs(300));
        assert_eq!(db.max_lifetime, Duration::from_secs(1800));
        assert_eq!(
            settings.http.metrics_addr,
            Some(([0, 0, 0, 0], 9090).into())
        );
        assert_eq!(settings.http.request_timeout, Duration::from_secs(15));
        assert_eq!(settings.http.shutdown_grace, Duration::from_secs(20));
        assert!(!settings.http.hsts);
        assert_eq!(settings.log_format, LogFormat::Text);
    }

    #[test]
    fn reads_the_http_and_log_settings() {
        let configured = settings(&[
            ("DATABASE_URL", "postgres://u:p@h/db"),
            ("METRICS_ADDR", "127.0.0.1:9191"),
            ("REQUEST_TIMEOUT_MS", "500"),
            ("HSTS", "true"),
            ("LOG_FORMAT", "json"),
        ])
        .unwrap();
        assert_eq!(
            configured.http.metrics_addr,
            Some(([127, 0, 0, 1], 9191).into())
        );
        assert_eq!(configured.http.request_timeout, Duration::from_millis(500));
        assert!(configured.http.hsts);
        assert_eq!(configured.log_format, LogFormat::Json);

        let off = settings(&[
            ("DATABASE_URL", "postgres://u:p@h/db"),
            ("METRICS_ADDR", "off"),
        ]);
        assert_eq!(off.unwrap().http.metrics_addr, None);
        for (name, value) in [
            ("LOG_FORMAT", "xml"),
            ("HSTS", "yes"),
            ("METRICS_ADDR", "9090"),
        ] {
            let error = settings(&[("DATABASE_URL", "postgres://u:p@h/db"), (name, value)])
                .err()
                .unwrap()
                .to_string();
            assert!(error.starts_with(name), "{error}");
        }
    }

    #[test]
    fn public_url_is_an_origin_and_says_whether_cookies_are_secure() {
        let with =
            |url: &str| settings(&[("DATABASE_URL", "postgres://u:p@h/db"), ("PUBLIC_URL", url)]);
        let https = with("https://Tasks.Example.com/").unwrap().http;
        assert_eq!(
            https.public_url.as_deref(),
            Some("https://tasks.example.com")
        );
        assert!(https.served_over_https());
        assert!(!with("http://127.0.0.1:3000")
            .unwrap()
            .http
            .served_over_https());
        let unset = settings(&[("DATABASE_URL", "postgres://u:p@h/db")]).unwrap();
        assert!(!unset.http.served_over_https());
        for bad in [
            "tasks.example.com",
            "https://x/path",
            "ftp://x",
            "https://u@x",
            "https://",
        ] {
            let error = with(bad).err().unwrap().to_string();
            assert!(
                error.starts_with("PUBLIC_URL must be an origin"),
                "{bad}: {error}"
            );
        }
    }

    #[test]
    fn reads_the_replica_and_pool_bounds() {
        let settings = settings(&[
            ("DATABASE_URL", "postgres://u:p@primary/tasks"),
            (
                "DATABASE_REPLICA_URL",
                "postgresql://u:p@replica:6432/tasks, postgres://u:p@replica2/tasks",
            ),
            ("DATABASE_MAX_CONNECTIONS", "32"),
            ("DATABASE_ACQUIRE_TIMEOUT_MS", "750"),
        ])
        .unwrap();
        let db = settings.database;
        let replicas: Vec<(&str, u16)> = db
            .replicas
            .iter()
            .map(|options| (options.get_host(), options.get_port()))
            .collect();
        assert_eq!(replicas, [("replica", 6432), ("replica2", 5432)]);
        assert_eq!(db.max_connections, 32);
        assert_eq!(db.acquire_timeout, Duration::from_millis(750));
        assert_eq!(db.write_timeout, Duration::from_secs(6));
    }

    #[test]
    fn a_write_deadline_must_end_before_the_request_timeout() {
        let error = settings(&[
            ("DATABASE_URL", "postgres://u:p@primary/tasks"),
            ("DATABASE_WRITE_TIMEOUT_MS", "15000"),
        ])
        .err()
        .unwrap()
        .to_string();
        assert!(
            error.starts_with("DATABASE_WRITE_TIMEOUT_MS must be"),
            "{error}"
        );
    }

    #[test]
    fn a_missing_primary_url_is_named() {
        let error = settings(&[]).err().unwrap().to_string();
        assert!(error.starts_with("DATABASE_URL is not set"), "{error}");
        let blank = settings(&[("DATABASE_URL", "  ")]).err().unwrap();
        assert!(matches!(
            blank,
            ConfigError::Missing {
                name: "DATABASE_URL",
                ..
            }
        ));
    }

    #[test]
    fn a_malformed_url_is_named_without_echoing_its_password() {
        for url in ["mysql://u:s3cret@h/db", "postgres://u:s3cret@h:notaport/db"] {
            let error = settings(&[
                ("DATABASE_URL", "postgres://u:p@h/db"),
                ("DATABASE_REPLICA_URL", url),
            ])
            .err()
            .unwrap()
            .to_string();
            assert!(
                error.starts_with("DATABASE_REPLICA_URL is not a valid PostgreSQL URL"),
                "{error}"
            );
            assert!(!error.contains("s3cret"), "{error}");
        }
    }

    #[test]
    fn malformed_numbers_are_named() {
        let error = settings(&[
            ("DATABASE_URL", "postgres://u:p@h/db"),
            ("DATABASE_MAX_CONNECTIONS", "many"),
        ])
        .err()
        .unwrap()
        .to_string();
        assert_eq!(
            error,
            "DATABASE_MAX_CONNECTIONS must be a number, but is \"many\""
        );
        let zero = settings(&[
            ("DATABASE_URL", "postgres://u:p@h/db"),
            ("DATABASE_MAX_CONNECTIONS", "0"),
        ]);
        assert!(zero.is_err());
    }
}
