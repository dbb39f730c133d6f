//! SOCKS5 proxy (RFC 1928): no authentication, CONNECT only, IPv4, domain
//! and IPv6 targets — what kubeconfig `proxy-url: socks5://…` uses.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::{HANDSHAKE_TIMEOUT, ProxyHandle, Stats, dial, splice, target_name};
use crate::error::Result;
use crate::loopback;

const VERSION: u8 = 5;
const NO_AUTH: u8 = 0;
const NO_ACCEPTABLE_METHOD: u8 = 0xff;
const CMD_CONNECT: u8 = 1;
const REP_OK: u8 = 0;
const REP_FAILURE: u8 = 1;
const REP_REFUSED: u8 = 5;
const REP_COMMAND_NOT_SUPPORTED: u8 = 7;
const REP_ATYP_NOT_SUPPORTED: u8 = 8;

pub struct Socks5Proxy;

impl Socks5Proxy {
    pub fn start() -> Result<ProxyHandle> {
        let stats = Arc::new(Stats::default());
        let s = stats.clone();
        let server = loopback::serve("socks5-proxy", move |stream, _peer| {
            let stats = s.clone();
            async move { handle(stream, &stats).await }
        })?;
        Ok(ProxyHandle {
            server,
            scheme: "socks5",
            stats,
        })
    }
}

/// A refused request: the reply code to send (if any) and why.
struct Refusal(Option<u8>, String);

async fn handle(mut client: TcpStream, stats: &Stats) {
    let negotiated = tokio::time::timeout(HANDSHAKE_TIMEOUT, negotiate(&mut client, stats)).await;
    let (host, port) = match negotiated {
        Ok(Ok(t)) => t,
        Ok(Err(Refusal(code, why))) => {
            tracing::debug!("socks5 proxy: {why}");
            stats.refused();
            if let Some(code) = code {
                let _ = reply(&mut client, code).await;
            }
            return;
        }
        Err(_) => {
            stats.refused();
            return;
        }
    };
    let upstream = match dial(&host, port).await {
        Ok(u) => u,
        Err(e) => {
            tracing::debug!("socks5 proxy: {e}");
            stats.refused();
            let _ = reply(&mut client, REP_REFUSED).await;
            return;
        }
    };
    if reply(&mut client, REP_OK).await.is_err() {
        return;
    }
    stats.tunnels.fetch_add(1, Ordering::SeqCst);
    splice(client, upstream).await;
}

async fn negotiate(c: &mut TcpStream, stats: &Stats) -> Result<(String, u16), Refusal> {
    let io = |e: std::io::Error| Refusal(None, e.to_string());
    let mut hdr = [0u8; 2];
    c.read_exact(&mut hdr).await.map_err(io)?;
    if hdr[0] != VERSION {
        return Err(Refusal(None, format!("not SOCKS5 (version {})", hdr[0])));
    }
    let mut methods = vec![0u8; usize::from(hdr[1])];
    c.read_exact(&mut methods).await.map_err(io)?;
    if !methods.contains(&NO_AUTH) {
        let _ = c.write_all(&[VERSION, NO_ACCEPTABLE_METHOD]).await;
        return Err(Refusal(
            None,
            "client offers no 'no authentication' method".into(),
        ));
    }
    c.write_all(&[VERSION, NO_AUTH]).await.map_err(io)?;

    let mut req = [0u8; 4];
    c.read_exact(&mut req).await.map_err(io)?;
    let [ver, cmd, _rsv, atyp] = req;
    if ver != VERSION {
        return Err(Refusal(Some(REP_FAILURE), "bad request version".into()));
    }
    let host = match atyp {
        1 => {
            let mut a = [0u8; 4];
            c.read_exact(&mut a).await.map_err(io)?;
            Ipv4Addr::from(a).to_string()
        }
        3 => {
            let mut len = [0u8; 1];
            c.read_exact(&mut len).await.map_err(io)?;
            let mut name = vec![0u8; usize::from(len[0])];
            c.read_exact(&mut name).await.map_err(io)?;
            String::from_utf8(name)
                .map_err(|_| Refusal(Some(REP_FAILURE), "domain name is not UTF-8".into()))?
        }
        4 => {
            let mut a = [0u8; 16];
            c.read_exact(&mut a).await.map_err(io)?;
            Ipv6Addr::from(a).to_string()
        }
        other => {
            return Err(Refusal(
                Some(REP_ATYP_NOT_SUPPORTED),
                format!("address type {other}"),
            ));
        }
    };
    let mut port = [0u8; 2];
    c.read_exact(&mut port).await.map_err(io)?;
    let port = u16::from_be_bytes(port);
    stats.requested(&target_name(&host, port));
    if cmd != CMD_CONNECT {
        return Err(Refusal(
            Some(REP_COMMAND_NOT_SUPPORTED),
            format!("command {cmd} (only CONNECT)"),
        ));
    }
    Ok((host, port))
}

/// A reply with an all-zero IPv4 bound address (clients ignore it).
async fn reply(c: &mut TcpStream, code: u8) -> std::io::Result<()> {
    c.write_all(&[VERSION, code, 0, 1, 0, 0, 0, 0, 0, 0]).await
}
