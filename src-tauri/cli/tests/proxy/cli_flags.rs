//! kubectl proxy's other flags on `portholectl proxy`: `--unix-socket`
//! (mode 0600), `--www`/`--www-prefix` with `--api-prefix`, and
//! `--in-cluster` for a sidecar (the pod's service account).
//! `--keepalive` is accepted and says it is ignored.

use std::os::unix::fs::PermissionsExt as _;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::Command;

use crate::support::*;

#[tokio::test]
async fn a_unix_socket_is_owner_only_and_serves_the_api() {
    let dir = cluster()
        .scratch_dir(&format!("unix-{}", nonce()))
        .expect("scratch");
    let socket = dir.join("proxy.sock");
    let mut child = Command::new(env!("CARGO_BIN_EXE_portholectl"))
        .arg("--kubeconfig")
        .arg(kubeconfig())
        .args(["proxy", "--context", "porthole-admin", "--unix-socket"])
        .arg(&socket)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("portholectl starts");
    let line = first_line(child.stdout.take().expect("stdout"), 30, "where it serves").await;
    assert_eq!(line, format!("Starting to serve on {}", socket.display()));
    let mode = std::fs::metadata(&socket)
        .expect("socket exists")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600, "socket mode {mode:o}");
    let out = tokio::process::Command::new("curl")
        .args(["-s", "--max-time", "20", "--unix-socket"])
        .arg(&socket)
        .arg("http://localhost/api/")
        .output()
        .await
        .expect("curl runs");
    let body = String::from_utf8_lossy(&out.stdout);
    assert!(body.contains("\"APIVersions\""), "{body}");
}

#[tokio::test]
async fn static_files_and_the_api_prefix_work_like_kubectl() {
    let dir = cluster()
        .scratch_dir(&format!("www-{}", nonce()))
        .expect("scratch");
    std::fs::write(dir.join("hello.txt"), "hello from --www\n").expect("write");
    let www = dir.display().to_string();
    let proxy = Proxy::porthole(
        "porthole-admin",
        &[
            "--www",
            &www,
            "--www-prefix",
            "/static/",
            "--api-prefix",
            "/k8s/",
        ],
    )
    .await;
    let file = send(&proxy.addr, &Req::get("/static/hello.txt")).await;
    assert_eq!(file.status, 200);
    assert_eq!(file.text(), "hello from --www\n");
    let climb = send(&proxy.addr, &Req::get("/static/../hello.txt")).await;
    assert_ne!(climb.status, 200, "no way out of the www directory");
    let api = send(&proxy.addr, &Req::get("/k8s/api/")).await;
    assert_eq!(api.status, 200, "{}", api.text());
    assert!(api.text().contains("APIVersions"));
    let outside = send(&proxy.addr, &Req::get("/api/")).await;
    assert_eq!(outside.status, 404, "the API lives under --api-prefix only");
}

#[tokio::test]
async fn in_cluster_uses_the_pods_service_account() {
    let state = &cluster().state;
    let apiserver = state.apiserver.as_ref().expect("apiserver");
    let sa = cluster()
        .scratch_dir(&format!("sa-{}", nonce()))
        .expect("scratch");
    let token = cluster()
        .user("viewer")
        .token
        .clone()
        .expect("viewer token");
    std::fs::write(sa.join("token"), token).expect("token");
    std::fs::copy(&apiserver.ca_file, sa.join("ca.crt")).expect("ca");
    std::fs::write(sa.join("namespace"), "team-a").expect("namespace");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_portholectl"));
    cmd.args(["proxy", "--in-cluster", "--port=0"])
        .env_remove("KUBECONFIG")
        .env("KUBERNETES_SERVICE_HOST", "127.0.0.1")
        .env("KUBERNETES_SERVICE_PORT", apiserver.port.to_string())
        .env("PORTHOLE_SERVICEACCOUNT_DIR", &sa);
    let proxy = Proxy::spawn(Kind::Porthole, cmd).await;
    // The viewer's token: its own namespaces yes, the namespace list no.
    let own = send(&proxy.addr, &Req::get("/api/v1/namespaces/team-a/services")).await;
    assert_eq!(own.status, 200, "{}", own.text());
    let all = send(&proxy.addr, &Req::get("/api/v1/namespaces")).await;
    assert_eq!(all.status, 403, "{}", all.text());
    assert!(all.text().contains("viewer"), "{}", all.text());
}

#[tokio::test]
async fn keepalive_is_accepted_and_says_it_is_ignored() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_portholectl"))
        .arg("--kubeconfig")
        .arg(kubeconfig())
        .args(["proxy", "--context", "porthole-admin", "--port=0"])
        .arg("--keepalive=30s")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("portholectl starts");
    let line = first_line(child.stdout.take().expect("stdout"), 30, "where it serves").await;
    assert!(
        line.starts_with("Starting to serve on 127.0.0.1:"),
        "{line}"
    );
    let warning = first_line(child.stderr.take().expect("stderr"), 10, "a warning").await;
    assert!(
        warning.starts_with("warning: --keepalive=30s is ignored:"),
        "{warning}"
    );
}

/// The first line of a child's output, within `seconds`.
async fn first_line(output: impl tokio::io::AsyncRead + Unpin, seconds: u64, what: &str) -> String {
    tokio::time::timeout(
        Duration::from_secs(seconds),
        BufReader::new(output).lines().next_line(),
    )
    .await
    .unwrap_or_else(|_| panic!("{what} within {seconds} s"))
    .expect("reads the output")
    .unwrap_or_else(|| panic!("{what}: the output ended"))
}
