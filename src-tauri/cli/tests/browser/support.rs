//! The proxy under test (`portholectl proxy --port=0` on the test cluster's
//! admin context), Porthole's URLs on it, and where artifacts go.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Once, mpsc};
use std::time::Duration;

use porthole_core::proxy::names::{ServiceTarget, context_host, service_host};

/// The context every URL here goes through.
pub const CONTEXT: &str = "porthole-admin";

/// `portholectl proxy`, killed when dropped.
pub struct Proxy {
    child: Child,
    pub port: u16,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Proxy {
    /// Starts `portholectl --kubeconfig COPY proxy --port=0 --context
    /// porthole-admin` on a copy of the cluster's combined kubeconfig and
    /// waits for its "Starting to serve on 127.0.0.1:PORT" line.
    pub fn start() -> Self {
        let cluster = porthole_testkit::cluster();
        let dir = tempfile::tempdir().expect("temp dir for the proxy");
        let kubeconfig = dir.path().join("kubeconfig");
        std::fs::copy(cluster.kubeconfig(), &kubeconfig).expect("copy of the combined kubeconfig");
        let log = dir.path().join("proxy.log");
        let stderr = std::fs::File::create(&log).expect("proxy log");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_portholectl"));
        cmd.arg("--kubeconfig")
            .arg(&kubeconfig)
            .args(["proxy", "--port=0", "--context", CONTEXT])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(stderr));
        porthole_testkit::process::die_with_parent(&mut cmd);
        let desc = format!("{cmd:?}");
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("{desc}: cannot start: {e}"));
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let _ = tx.send(lines.next());
            // Keep draining so the proxy never blocks on a full pipe.
            for _ in lines {}
        });
        let line = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(Some(Ok(line))) => line,
            Ok(_) => panic!(
                "{desc} exited before printing where it serves:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            ),
            Err(_) => panic!("{desc} did not print \"Starting to serve on\" within 30 s"),
        };
        let port = line
            .trim()
            .strip_prefix("Starting to serve on 127.0.0.1:")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| {
                panic!("{desc}: expected \"Starting to serve on 127.0.0.1:PORT\", got {line:?}")
            });
        Self {
            child,
            port,
            log,
            _dir: dir,
        }
    }

    /// `http://PORT.SERVICE.NAMESPACE.porthole-admin.localhost:PROXYPORT`
    /// (`https--PORT…` for a TLS backend), without a trailing slash.
    pub fn service_origin(
        &self,
        namespace: &str,
        service: &str,
        port: &str,
        https: bool,
    ) -> String {
        let target = ServiceTarget {
            namespace: namespace.to_owned(),
            service: service.to_owned(),
            port: port.to_owned(),
            https,
        };
        format!("http://{}:{}", service_host(CONTEXT, &target), self.port)
    }

    /// `http://porthole-admin.localhost:PROXYPORT`: the context's API host.
    pub fn context_origin(&self) -> String {
        format!("http://{}:{}", context_host(CONTEXT), self.port)
    }

    /// `http://localhost:PROXYPORT`: the active context's API, like kubectl proxy.
    pub fn api_origin(&self) -> String {
        format!("http://localhost:{}", self.port)
    }

    /// What the proxy wrote to stderr so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `target/browser/` of the target directory this test was built in.
pub fn artifacts_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // target/debug/deps/browser-HASH → target
    let target = exe
        .ancestors()
        .nth(3)
        .expect("the test runs from target/PROFILE/deps")
        .to_owned();
    let dir = target.join("browser");
    std::fs::create_dir_all(&dir).expect("target/browser");
    dir
}

/// Writes what happened to stderr directly (libtest does not capture it,
/// so it shows in every run) and appends it to `target/browser/record.txt`.
pub fn record(test: &str, text: &str) {
    let mut block = String::new();
    for line in text.lines() {
        block.push_str(&format!("[browser::{test}] {line}\n"));
    }
    let _ = std::io::stderr().write_all(block.as_bytes());
    static FRESH: Once = Once::new();
    let file = artifacts_dir().join("record.txt");
    FRESH.call_once(|| {
        let _ = std::fs::remove_file(&file);
    });
    if let Ok(mut file) = std::fs::File::options()
        .create(true)
        .append(true)
        .open(&file)
    {
        let _ = file.write_all(block.as_bytes());
    }
}
