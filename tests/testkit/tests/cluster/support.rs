//! Helpers: running kubectl, `kubectl proxy` as a guard, a plain HTTP client.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub use porthole_testkit::cluster;

/// Runs a kubectl command (with a timeout) and returns its output.
pub fn run(mut cmd: Command) -> Output {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let desc = format!("{cmd:?}");
    let child = cmd.spawn().expect("kubectl must be on PATH");
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
