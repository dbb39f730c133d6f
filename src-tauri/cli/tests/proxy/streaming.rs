//! Streaming (#5 item 2): bodies pass through without buffering.
//!
//! `logs?follow=true` cannot be tested here: the test control plane has no
//! kubelet (its Pods only carry a patched status), so the apiserver has no
//! log stream to proxy. Watches (below and in `parity`) and the `stream`
//! backend exercise the same path: a response that stays open and sends
//! as it goes.

use http_body::Body as _;
use http_body_util::BodyExt as _;

use crate::support::{
    Proxy, Req, TestNamespace, cluster, kubectl_admin, open, print_table, read_until, rss_kib,
};

const DOWNLOAD_BYTES: u64 = 100 * 1024 * 1024;

/// Reads the whole body, checking the download backend's pattern (byte k
/// is k % 256); returns the byte count and the peak RSS of `pid` seen
/// while reading.
async fn drain_download(body: &mut hyper::body::Incoming, pid: u32) -> (u64, u64) {
    let mut offset: u64 = 0;
    let mut peak = rss_kib(pid);
    let mut next_sample = 0u64;
    while let Some(frame) = body.frame().await {
        let frame = frame.expect("reading the download");
        if let Some(data) = frame.data_ref() {
            for (i, b) in data.iter().enumerate() {
                let k = offset + i as u64;
                assert_eq!(u64::from(*b), k % 256, "byte {k} of the download is wrong");
            }
            offset += data.len() as u64;
        }
        if offset >= next_sample {
            peak = peak.max(rss_kib(pid));
            next_sample += 4 * 1024 * 1024;
        }
    }
    (offset, peak)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_100_mb_download_through_a_service_host_passes_with_flat_memory() {
    let _ = cluster();
    let porthole = Proxy::porthole("porthole-admin", &[]).await;
    let kubectl = Proxy::kubectl("porthole-admin", &[]).await;
    let mut rows = Vec::new();
    for (proxy, req) in [
        (
            &porthole,
            Req::get(format!("/download?bytes={DOWNLOAD_BYTES}")).host(format!(
                "80.download.default.porthole-admin.localhost:{}",
                porthole.port
            )),
        ),
        (
            &kubectl,
            Req::get(format!(
                "/api/v1/namespaces/default/services/download:http/proxy/download?bytes={DOWNLOAD_BYTES}"
            )),
        ),
    ] {
        let pid = proxy.pid();
        let before = rss_kib(pid);
        let response = open(&proxy.addr, &req).await;
        assert_eq!(response.status(), 200, "{} download", proxy.kind.name());
        let mut body = response.into_body();
        let (bytes, peak) = drain_download(&mut body, pid).await;
        let after = rss_kib(pid);
        assert_eq!(
            bytes,
            DOWNLOAD_BYTES,
            "{}: the whole download",
            proxy.kind.name()
        );
        rows.push(vec![
            proxy.kind.name().to_owned(),
            format!("{:.1}", before as f64 / 1024.0),
            format!("{:.1}", peak as f64 / 1024.0),
            format!("{:.1}", after as f64 / 1024.0),
            format!("{:+.1}", (peak as f64 - before as f64) / 1024.0),
        ]);
        if proxy.kind == crate::support::Kind::Porthole {
            assert!(
                peak.saturating_sub(before) < 200 * 1024,
                "portholectl proxy grew by {} MiB during a 100 MB download: it buffers",
                peak.saturating_sub(before) / 1024
            );
        }
    }
    print_table(
        "100 MB download through the proxy (VmRSS of the proxy process, MiB)",
        &["proxy", "before", "peak", "after", "growth"],
        &rows,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_streams_its_first_event_while_it_is_still_open() {
    let ns = TestNamespace::create("proxy-stream");
    let porthole = Proxy::porthole("porthole-admin", &[]).await;
    for host in [
        None,
        Some(format!("porthole-admin.localhost:{}", porthole.port)),
    ] {
        let list_req = Req::get(format!("/api/v1/namespaces/{}/configmaps", ns.0));
        let list_req = match &host {
            Some(h) => list_req.host(h.clone()),
            None => list_req,
        };
        let list = crate::support::send(&porthole.addr, &list_req).await.json();
        let rv = list["metadata"]["resourceVersion"]
            .as_str()
            .expect("resourceVersion")
            .to_owned();
        let mut req = Req::get(format!(
            "/api/v1/namespaces/{}/configmaps?watch=true&resourceVersion={rv}&timeoutSeconds=120",
            ns.0
        ));
        if let Some(h) = &host {
            req = req.host(h.clone());
        }
        let response = open(&porthole.addr, &req).await;
        assert_eq!(response.status(), 200);
        let mut body = response.into_body();
        let name = format!(
            "streamed-{}",
            if host.is_some() {
                "context-host"
            } else {
                "localhost"
            }
        );
        kubectl_admin(&["-n", &ns.0, "create", "configmap", &name]);
        let mut buf = Vec::new();
        read_until(&mut body, &mut buf, |b| b.contains(&b'\n'))
            .await
            .expect("the first event arrives before the watch ends");
        assert!(
            !body.is_end_stream(),
            "the watch was still open when its first event arrived"
        );
        let text = String::from_utf8_lossy(&buf);
        assert!(text.contains(&name), "the event names {name}: {text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chunked_stream_from_a_service_arrives_chunk_by_chunk() {
    let _ = cluster();
    let porthole = Proxy::porthole("porthole-admin", &[]).await;
    // Three chunks, 3 s apart: the first must arrive while the others are
    // still being produced.
    let response = open(
        &porthole.addr,
        &Req::get("/chunked?count=3&interval_ms=3000").host(format!(
            "80.stream.default.porthole-admin.localhost:{}",
            porthole.port
        )),
    )
    .await;
    assert_eq!(response.status(), 200);
    let mut body = response.into_body();
    let mut buf = Vec::new();
    read_until(&mut body, &mut buf, |b| b.starts_with(b"chunk 1\n"))
        .await
        .expect("the first chunk");
    assert!(
        !body.is_end_stream() && !String::from_utf8_lossy(&buf).contains("chunk 3"),
        "the first chunk arrived on its own, before the stream ended"
    );
    let rest = body.collect().await.expect("the rest").to_bytes();
    buf.extend_from_slice(&rest);
    assert_eq!(String::from_utf8_lossy(&buf), "chunk 1\nchunk 2\nchunk 3\n");
}
