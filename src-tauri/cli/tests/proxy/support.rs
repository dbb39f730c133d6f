//! Shared helpers: `kubectl proxy` and `portholectl proxy` as child
//! processes, a small HTTP/1.1 client that sends exactly the headers a test
//! chooses (any `Host`), raw TCP requests, WebSocket frames, and the
//! backends' request log (to prove what never reached a service).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Request};
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

pub use porthole_testkit::cluster;

/// Generous bound for one request (functional, not a performance check).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The combined kubeconfig of the test cluster.
pub fn kubeconfig() -> PathBuf {
    cluster().kubeconfig().to_path_buf()
}

/// A unique marker for paths, names and namespaces of this run.
pub fn nonce() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Which proxy a child is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Kubectl,
    Porthole,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Self::Kubectl => "kubectl",
            Self::Porthole => "porthole",
        }
    }
}

/// A proxy child process on a free port, killed on drop.
pub struct Proxy {
    pub kind: Kind,
    pub child: Child,
    /// `127.0.0.1:PORT`
    pub addr: String,
    pub port: u16,
}

impl Proxy {
    /// `kubectl proxy --port=0 --context CTX ARGS…` on the combined kubeconfig.
    pub async fn kubectl(context: &str, args: &[&str]) -> Self {
        let mut cmd = Command::new("kubectl");
        cmd.arg("--kubeconfig")
            .arg(kubeconfig())
            .args(["--context", context, "proxy", "--port=0"])
            .args(args);
        Self::spawn(Kind::Kubectl, cmd).await
    }

    /// `portholectl --kubeconfig K proxy --port=0 --context CTX ARGS…`.
    pub async fn porthole(context: &str, args: &[&str]) -> Self {
        Self::porthole_with(&kubeconfig(), context, args).await
    }

    pub async fn porthole_with(kubeconfig: &Path, context: &str, args: &[&str]) -> Self {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_portholectl"));
        cmd.arg("--kubeconfig")
            .arg(kubeconfig)
            .args(["proxy", "--port=0", "--context", context])
            .args(args);
        Self::spawn(Kind::Porthole, cmd).await
    }

    pub async fn spawn(kind: Kind, mut cmd: Command) -> Self {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        let desc = format!("{cmd:?}");
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("{desc}: cannot start ({e}); kubectl must be on PATH"));
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .unwrap_or_else(|_| panic!("{desc} did not print \"Starting to serve on\" within 30 s"))
            .expect("reading the proxy's stdout")
            .unwrap_or_else(|| panic!("{desc} exited before printing where it serves"));
        // Keep draining stdout so the child never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let addr = line
            .trim()
            .strip_prefix("Starting to serve on ")
            .unwrap_or_else(|| panic!("{desc}: unexpected first line {line:?}"))
            .to_owned();
        let port = addr
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("{desc}: no port in {addr:?}"));
        Self {
            kind,
            child,
            addr,
            port,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id().expect("the proxy is running")
    }
}

/// A request as a test writes it; `host` defaults to the proxy's address.
#[derive(Debug, Clone, Default)]
pub struct Req {
    pub method: String,
    pub path: String,
    pub host: Option<String>,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Req {
    pub fn get(path: impl Into<String>) -> Self {
        Self::new("GET", path)
    }

    pub fn new(method: &str, path: impl Into<String>) -> Self {
        Self {
            method: method.to_owned(),
            path: path.into(),
            ..Self::default()
        }
    }

    pub fn host(mut self, host: impl Into<String>) -> Self {
        self.host = Some(host.into());
        self
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    pub fn json(mut self, content_type: &str, body: &serde_json::Value) -> Self {
        self.body = serde_json::to_vec(body).expect("json");
        self.header("Content-Type", content_type)
    }
}

#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!("expected JSON ({e}), got {} {:?}", self.status, self.text())
        })
    }
}

/// Sends `req` on a fresh connection and returns the response head with
/// the body still streaming.
pub async fn open(addr: &str, req: &Req) -> hyper::Response<Incoming> {
    let stream = TcpStream::connect(addr)
        .await
        .unwrap_or_else(|e| panic!("connecting to {addr}: {e}"));
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("HTTP/1.1 handshake");
    tokio::spawn(async move {
        let _ = connection.with_upgrades().await;
    });
    let mut builder = Request::builder()
        .method(req.method.as_str())
        .uri(req.path.as_str())
        .header("Host", req.host.as_deref().unwrap_or(addr));
    for (k, v) in &req.headers {
        builder = builder.header(k.as_str(), v.as_str());
    }
    let request = builder
        .body(Full::new(Bytes::from(req.body.clone())))
        .unwrap_or_else(|e| panic!("building {} {}: {e}", req.method, req.path));
    tokio::time::timeout(REQUEST_TIMEOUT, sender.send_request(request))
        .await
        .unwrap_or_else(|_| {
            panic!(
                "{} {} on {addr}: no answer within 30 s",
                req.method, req.path
            )
        })
        .unwrap_or_else(|e| panic!("{} {} on {addr}: {e}", req.method, req.path))
}

/// Sends `req` and reads the whole answer.
pub async fn send(addr: &str, req: &Req) -> Resp {
    let response = open(addr, req).await;
    let (parts, body) = response.into_parts();
    let body = tokio::time::timeout(REQUEST_TIMEOUT, body.collect())
        .await
        .unwrap_or_else(|_| panic!("{} {}: body not complete within 30 s", req.method, req.path))
        .unwrap_or_else(|e| panic!("{} {}: reading the body: {e}", req.method, req.path))
        .to_bytes();
    Resp {
        status: parts.status.as_u16(),
        headers: parts.headers,
        body,
    }
}

/// Reads body frames until `until` holds for what was read (or the body
/// ends); `None` when the body ended first.
pub async fn read_until(
    body: &mut Incoming,
    buf: &mut Vec<u8>,
    until: impl Fn(&[u8]) -> bool,
) -> Option<()> {
    loop {
        if until(buf) {
            return Some(());
        }
        let frame = tokio::time::timeout(REQUEST_TIMEOUT, body.frame())
            .await
            .expect("the stream sent nothing for 30 s")?;
        let frame = frame.expect("reading a streamed body");
        if let Some(data) = frame.data_ref() {
            buf.extend_from_slice(data);
        }
    }
}

/// What a raw request got back.
#[derive(Debug, Clone)]
pub struct Raw {
    /// `None` when the connection closed without a status line.
    pub status: Option<u16>,
    pub head: String,
    pub body: Vec<u8>,
}

impl Raw {
    pub fn status_text(&self) -> String {
        self.status
            .map_or_else(|| "no answer".to_owned(), |s| s.to_string())
    }
}

/// Writes `bytes` as they are on a new connection (concurrently with
/// reading, so an early answer is not lost) and reads until the server
/// closes or 10 s pass.
pub async fn raw(addr: &str, bytes: Vec<u8>) -> Raw {
    let stream = TcpStream::connect(addr)
        .await
        .unwrap_or_else(|e| panic!("connecting to {addr}: {e}"));
    let (mut read, mut write) = stream.into_split();
    let writer = tokio::spawn(async move {
        let _ = write.write_all(&bytes).await;
        // Keep the write half open: a half-close could end the request.
        tokio::time::sleep(Duration::from_secs(10)).await;
        drop(write);
    });
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), async {
        let mut chunk = [0u8; 16 * 1024];
        loop {
            match read.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&chunk[..n]),
            }
            // A complete answer with a length: stop reading.
            if let Some((head, body)) = split_head(&out)
                && let Some(len) = content_length(&head)
                && body.len() >= len
            {
                break;
            }
        }
    })
    .await;
    writer.abort();
    match split_head(&out) {
        Some((head, body)) => Raw {
            status: head.split_whitespace().nth(1).and_then(|s| s.parse().ok()),
            head,
            body,
        },
        None => Raw {
            status: None,
            head: String::from_utf8_lossy(&out).into_owned(),
            body: Vec::new(),
        },
    }
}

fn split_head(bytes: &[u8]) -> Option<(String, Vec<u8>)> {
    let end = bytes.windows(4).position(|w| w == b"\r\n\r\n")?;
    Some((
        String::from_utf8_lossy(&bytes[..end]).into_owned(),
        bytes[end + 4..].to_vec(),
    ))
}

fn content_length(head: &str) -> Option<usize> {
    head.lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok())
}

/// The backends' request log: one line per request
/// (`porthole-backends[MODE] METHOD PATH STATUS`).
pub fn backends_log() -> String {
    let path = cluster().state.dir.join("logs").join("backends.log");
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading the backends' log {}: {e}", path.display()))
}

/// Whether a request whose path contains `marker` reached a backend. The
/// log is written as requests are answered; a short pause lets a request
/// that did get through show up.
pub async fn reached_backend(marker: &str) -> bool {
    tokio::time::sleep(Duration::from_millis(300)).await;
    backends_log().lines().any(|l| l.contains(marker))
}

/// `kubectl` as the admin on the combined kubeconfig; panics on failure.
pub fn kubectl_admin(args: &[&str]) -> String {
    let out = cluster()
        .kubectl_context("porthole-admin")
        .args(args)
        .output()
        .expect("kubectl must be on PATH");
    assert!(
        out.status.success(),
        "kubectl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A namespace of this test, deleted on drop.
pub struct TestNamespace(pub String);

impl TestNamespace {
    pub fn create(prefix: &str) -> Self {
        let name = format!("{prefix}-{}", nonce());
        kubectl_admin(&["create", "namespace", &name]);
        Self(name)
    }
}

impl Drop for TestNamespace {
    fn drop(&mut self) {
        let _ = cluster()
            .kubectl_context("porthole-admin")
            .args(["delete", "namespace", &self.0, "--wait=false"])
            .output();
    }
}

/// A WebSocket handshake through `addr` and one text message echoed.
/// Returns the 101's head and the text that came back.
pub async fn websocket_echo(addr: &str, host: &str, path: &str, text: &str) -> (Raw, String) {
    let mut stream = TcpStream::connect(addr)
        .await
        .unwrap_or_else(|e| panic!("connecting to {addr}: {e}"));
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut buf = Vec::new();
    let head = tokio::time::timeout(REQUEST_TIMEOUT, async {
        let mut byte = [0u8; 1];
        while !buf.ends_with(b"\r\n\r\n") {
            if stream.read(&mut byte).await.expect("read") == 0 {
                break;
            }
            buf.push(byte[0]);
        }
        String::from_utf8_lossy(&buf).into_owned()
    })
    .await
    .expect("an answer to the upgrade within 30 s");
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok());
    let raw = Raw {
        status,
        head: head.trim_end().to_owned(),
        body: Vec::new(),
    };
    if status != Some(101) {
        return (raw, String::new());
    }
    // One masked text frame (client frames must be masked).
    let payload = text.as_bytes();
    assert!(payload.len() < 126, "short messages only");
    let mask = [0x11u8, 0x22, 0x33, 0x44];
    let mut frame = vec![0x81, 0x80 | u8::try_from(payload.len()).expect("short")];
    frame.extend_from_slice(&mask);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    stream.write_all(&frame).await.expect("write frame");
    let echoed = tokio::time::timeout(REQUEST_TIMEOUT, async {
        let mut hdr = [0u8; 2];
        stream.read_exact(&mut hdr).await.expect("frame header");
        let len = usize::from(hdr[1] & 0x7f);
        let mut data = vec![0u8; len];
        stream.read_exact(&mut data).await.expect("frame payload");
        String::from_utf8_lossy(&data).into_owned()
    })
    .await
    .expect("the echo within 30 s");
    (raw, echoed)
}

/// Resident memory of a process in KiB (`VmRSS` of /proc/PID/status).
pub fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_else(|e| panic!("reading /proc/{pid}/status: {e}"));
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no VmRSS in /proc/{pid}/status"))
}

/// Prints a table (visible with `--nocapture`).
pub fn print_table(title: &str, header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let padded: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<w$}", w = widths[i]))
            .collect();
        format!("| {} |", padded.join(" | "))
    };
    let mut out = format!("\n{title}\n");
    out.push_str(&line(header.iter().map(|h| (*h).to_owned()).collect()));
    out.push('\n');
    out.push_str(&format!(
        "|{}|\n",
        widths
            .iter()
            .map(|w| "-".repeat(w + 2))
            .collect::<Vec<_>>()
            .join("|")
    ));
    for row in rows {
        out.push_str(&line(row.clone()));
        out.push('\n');
    }
    println!("{out}");
}
