//! Helpers: running kubectl, `kubectl proxy` and `kubectl port-forward` as
//! guards, a plain HTTP client, a TCP echo exchange.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub use porthole_testkit::cluster;

/// Runs a command (kubectl, curl) with a timeout and returns its output.
pub fn run(mut cmd: Command) -> Output {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let desc = format!("{cmd:?}");
    let child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("{desc}: {e} (is it on PATH?)"));
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    rx.recv_timeout(Duration::from_secs(60))
        .unwrap_or_else(|_| panic!("{desc} did not finish within 60 s"))
        .unwrap_or_else(|e| panic!("{desc}: {e}"))
}

/// Runs kubectl and expects success; returns stdout.
pub fn ok(cmd: Command) -> String {
    let desc = format!("{cmd:?}");
    let out = run(cmd);
    assert!(
        out.status.success(),
        "{desc} failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `kubectl` as `user` with extra args.
pub fn kubectl(user: &str, args: &[&str]) -> Command {
    let mut cmd = cluster().kubectl(user);
    cmd.args(args);
    cmd
}

/// `kubectl proxy --port=0` for a kubeconfig, killed on drop.
pub struct KubectlProxy {
    child: Child,
    /// `127.0.0.1:PORT`
    pub addr: String,
}

impl KubectlProxy {
    pub fn start(kubeconfig: &Path) -> KubectlProxy {
        let mut child = Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(kubeconfig)
            .args(["proxy", "--port=0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("kubectl must be on PATH");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("kubectl proxy prints where it serves within 30 s");
        // "Starting to serve on 127.0.0.1:PORT"
        let addr = line
            .trim()
            .rsplit(' ')
            .next()
            .filter(|a| a.starts_with("127.0.0.1:"))
            .unwrap_or_else(|| panic!("unexpected kubectl proxy output: {line:?}"))
            .to_owned();
        KubectlProxy { child, addr }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for KubectlProxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Plain-HTTP agent: errors are responses, redirects are not followed.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// GET `url` with extra headers.
pub fn get(url: &str, headers: &[(&str, &str)]) -> Response {
    let mut req = agent().get(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let mut resp = req.call().unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    let body = resp
        .body_mut()
        .read_to_string()
        .unwrap_or_else(|e| panic!("reading the body of {url}: {e}"));
    Response {
        status,
        headers,
        body,
    }
}

/// A multi-thread runtime for the tests that use kube-rs.
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(f)
}

/// KUBERNETES_VERSION from tests/control-plane/versions.env (the one place
/// the version lives).
pub fn pinned_kubernetes_version() -> String {
    let path = porthole_testkit::bins::build_script().with_file_name("versions.env");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    text.lines()
        .find_map(|l| l.trim().strip_prefix("KUBERNETES_VERSION="))
        .map(|v| v.trim_matches(['"', '\'']).to_owned())
        .unwrap_or_else(|| panic!("no KUBERNETES_VERSION in {}", path.display()))
}

/// kubectl's two streaming transports: (name, environment).
pub const TRANSPORTS: [(&str, &[(&str, &str)]); 2] = [
    ("WebSocket", &[]),
    (
        "SPDY",
        &[
            ("KUBECTL_REMOTE_COMMAND_WEBSOCKETS", "false"),
            ("KUBECTL_PORT_FORWARD_WEBSOCKETS", "false"),
        ],
    ),
];

/// A long-running kubectl (port-forward, logs -f) whose stdout lines arrive
/// on a channel; killed on drop.
pub struct Streaming {
    child: Child,
    lines: Receiver<String>,
    desc: String,
}

impl Streaming {
    pub fn start(mut cmd: Command) -> Streaming {
        let desc = format!("{cmd:?}");
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("{desc}: {e} (kubectl must be on PATH)"));
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Streaming { child, lines, desc }
    }

    /// The first line that `pred` accepts, within `timeout`.
    pub fn wait_for(
        &mut self,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&str) -> bool,
    ) -> String {
        let deadline = Instant::now() + timeout;
        let mut seen = Vec::new();
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(line) if pred(&line) => return line,
                Ok(line) => seen.push(line),
                Err(_) => break,
            }
        }
        let status = self.child.try_wait().ok().flatten();
        panic!(
            "{}: no {what} within {timeout:?} (exited: {status:?}); stdout so far:\n{}",
            self.desc,
            seen.join("\n")
        );
    }
}

impl Drop for Streaming {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn unique(tag: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{tag}-{nanos}")
}

/// `kubectl port-forward -n NAMESPACE TARGET :REMOTE` (with `kubectl`'s
/// user and environment) once it says where it listens; killed on drop.
pub struct PortForward {
    /// Kept for its drop (which kills kubectl).
    _kubectl: Streaming,
    /// `127.0.0.1:PORT`
    pub local: String,
}

impl PortForward {
    pub fn start(mut kubectl: Command, namespace: &str, target: &str, remote: &str) -> PortForward {
        kubectl.args([
            "port-forward",
            "-n",
            namespace,
            target,
            &format!(":{remote}"),
        ]);
        let mut stream = Streaming::start(kubectl);
        // "Forwarding from 127.0.0.1:PORT -> REMOTE"
        let line = stream.wait_for(
            "`Forwarding from 127.0.0.1:…` line",
            Duration::from_secs(30),
            |l| l.starts_with("Forwarding from 127.0.0.1:"),
        );
        let local = line
            .split_whitespace()
            .nth(2)
            .unwrap_or_else(|| panic!("unexpected kubectl port-forward line: {line:?}"))
            .to_owned();
        PortForward {
            _kubectl: stream,
            local,
        }
    }
}

/// Sends `len` bytes (every value) to a TCP echo at `addr`, half-closes,
/// and checks that exactly those bytes come back before the echo closes.
pub fn echo_exchange(addr: &str, len: usize) {
    let mut tcp = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    tcp.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("read timeout");
    let sent: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
    let mut writer = tcp.try_clone().expect("clone the stream");
    let to_send = sent.clone();
    let sending = std::thread::spawn(move || {
        writer.write_all(&to_send).expect("send");
        // Half-close: the echo finishes writing, then closes.
        writer.shutdown(Shutdown::Write).expect("half-close");
    });
    let mut back = Vec::with_capacity(len);
    tcp.read_to_end(&mut back).unwrap_or_else(|e| {
        panic!(
            "reading the echo from {addr} ({} of {len} bytes): {e}",
            back.len()
        )
    });
    sending.join().expect("sender thread");
    assert_eq!(back.len(), len, "bytes echoed through {addr}");
    assert!(back == sent, "the echo through {addr} changed the bytes");
}

/// A multi-thread runtime to keep for a whole test (a kube client lives on
/// the runtime that made it).
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// `curl` to the node agent at `node_ip`:10250 with the admin's client
/// certificate (signed by the cluster CA, as the agent requires): (HTTP
/// status, body).
pub fn agent_get(node_ip: &str, path: &str) -> (u16, String) {
    let c = cluster();
    let (cert, key) = c
        .state
        .client_cert_files(porthole_testkit::users::ADMIN)
        .expect("admin client certificate");
    let ca = c.state.ca_file().expect("cluster CA");
    let url = format!(
        "https://{node_ip}:{}{path}",
        porthole_testkit::node_agent::PORT
    );
    let mut cmd = Command::new("curl");
    cmd.args(["-sS", "-m", "10", "-w", "\n%{http_code}", "--cacert"])
        .arg(ca)
        .arg("--cert")
        .arg(cert)
        .arg("--key")
        .arg(key)
        .arg(&url)
        .stdin(Stdio::null());
    let out = run(cmd);
    assert!(
        out.status.success(),
        "curl {url}: {} (curl must be installed)",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", &text));
    (code.trim().parse().unwrap_or(0), body.to_owned())
}
