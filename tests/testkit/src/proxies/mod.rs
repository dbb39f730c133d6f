//! Real forward proxies on loopback, in-process, for `proxy-url` tests:
//! an HTTP CONNECT proxy (optionally demanding `Proxy-Authorization`
//! basic credentials) and a SOCKS5 proxy (no auth, CONNECT, IPv4 / domain /
//! IPv6 targets). Each counts the tunnels it opened and records the
//! targets asked for; dropping the handle stops it.
//!
//! ```no_run
//! let proxy = porthole_testkit::proxies::Socks5Proxy::start()?;
//! // kubeconfig cluster: proxy-url: <proxy.url()>
//! assert_eq!(proxy.tunnels(), 0);
//! # Ok::<(), porthole_testkit::Error>(())
//! ```

mod connect;
mod socks5;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

pub use connect::HttpConnectProxy;
pub use socks5::Socks5Proxy;

use crate::loopback;

/// Upper bound for reading a proxy request and for connecting upstream.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// What a proxy saw.
#[derive(Debug, Default)]
pub struct Stats {
    tunnels: AtomicUsize,
    refused: AtomicUsize,
    targets: Mutex<Vec<String>>,
}

impl Stats {
    fn requested(&self, target: &str) {
        if let Ok(mut t) = self.targets.lock() {
            t.push(target.to_owned());
        }
    }

    fn refused(&self) {
        self.refused.fetch_add(1, Ordering::SeqCst);
    }
}

/// A running proxy.
pub struct ProxyHandle {
    server: loopback::Server,
    scheme: &'static str,
    stats: Arc<Stats>,
}

impl ProxyHandle {
    pub fn addr(&self) -> SocketAddr {
        self.server.addr
    }

    /// For kubeconfig `proxy-url`: `http://127.0.0.1:P` or `socks5://127.0.0.1:P`.
    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme, self.server.addr)
    }

    /// Tunnels opened (target connected, client told so).
    pub fn tunnels(&self) -> usize {
        self.stats.tunnels.load(Ordering::SeqCst)
    }

    /// Requests refused (bad or missing proxy credentials, bad request,
    /// target unreachable).
    pub fn refused(&self) -> usize {
        self.stats.refused.load(Ordering::SeqCst)
    }

    /// Every target asked for, in order, as `host:port` (`[v6]:port`).
    pub fn targets(&self) -> Vec<String> {
        self.stats
            .targets
            .lock()
            .map(|t| t.clone())
            .unwrap_or_default()
    }
}

/// Connects to the target with a timeout.
async fn dial(host: &str, port: u16) -> Result<TcpStream, String> {
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, TcpStream::connect((host, port))).await {
        Ok(Ok(s)) => Ok(s),
        Ok(Err(e)) => Err(format!("connecting to {host}:{port}: {e}")),
        Err(_) => Err(format!("connecting to {host}:{port}: timed out")),
    }
}

/// Pipes both ways until either side closes (tunnels may live long: watches).
async fn splice<A, B>(mut a: A, mut b: B)
where
    A: AsyncRead + AsyncWrite + Unpin,
    B: AsyncRead + AsyncWrite + Unpin,
{
    let _ = tokio::io::copy_bidirectional(&mut a, &mut b).await;
}

/// `host:port`, brackets around IPv6.
fn target_name(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}
