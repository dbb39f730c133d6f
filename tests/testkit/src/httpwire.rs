//! Just enough HTTP/1.1 for the harness's own small servers (the OIDC
//! issuer, the CONNECT proxy): read a request head and a
//! Content-Length body with size caps, write a `Connection: close` answer.

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

const MAX_HEAD: usize = 16 * 1024;
const MAX_BODY: usize = 64 * 1024;

#[derive(Debug, Clone)]
pub struct Head {
    pub method: String,
    /// Path (origin form) or `host:port` (CONNECT).
    pub target: String,
    /// Lowercased names.
    pub headers: Vec<(String, String)>,
}

impl Head {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Reads up to the end of the head; returns it and the bytes read past it.
pub async fn read_head<S: AsyncRead + Unpin>(s: &mut S) -> Result<(Head, Vec<u8>), String> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    let end = loop {
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            break i;
        }
        if buf.len() > MAX_HEAD {
            return Err(format!("request head longer than {MAX_HEAD} bytes"));
        }
        let n = s
            .read(&mut chunk)
            .await
            .map_err(|e| format!("reading the request: {e}"))?;
        if n == 0 {
            return Err("connection closed before the request head ended".into());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let rest = buf.split_off(end + 4);
    let text = String::from_utf8_lossy(&buf[..end]).into_owned();
    let mut lines = text.split("\r\n");
    let mut first = lines.next().unwrap_or_default().split_whitespace();
    let (Some(method), Some(target), Some(_version)) = (first.next(), first.next(), first.next())
    else {
        return Err("malformed request line".into());
    };
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Ok((
        Head {
            method: method.to_owned(),
            target: target.to_owned(),
            headers,
        },
        rest,
    ))
}

/// The body announced by Content-Length (`already` = bytes read with the head).
pub async fn read_body<S: AsyncRead + Unpin>(
    s: &mut S,
    head: &Head,
    mut already: Vec<u8>,
) -> Result<Vec<u8>, String> {
    let len: usize = match head.header("content-length") {
        Some(v) => v.parse().map_err(|_| format!("bad Content-Length {v:?}"))?,
        None => 0,
    };
    if len > MAX_BODY {
        return Err(format!("body of {len} bytes is over {MAX_BODY}"));
    }
    if already.len() < len {
        let mut more = vec![0u8; len - already.len()];
        s.read_exact(&mut more)
            .await
            .map_err(|e| format!("reading the body: {e}"))?;
        already.extend_from_slice(&more);
    }
    already.truncate(len);
    Ok(already)
}

/// Writes a complete response and flushes.
pub async fn respond<S: AsyncWrite + Unpin>(
    s: &mut S,
    status: u16,
    extra_headers: &[(&str, &str)],
    content_type: &str,
    body: &[u8],
) -> std::io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n",
        reason(status),
        body.len()
    );
    for (k, v) in extra_headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).await?;
    s.write_all(body).await?;
    s.flush().await
}

pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        407 => "Proxy Authentication Required",
        502 => "Bad Gateway",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reads_head_body_and_leftover() {
        let raw =
            b"POST /token HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello+extra".to_vec();
        let mut r = &raw[..];
        let (head, rest) = read_head(&mut r).await.expect("head");
        assert_eq!(head.method, "POST");
        assert_eq!(head.target, "/token");
        assert_eq!(head.header("Content-Length"), Some("5"));
        let body = read_body(&mut r, &head, rest).await.expect("body");
        assert_eq!(body, b"hello");
    }
}
