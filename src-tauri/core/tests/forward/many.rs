//! Many connections through one forward, every byte checked; and the
//! viewer's forward where RBAC says no.

use std::time::Instant;

use porthole_core::forward::{ForwardError, ForwardOptions, TargetKind};
use porthole_testkit::workload::{Workload, WorkloadPort, unique_namespace};

use crate::support::{cluster, echo, forward, pattern, target};

const CONNECTIONS: usize = 64;
const BYTES_EACH: usize = 256 * 1024;

#[tokio::test]
async fn sixty_four_parallel_connections_through_one_forward_echo_every_byte() {
    let ns = unique_namespace("fwd-many");
    let w = Workload::create(
        cluster(),
        &ns,
        "echo",
        &[WorkloadPort::tcp_echo("tcp", 7000, 17000)],
    )
    .await
    .expect("workload");
    w.add_pod("echo-a").await.expect("pod");
    let fwd = forward(
        "porthole-admin",
        target(&ns, TargetKind::Service, "echo"),
        "7000",
        ForwardOptions::default(),
    )
    .await
    .expect("forward");
    let addr = fwd.listening()[0];
    let start = Instant::now();
    let tasks: Vec<_> = (0..CONNECTIONS)
        .map(|i| {
            tokio::spawn(async move {
                let data = pattern(i as u64, BYTES_EACH);
                let mut conn = tokio::net::TcpStream::connect(addr).await.expect("connect");
                let back = echo(&mut conn, &data).await.expect("echo");
                assert!(back == data, "connection {i}: the echoed bytes differ");
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("connection task");
    }
    let secs = start.elapsed().as_secs_f64();
    let total = (CONNECTIONS * BYTES_EACH) as f64;
    eprintln!(
        "{CONNECTIONS} parallel connections, {} KiB each way each: {:.2} s, {:.1} MiB/s each way",
        BYTES_EACH / 1024,
        secs,
        total / secs / (1 << 20) as f64
    );
    let s = fwd.status();
    assert_eq!(s.connections_total, CONNECTIONS as u64);
    assert_eq!(s.bytes_sent, (CONNECTIONS * BYTES_EACH) as u64);
    assert_eq!(s.bytes_received, (CONNECTIONS * BYTES_EACH) as u64);
    w.teardown().await.expect("teardown");
}

#[tokio::test]
async fn the_viewer_may_forward_in_team_a_but_gets_a_named_403_in_monitoring() {
    let allowed = forward(
        "porthole-viewer",
        target("team-a", TargetKind::Pod, "echo-0"),
        "8080",
        ForwardOptions::default(),
    )
    .await
    .expect("the viewer may forward in team-a");
    let (status, _) = crate::support::http_get(allowed.listening()[0], "/healthz")
        .await
        .expect("GET");
    assert_eq!(status, 200);

    let e = forward(
        "porthole-viewer",
        target("monitoring", TargetKind::Pod, "grafana-0"),
        "8080",
        ForwardOptions::default(),
    )
    .await
    .err()
    .expect("the viewer may not forward in monitoring");
    eprintln!("viewer in monitoring: {e}");
    assert!(matches!(e, ForwardError::Forbidden(_)), "{e:?}");
    let text = e.to_string();
    assert!(
        text.contains("pods/portforward") && text.contains("monitoring"),
        "{text}"
    );
}
