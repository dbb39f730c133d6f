//! Each mode, served in-process on 127.0.0.1:0 and exercised over real
//! connections.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::{get, get_request, send, send_streaming, start};
use futures_util::{SinkExt, StreamExt};
use http_body_util::{BodyExt, Full};
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use porthole_test_backends::Mode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

#[tokio::test]
async fn every_mode_answers_healthz_with_ok() {
    for mode in Mode::ALL {
        let started = start(mode).await;
        if mode == Mode::Https {
            continue; // covered by https_serves_echo_over_tls_with_a_generated_certificate
        }
        if mode == Mode::TcpEcho {
            continue; // not HTTP: tcp_echo_* below
        }
        let response = get(started.addr, "/healthz").await;
        assert_eq!(response.status, StatusCode::OK, "{mode}");
        assert_eq!(response.text(), "ok", "{mode}");
    }
}

#[tokio::test]
async fn spa_index_uses_root_relative_assets_and_no_inline_script() {
    let spa = start(Mode::Spa).await;
    for path in ["/", "/index.html"] {
        let index = get(spa.addr, path).await;
        assert_eq!(index.status, StatusCode::OK);
        assert_eq!(index.header("content-type"), "text/html; charset=utf-8");
        let html = index.text();
        assert!(html.contains(r#"<script src="/assets/app.js" defer></script>"#));
        assert!(html.contains(r#"<link rel="stylesheet" href="/assets/app.css">"#));
        assert!(html.contains(r#"href="/page2""#));
        assert!(html.contains(r#"src="/assets/logo.svg""#));
        assert!(html.contains(r#"action="/submit""#));
        assert!(html.contains(r#"id="status""#));
        // Every script element loads a file: the page works under a strict CSP.
        assert_eq!(
            html.matches("<script").count(),
            html.matches("<script src=").count()
        );
        assert!(!html.contains("style="), "no inline styles");
        assert!(
            index
                .header("content-security-policy")
                .contains("script-src 'self'")
        );
    }
}

#[tokio::test]
async fn spa_serves_assets_with_their_content_types() {
    let spa = start(Mode::Spa).await;
    let cases = [
        ("/assets/app.js", "text/javascript; charset=utf-8"),
        ("/assets/app.css", "text/css; charset=utf-8"),
        ("/assets/logo.svg", "image/svg+xml"),
        ("/api/data", "application/json"),
        ("/page2", "text/html; charset=utf-8"),
        ("/submit?q=x", "text/html; charset=utf-8"),
    ];
    for (path, content_type) in cases {
        let response = get(spa.addr, path).await;
        assert_eq!(response.status, StatusCode::OK, "{path}");
        assert_eq!(response.header("content-type"), content_type, "{path}");
    }
    let js = get(spa.addr, "/assets/app.js").await.text();
    assert!(js.contains(r#"fetch("/api/data""#));
    assert!(js.contains("PORTHOLE-SPA-OK"));
    assert!(js.contains("PORTHOLE-SPA-FAILED: "));
    assert!(js.contains("--porthole-css"));
    let css = get(spa.addr, "/assets/app.css").await.text();
    assert!(css.contains("--porthole-css: loaded;"));
    let data = get(spa.addr, "/api/data").await.json();
    assert_eq!(data["source"], "porthole-test-spa");
    assert_eq!(
        get(spa.addr, "/assets/missing.js").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn echo_returns_method_path_query_headers_and_body_length() {
    let echo = start(Mode::Echo).await;
    let request = Request::post("/some/path?a=1&a=2&b=%20x")
        .header("host", "backend.example")
        .header("X-Multi", "one")
        .header("x-multi", "two")
        .header("content-type", "text/plain")
        .body(Full::new(Bytes::from_static(b"hello world")))
        .expect("valid request");
    let response = send(echo.addr, request).await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.header("content-type"), "application/json");
    let json = response.json();
    assert_eq!(json["method"], "POST");
    assert_eq!(json["path"], "/some/path");
    assert_eq!(json["rawQuery"], "a=1&a=2&b=%20x");
    assert_eq!(json["bodyLength"], 11);
    assert_eq!(
        json["headers"]["x-multi"],
        serde_json::json!(["one", "two"])
    );
    assert_eq!(
        json["headers"]["host"],
        serde_json::json!(["backend.example"])
    );
    assert_eq!(
        json["headers"]["content-type"],
        serde_json::json!(["text/plain"])
    );
    assert!(json.get("tls").is_none(), "plain echo has no tls field");
}

#[tokio::test]
async fn elasticsearch_health_is_pretty_printed_like_the_handbook() {
    let es = start(Mode::Elasticsearch).await;
    let pretty = get(es.addr, "/_cluster/health?pretty=true").await;
    assert_eq!(pretty.status, StatusCode::OK);
    assert_eq!(
        pretty.header("content-type"),
        "application/json; charset=UTF-8"
    );
    let text = pretty.text();
    assert!(
        text.starts_with("{\n  \"cluster_name\" : \"kubernetes_logging\",\n"),
        "{text}"
    );
    assert!(text.contains("  \"unassigned_shards\" : 5\n}"), "{text}");
    assert_eq!(get(es.addr, "/_cluster/health?pretty").await.text(), text);

    let compact = get(es.addr, "/_cluster/health").await.text();
    assert_eq!(
        compact,
        r#"{"cluster_name":"kubernetes_logging","status":"yellow","timed_out":false,"number_of_nodes":1,"number_of_data_nodes":1,"active_primary_shards":5,"active_shards":5,"relocating_shards":0,"initializing_shards":0,"unassigned_shards":5}"#
    );
}

#[tokio::test]
async fn elasticsearch_search_echoes_the_query_and_root_shows_a_banner() {
    let es = start(Mode::Elasticsearch).await;
    let search = get(es.addr, "/_search?q=kubernetes%20logs").await;
    assert_eq!(search.status, StatusCode::OK);
    assert_eq!(
        search.text(),
        r#"{"took":1,"timed_out":false,"hits":{"total":0,"hits":[]},"query":"kubernetes logs"}"#
    );
    let banner = get(es.addr, "/").await.json();
    assert_eq!(banner["cluster_name"], "kubernetes_logging");
    assert_eq!(banner["tagline"], "You Know, for Search");
    let missing = get(es.addr, "/nope").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.json()["status"], 404);
}

#[tokio::test]
async fn https_serves_echo_over_tls_with_a_generated_certificate() {
    let https = start(Mode::Https).await;
    let cert = https.cert_der.expect("https backend has a certificate");

    // The client trusts only the generated certificate and checks the IP SAN.
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls::pki_types::CertificateDer::from(cert))
        .expect("add the generated certificate");
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("TLS versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));

    for server_name in ["127.0.0.1", "localhost"] {
        let tcp = TcpStream::connect(https.addr).await.expect("connect");
        let name = rustls::pki_types::ServerName::try_from(server_name.to_owned())
            .expect("valid server name");
        let tls = connector
            .connect(name, tcp)
            .await
            .expect("TLS handshake verifies the generated certificate");
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .expect("HTTP/1 handshake");
        tokio::spawn(conn);
        let response = sender
            .send_request(get_request(https.addr, "/secure?x=1"))
            .await
            .expect("send request");
        let response = common::collect(response).await;
        assert_eq!(response.status, StatusCode::OK);
        let json = response.json();
        assert_eq!(json["tls"], true);
        assert_eq!(json["path"], "/secure");
        assert_eq!(json["rawQuery"], "x=1");
    }
}

#[tokio::test]
async fn chunked_stream_delivers_the_first_chunk_before_the_last_is_produced() {
    let stream = start(Mode::Stream).await;
    let mut tcp = TcpStream::connect(stream.addr).await.expect("connect");
    let request = format!(
        "GET /chunked?count=3&interval_ms=400 HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        stream.addr
    );
    let sent = Instant::now();
    tcp.write_all(request.as_bytes())
        .await
        .expect("send request");

    let mut received = Vec::new();
    let mut first_at = None;
    let mut buf = [0u8; 4096];
    loop {
        let n = tokio::time::timeout(Duration::from_secs(10), tcp.read(&mut buf))
            .await
            .expect("no stall")
            .expect("read");
        if n == 0 {
            break;
        }
        received.extend_from_slice(&buf[..n]);
        if first_at.is_none() && contains(&received, b"chunk 1\n") {
            first_at = Some(sent.elapsed());
            assert!(
                !contains(&received, b"chunk 3\n"),
                "the last chunk came with the first"
            );
        }
    }
    let done_at = sent.elapsed();
    let first_at = first_at.expect("first chunk arrived");
    let text = String::from_utf8_lossy(&received);
    assert!(
        text.to_ascii_lowercase()
            .contains("transfer-encoding: chunked"),
        "{text}"
    );
    for i in 1..=3 {
        assert!(text.contains(&format!("chunk {i}\n")), "{text}");
    }
    assert!(
        first_at < Duration::from_millis(350),
        "first chunk after {first_at:?}"
    );
    assert!(
        done_at >= first_at + Duration::from_millis(600),
        "first at {first_at:?}, done at {done_at:?}"
    );
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn sse_delivers_exactly_the_requested_number_of_events() {
    let stream = start(Mode::Stream).await;
    let response = get(stream.addr, "/events?count=5").await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.header("content-type"), "text/event-stream");
    let text = response.text();
    let events: Vec<&str> = text.split("\n\n").filter(|e| !e.is_empty()).collect();
    assert_eq!(events.len(), 5, "{text}");
    for (i, event) in events.iter().enumerate() {
        let n = i + 1;
        assert_eq!(*event, format!("id: {n}\ndata: {{\"n\":{n}}}"));
    }
}

#[tokio::test]
async fn stream_rejects_out_of_range_parameters() {
    let stream = start(Mode::Stream).await;
    let response = get(stream.addr, "/chunked?count=-1").await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    let response = get(stream.addr, "/events?interval_ms=999999999").await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn websocket_echoes_text_and_binary_frames_and_closes_cleanly() {
    let ws = start(Mode::Websocket).await;
    let tcp = TcpStream::connect(ws.addr).await.expect("connect");
    let url = format!("ws://{}/ws", ws.addr);
    let (mut socket, response) = tokio_tungstenite::client_async(url, tcp)
        .await
        .expect("WebSocket handshake");
    assert_eq!(response.status(), StatusCode::SWITCHING_PROTOCOLS);

    socket
        .send(Message::text("hello porthole"))
        .await
        .expect("send text");
    let echoed = socket.next().await.expect("an answer").expect("a frame");
    assert_eq!(echoed, Message::text("hello porthole"));

    socket
        .send(Message::binary(vec![0u8, 1, 2, 255]))
        .await
        .expect("send binary");
    let echoed = socket.next().await.expect("an answer").expect("a frame");
    assert_eq!(echoed, Message::binary(vec![0u8, 1, 2, 255]));

    socket.close(None).await.expect("send close");
    // The server acknowledges the close; the stream then ends.
    while let Some(frame) = socket.next().await {
        match frame {
            Ok(Message::Close(_)) => {}
            Ok(other) => panic!("unexpected frame after close: {other:?}"),
            Err(err) => panic!("close handshake failed: {err}"),
        }
    }
}

#[tokio::test]
async fn websocket_plain_get_says_an_upgrade_is_needed() {
    let ws = start(Mode::Websocket).await;
    let root = get(ws.addr, "/").await;
    assert_eq!(root.status, StatusCode::OK);
    assert!(root.text().contains("WebSocket"));
    let no_upgrade = get(ws.addr, "/ws").await;
    assert_eq!(no_upgrade.status, StatusCode::UPGRADE_REQUIRED);
}

#[tokio::test]
async fn download_streams_exactly_the_requested_byte_count() {
    const BYTES: u64 = 20_000_000;
    let download = start(Mode::Download).await;
    let response = send_streaming(
        download.addr,
        get_request(download.addr, &format!("/download?bytes={BYTES}")),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    assert_eq!(header("content-length"), Some(BYTES.to_string()));
    assert_eq!(
        header("content-type").as_deref(),
        Some("application/octet-stream")
    );

    let mut body = response.into_body();
    let mut total: u64 = 0;
    while let Some(frame) = body.frame().await {
        let frame = frame.expect("body frame");
        if let Some(data) = frame.data_ref() {
            // The byte at offset k is k % 256.
            for (i, byte) in data.iter().enumerate().step_by(4099) {
                assert_eq!(u64::from(*byte), (total + i as u64) % 256);
            }
            total += data.len() as u64;
        }
    }
    assert_eq!(total, BYTES);
}

#[tokio::test]
async fn download_rejects_more_than_ten_gibibytes() {
    let download = start(Mode::Download).await;
    let too_big = 10 * 1024 * 1024 * 1024u64 + 1;
    let response = get(download.addr, &format!("/download?bytes={too_big}")).await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    let response = get(download.addr, "/download?bytes=lots").await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn echo_whoami_names_the_address_the_client_reached() {
    let echo = start(Mode::Echo).await;
    let response = get(echo.addr, "/whoami").await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.header("content-type"), "text/plain; charset=utf-8");
    assert_eq!(response.text(), format!("{}\n", echo.addr));
    // Other modes keep their own routes.
    let spa = start(Mode::Spa).await;
    assert_eq!(get(spa.addr, "/whoami").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn tcp_echo_returns_every_byte_and_closes_after_the_clients_eof() {
    let echo = start(Mode::TcpEcho).await;
    let mut tcp = TcpStream::connect(echo.addr).await.expect("connect");
    // More than one read buffer, every byte value.
    let sent: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let (mut read, mut write) = tcp.split();
    let writer = async {
        write.write_all(&sent).await.expect("send");
        // Half-close: the echo must still finish writing, then close.
        write.shutdown().await.expect("half-close");
    };
    let mut received = Vec::new();
    let reader = async {
        tokio::time::timeout(Duration::from_secs(10), read.read_to_end(&mut received))
            .await
            .expect("the echo closes after the client's EOF")
            .expect("read");
    };
    tokio::join!(writer, reader);
    assert_eq!(received.len(), sent.len());
    assert!(received == sent, "bytes differ");
}

#[tokio::test]
async fn tcp_echo_serves_many_connections_at_once() {
    let echo = start(Mode::TcpEcho).await;
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..64u8 {
        let addr = echo.addr;
        tasks.spawn(async move {
            let mut tcp = TcpStream::connect(addr).await.expect("connect");
            let sent = vec![n; 10_000];
            tcp.write_all(&sent).await.expect("send");
            let mut back = vec![0u8; sent.len()];
            tokio::time::timeout(Duration::from_secs(10), tcp.read_exact(&mut back))
                .await
                .expect("echo within 10 s")
                .expect("read");
            assert!(back == sent, "connection {n}: bytes differ");
            // The connection stays open until we close it.
            tcp.write_all(b"x").await.expect("send again");
            let mut one = [0u8; 1];
            tcp.read_exact(&mut one).await.expect("read again");
            assert_eq!(&one, b"x");
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("connection task");
    }
}

#[tokio::test]
async fn tcp_echo_ends_open_connections_at_shutdown() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let backend = porthole_test_backends::Backend::new(Mode::TcpEcho, listener).expect("prepare");
    let addr = backend.local_addr();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(backend.run(async move {
        let _ = stop_rx.await;
    }));
    let mut tcp = TcpStream::connect(addr).await.expect("connect");
    tcp.write_all(b"ping").await.expect("send");
    let mut back = [0u8; 4];
    tcp.read_exact(&mut back).await.expect("echo");
    let _ = stop_tx.send(());
    let mut rest = Vec::new();
    // A FIN or a reset: either way it ends, with nothing more to read.
    let _ = tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut rest))
        .await
        .expect("the connection ends when the server stops");
    assert!(rest.is_empty(), "{rest:?}");
    tokio::time::timeout(Duration::from_secs(5), running)
        .await
        .expect("run returns")
        .expect("run task");
}
