//! `stream`: responses that arrive piece by piece.
//!
//! - `GET /chunked?count=N&interval_ms=M` (defaults 10 and 100): chunked
//!   transfer encoding, one line `chunk i\n` per chunk (i from 1 to N), the
//!   first at once and then one every M ms, each flushed as produced.
//! - `GET /events?count=N&interval_ms=M` (defaults 50 and 100):
//!   `text/event-stream`, events `id: i\ndata: {"n":i}\n\n` (i from 1 to N),
//!   the first at once and then one every M ms.

use std::time::Duration;

use bytes::Bytes;
use hyper::body::Incoming;
use hyper::header::{self, HeaderName};
use hyper::{Request, Response, StatusCode};

use crate::http::{self, Body};

const MAX_COUNT: u64 = 1_000_000;
const MAX_INTERVAL_MS: u64 = 60_000;

const INDEX: &str = "Porthole stream backend\n\
GET /chunked?count=N&interval_ms=M  chunked lines \"chunk i\" (defaults 10, 100)\n\
GET /events?count=N&interval_ms=M   server-sent events (defaults 50, 100)\n";

pub fn handle(req: Request<Incoming>) -> Response<Body> {
    if !http::is_get(req.method()) {
        return http::method_not_allowed("GET, HEAD");
    }
    let uri = req.uri();
    match uri.path() {
        "/" => http::text(StatusCode::OK, INDEX),
        "/chunked" => match params(uri, 10) {
            Ok((count, interval)) => {
                let body = produce(count, interval, |i| format!("chunk {i}\n"));
                streaming(http::response(
                    StatusCode::OK,
                    "text/plain; charset=utf-8",
                    body,
                ))
            }
            Err(message) => http::bad_request(message),
        },
        "/events" => match params(uri, 50) {
            Ok((count, interval)) => {
                let body = produce(count, interval, |i| {
                    format!("id: {i}\ndata: {{\"n\":{i}}}\n\n")
                });
                streaming(http::response(StatusCode::OK, "text/event-stream", body))
            }
            Err(message) => http::bad_request(message),
        },
        _ => http::not_found(),
    }
}

fn params(uri: &hyper::Uri, default_count: u64) -> Result<(u64, Duration), String> {
    let count = http::numeric_param(uri, "count", default_count, MAX_COUNT)?;
    let interval_ms = http::numeric_param(uri, "interval_ms", 100, MAX_INTERVAL_MS)?;
    Ok((count, Duration::from_millis(interval_ms)))
}

/// A body that yields `piece(1)` at once, then `piece(i)` every `interval`,
/// up to `piece(count)`. Stops early when the client goes away.
fn produce(count: u64, interval: Duration, piece: fn(u64) -> String) -> Body {
    let (tx, body) = http::channel(1);
    tokio::spawn(async move {
        for i in 1..=count {
            if i > 1 {
                tokio::select! {
                    () = tokio::time::sleep(interval) => {}
                    () = tx.closed() => return,
                }
            }
            if tx.send(Bytes::from(piece(i))).await.is_err() {
                return;
            }
        }
    });
    body
}

/// Headers that keep caches and buffering proxies from holding pieces back.
fn streaming(mut response: Response<Body>) -> Response<Body> {
    http::set_static(&mut response, header::CACHE_CONTROL, "no-cache");
    http::set_static(
        &mut response,
        HeaderName::from_static("x-accel-buffering"),
        "no",
    );
    response
}
