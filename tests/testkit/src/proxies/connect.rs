//! HTTP CONNECT proxy (what kubeconfig `proxy-url: http://…` uses for an
//! https apiserver).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use base64::Engine as _;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use super::{HANDSHAKE_TIMEOUT, ProxyHandle, Stats, dial, splice, target_name};
use crate::error::Result;
use crate::httpwire;
use crate::loopback;

pub struct HttpConnectProxy;

impl HttpConnectProxy {
    /// A proxy that asks for no credentials.
    pub fn start() -> Result<ProxyHandle> {
        start(None)
    }

    /// A proxy that answers 407 unless `Proxy-Authorization: Basic
    /// base64(user:password)` comes with the CONNECT (kubectl sends the
    /// userinfo of `proxy-url: http://user:password@host:port`).
    pub fn start_with_basic_auth(user: &str, password: &str) -> Result<ProxyHandle> {
        let creds = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        start(Some(format!("Basic {creds}")))
    }
}

fn start(expected_auth: Option<String>) -> Result<ProxyHandle> {
    let stats = Arc::new(Stats::default());
    let s = stats.clone();
    let expected = Arc::new(expected_auth);
    let server = loopback::serve("http-connect-proxy", move |stream, _peer| {
        let stats = s.clone();
        let expected = expected.clone();
        async move { handle(stream, &stats, expected.as_deref()).await }
    })?;
    Ok(ProxyHandle {
        server,
        scheme: "http",
        stats,
    })
}

async fn handle(mut client: TcpStream, stats: &Stats, expected_auth: Option<&str>) {
    let head = tokio::time::timeout(HANDSHAKE_TIMEOUT, httpwire::read_head(&mut client)).await;
    let (head, leftover) = match head {
        Ok(Ok(h)) => h,
        Ok(Err(e)) => {
            tracing::debug!("connect proxy: {e}");
            stats.refused();
            return;
        }
        Err(_) => {
            stats.refused();
            return;
        }
    };
    if !head.method.eq_ignore_ascii_case("CONNECT") {
        stats.refused();
        let _ = httpwire::respond(
            &mut client,
            405,
            &[],
            "text/plain",
            b"only CONNECT is supported\n",
        )
        .await;
        return;
    }
    stats.requested(&head.target);
    if let Some(want) = expected_auth
        && head.header("proxy-authorization") != Some(want)
    {
        stats.refused();
        let _ = httpwire::respond(
            &mut client,
            407,
            &[("Proxy-Authenticate", "Basic realm=\"porthole-test-proxy\"")],
            "text/plain",
            b"proxy credentials required\n",
        )
        .await;
        return;
    }
    let Some((host, port)) = split_authority(&head.target) else {
        stats.refused();
        let _ =
            httpwire::respond(&mut client, 400, &[], "text/plain", b"bad CONNECT target\n").await;
        return;
    };
    let mut upstream = match dial(&host, port).await {
        Ok(u) => u,
        Err(e) => {
            stats.refused();
            let body = format!("{e}\n");
            let _ = httpwire::respond(&mut client, 502, &[], "text/plain", body.as_bytes()).await;
            return;
        }
    };
    if client
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .await
        .is_err()
    {
        return;
    }
    if !leftover.is_empty() && upstream.write_all(&leftover).await.is_err() {
        return;
    }
    stats.tunnels.fetch_add(1, Ordering::SeqCst);
    tracing::debug!("connect proxy: tunnel to {}", target_name(&host, port));
    splice(client, upstream).await;
}

/// `host:port` or `[v6]:port`.
fn split_authority(target: &str) -> Option<(String, u16)> {
    let (host, port) = target.rsplit_once(':')?;
    let port = port.parse().ok()?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    (!host.is_empty()).then(|| (host.to_owned(), port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_authorities() {
        assert_eq!(
            split_authority("127.0.0.1:443"),
            Some(("127.0.0.1".into(), 443))
        );
        assert_eq!(split_authority("[::1]:6443"), Some(("::1".into(), 6443)));
        assert_eq!(split_authority("nohost"), None);
    }
}
