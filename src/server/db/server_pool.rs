//! The connection pool of one database server, whose connections can all be dropped at
//! once.
//!
//! After a failover, a connection opened to a server that has since changed role (a
//! replica promoted to primary, a primary demoted or fenced) would go on serving
//! queries there until its idle timeout or lifetime ends (minutes). sqlx's
//! `PgPool::close` is final, so a reset swaps in a fresh pool (which connects lazily,
//! through the same address, so to whatever server now answers there) and closes the
//! old one in the background: its idle connections at once, those in use as they are
//! returned.

use sqlx::{
    postgres::{PgConnectOptions, PgPoolOptions},
    PgPool,
};
use std::sync::RwLock;

pub(super) struct ServerPool {
    current: RwLock<PgPool>,
    pool_options: PgPoolOptions,
    connect_options: PgConnectOptions,
}

impl ServerPool {
    /// A pool that opens its connections on first use.
    pub(super) fn lazy(pool_options: PgPoolOptions, connect_options: PgConnectOptions) -> Self {
        Self {
            current: RwLock::new(
                pool_options
                    .clone()
                    .connect_lazy_with(connect_options.clone()),
            ),
            pool_options,
            connect_options,
        }
    }

    /// The pool to take a connection from now (a cheap handle on shared state).
    pub(super) fn get(&self) -> PgPool {
        self.current
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Drops every connection: none opened before this call serves another query.
    /// Returns whether there were any. Needs a Tokio runtime (the old pool closes in a
    /// task of its own).
    pub(super) fn reset(&self) -> bool {
        let fresh = self
            .pool_options
            .clone()
            .connect_lazy_with(self.connect_options.clone());
        let old = std::mem::replace(
            &mut *self
                .current
                .write()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
            fresh,
        );
        let had_connections = old.size() > 0;
        tokio::spawn(async move { old.close().await });
        had_connections
    }

    /// Whether any connection is open.
    pub(super) fn has_connections(&self) -> bool {
        self.get().size() > 0
    }

    /// Closes the pool for good, waiting for connections in use to be returned.
    pub(super) async fn close(&self) {
        self.get().close().await;
    }
}
