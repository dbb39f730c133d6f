//! Tunnels through a `proxy-url`: HTTP `CONNECT` and SOCKS5 (no auth or
//! user/password, the target sent as a name so the proxy resolves it, as
//! client-go does).

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
