//! `forward::spdy::dial` straight to the fixture Pods.

use std::time::{Duration, Instant};

use futures_util::{SinkExt as _, StreamExt as _};
use porthole_core::forward::{DialError, PodStream, spdy, websocket};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio_tungstenite::tungstenite::Message;

use crate::support::{
    DOWNLOAD, ECHO, Pattern, STREAM, WEBSOCKET, client, exchange, get, median_ms, mib_per_s,
};

const ADMIN: &str = "porthole-admin";
const SECOND: Duration = Duration::from_secs(1);

async fn dial_spdy(target: (&str, &str, u16)) -> PodStream {
    let client = client(ADMIN).await;
    spdy::dial(&client, target.0, target.1, target.2)
        .await
        .unwrap_or_else(|e| panic!("SPDY dial {target:?}: {e}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn requests_go_through_and_the_end_of_sending_passes_on() {
    let PodStream {
        mut io,
        remote_error,
    } = dial_spdy(ECHO).await;
    for _ in 0..2 {
        let answer = get(&mut io, "/healthz").await;
        assert_eq!((answer.status, answer.body.as_slice()), (200, &b"ok"[..]));
    }
    // FIN on our side: the backend sees the end of the request stream,
    // closes, and its FIN comes back as the end of the stream.
    io.shutdown().await.expect("half-close");
    let mut rest = Vec::new();
    tokio::time::timeout(10 * SECOND, io.read_to_end(&mut rest))
        .await
        .expect("the Pod's end of sending within 10 s")
        .expect("read to the end");
    assert!(rest.is_empty(), "nothing after the answers: {rest:?}");
    let said = tokio::time::timeout(10 * SECOND, remote_error)
        .await
        .expect("the stream ends within 10 s");
    assert!(said.is_err(), "no error from the node: {said:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_100_mib_download_arrives_byte_for_byte() {
    const BYTES: u64 = 100 << 20;
    let client = client(ADMIN).await;
    let (ns, pod, port) = DOWNLOAD;
    let request = format!("GET /download?bytes={BYTES} HTTP/1.1\r\nHost: pod\r\n\r\n");
    let mut figures = Vec::new();
    for transport in ["SPDY", "WebSocket"] {
        let mut stream = match transport {
            "SPDY" => spdy::dial(&client, ns, pod, port).await,
            _ => websocket::dial(&client, ns, pod, port).await,
        }
        .unwrap_or_else(|e| panic!("{transport} dial: {e}"));
        let mut pattern = Pattern::default();
        let started = Instant::now();
        let status = tokio::time::timeout(
            120 * SECOND,
            exchange(&mut stream.io, request.as_bytes(), |b| pattern.check(b)),
        )
        .await
        .unwrap_or_else(|_| panic!("{transport}: 100 MiB within 120 s"));
        let elapsed = started.elapsed();
        assert_eq!(status, 200);
        assert_eq!(pattern.offset, BYTES, "{transport}: every byte");
        assert_eq!(pattern.first_bad, None, "{transport}: every byte right");
        figures.push(format!(
            "{transport} {:.0} MiB/s",
            mib_per_s(BYTES, elapsed)
        ));
    }
    println!(
        "download of 100 MiB through the apiserver: {}",
        figures.join(", ")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_upload_and_its_echo_cross_byte_for_byte() {
    const MESSAGE: usize = 1 << 20;
    const MESSAGES: usize = 64;
    let stream = dial_spdy(WEBSOCKET).await;
    let (ws, _) = tokio_tungstenite::client_async("ws://pod/ws", stream.io)
        .await
        .expect("a WebSocket to the echo backend, over the SPDY stream");
    let (mut tx, mut rx) = ws.split();
    let message = |i: usize| -> Vec<u8> {
        (0..MESSAGE)
            .map(|k| ((k * 31 + i * 7) % 251) as u8)
            .collect()
    };
    let started = Instant::now();
    let send = async {
        for i in 0..MESSAGES {
            tx.send(Message::Binary(message(i).into()))
                .await
                .expect("send");
        }
    };
    let receive = async {
        for i in 0..MESSAGES {
            match rx.next().await {
                Some(Ok(Message::Binary(data))) => {
                    assert!(
                        data[..] == message(i)[..],
                        "message {i} came back unchanged"
                    );
                }
                other => panic!("message {i}: {other:?}"),
            }
        }
    };
    tokio::time::timeout(120 * SECOND, async { tokio::join!(send, receive) })
        .await
        .expect("64 MiB each way within 120 s");
    let elapsed = started.elapsed();
    println!(
        "64 MiB up and its echo down at once over SPDY: {:.0} MiB/s each way",
        mib_per_s((MESSAGE * MESSAGES) as u64, elapsed)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_port_nothing_listens_on_is_named_by_the_node() {
    let (ns, pod, _) = ECHO;
    let PodStream {
        mut io,
        remote_error,
    } = dial_spdy((ns, pod, 9999)).await;
    let mut rest = Vec::new();
    tokio::time::timeout(10 * SECOND, io.read_to_end(&mut rest))
        .await
        .expect("the stream ends within 10 s")
        .expect("read");
    assert!(rest.is_empty());
    let message = tokio::time::timeout(10 * SECOND, remote_error)
        .await
        .expect("the error within 10 s")
        .expect("the node says what went wrong");
    println!("node's error: {message}");
    assert!(message.contains("9999"), "{message}");
    assert!(message.contains("connection refused"), "{message}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_viewer_may_not_forward_in_monitoring() {
    let client = client("porthole-viewer").await;
    match spdy::dial(&client, "monitoring", "grafana-0", 8080).await {
        Err(DialError::Forbidden { message }) => {
            assert!(message.contains("portforward"), "{message}");
        }
        Err(other) => panic!("403 forbidden, got {other}"),
        Ok(_) => panic!("403 forbidden, got a stream"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pod_that_is_not_there_is_named() {
    let client = client(ADMIN).await;
    match spdy::dial(&client, "team-a", "no-such-pod", 8080).await {
        Err(DialError::PodGone { namespace, pod }) => {
            assert_eq!(
                (namespace.as_str(), pod.as_str()),
                ("team-a", "no-such-pod")
            );
        }
        Err(other) => panic!("pod gone, got {other}"),
        Ok(_) => panic!("pod gone, got a stream"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn thirty_two_streams_at_once_each_check_every_byte() {
    const STREAMS: usize = 32;
    const BYTES: u64 = 4 << 20;
    let client = client(ADMIN).await;
    let (ns, pod, port) = DOWNLOAD;
    let started = Instant::now();
    let streams = (0..STREAMS).map(|i| {
        let client = client.clone();
        async move {
            let mut stream = spdy::dial(&client, ns, pod, port)
                .await
                .unwrap_or_else(|e| panic!("stream {i}: {e}"));
            let request = format!("GET /download?bytes={BYTES} HTTP/1.1\r\nHost: pod\r\n\r\n");
            let mut pattern = Pattern::default();
            let status = exchange(&mut stream.io, request.as_bytes(), |b| pattern.check(b)).await;
            assert_eq!(status, 200, "stream {i}");
            assert_eq!(
                (pattern.offset, pattern.first_bad),
                (BYTES, None),
                "stream {i}"
            );
        }
    });
    tokio::time::timeout(120 * SECOND, futures_util::future::join_all(streams))
        .await
        .expect("32 streams within 120 s");
    let elapsed = started.elapsed();
    println!(
        "{STREAMS} SPDY streams at once, 4 MiB each: {:.0} ms, {:.0} MiB/s in all",
        elapsed.as_secs_f64() * 1000.0,
        mib_per_s(BYTES * STREAMS as u64, elapsed)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn connection_set_up_time_is_printed_next_to_websockets() {
    const ROUNDS: usize = 20;
    let client = client(ADMIN).await;
    let (ns, pod, port) = ECHO;
    let mut figures = Vec::new();
    for transport in ["SPDY", "WebSocket"] {
        let mut samples = Vec::new();
        for _ in 0..ROUNDS {
            let started = Instant::now();
            let mut stream = match transport {
                "SPDY" => spdy::dial(&client, ns, pod, port).await,
                _ => websocket::dial(&client, ns, pod, port).await,
            }
            .unwrap_or_else(|e| panic!("{transport} dial: {e}"));
            let answer = get(&mut stream.io, "/healthz").await;
            samples.push(started.elapsed());
            assert_eq!(answer.status, 200);
        }
        figures.push(format!("{transport} {:.1} ms", median_ms(samples)));
    }
    println!(
        "dial + GET /healthz, median of {ROUNDS}: {}",
        figures.join(", ")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn forwarded_connections_share_a_spdy_connection_that_closes_when_idle() {
    let client = client(ADMIN).await;
    let (ns, pod, port) = STREAM;
    let key = spdy::pool::Key::new(&client, ns, pod);
    for _ in 0..10 {
        let PodStream {
            mut io,
            remote_error,
        } = spdy::dial(&client, ns, pod, port).await.expect("dial");
        let answer = get(&mut io, "/healthz").await;
        assert_eq!(answer.status, 200);
        io.shutdown().await.expect("half-close");
        let mut rest = Vec::new();
        io.read_to_end(&mut rest).await.expect("read to the end");
        drop(io);
        // The stream's end is released once the node finished it.
        assert!(remote_error.await.is_err(), "no error");
    }
    assert_eq!(
        spdy::pool::connections(&key),
        1,
        "ten dials, one connection"
    );
    tokio::time::timeout(spdy::pool::LINGER + 5 * SECOND, async {
        while spdy::pool::connections(&key) > 0 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .expect("the idle connection closes after lingering");
}
