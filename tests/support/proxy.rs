//! A TCP proxy in front of a database server that a test can switch off and on: the
//! app behind it sees the server vanish (open connections cut, new ones refused) and
//! come back, while the real local servers keep running for every other test.

use super::{app::TestApp, database::create_test_database};
use reqwest::Url;
use std::{
    net::{SocketAddr, ToSocketAddrs},
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
};
use tokio::{
    net::{TcpListener, TcpStream},
    task::JoinHandle,
};

/// What the app reaches each database server through.
pub struct Proxies {
    pub primary: FaultProxy,
    pub replica: FaultProxy,
}

/// Spawns the app as `TestApp::start` does, but reaching each database server through a
/// [`FaultProxy`], up or down from the start as given (the test's own pools reach the
/// servers directly). With the primary down, the app starts without its schema.
pub async fn spawn_app_behind_proxies(
    primary_up: bool,
    replica_up: bool,
    settings: &[(&str, &str)],
) -> (TestApp, Proxies) {
    let mut db = create_test_database().await;
    let primary = FaultProxy::start(server_of(&db.app_primary_url), primary_up).await;
    let replica = FaultProxy::start(server_of(&db.app_replica_url), replica_up).await;
    db.app_primary_url = with_server(&db.app_primary_url, primary.addr);
    db.app_replica_url = with_server(&db.app_replica_url, replica.addr);
    let (app, _metrics) = TestApp::start(&db, settings).await;
    (app, Proxies { primary, replica })
}

/// The `host:port` a postgres URL names (5432 when it names no port).
pub fn server_of(url: &str) -> SocketAddr {
    let url = Url::parse(url).unwrap_or_else(|error| panic!("not a URL ({error}): {url}"));
    let host = url.host_str().expect("a postgres URL with a host");
    (host, url.port().unwrap_or(5432))
        .to_socket_addrs()
        .ok()
        .and_then(|mut addrs| addrs.next())
        .unwrap_or_else(|| panic!("{host} does not resolve"))
}

/// The same URL, pointing at another `host:port`.
pub fn with_server(url: &str, addr: SocketAddr) -> String {
    let mut url = Url::parse(url).unwrap_or_else(|error| panic!("not a URL ({error}): {url}"));
    url.set_ip_host(addr.ip())
        .expect("a URL that can have a host");
    url.set_port(Some(addr.port()))
        .expect("a URL that can have a port");
    url.into()
}

pub struct FaultProxy {
    pub addr: SocketAddr,
    /// Where new connections go, in turn.
    targets: Arc<Mutex<Vec<SocketAddr>>>,
    up: Arc<AtomicBool>,
    /// Forwarding stopped without closing anything: packets dropped, not refused.
    blackholed: Arc<AtomicBool>,
    connections: Arc<Mutex<Vec<JoinHandle<()>>>>,
    accept_loop: JoinHandle<()>,
}

impl FaultProxy {
    /// Listens on a free loopback port and forwards to `target` while up.
    pub async fn start(target: SocketAddr, up: bool) -> Self {
        Self::round_robin(vec![target], up).await
    }

    /// Listens on a free loopback port and forwards each new connection to the next of
    /// `targets` in turn, as a load-balanced Service (CloudNativePG's `-ro`) does.
    pub async fn round_robin(targets: Vec<SocketAddr>, up: bool) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let up = Arc::new(AtomicBool::new(up));
        let blackholed = Arc::new(AtomicBool::new(false));
        let connections = Arc::new(Mutex::new(Vec::new()));
        let targets = Arc::new(Mutex::new(targets));
        let accept_loop = tokio::spawn({
            let (targets, up, blackholed, connections) = (
                targets.clone(),
                up.clone(),
                blackholed.clone(),
                connections.clone(),
            );
            async move {
                let mut next = 0;
                while let Ok((client, _)) = listener.accept().await {
                    if !up.load(Ordering::SeqCst) {
                        drop(client); // as if nothing listened
                        continue;
                    }
                    let target = {
                        let targets = targets.lock().unwrap();
                        targets[next % targets.len()]
                    };
                    next += 1;
                    let blackholed = blackholed.clone();
                    let forward = tokio::spawn(async move {
                        if blackholed.load(Ordering::SeqCst) {
                            // Accepted, then never a byte: held open until dropped.
                            let _held = client;
                            return std::future::pending::<()>().await;
                        }
                        if let Ok(server) = TcpStream::connect(target).await {
                            let (client_read, client_write) = client.into_split();
                            let (server_read, server_write) = server.into_split();
                            tokio::join!(
                                pump(client_read, server_write, blackholed.clone()),
                                pump(server_read, client_write, blackholed),
                            );
                        }
                    });
                    connections.lock().unwrap().push(forward);
                }
            }
        });
        Self {
            addr,
            targets,
            up,
            blackholed,
            connections,
            accept_loop,
        }
    }

    /// New connections go to `target` from now on, as a Service whose selector moved to
    /// another pod: open connections stay where they are.
    pub fn retarget(&self, target: SocketAddr) {
        *self.targets.lock().unwrap() = vec![target];
    }

    /// The network drops every packet from now on: nothing is closed or refused,
    /// nothing arrives either way, on open and on new connections.
    pub fn blackhole(&self) {
        self.blackholed.store(true, Ordering::SeqCst);
    }

    /// The server "goes down": open connections are cut, new ones closed at once.
    pub fn down(&self) {
        self.up.store(false, Ordering::SeqCst);
        for connection in self.connections.lock().unwrap().drain(..) {
            connection.abort();
        }
    }

    pub fn up(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

/// Copies `from` to `to` until either closes; once `blackholed`, what arrives is held
/// (neither forwarded nor answered), and the connection stays open.
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    blackholed: Arc<AtomicBool>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        let read = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(read) => read,
        };
        if blackholed.load(Ordering::SeqCst) {
            std::future::pending::<()>().await;
        }
        if to.write_all(&buffer[..read]).await.is_err() {
            return;
        }
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.accept_loop.abort();
        self.down();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_is_pointed_at_another_server_and_keeps_the_rest() {
        let url = "postgres://tasks:p%40ss@127.0.0.1:55432/test_1?sslmode=disable";
        assert_eq!(server_of(url), SocketAddr::from(([127, 0, 0, 1], 55432)));
        assert_eq!(
            with_server(url, SocketAddr::from(([127, 0, 0, 1], 40001))),
            "postgres://tasks:p%40ss@127.0.0.1:40001/test_1?sslmode=disable"
        );
        assert_eq!(
            server_of("postgres://tasks@127.0.0.1/tasks"),
            SocketAddr::from(([127, 0, 0, 1], 5432))
        );
    }
}
