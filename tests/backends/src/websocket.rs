//! `websocket`: WebSocket echo on `GET /ws`. Text and binary messages come
//! back unchanged; pings are answered and the close handshake is honoured
//! (tungstenite replies to a close frame). A plain GET on `/` says what this
//! is; a GET on `/ws` without an upgrade gets 426.

use futures_util::{SinkExt, StreamExt};
use hyper::body::Incoming;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role;

use crate::http::{self, Body};

const INDEX: &str = "Porthole WebSocket echo backend: open a WebSocket to /ws; \
text and binary messages are echoed.\n";

pub fn handle(req: Request<Incoming>) -> Response<Body> {
    match req.uri().path() {
        "/" if http::is_get(req.method()) => http::text(StatusCode::OK, INDEX),
        "/" => http::method_not_allowed("GET, HEAD"),
        "/ws" => upgrade(req),
        _ => http::not_found(),
    }
}

fn upgrade(mut req: Request<Incoming>) -> Response<Body> {
    if req.method() != Method::GET {
        return http::method_not_allowed("GET");
    }
    let headers = req.headers();
    if !has_token(headers, header::CONNECTION, "upgrade")
        || !has_token(headers, header::UPGRADE, "websocket")
    {
        let mut response = http::text(
            StatusCode::UPGRADE_REQUIRED,
            "this endpoint needs a WebSocket upgrade (Connection: Upgrade, Upgrade: websocket)\n",
        );
        http::set_static(&mut response, header::UPGRADE, "websocket");
        http::set_static(&mut response, header::CONNECTION, "Upgrade");
        return response;
    }
    if headers
        .get(header::SEC_WEBSOCKET_VERSION)
        .is_none_or(|v| v.as_bytes() != b"13")
    {
        let mut response = http::text(
            StatusCode::UPGRADE_REQUIRED,
            "unsupported WebSocket version (need 13)\n",
        );
        http::set_static(&mut response, header::SEC_WEBSOCKET_VERSION, "13");
        return response;
    }
    let Some(key) = headers.get(header::SEC_WEBSOCKET_KEY) else {
        return http::text(StatusCode::BAD_REQUEST, "missing Sec-WebSocket-Key\n");
    };
    let Ok(accept) = HeaderValue::from_str(&derive_accept_key(key.as_bytes())) else {
        return http::text(
            StatusCode::INTERNAL_SERVER_ERROR,
            "cannot derive Sec-WebSocket-Accept\n",
        );
    };

    let on_upgrade = hyper::upgrade::on(&mut req);
    tokio::spawn(async move {
        match on_upgrade.await {
            Ok(upgraded) => echo(TokioIo::new(upgraded)).await,
            Err(err) => eprintln!("porthole-backends[websocket] upgrade failed: {err}"),
        }
    });

    let mut response = Response::new(http::full(""));
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    http::set_static(&mut response, header::UPGRADE, "websocket");
    http::set_static(&mut response, header::CONNECTION, "Upgrade");
    response
        .headers_mut()
        .insert(header::SEC_WEBSOCKET_ACCEPT, accept);
    response
}

/// Echoes data messages until the peer closes or the connection breaks.
async fn echo<S>(io: S)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let mut ws = WebSocketStream::from_raw_socket(io, Role::Server, None).await;
    while let Some(message) = ws.next().await {
        match message {
            Ok(message @ (Message::Text(_) | Message::Binary(_))) => {
                if ws.send(message).await.is_err() {
                    break;
                }
            }
            // Pings are answered and a close is acknowledged by tungstenite
            // itself; keep reading until it reports the end.
            Ok(_) => {}
            Err(_) => break,
        }
    }
}

/// Whether a comma-separated header holds `token` (case-insensitive).
fn has_token(headers: &HeaderMap, name: header::HeaderName, token: &str) -> bool {
    headers.get_all(name).iter().any(|value| {
        value.to_str().is_ok_and(|v| {
            v.split(',')
                .any(|part| part.trim().eq_ignore_ascii_case(token))
        })
    })
}
