//! A `Forward` whose transport is SPDY: local connections through it, its
//! counters, and the node's errors in its status.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use porthole_core::forward::{
    Forward, ForwardOptions, ForwardRequest, RemotePort, Target, TargetKind, Transport,
};
use tokio::io::AsyncReadExt as _;
use tokio::net::TcpStream;

use crate::support::{Pattern, client, exchange, get, mib_per_s};

const SECOND: Duration = Duration::from_secs(1);

async fn start(namespace: &str, kind: TargetKind, name: &str, port: u16) -> Forward {
    let request = ForwardRequest {
        target: Target {
            namespace: namespace.to_owned(),
            kind,
            name: name.to_owned(),
        },
        remote: RemotePort::Number(port),
        addresses: vec![Ipv4Addr::LOCALHOST.into()],
        local_port: 0,
        options: ForwardOptions {
            transport: Transport::Spdy,
            ..ForwardOptions::default()
        },
    };
    Forward::start(client("porthole-admin").await, request)
        .await
        .unwrap_or_else(|e| panic!("forward to {namespace}/{name}:{port}: {e}"))
}

async fn connect(forward: &Forward) -> TcpStream {
    TcpStream::connect((Ipv4Addr::LOCALHOST, forward.local_port()))
        .await
        .expect("connect to the forward")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pod_forward_over_spdy_carries_requests() {
    let forward = start("team-a", TargetKind::Pod, "echo-0", 8080).await;
    let mut socket = connect(&forward).await;
    let answer = get(&mut socket, "/healthz").await;
    assert_eq!((answer.status, answer.body.as_slice()), (200, &b"ok"[..]));
    let status = forward.status();
    assert_eq!(status.transport.as_deref(), Some("SPDY"));
    assert_eq!(status.connections_total, 1);
    assert!(status.bytes_received >= 2, "{status:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn sixty_four_connections_through_a_service_forward_each_check_every_byte() {
    const CONNECTIONS: usize = 64;
    const BYTES: u64 = 1 << 20;
    let forward = start("default", TargetKind::Service, "download", 80).await;
    let started = Instant::now();
    let connections = (0..CONNECTIONS).map(|i| {
        let forward = &forward;
        async move {
            let mut socket = connect(forward).await;
            let request = format!("GET /download?bytes={BYTES} HTTP/1.1\r\nHost: pod\r\n\r\n");
            let mut pattern = Pattern::default();
            let status = exchange(&mut socket, request.as_bytes(), |b| pattern.check(b)).await;
            assert_eq!(status, 200, "connection {i}");
            assert_eq!(
                (pattern.offset, pattern.first_bad),
                (BYTES, None),
                "connection {i}"
            );
        }
    });
    tokio::time::timeout(120 * SECOND, futures_util::future::join_all(connections))
        .await
        .expect("64 connections within 120 s");
    let elapsed = started.elapsed();
    let status = forward.status();
    assert_eq!(status.transport.as_deref(), Some("SPDY"));
    assert_eq!(status.connections_total, CONNECTIONS as u64);
    assert!(
        status.bytes_received >= BYTES * CONNECTIONS as u64,
        "{status:?}"
    );
    println!(
        "{CONNECTIONS} connections at once through svc/download over SPDY, 1 MiB each: {:.0} ms, {:.0} MiB/s in all",
        elapsed.as_secs_f64() * 1000.0,
        mib_per_s(BYTES * CONNECTIONS as u64, elapsed)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_nodes_error_reaches_the_forwards_status() {
    let forward = start("team-a", TargetKind::Pod, "echo-0", 9999).await;
    let mut socket = connect(&forward).await;
    let mut rest = Vec::new();
    tokio::time::timeout(10 * SECOND, socket.read_to_end(&mut rest))
        .await
        .expect("the connection ends within 10 s")
        .expect("read");
    // A client closes once the other side has: the connection then ends.
    drop(socket);
    let mut status = forward.subscribe();
    let said = tokio::time::timeout(
        5 * SECOND,
        status.wait_for(|s| {
            s.last_error
                .as_deref()
                .is_some_and(|e| e.contains("connection refused"))
        }),
    )
    .await;
    assert!(
        said.is_ok(),
        "the node's error in the status: {:?}",
        forward.status().last_error
    );
}
