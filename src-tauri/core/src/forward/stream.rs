//! What every transport shares: the stream handed to a connection, the
//! subresource path, and how a refused upgrade is named.

use std::time::Duration;

use bytes::Bytes;
use http::{Response, StatusCode};
use http_body_util::{BodyExt as _, Limited};
use hyper::body::Incoming;
use tokio::io::DuplexStream;
use tokio::sync::oneshot;

use super::error::DialError;

/// How much of a refused upgrade's body is read for its message.
const REFUSAL_BODY_LIMIT: usize = 64 * 1024;
const REFUSAL_BODY_TIMEOUT: Duration = Duration::from_secs(5);
/// Buffer between a protocol task and the connection it serves.
pub(super) const PIPE_BUFFER: usize = 256 * 1024;

/// A byte stream to a Pod's port. Reading and writing `io` reaches the
/// Pod; `remote_error` carries what the node said went wrong (connection
/// refused, no such port), if anything, once the stream ends.
pub struct PodStream {
    pub io: DuplexStream,
    pub remote_error: oneshot::Receiver<String>,
}

/// The path of the portforward subresource.
pub(super) fn portforward_path(namespace: &str, pod: &str, port: u16) -> String {
    format!(
        "/api/v1/namespaces/{}/pods/{}/portforward?ports={port}",
        path_segment(namespace),
        path_segment(pod),
    )
}

/// A name as one path segment: object names are DNS subdomains, but one
/// typed by a user may hold anything, and must not reach another path.
fn path_segment(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Names a refused upgrade from its status and (Kubernetes `Status`) body.
/// `transport` is what was asked for; statuses that say "not this
/// protocol" become [`DialError::TransportNotServed`].
pub(super) async fn refusal(
    response: Response<Incoming>,
    namespace: &str,
    pod: &str,
    transport: &'static str,
) -> DialError {
    let status = response.status();
    let body = tokio::time::timeout(
        REFUSAL_BODY_TIMEOUT,
        Limited::new(response.into_body(), REFUSAL_BODY_LIMIT).collect(),
    )
    .await
    .ok()
    .and_then(Result::ok)
    .map(|c| c.to_bytes())
    .unwrap_or_else(Bytes::new);
    let message = status_message(&body).unwrap_or_else(|| {
        let text = String::from_utf8_lossy(&body).trim().to_owned();
        if text.is_empty() {
            status
                .canonical_reason()
                .unwrap_or("no reason given")
                .to_owned()
        } else {
            text
        }
    });
    match status {
        StatusCode::FORBIDDEN | StatusCode::UNAUTHORIZED => DialError::Forbidden { message },
        StatusCode::NOT_FOUND => DialError::PodGone {
            namespace: namespace.to_owned(),
            pod: pod.to_owned(),
        },
        // The answers a server (or a proxy in front of it) gives when it
        // does not speak the upgrade that was asked for.
        StatusCode::BAD_REQUEST
        | StatusCode::UPGRADE_REQUIRED
        | StatusCode::METHOD_NOT_ALLOWED
        | StatusCode::NOT_IMPLEMENTED
        | StatusCode::OK => DialError::TransportNotServed { transport, message },
        other => DialError::Refused {
            status: other.as_u16(),
            message,
        },
    }
}

/// `message` of a Kubernetes `Status` body.
fn status_message(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    value
        .get("message")
        .and_then(|m| m.as_str())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn portforward_path_escapes_names_and_carries_the_port() {
        assert_eq!(
            portforward_path("team-a", "echo-0", 8080),
            "/api/v1/namespaces/team-a/pods/echo-0/portforward?ports=8080"
        );
    }

    #[test]
    fn a_typed_name_cannot_leave_its_path_segment() {
        assert_eq!(
            portforward_path("a/../b", "p?x", 1),
            "/api/v1/namespaces/a%2F..%2Fb/pods/p%3Fx/portforward?ports=1"
        );
    }

    #[test]
    fn status_message_reads_a_kubernetes_status() {
        let body = br#"{"kind":"Status","message":"pods \"x\" is forbidden: no"}"#;
        assert_eq!(
            status_message(body).as_deref(),
            Some("pods \"x\" is forbidden: no")
        );
        assert_eq!(status_message(b"not json"), None);
    }
}
