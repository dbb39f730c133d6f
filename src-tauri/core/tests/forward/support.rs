//! Helpers: a client per context of the test cluster, a forward started
//! on a free loopback port, plain HTTP and raw bytes through it.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use porthole_core::auth::ExecEnv;
use porthole_core::cluster::connect::Timeouts;
use porthole_core::cluster::{ClientEnv, ClusterClient, client_for_context};
use porthole_core::forward::{
    Forward, ForwardError, ForwardOptions, ForwardRequest, RemotePort, Target, TargetKind,
};
use porthole_core::kubeconfig::{KubeconfigSources, load_snapshot};
use porthole_core::shell_path::process_search_path;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

pub use porthole_testkit::cluster;

pub const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

pub fn env() -> ClientEnv {
    ClientEnv {
        exec: ExecEnv {
            search_path: process_search_path(std::env::var_os("PATH").as_deref(), &[]),
            stdin_is_terminal: false,
            timeout: Duration::from_secs(20),
        },
        timeouts: Timeouts {
            connect: Duration::from_secs(3),
            tls_handshake: Duration::from_secs(3),
        },
        response_timeout: Duration::from_secs(20),
    }
}

/// A client for `context` of the test cluster's kubeconfig.
pub async fn client(context: &str) -> ClusterClient {
    let snapshot = load_snapshot(&KubeconfigSources::explicit(cluster().kubeconfig())).await;
    client_for_context(&snapshot.merged, context, &env())
        .await
        .unwrap_or_else(|p| panic!("client for {context}: {p}"))
}

pub fn target(namespace: &str, kind: TargetKind, name: &str) -> Target {
    Target {
        namespace: namespace.to_owned(),
        kind,
        name: name.to_owned(),
    }
}

/// Starts a forward of `target`'s `remote` port on a random loopback port.
pub async fn forward(
    context: &str,
    target: Target,
    remote: &str,
    options: ForwardOptions,
) -> Result<Forward, ForwardError> {
    Forward::start(
        client(context).await,
        ForwardRequest {
            target,
            remote: RemotePort::parse(remote),
            addresses: vec![LOOPBACK],
            local_port: 0,
            options,
        },
    )
    .await
}

/// `GET path` over a fresh connection to `addr`: (status, body).
pub async fn http_get(addr: SocketAddr, path: &str) -> std::io::Result<(u16, String)> {
    let mut conn = tokio::time::timeout(Duration::from_secs(10), TcpStream::connect(addr))
        .await
        .map_err(|_| std::io::Error::other("connect timed out"))??;
    conn.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: forward.test\r\nConnection: close\r\n\r\n")
            .as_bytes(),
    )
    .await?;
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), conn.read_to_end(&mut raw))
        .await
        .map_err(|_| std::io::Error::other("no complete answer within 20 s"))??;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("not an HTTP answer: {text:?}")))?;
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    Ok((status, body))
}

/// Sends `data` and reads the same number of bytes back (a TCP echo).
pub async fn echo(conn: &mut TcpStream, data: &[u8]) -> std::io::Result<Vec<u8>> {
    let (mut rx, mut tx) = conn.split();
    let write = tx.write_all(data);
    let mut back = vec![0u8; data.len()];
    let read = rx.read_exact(&mut back);
    let (w, r) = tokio::time::timeout(Duration::from_secs(30), async { tokio::join!(write, read) })
        .await
        .map_err(|_| std::io::Error::other("echo took longer than 30 s"))?;
    w?;
    r?;
    Ok(back)
}

/// A fresh connection to `addr` that echoes `data` correctly.
pub async fn echo_once(addr: SocketAddr, data: &[u8]) -> std::io::Result<()> {
    let mut conn = TcpStream::connect(addr).await?;
    let back = echo(&mut conn, data).await?;
    if back != data {
        return Err(std::io::Error::other("echoed bytes differ"));
    }
    Ok(())
}

/// Deterministic bytes, different per `seed`.
pub fn pattern(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}
