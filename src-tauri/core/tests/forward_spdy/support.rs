//! Helpers: a client per context of the test cluster, a small HTTP/1.1
//! exchange over any byte stream, and the download backend's pattern.

use std::path::Path;
use std::time::Duration;

use porthole_core::auth::ExecEnv;
use porthole_core::cluster::connect::Timeouts;
use porthole_core::cluster::{ClientEnv, ClusterClient, client_for_context};
use porthole_core::kubeconfig::{KubeconfigSources, load_snapshot};
use porthole_core::shell_path::process_search_path;
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};

pub use porthole_testkit::cluster;

/// The echo backend's pod and HTTP port (`GET /healthz` → `ok`).
pub const ECHO: (&str, &str, u16) = ("team-a", "echo-0", 8080);
/// The download backend (`GET /download?bytes=N`: byte k is k % 256).
pub const DOWNLOAD: (&str, &str, u16) = ("default", "download-0", 8080);
/// The stream backend (only its `/healthz` is used), for the test that
/// counts shared connections: no other test dials it.
pub const STREAM: (&str, &str, u16) = ("default", "stream-0", 8080);
/// The WebSocket echo backend (`/ws`).
pub const WEBSOCKET: (&str, &str, u16) = ("default", "websocket-0", 8080);

fn env() -> ClientEnv {
    ClientEnv {
        exec: ExecEnv {
            search_path: process_search_path(std::env::var_os("PATH").as_deref(), &[]),
            stdin_is_terminal: false,
            timeout: Duration::from_secs(20),
        },
        timeouts: Timeouts {
            connect: Duration::from_secs(3),
            tls_handshake: Duration::from_secs(3),
        },
        response_timeout: Duration::from_secs(20),
    }
}

/// The client of `context` in the test cluster's kubeconfig.
pub async fn client(context: &str) -> ClusterClient {
    client_in(cluster().kubeconfig(), context).await
}

async fn client_in(kubeconfig: &Path, context: &str) -> ClusterClient {
    let snapshot = load_snapshot(&KubeconfigSources::explicit(kubeconfig)).await;
    client_for_context(&snapshot.merged, context, &env())
        .await
        .unwrap_or_else(|p| panic!("client for {context}: {p}"))
}

/// An HTTP answer: status code and body.
pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
}

/// Sends `request` (a whole HTTP/1.1 request, head and body) and reads the
/// answer's head; the body goes to `body` as it arrives, up to its
/// Content-Length.
pub async fn exchange<S>(io: &mut S, request: &[u8], mut body: impl FnMut(&[u8])) -> u16
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    io.write_all(request).await.expect("send the request");
    let mut head = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    let (status, length, rest) = loop {
        let n = io.read(&mut buf).await.expect("read the answer");
        assert!(
            n > 0,
            "the stream ended before the answer's head: {:?}",
            String::from_utf8_lossy(&head)
        );
        head.extend_from_slice(&buf[..n]);
        if let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            let text = String::from_utf8_lossy(&head[..end]).into_owned();
            let status: u16 = text
                .split_whitespace()
                .nth(1)
                .and_then(|s| s.parse().ok())
                .unwrap_or_else(|| panic!("a status line: {text}"));
            let length: u64 = text
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse().ok())?
                })
                .unwrap_or_else(|| panic!("a Content-Length: {text}"));
            break (status, length, head[end + 4..].to_vec());
        }
    };
    let mut got = rest.len() as u64;
    body(&rest);
    while got < length {
        let n = io.read(&mut buf).await.expect("read the body");
        assert!(n > 0, "the body ended after {got} of {length} bytes");
        body(&buf[..n]);
        got += n as u64;
    }
    assert_eq!(got, length, "no more than Content-Length");
    status
}

/// `GET path` and the whole answer.
pub async fn get<S>(io: &mut S, path: &str) -> Answer
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let request = format!("GET {path} HTTP/1.1\r\nHost: pod\r\n\r\n");
    let mut body = Vec::new();
    let status = exchange(io, request.as_bytes(), |b| body.extend_from_slice(b)).await;
    Answer { status, body }
}

/// Checks a download's bytes against the pattern as they arrive.
#[derive(Default)]
pub struct Pattern {
    pub offset: u64,
    pub first_bad: Option<u64>,
}

impl Pattern {
    pub fn check(&mut self, bytes: &[u8]) {
        for (i, &b) in bytes.iter().enumerate() {
            if self.first_bad.is_none() && u64::from(b) != (self.offset + i as u64) % 256 {
                self.first_bad = Some(self.offset + i as u64);
            }
        }
        self.offset += bytes.len() as u64;
    }
}

/// MiB/s for `bytes` in `elapsed`.
pub fn mib_per_s(bytes: u64, elapsed: Duration) -> f64 {
    bytes as f64 / (1024.0 * 1024.0) / elapsed.as_secs_f64()
}

/// The median of some durations, in ms.
pub fn median_ms(mut samples: Vec<Duration>) -> f64 {
    samples.sort();
    samples[samples.len() / 2].as_secs_f64() * 1000.0
}
