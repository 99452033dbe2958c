//! The public listener's HTTP server: hyper with a timer, so that slow or idle clients
//! cannot hold connections, and a cap on connections.
//!
//! `axum::serve` installs no timer: hyper then applies no header-read timeout at all,
//! and a client sending one header byte every few seconds (slowloris) keeps its
//! connection, and a task, forever. The request timeout (`middleware`) only starts once
//! the headers are in.

use super::config::ConnectionLimits;
use axum::{body::Body, extract::ConnectInfo, Router};
use hyper::{body::Incoming, Request};
use hyper_util::{
    rt::{TokioExecutor, TokioIo, TokioTimer},
    server::conn::auto::Builder,
    service::TowerToHyperService,
};
use std::{
    future::Future,
    pin::pin,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::Duration,
};
use tokio::{
    net::TcpListener,
    sync::{watch, Semaphore},
};
use tower::ServiceExt;

/// Serves `router` on `listener` until `stop` completes, then stops accepting, asks every
/// connection to close once its request in flight is answered (HTTP/1 keep-alive ends,
/// HTTP/2 sends GOAWAY), and returns when all have closed.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    stop: impl Future<Output = ()>,
) {
    let mut builder = Builder::new(TokioExecutor::new());
    // hyper starts the header-read timer as soon as it waits for a request's head, so
    // an idle keep-alive connection is closed after the same time as a slow one.
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .keep_alive(true);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(limits.http2_keep_alive_interval)
        .keep_alive_timeout(limits.http2_keep_alive_timeout);
    let builder = Arc::new(builder);

    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let at_limit_logged = Arc::new(AtomicBool::new(false));
    // Dropped (closed) when serving should stop; each connection watches it.
    let (stopping, stop_signal) = watch::channel(());
    let mut stop = pin!(stop);
    loop {
        // A permit first: at the cap, new connections wait in the kernel's accept
        // backlog instead of taking memory and a task here.
        let permit = match permits.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                if !at_limit_logged.swap(true, Ordering::Relaxed) {
                    tracing::warn!(
                        max_connections = limits.max_connections,
                        "connection limit reached: new connections wait until others close"
                    );
                }
                tokio::select! {
                    permit = permits.clone().acquire_owned() => {
                        permit.expect("the semaphore is never closed")
                    }
                    () = &mut stop => break,
                }
            }
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: pause instead of spinning.
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        if permits.available_permits() > limits.max_connections / 2 {
            at_limit_logged.store(false, Ordering::Relaxed);
        }
        let _ = stream.set_nodelay(true);
        // Each request carries its connection's peer address, as `axum::serve` does
        // (`ConnectInfo`): the write rate limit is kept per client address.
        let service = TowerToHyperService::new(router.clone().map_request(
            move |request: Request<Incoming>| {
                let mut request = request.map(Body::new);
                request.extensions_mut().insert(ConnectInfo(peer));
                request
            },
        ));
        let (builder, mut stop_signal) = (builder.clone(), stop_signal.clone());
        tokio::spawn(async move {
            let _permit = permit;
            let mut connection =
                pin!(builder.serve_connection_with_upgrades(TokioIo::new(stream), service));
            let mut stopping = false;
            loop {
                tokio::select! {
                    served = connection.as_mut() => {
                        if let Err(error) = served {
                            tracing::debug!(error = %error, "connection ended with an error");
                        }
                        break;
                    }
                    _ = stop_signal.changed(), if !stopping => {
                        stopping = true;
                        connection.as_mut().graceful_shutdown();
                    }
                }
            }
        });
    }
    drop(listener);
    // Every connection task holds a receiver: this waits for the last one to end.
    drop(stop_signal);
    let _ = stopping.send(());
    stopping.closed().await;
}
