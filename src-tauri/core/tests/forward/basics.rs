//! Pod and service forwards to the fixture backends, and the named
//! failures.

use porthole_core::forward::{ForwardError, ForwardOptions, ForwardState, TargetKind, Transport};

use crate::support::{forward, http_get, target};

fn websocket() -> ForwardOptions {
    ForwardOptions {
        transport: Transport::WebSocket,
        ..ForwardOptions::default()
    }
}

#[tokio::test]
async fn a_pod_forward_reaches_the_pods_port_over_websocket() {
    let fwd = forward(
        "porthole-admin",
        target("team-a", TargetKind::Pod, "echo-0"),
        "8080",
        websocket(),
    )
    .await
    .expect("forward to team-a/echo-0:8080");
    let addr = fwd.listening()[0];
    let (status, body) = http_get(addr, "/healthz")
        .await
        .expect("GET through the forward");
    assert_eq!((status, body.trim()), (200, "ok"));
    let s = fwd.status();
    assert_eq!(s.state, ForwardState::Listening);
    assert_eq!(s.pod.as_deref(), Some("echo-0"));
    assert_eq!(s.transport.as_deref(), Some("WebSocket"));
    assert_eq!(s.connections_total, 1);
    assert!(s.bytes_sent > 0 && s.bytes_received > 0, "{s:?}");
}

#[tokio::test]
async fn a_service_forward_reaches_a_ready_endpoint_pod() {
    let fwd = forward(
        "porthole-admin",
        target("team-a", TargetKind::Service, "echo"),
        "80",
        ForwardOptions::default(),
    )
    .await
    .expect("forward to svc team-a/echo:80");
    let (status, body) = http_get(fwd.listening()[0], "/healthz").await.expect("GET");
    assert_eq!((status, body.trim()), (200, "ok"));
    let s = fwd.status();
    assert_eq!(s.state, ForwardState::Listening, "{s:?}");
    assert_eq!(
        s.pod_port,
        Some(8080),
        "the endpoints' port for service port 80"
    );
}

#[tokio::test]
async fn a_missing_service_port_is_named() {
    let e = forward(
        "porthole-admin",
        target("team-a", TargetKind::Service, "echo"),
        "81",
        websocket(),
    )
    .await
    .err()
    .expect("no port 81");
    assert_eq!(
        e.to_string(),
        "service echo does not have a service port 81"
    );
}

#[tokio::test]
async fn a_missing_pod_is_named() {
    let e = forward(
        "porthole-admin",
        target("team-a", TargetKind::Pod, "nobody"),
        "80",
        websocket(),
    )
    .await
    .err()
    .expect("no such pod");
    assert!(matches!(e, ForwardError::PodNotFound { .. }), "{e}");
    assert_eq!(e.to_string(), "pod team-a/nobody not found");
}

#[tokio::test]
async fn a_port_nothing_listens_on_ends_the_connection_with_the_nodes_reason() {
    let fwd = forward(
        "porthole-admin",
        target("team-a", TargetKind::Pod, "echo-0"),
        "7",
        websocket(),
    )
    .await
    .expect("forward to port 7");
    let r = http_get(fwd.listening()[0], "/").await;
    assert!(
        r.is_err() || r.as_ref().is_ok_and(|(s, _)| *s == 0),
        "{r:?}"
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let error = loop {
        if let Some(e) = fwd.status().last_error {
            break e;
        }
        assert!(std::time::Instant::now() < deadline, "no error recorded");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    eprintln!("port 7: {error}");
    assert!(error.contains("connection refused"), "{error}");
}

#[tokio::test]
async fn a_healing_forward_to_an_external_name_service_is_refused_at_start() {
    let e = forward(
        "porthole-admin",
        target("default", TargetKind::Service, "external-name"),
        "443",
        ForwardOptions::default(),
    )
    .await
    .err()
    .expect("an ExternalName service has no pods");
    assert!(matches!(e, ForwardError::ExternalName { .. }), "{e}");
}
