//! Helpers: discovery over the test cluster's contexts, `portholectl
//! proxy` as a child, plain HTTP through it, kubectl as admin.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use http_body_util::BodyExt as _;
use porthole_core::auth::ExecEnv;
use porthole_core::cluster::connect::Timeouts;
use porthole_core::cluster::{ClientEnv, ClusterClient, client_for_context};
use porthole_core::discovery::{Discovery, ServiceListUpdate, ServiceWatch};
use porthole_core::kubeconfig::{KubeconfigSources, load_snapshot};
use porthole_core::shell_path::process_search_path;

pub use porthole_testkit::cluster;

/// The fixture namespaces (the scale set and test namespaces aside).
pub const FIXTURE_NAMESPACES: &[&str] = &[
    "default",
    "kube-system",
    "monitoring",
    "team-a",
    "team-b",
    "staging",
];

/// Tests that count or hold watches run one at a time (the apiserver's
/// watch gauge is global).
pub static WATCHES: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub fn env() -> ClientEnv {
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

/// A context's client and namespace from `kubeconfig`.
pub async fn client_in(kubeconfig: &Path, context: &str) -> (ClusterClient, Option<String>) {
    let snapshot = load_snapshot(&KubeconfigSources::explicit(kubeconfig)).await;
    let namespace = snapshot
        .list
        .contexts
        .iter()
        .find(|c| c.name == context)
        .and_then(|c| c.namespace.clone());
    let client = client_for_context(&snapshot.merged, context, &env())
        .await
        .unwrap_or_else(|p| panic!("client for {context}: {p}"));
    (client, namespace)
}

/// Discovery of a context of the test cluster's combined kubeconfig.
pub async fn discovery(context: &str, proxy_port: u16) -> Discovery {
    discovery_in(cluster().kubeconfig(), context, proxy_port).await
}

pub async fn discovery_in(kubeconfig: &Path, context: &str, proxy_port: u16) -> Discovery {
    let (client, namespace) = client_in(kubeconfig, context).await;
    Discovery::new(&client, namespace.as_deref(), proxy_port)
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// `portholectl proxy` for one context, killed on drop.
pub struct ProxyChild {
    pub port: u16,
    child: Child,
}

impl ProxyChild {
    pub fn start(context: &str) -> Self {
        Self::start_with(cluster().kubeconfig(), context)
    }

    pub fn start_with(kubeconfig: &Path, context: &str) -> Self {
        let port = free_port();
        let mut child = Command::new(portholectl())
            .arg("--kubeconfig")
            .arg(kubeconfig)
            .args(["proxy", "--port", &port.to_string(), "--context", context])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("portholectl proxy starts");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("portholectl proxy says where it serves");
        assert!(line.starts_with("Starting to serve on"), "{line}");
        Self { port, child }
    }
}

impl Drop for ProxyChild {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `portholectl` lives in its own crate (porthole-cli): the testkit finds
/// it in the target dir, built when missing or older than its sources.
pub fn portholectl() -> PathBuf {
    porthole_testkit::bins::portholectl().unwrap_or_else(|e| panic!("portholectl: {e}"))
}

/// A response: status and body text.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: String,
}

/// `GET url` where url is `http://HOST:PORT/PATH`: connects to
/// 127.0.0.1:PORT (what `*.localhost` resolves to) and sends `Host: HOST:PORT`.
pub async fn get(url: &str) -> Answer {
    let rest = url.strip_prefix("http://").expect("an http:// URL");
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let port: u16 = authority
        .rsplit_once(':')
        .and_then(|(_, p)| p.parse().ok())
        .expect("a port in the URL");
    let work = async {
        let stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
        let io = hyper_util::rt::TokioIo::new(stream);
        let (mut sender, conn) = hyper::client::conn::http1::handshake(io)
            .await
            .map_err(std::io::Error::other)?;
        tokio::spawn(conn);
        let request = http::Request::get(path)
            .header(http::header::HOST, authority)
            .body(http_body_util::Empty::<bytes::Bytes>::new())
            .map_err(std::io::Error::other)?;
        let response = sender
            .send_request(request)
            .await
            .map_err(std::io::Error::other)?;
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(std::io::Error::other)?
            .to_bytes();
        Ok::<_, std::io::Error>(Answer {
            status,
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    };
    tokio::time::timeout(Duration::from_secs(30), work)
        .await
        .unwrap_or_else(|_| panic!("GET {url}: no answer within 30 s"))
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
}

/// kubectl as admin; panics with its stderr when it fails.
pub fn kubectl(args: &[&str]) -> String {
    kubectl_with(args, None)
}

pub fn kubectl_with(args: &[&str], stdin: Option<&str>) -> String {
    use std::io::Write as _;
    let mut cmd = cluster().kubectl("admin");
    cmd.args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("kubectl runs");
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(text.as_bytes()).expect("kubectl stdin");
    }
    let out = child.wait_with_output().expect("kubectl output");
    assert!(
        out.status.success(),
        "kubectl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A namespace of this test's own, deleted on drop.
pub struct TestNamespace(pub String);

impl TestNamespace {
    pub fn create(prefix: &str) -> Self {
        let name = format!("{prefix}-{}", std::process::id());
        kubectl(&["create", "namespace", &name]);
        Self(name)
    }
}

impl Drop for TestNamespace {
    fn drop(&mut self) {
        let _ = cluster()
            .kubectl("admin")
            .args(["delete", "namespace", &self.0, "--wait=false"])
            .output();
    }
}

/// The next update, failing after `within`.
pub async fn next(watch: &mut ServiceWatch, within: Duration) -> ServiceListUpdate {
    tokio::time::timeout(within, watch.recv())
        .await
        .unwrap_or_else(|_| panic!("no service list update within {within:?}"))
        .expect("the watch is running")
}

/// The number of WATCH requests on ingresses the apiserver serves now
/// (only discovery watches ingresses here).
pub async fn ingress_watches(client: &ClusterClient) -> u64 {
    let request = http::Request::get("/metrics")
        .body(porthole_core::cluster::empty_body())
        .expect("request");
    let response = client.send(request).await.expect("GET /metrics");
    let body = response
        .into_body()
        .collect()
        .await
        .expect("metrics body")
        .to_bytes();
    String::from_utf8_lossy(&body)
        .lines()
        .filter(|l| {
            l.starts_with("apiserver_longrunning_requests{")
                && l.contains("resource=\"ingresses\"")
                && l.contains("verb=\"WATCH\"")
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .map(|v| v as u64)
        .sum()
}
