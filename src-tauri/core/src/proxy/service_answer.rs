//! What a service host sends back: the service's own answer with
//! `Location` and cookie paths that carry the apiserver's proxy prefix
//! mapped back to the service's root and cookies kept to this host, or the
//! apiserver's own error turned into a readable page.

use http::header::{self, HeaderValue};
use http::{Response, StatusCode};
use http_body_util::{BodyExt as _, Limited};
use hyper::body::Incoming;

use super::guard;
use super::names::ServiceTarget;
use super::respond::{self, ProxyBody};
use super::route::Routed;
use crate::cluster::client::BoxError;

/// Apiserver answers on service hosts that are read to be shown as a page.
const STATUS_BODY_LIMIT: usize = 64 * 1024;

/// A service's response: `Location` and cookie paths that carry the proxy
/// prefix are mapped back to the service's root, cookies are kept to this
/// host (a `Domain` would share them with other services), and the
/// apiserver's own errors become a readable page.
pub(super) async fn service_response(
    response: Response<Incoming>,
    target: &ServiceTarget,
    routed: &Routed,
) -> Response<ProxyBody> {
    let prefix = target.proxy_prefix();
    let (mut parts, body) = response.into_parts();
    guard::strip_hop_by_hop(&mut parts.headers, false);
    if let Some(location) = parts
        .headers
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        && let Some(mapped) = map_prefixed(location, &prefix)
        && let Ok(value) = HeaderValue::from_str(&mapped)
    {
        parts.headers.insert(header::LOCATION, value);
    }
    let cookies: Vec<HeaderValue> = parts
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|c| HeaderValue::from_str(&host_only_cookie(c, &prefix)).ok())
        .collect();
    if !cookies.is_empty() {
        parts.headers.remove(header::SET_COOKIE);
        for cookie in cookies {
            parts.headers.append(header::SET_COOKIE, cookie);
        }
    }
    if is_apiserver_status(&parts) {
        let bytes = Limited::new(body, STATUS_BODY_LIMIT)
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        if let Some(page) = apiserver_error_page(parts.status, &bytes, target, routed) {
            return page;
        }
        return Response::from_parts(parts, respond::body(bytes));
    }
    if is_plain_html(&parts) {
        // Its length changes: the body goes out chunked.
        parts.headers.remove(header::CONTENT_LENGTH);
        let body = super::rewrite::Replace::new(body, format!("{prefix}/"), "/");
        return Response::from_parts(
            parts,
            body.map_err(|e| Box::new(e) as BoxError).boxed_unsync(),
        );
    }
    Response::from_parts(
        parts,
        body.map_err(|e| Box::new(e) as BoxError).boxed_unsync(),
    )
}

/// HTML without a content encoding: the only bodies whose links are mapped
/// back (compressed pages still work: their prefixed links are stripped
/// when requested).
fn is_plain_html(parts: &http::response::Parts) -> bool {
    let html = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.trim_start().to_ascii_lowercase().starts_with("text/html"));
    let encoded = parts
        .headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|e| !e.trim().eq_ignore_ascii_case("identity"));
    html && !encoded
}

/// An error status with a JSON body: possibly the apiserver's own `Status`
/// (no endpoints, refused, 401/403) rather than the service's answer.
fn is_apiserver_status(parts: &http::response::Parts) -> bool {
    matches!(parts.status.as_u16(), 401 | 403 | 404 | 500 | 502 | 503)
        && parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with("application/json"))
}

fn apiserver_error_page(
    status: StatusCode,
    body: &[u8],
    target: &ServiceTarget,
    routed: &Routed,
) -> Option<Response<ProxyBody>> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    if value["kind"] != "Status" || value["apiVersion"] != "v1" {
        return None;
    }
    let message = value["message"].as_str().unwrap_or("").to_owned();
    let user = routed.upstream.client.user().unwrap_or("(no user)");
    let service = format!("{}/{}:{}", target.namespace, target.service, target.port);
    let (title, detail) = match status.as_u16() {
        401 => (
            "Not signed in".to_owned(),
            format!(
                "The cluster of context {} did not accept the credentials of user {user}: {message}",
                routed.upstream.context
            ),
        ),
        403 => (
            "Not allowed".to_owned(),
            format!("User {user} may not open {service} through the API server: {message}"),
        ),
        503 if message.contains("no endpoints") => (
            "No endpoints".to_owned(),
            format!("{service} has no ready endpoints: no pod behind it is ready. {message}"),
        ),
        404 => ("Not found".to_owned(), format!("{service}: {message}")),
        _ => (
            "The service could not be reached".to_owned(),
            format!("The API server could not reach {service}: {message}"),
        ),
    };
    Some(respond::service_page(status, &title, &detail))
}

/// `/api/v1/namespaces/NS/services/x:80/proxy/a?b` → `/a?b`; other values
/// (relative, other hosts) are left alone (`None`).
pub(super) fn map_prefixed(value: &str, prefix: &str) -> Option<String> {
    let rest = value.strip_prefix(prefix)?;
    if rest.is_empty() {
        Some("/".to_owned())
    } else if rest.starts_with(['/', '?', '#']) {
        Some(if rest.starts_with('/') {
            rest.to_owned()
        } else {
            format!("/{rest}")
        })
    } else {
        None
    }
}

/// Drops `Domain=` (the cookie stays on this host) and maps a prefixed
/// `Path=` back to the service's root.
pub(super) fn host_only_cookie(cookie: &str, prefix: &str) -> String {
    cookie
        .split(';')
        .filter(|part| {
            !part
                .trim_start()
                .get(..7)
                .is_some_and(|k| k.eq_ignore_ascii_case("domain="))
        })
        .map(|part| {
            let trimmed = part.trim_start();
            match trimmed.get(..5) {
                Some(k) if k.eq_ignore_ascii_case("path=") => {
                    let value = &trimmed[5..];
                    match map_prefixed(value, prefix) {
                        Some(mapped) => format!(" Path={mapped}"),
                        None => part.to_owned(),
                    }
                }
                _ => part.to_owned(),
            }
        })
        .collect::<Vec<_>>()
        .join(";")
}
