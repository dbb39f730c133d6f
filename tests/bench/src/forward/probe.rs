//! One short HTTP exchange on a fresh TCP connection, timed from before
//! connect() to the first response byte: what a client of a forward waits
//! for before anything happens.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::time::Instant;

/// An exchange's timing and answer.
#[derive(Debug, Clone)]
pub struct Answer {
    /// connect() → the first response byte.
    pub first_byte: Duration,
    pub status: u16,
    pub body: String,
}

/// `GET path` with `Connection: close` on a new connection to `addr`, the
/// whole exchange within `timeout`. Errors are text: a failed probe is an
/// outcome here (a forward healing or gone), not a broken bench.
pub async fn get(addr: SocketAddr, path: &str, timeout: Duration) -> Result<Answer, String> {
    let work = async {
        let start = Instant::now();
        let mut conn = TcpStream::connect(addr)
            .await
            .map_err(|e| format!("connect: {e}"))?;
        conn.set_nodelay(true)
            .map_err(|e| format!("TCP_NODELAY: {e}"))?;
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: porthole-bench\r\nConnection: close\r\n\r\n"
        );
        conn.write_all(request.as_bytes())
            .await
            .map_err(|e| format!("sending the request: {e}"))?;
        let mut first = [0u8; 1];
        let n = conn
            .read(&mut first)
            .await
            .map_err(|e| format!("reading the answer: {e}"))?;
        if n == 0 {
            return Err("closed without an answer".to_owned());
        }
        let first_byte = start.elapsed();
        let mut raw = first.to_vec();
        conn.read_to_end(&mut raw)
            .await
            .map_err(|e| format!("reading the answer: {e}"))?;
        let text = String::from_utf8_lossy(&raw);
        let status = text
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("not an HTTP answer: {:?}", truncated(&text)))?;
        let body = text
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_owned())
            .unwrap_or_default();
        Ok(Answer {
            first_byte,
            status,
            body,
        })
    };
    tokio::time::timeout(timeout, work)
        .await
        .map_err(|_| format!("no complete answer within {timeout:?}"))?
}

fn truncated(text: &str) -> String {
    text.chars().take(120).collect()
}
