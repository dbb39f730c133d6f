//! Service forwards heal: the Pod behind a forward is deleted and another
//! becomes ready; the listener stays, open connections to the gone Pod
//! end, and the next connection reaches the new Pod. Heal times printed.

use std::time::{Duration, Instant};

use porthole_core::forward::{ForwardOptions, ForwardState, TargetKind};
use porthole_testkit::workload::{Workload, WorkloadPort, unique_namespace};
use tokio::io::AsyncReadExt as _;
use tokio::net::TcpStream;

use crate::support::{cluster, echo, echo_once, forward, http_get, target};

/// Retries `echo_once` until it succeeds: the time it took.
async fn until_echo(addr: std::net::SocketAddr, within: Duration) -> Duration {
    let start = Instant::now();
    loop {
        match echo_once(addr, b"after the heal").await {
            Ok(()) => return start.elapsed(),
            Err(e) => {
                assert!(
                    start.elapsed() < within,
                    "no successful connection within {within:?}: {e}"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
}

#[tokio::test]
async fn a_service_forward_moves_to_a_new_ready_pod_when_its_pod_is_deleted() {
    let ns = unique_namespace("fwd-heal");
    let w = Workload::create(
        cluster(),
        &ns,
        "db",
        &[
            WorkloadPort::tcp_echo("pg", 5432, 15432),
            WorkloadPort::http_echo("http", 80, 8080),
        ],
    )
    .await
    .expect("workload");
    w.add_pod("db-a").await.expect("pod a");
    let tcp = forward(
        "porthole-admin",
        target(&ns, TargetKind::Service, "db"),
        "pg",
        ForwardOptions::default(),
    )
    .await
    .expect("forward svc/db pg");
    let http = forward(
        "porthole-admin",
        target(&ns, TargetKind::Service, "db"),
        "80",
        ForwardOptions::default(),
    )
    .await
    .expect("forward svc/db 80");
    let addr = tcp.listening()[0];
    echo_once(addr, b"before")
        .await
        .expect("echo through pod a");
    let (_, who) = http_get(http.listening()[0], "/whoami")
        .await
        .expect("whoami a");
    let ip_a = w.pod_ip("db-a").expect("a's ip").to_string();
    assert!(who.starts_with(&ip_a), "whoami {who:?}, pod a is {ip_a}");

    // A connection held open across the heal must end, not hang.
    let mut held = TcpStream::connect(addr).await.expect("connect");
    assert_eq!(echo(&mut held, b"held").await.expect("held echo"), b"held");

    // 1. Pod gone, none ready yet; then a new Pod becomes ready.
    let gone = Instant::now();
    w.delete_pod("db-a").await.expect("delete a");
    let mut rest = Vec::new();
    let ended = tokio::time::timeout(Duration::from_secs(10), held.read_to_end(&mut rest)).await;
    assert!(
        ended.is_ok(),
        "the connection to the deleted Pod did not end within 10 s"
    );
    w.add_pod("db-b").await.expect("pod b");
    let b_ready = Instant::now();
    until_echo(addr, Duration::from_secs(30)).await;
    eprintln!(
        "heal (pod deleted, then a new pod added): next successful connection {:.0} ms after the delete began, {:.0} ms after the new pod was ready",
        gone.elapsed().as_secs_f64() * 1e3,
        b_ready.elapsed().as_secs_f64() * 1e3
    );
    let (_, who) = http_get(http.listening()[0], "/whoami")
        .await
        .expect("whoami b");
    let ip_b = w.pod_ip("db-b").expect("b's ip").to_string();
    assert!(
        who.starts_with(&ip_b),
        "whoami {who:?} after the heal, pod b is {ip_b}"
    );

    // 2. Failover with another Pod already ready.
    w.add_pod("db-c").await.expect("pod c");
    let gone = Instant::now();
    w.delete_pod("db-b").await.expect("delete b");
    let took = until_echo(addr, Duration::from_secs(30)).await;
    eprintln!(
        "heal (pod deleted, another already ready): next successful connection {:.0} ms after the delete returned ({:.0} ms incl. the delete)",
        took.as_secs_f64() * 1e3,
        gone.elapsed().as_secs_f64() * 1e3
    );
    let s = tcp.status();
    assert_eq!(s.state, ForwardState::Listening, "{s:?}");
    assert_eq!(s.pod.as_deref(), Some("db-c"), "{s:?}");
    assert!(s.heals >= 2, "{s:?}");
    w.teardown().await.expect("teardown");
}

#[tokio::test]
async fn with_no_ready_pod_a_connection_waits_a_bounded_time_then_is_closed_with_the_reason() {
    let ns = unique_namespace("fwd-wait");
    let w = Workload::create(
        cluster(),
        &ns,
        "cache",
        &[WorkloadPort::tcp_echo("redis", 6379, 16379)],
    )
    .await
    .expect("workload");
    w.add_pod("cache-a").await.expect("pod");
    let options = ForwardOptions {
        ready_wait: Duration::from_secs(2),
        ..ForwardOptions::default()
    };
    let fwd = forward(
        "porthole-admin",
        target(&ns, TargetKind::Service, "cache"),
        "6379",
        options,
    )
    .await
    .expect("forward");
    let addr = fwd.listening()[0];
    echo_once(addr, b"ready").await.expect("echo while ready");

    w.set_ready("cache-a", false).await.expect("unready");
    let mut sub = fwd.subscribe();
    tokio::time::timeout(
        Duration::from_secs(10),
        sub.wait_for(|s| matches!(s.state, ForwardState::Healing | ForwardState::WaitingForPod)),
    )
    .await
    .expect("the forward notices the Pod is not ready")
    .expect("status");

    let start = Instant::now();
    let mut conn = TcpStream::connect(addr).await.expect("the listener stays");
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), conn.read_to_end(&mut buf)).await;
    let waited = start.elapsed();
    assert!(
        read.is_ok(),
        "the waiting connection was not closed within 10 s"
    );
    assert!(
        waited >= Duration::from_millis(1900),
        "closed after {waited:?}, before the wait"
    );
    let reason = fwd.status().last_error.unwrap_or_default();
    eprintln!("no ready pod: closed after {waited:?}: {reason}");
    assert!(reason.contains("no ready pod"), "{reason}");

    // A connection that arrives while none is ready is served once one is.
    let waiting = tokio::spawn(async move { echo_once(addr, b"served after the wait").await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    w.set_ready("cache-a", true).await.expect("ready again");
    waiting
        .await
        .expect("task")
        .expect("the waiting connection is served");
    w.teardown().await.expect("teardown");
}
