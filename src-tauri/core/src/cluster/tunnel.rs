//! Tunnels through a `proxy-url`: HTTP `CONNECT` and SOCKS5 (no auth or
//! user/password, the target sent as a name so the proxy resolves it, as
//! client-go does).
//!
//! Hand-written rather than hyper-util's `client-proxy` connectors
//! (`client::legacy::connect::proxy::{Tunnel, SocksV5}`, 0.1.21), because
//! those lose what the user is told today in `ConnectError::Proxy`:
//! - `Tunnel` answers every refusal but 407 with `TunnelUnsuccessful`
//!   ("unsuccessful"), so the proxy's status line (`403 Forbidden`, `502
//!   Bad Gateway`) is gone, and a 407 no longer says "407". It also opens
//!   the tunnel on 200 only (here: any 2xx) and drops whatever arrived in
//!   its 8 KiB read after the response head (here: read byte by byte).
//! - `SocksV5` with credentials offers only user/password (here: none and
//!   user/password), so a proxy that picks "no login" fails with "server
//!   implements authentication incorrectly"; a reply code outside 1–8 is
//!   "failed parsing server response" instead of a refusal; an I/O error
//!   no longer says at which step (greeting, login, connect request).
//!
//! Timeouts are not the reason: the connector bounds the whole tunnel
//! either way.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::auth::SecretHeader;

/// Asks an HTTP proxy for a tunnel to `host:port`; returns the stream once
/// it answered 2xx. The error is the proxy's status line or what broke.
pub async fn http_connect(
    mut stream: TcpStream,
    host: &str,
    port: u16,
    auth: Option<&SecretHeader>,
) -> Result<TcpStream, String> {
    let target = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let mut request = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n");
    if let Some(auth) = auth {
        let value = auth.header_value();
        let text = value
            .to_str()
            .map_err(|_| "the proxy credentials are not valid header text".to_owned())?;
        request.push_str(&format!("Proxy-Authorization: {text}\r\n"));
    }
    request.push_str("\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| format!("sending CONNECT: {e}"))?;
    // Read the response head byte by byte: anything after it belongs to TLS.
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > 16 * 1024 {
            return Err("the proxy's answer to CONNECT is too long".into());
        }
        let n = stream
            .read(&mut byte)
            .await
            .map_err(|e| format!("reading the answer to CONNECT: {e}"))?;
        if n == 0 {
            return Err("the proxy closed the connection during CONNECT".into());
        }
        head.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&head);
    let status_line = text.lines().next().unwrap_or_default().trim().to_owned();
    let code = status_line.split_whitespace().nth(1).unwrap_or_default();
    if code.starts_with('2') {
        Ok(stream)
    } else {
        Err(format!("CONNECT refused: {status_line}"))
    }
}

/// SOCKS5 handshake asking for `host:port`.
pub async fn socks5_connect(
    mut stream: TcpStream,
    host: &str,
    port: u16,
    credentials: Option<(&str, &str)>,
) -> Result<TcpStream, String> {
    let io = |what: &'static str| move |e: std::io::Error| format!("{what}: {e}");
    let methods: &[u8] = if credentials.is_some() {
        &[5, 2, 0, 2]
    } else {
        &[5, 1, 0]
    };
    stream
        .write_all(methods)
        .await
        .map_err(io("sending the SOCKS greeting"))?;
    let mut choice = [0u8; 2];
    stream
        .read_exact(&mut choice)
        .await
        .map_err(io("reading the SOCKS greeting"))?;
    if choice[0] != 5 {
        return Err("the proxy does not speak SOCKS5".into());
    }
    match (choice[1], credentials) {
        (0, _) => {}
        (2, Some((user, password))) => {
            let (u, p) = (user.as_bytes(), password.as_bytes());
            let (Ok(ul), Ok(pl)) = (u8::try_from(u.len()), u8::try_from(p.len())) else {
                return Err("SOCKS user name or password longer than 255 bytes".into());
            };
            let mut msg = vec![1, ul];
            msg.extend_from_slice(u);
            msg.push(pl);
            msg.extend_from_slice(p);
            stream
                .write_all(&msg)
                .await
                .map_err(io("sending SOCKS credentials"))?;
            let mut answer = [0u8; 2];
            stream
                .read_exact(&mut answer)
                .await
                .map_err(io("reading the SOCKS login answer"))?;
            if answer[1] != 0 {
                return Err("the SOCKS proxy refused the user name or password".into());
            }
        }
        (0xff, _) => return Err("the SOCKS proxy accepts none of our login methods".into()),
        (m, _) => {
            return Err(format!(
                "the SOCKS proxy chose an unsupported login method {m}"
            ));
        }
    }
    let mut request = vec![5, 1, 0];
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(ip)) => {
            request.push(1);
            request.extend_from_slice(&ip.octets());
        }
        Ok(std::net::IpAddr::V6(ip)) => {
            request.push(4);
            request.extend_from_slice(&ip.octets());
        }
        Err(_) => {
            let Ok(len) = u8::try_from(bare.len()) else {
                return Err("host name longer than 255 bytes".into());
            };
            request.push(3);
            request.push(len);
            request.extend_from_slice(bare.as_bytes());
        }
    }
    request.extend_from_slice(&port.to_be_bytes());
    stream
        .write_all(&request)
        .await
        .map_err(io("sending the SOCKS connect request"))?;
    let mut reply = [0u8; 4];
    stream
        .read_exact(&mut reply)
        .await
        .map_err(io("reading the SOCKS reply"))?;
    if reply[1] != 0 {
        return Err(format!(
            "the SOCKS proxy refused: {}",
            socks_reply(reply[1])
        ));
    }
    let skip = match reply[3] {
        1 => 4 + 2,
        4 => 16 + 2,
        3 => {
            let mut len = [0u8; 1];
            stream
                .read_exact(&mut len)
                .await
                .map_err(io("reading the SOCKS reply"))?;
            usize::from(len[0]) + 2
        }
        other => {
            return Err(format!(
                "the SOCKS reply has an unknown address type {other}"
            ));
        }
    };
    let mut rest = vec![0u8; skip];
    stream
        .read_exact(&mut rest)
        .await
        .map_err(io("reading the SOCKS reply"))?;
    Ok(stream)
}

fn socks_reply(code: u8) -> &'static str {
    match code {
        1 => "general failure",
        2 => "connection not allowed by ruleset",
        3 => "network unreachable",
        4 => "host unreachable",
        5 => "connection refused",
        6 => "TTL expired",
        7 => "command not supported",
        8 => "address type not supported",
        _ => "unknown error",
    }
}

#[cfg(test)]
mod tests {
    use tokio::net::TcpListener;

    use super::*;

    /// A proxy on loopback that, for each step, reads that many bytes and
    /// writes the answer; it returns everything it read.
    async fn scripted(
        steps: Vec<(usize, Vec<u8>)>,
    ) -> (TcpStream, tokio::task::JoinHandle<Vec<u8>>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        let proxy = tokio::spawn(async move {
            let (mut conn, _) = listener.accept().await.expect("accept");
            let mut read = Vec::new();
            for (length, answer) in steps {
                let mut buf = vec![0; length];
                conn.read_exact(&mut buf).await.expect("read");
                read.extend(buf);
                conn.write_all(&answer).await.expect("write");
            }
            read
        });
        (TcpStream::connect(address).await.expect("connect"), proxy)
    }

    const CONNECT: &[u8] = b"CONNECT k8s.example:6443 HTTP/1.1\r\nHost: k8s.example:6443\r\n\r\n";

    #[tokio::test]
    async fn a_refused_connect_names_the_proxys_status_line() {
        let answer = b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n".to_vec();
        let (stream, proxy) = scripted(vec![(CONNECT.len(), answer)]).await;
        let error = http_connect(stream, "k8s.example", 6443, None)
            .await
            .expect_err("refused");
        assert_eq!(error, "CONNECT refused: HTTP/1.1 403 Forbidden");
        assert_eq!(proxy.await.expect("proxy"), CONNECT);
    }

    #[tokio::test]
    async fn any_2xx_opens_the_tunnel_and_the_bytes_after_the_head_stay_in_it() {
        let answer = b"HTTP/1.1 204 No Content\r\n\r\nTLS".to_vec();
        let (stream, _proxy) = scripted(vec![(CONNECT.len(), answer)]).await;
        let mut tunnel = http_connect(stream, "k8s.example", 6443, None)
            .await
            .expect("tunnel");
        let mut first = [0u8; 3];
        tunnel.read_exact(&mut first).await.expect("read");
        assert_eq!(&first, b"TLS");
    }

    #[tokio::test]
    async fn a_socks_refusal_is_named() {
        let mut request = vec![5, 1, 0, 3, 11];
        request.extend_from_slice(b"k8s.example");
        request.extend_from_slice(&6443u16.to_be_bytes());
        let (stream, proxy) =
            scripted(vec![(3, vec![5, 0]), (request.len(), vec![5, 5, 0, 1])]).await;
        let error = socks5_connect(stream, "k8s.example", 6443, None)
            .await
            .expect_err("refused");
        assert_eq!(error, "the SOCKS proxy refused: connection refused");
        assert_eq!(proxy.await.expect("proxy")[3..], request[..]);
    }

    #[tokio::test]
    async fn with_credentials_the_socks_proxy_may_still_choose_no_login() {
        let request = [5, 1, 0, 1, 127, 0, 0, 1, 0x19, 0x2b];
        let (stream, proxy) = scripted(vec![
            (4, vec![5, 0]),
            (request.len(), vec![5, 0, 0, 1, 0, 0, 0, 0, 0, 0]),
        ])
        .await;
        socks5_connect(stream, "127.0.0.1", 6443, Some(("user", "password")))
            .await
            .expect("tunnel");
        let read = proxy.await.expect("proxy");
        assert_eq!(
            read[..4],
            [5, 2, 0, 2],
            "no login and user/password offered"
        );
        assert_eq!(read[4..], request);
    }
}
