//! Answers Porthole itself gives: kubectl's `Forbidden`, Kubernetes
//! `Status` JSON on API hosts, and a short readable page on service hosts
//! (a person in a browser reads those).

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::{BodyExt as _, Full};

use crate::cluster::client::BoxError;

/// Response bodies of the proxy: streamed from upstream or made here.
pub type ProxyBody = http_body_util::combinators::UnsyncBoxBody<Bytes, BoxError>;

pub fn body(bytes: impl Into<Bytes>) -> ProxyBody {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed_unsync()
}

fn with_type(status: StatusCode, content_type: &'static str, text: String) -> Response<ProxyBody> {
    let mut response = Response::new(body(text));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// kubectl proxy's rejection: `403` with the body `Forbidden`.
pub fn kubectl_forbidden() -> Response<ProxyBody> {
    with_type(
        StatusCode::FORBIDDEN,
        "text/plain; charset=utf-8",
        "Forbidden".to_owned(),
    )
}

/// A Kubernetes `Status` (what kubectl and client libraries parse).
pub fn status_json(status: StatusCode, reason: &str, message: &str) -> Response<ProxyBody> {
    let value = serde_json::json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": status.as_u16(),
    });
    with_type(status, "application/json", value.to_string())
}

/// A small page for a person: what failed and what to do.
pub fn service_page(status: StatusCode, title: &str, detail: &str) -> Response<ProxyBody> {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title} — Porthole</title>\
         <meta name=\"viewport\" content=\"width=device-width\"></head>\
         <body style=\"font-family:system-ui,sans-serif;max-width:42rem;margin:3rem auto;padding:0 1rem;line-height:1.5\">\
         <h1 style=\"font-size:1.3rem\">{title}</h1><p>{detail}</p>\
         <p style=\"color:#666;font-size:.9rem\">{code} · answered by Porthole's local proxy</p></body></html>",
        title = escape(title),
        detail = escape(detail),
        code = status,
    );
    let mut response = with_type(status, "text/html; charset=utf-8", html);
    // The page is Porthole's: no script, nothing embedded from elsewhere.
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'"),
    );
    response
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_escape_what_they_show() {
        let page = service_page(StatusCode::BAD_GATEWAY, "x", "<script>alert(1)</script>");
        assert_eq!(page.status(), StatusCode::BAD_GATEWAY);
        assert_eq!(escape("<a href='x'>&"), "&lt;a href=&#39;x&#39;&gt;&amp;");
    }
}
