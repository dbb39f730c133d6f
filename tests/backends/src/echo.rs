//! `echo` (and `https`): answers any method and path with a JSON description
//! of the request as it arrived, so tests can prove which headers a proxy
//! forwards. The body is counted, never stored.

use std::collections::BTreeMap;

use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::header::HOST;
use hyper::{Request, Response, StatusCode, Version};
use serde::Serialize;

use crate::http::{self, Body};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Echo {
    method: String,
    path: String,
    raw_query: String,
    /// `HTTP/1.1` or `HTTP/2.0`.
    proto: &'static str,
    /// The Host header, or the authority of an HTTP/2 request.
    host: String,
    /// Lowercased names; repeated headers keep every value in order.
    headers: BTreeMap<String, Vec<String>>,
    body_length: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    tls: Option<bool>,
}

/// `tls` is true for the `https` mode: the answer then carries `"tls": true`.
pub async fn handle(req: Request<Incoming>, tls: bool) -> Response<Body> {
    let (parts, mut body) = req.into_parts();
    let mut body_length: u64 = 0;
    while let Some(frame) = body.frame().await {
        match frame {
            Ok(frame) => {
                if let Some(data) = frame.data_ref() {
                    body_length = body_length.saturating_add(data.len() as u64);
                }
            }
            Err(err) => {
                return http::text(
                    StatusCode::BAD_REQUEST,
                    format!("cannot read the request body: {err}\n"),
                );
            }
        }
    }

    let mut headers: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in &parts.headers {
        headers
            .entry(name.as_str().to_owned())
            .or_default()
            .push(String::from_utf8_lossy(value.as_bytes()).into_owned());
    }
    let host = parts
        .headers
        .get(HOST)
        .map(|h| String::from_utf8_lossy(h.as_bytes()).into_owned())
        .or_else(|| parts.uri.authority().map(|a| a.to_string()))
        .unwrap_or_default();

    http::json(
        StatusCode::OK,
        &Echo {
            method: parts.method.to_string(),
            path: parts.uri.path().to_owned(),
            raw_query: parts.uri.query().unwrap_or_default().to_owned(),
            proto: proto(parts.version),
            host,
            headers,
            body_length,
            tls: tls.then_some(true),
        },
    )
}

fn proto(version: Version) -> &'static str {
    match version {
        Version::HTTP_09 => "HTTP/0.9",
        Version::HTTP_10 => "HTTP/1.0",
        Version::HTTP_2 => "HTTP/2.0",
        Version::HTTP_3 => "HTTP/3.0",
        _ => "HTTP/1.1",
    }
}
