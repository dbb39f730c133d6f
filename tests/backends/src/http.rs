//! Small helpers shared by the modes: response builders, query parsing and a
//! channel-fed streaming body.

use std::convert::Infallible;
use std::pin::Pin;
use std::str::FromStr;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::Frame;
use http_body_util::{BodyExt, Full};
use hyper::header::{self, HeaderValue};
use hyper::{Method, Response, StatusCode, Uri};
use serde::Serialize;
use tokio::sync::mpsc;

/// The response body type of every mode.
pub type Body = http_body_util::combinators::BoxBody<Bytes, Infallible>;

/// A complete body from bytes.
pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).boxed()
}

/// A response with a status, a content type and a body.
pub fn response(status: StatusCode, content_type: &'static str, body: Body) -> Response<Body> {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// A plain-text response.
pub fn text(status: StatusCode, body: impl Into<Bytes>) -> Response<Body> {
    response(status, "text/plain; charset=utf-8", full(body))
}

/// A compact JSON response.
pub fn json<T: Serialize>(status: StatusCode, value: &T) -> Response<Body> {
    match serde_json::to_vec(value) {
        Ok(body) => response(status, "application/json", full(body)),
        Err(err) => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot encode JSON: {err}\n"),
        ),
    }
}

/// 404 with a short text.
pub fn not_found() -> Response<Body> {
    text(StatusCode::NOT_FOUND, "not found\n")
}

/// 405 naming the allowed methods.
pub fn method_not_allowed(allow: &'static str) -> Response<Body> {
    let mut response = text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    response
}

/// True for GET and HEAD.
pub fn is_get(method: &Method) -> bool {
    method == Method::GET || method == Method::HEAD
}

/// Sets a header from a static value.
pub fn set_static(response: &mut Response<Body>, name: header::HeaderName, value: &'static str) {
    response
        .headers_mut()
        .insert(name, HeaderValue::from_static(value));
}

/// The decoded `name=value` pairs of the query string, in order.
pub fn query_pairs(uri: &Uri) -> Vec<(String, String)> {
    uri.query()
        .map(|q| {
            form_urlencoded::parse(q.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// The first value of query parameter `name`.
pub fn query_value(uri: &Uri, name: &str) -> Option<String> {
    query_pairs(uri)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// Parses query parameter `name` as a number (`default` when absent) and
/// checks it against `max`. The error is a message for a 400 answer.
pub fn numeric_param<T>(uri: &Uri, name: &str, default: T, max: T) -> Result<T, String>
where
    T: FromStr + PartialOrd + std::fmt::Display + Copy,
{
    let Some(raw) = query_value(uri, name) else {
        return Ok(default);
    };
    match raw.parse::<T>() {
        Ok(value) if value <= max => Ok(value),
        Ok(_) => Err(format!("{name} must be at most {max}\n")),
        Err(_) => Err(format!("{name} must be a non-negative integer\n")),
    }
}

/// 400 with a message.
pub fn bad_request(message: String) -> Response<Body> {
    text(StatusCode::BAD_REQUEST, message)
}

/// A body fed by a channel: each message is one frame, written (and, since
/// the body then waits, flushed) as soon as it is sent. Dropping the sender
/// ends the body; a closed connection makes `send` fail.
pub struct ChannelBody {
    rx: mpsc::Receiver<Bytes>,
}

/// A sender and the body it feeds; `capacity` frames may wait in between.
pub fn channel(capacity: usize) -> (mpsc::Sender<Bytes>, Body) {
    let (tx, rx) = mpsc::channel(capacity);
    (tx, ChannelBody { rx }.boxed())
}

impl http_body::Body for ChannelBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.get_mut()
            .rx
            .poll_recv(cx)
            .map(|next| next.map(|bytes| Ok(Frame::data(bytes))))
    }
}
