//! A minimal HTTP/1.1 GET for health checks of plain-HTTP endpoints (etcd,
//! backends), a TCP connect and a TCP echo check. Always with a timeout.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Status code and body of `GET path` on `addr` (Connection: close).
pub async fn get(addr: SocketAddr, path: &str, timeout: Duration) -> Result<(u16, String), String> {
    let exchange = async {
        let mut stream = TcpStream::connect(addr)
            .await
            .map_err(|e| format!("connect {addr}: {e}"))?;
        let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        stream
            .write_all(req.as_bytes())
            .await
            .map_err(|e| format!("write to {addr}: {e}"))?;
        let mut buf = Vec::new();
        stream
            .read_to_end(&mut buf)
            .await
            .map_err(|e| format!("read from {addr}: {e}"))?;
        parse(&buf).ok_or_else(|| format!("{addr}{path}: not an HTTP response"))
    };
    tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| format!("GET http://{addr}{path}: no answer within {timeout:?}"))?
}

/// Whether a TCP connection to `addr` succeeds within `timeout`.
pub async fn connects(addr: SocketAddr, timeout: Duration) -> Result<(), String> {
    match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(format!("connect {addr}: {e}")),
        Err(_) => Err(format!("connect {addr}: no answer within {timeout:?}")),
    }
}

/// Whether a TCP echo at `addr` sends a probe back within `timeout`.
pub async fn echoes(addr: SocketAddr, timeout: Duration) -> Result<(), String> {
    const PROBE: &[u8] = b"porthole echo probe\n";
    let exchange = async {
        let mut stream = TcpStream::connect(addr)
            .await
            .map_err(|e| format!("connect {addr}: {e}"))?;
        stream
            .write_all(PROBE)
            .await
            .map_err(|e| format!("write to {addr}: {e}"))?;
        let mut back = vec![0u8; PROBE.len()];
        stream
            .read_exact(&mut back)
            .await
            .map_err(|e| format!("read from {addr}: {e}"))?;
        if back == PROBE {
            Ok(())
        } else {
            Err(format!(
                "{addr} answered {:?}, not the probe",
                String::from_utf8_lossy(&back)
            ))
        }
    };
    tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| format!("echo at {addr}: no answer within {timeout:?}"))?
}

fn parse(buf: &[u8]) -> Option<(u16, String)> {
    let text = String::from_utf8_lossy(buf);
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    let chunked = head
        .lines()
        .any(|l| l.to_ascii_lowercase().starts_with("transfer-encoding:") && l.contains("chunked"));
    let body = if chunked {
        dechunk(body)?
    } else {
        body.to_owned()
    };
    Some((status, body))
}

fn dechunk(mut body: &str) -> Option<String> {
    let mut out = String::new();
    loop {
        let (size_line, rest) = body.split_once("\r\n")?;
        let size = usize::from_str_radix(size_line.split(';').next()?.trim(), 16).ok()?;
        if size == 0 {
            return Some(out);
        }
        out.push_str(rest.get(..size)?);
        body = rest.get(size + 2..)?;
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn parses_plain_and_chunked() {
        assert_eq!(
            super::parse(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
            Some((200, "ok".into()))
        );
        assert_eq!(
            super::parse(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n1\r\n!\r\n0\r\n\r\n"),
            Some((200, "ok!".into()))
        );
    }
}
