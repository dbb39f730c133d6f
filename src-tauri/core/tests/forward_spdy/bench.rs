//! Porthole's forward next to `kubectl port-forward`, over SPDY and over
//! WebSocket: download throughput and new-connection set-up time, both
//! through a local TCP port. A benchmark: run it built with optimizations,
//! `cargo test --release -p porthole-core --test forward_spdy -- --ignored --nocapture`.

use std::io::{BufRead as _, BufReader};
use std::net::Ipv4Addr;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use porthole_core::forward::{
    Forward, ForwardOptions, ForwardRequest, RemotePort, Target, TargetKind, Transport,
};
use tokio::net::TcpStream;

use crate::support::{DOWNLOAD, Pattern, client, cluster, exchange, get, median_ms, mib_per_s};

const BYTES: u64 = 256 << 20;
const SET_UPS: usize = 30;

/// Best-of-3 download MiB/s and the median set-up + `GET /healthz` in ms,
/// through `port`.
async fn measure(port: u16) -> (f64, f64) {
    let mut best = Duration::MAX;
    for _ in 0..3 {
        let mut socket = TcpStream::connect((Ipv4Addr::LOCALHOST, port))
            .await
            .expect("connect");
        let request = format!("GET /download?bytes={BYTES} HTTP/1.1\r\nHost: pod\r\n\r\n");
        let mut pattern = Pattern::default();
        let started = Instant::now();
        let status = exchange(&mut socket, request.as_bytes(), |b| pattern.check(b)).await;
        best = best.min(started.elapsed());
        assert_eq!(
            (status, pattern.offset, pattern.first_bad),
            (200, BYTES, None)
        );
    }
    let mut samples = Vec::new();
    for _ in 0..SET_UPS {
        let started = Instant::now();
        let mut socket = TcpStream::connect((Ipv4Addr::LOCALHOST, port))
            .await
            .expect("connect");
        let answer = get(&mut socket, "/healthz").await;
        samples.push(started.elapsed());
        assert_eq!(answer.status, 200);
    }
    (mib_per_s(BYTES, best), median_ms(samples))
}

/// `kubectl port-forward` to the download Pod; its local port.
fn kubectl(websockets: bool) -> (Child, u16) {
    let (ns, pod, port) = DOWNLOAD;
    let mut child = cluster()
        .kubectl("admin")
        .env("KUBECTL_PORT_FORWARD_WEBSOCKETS", websockets.to_string())
        .args([
            "port-forward",
            "-n",
            ns,
            &format!("pod/{pod}"),
            &format!(":{port}"),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("kubectl port-forward");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    out.read_line(&mut line).expect("kubectl's first line");
    // "Forwarding from 127.0.0.1:PORT -> 8080"
    let local = line
        .split_whitespace()
        .nth(2)
        .and_then(|addr| addr.rsplit(':').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("a port in {line:?}"));
    // kubectl writes a line per connection: keep reading, or it dies of
    // a closed pipe.
    std::thread::spawn(move || {
        let mut line = String::new();
        while out.read_line(&mut line).is_ok_and(|n| n > 0) {
            line.clear();
        }
    });
    (child, local)
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "a benchmark: run with --release -- --ignored"]
async fn forward_next_to_kubectl() {
    let (ns, pod, port) = DOWNLOAD;
    for transport in [Transport::Spdy, Transport::WebSocket] {
        let (mut child, local) = kubectl(transport == Transport::WebSocket);
        let (kubectl_mib, kubectl_ms) = measure(local).await;
        let _ = child.kill();
        let _ = child.wait();
        let request = ForwardRequest {
            target: Target {
                namespace: ns.to_owned(),
                kind: TargetKind::Pod,
                name: pod.to_owned(),
            },
            remote: RemotePort::Number(port),
            addresses: vec![Ipv4Addr::LOCALHOST.into()],
            local_port: 0,
            options: ForwardOptions {
                transport,
                ..ForwardOptions::default()
            },
        };
        let forward = Forward::start(client("porthole-admin").await, request)
            .await
            .expect("forward");
        let (ours_mib, ours_ms) = measure(forward.local_port()).await;
        println!(
            "{}: download {ours_mib:.0} MiB/s (kubectl {kubectl_mib:.0}), new connection + GET {ours_ms:.1} ms (kubectl {kubectl_ms:.1})",
            transport.name()
        );
    }
}
