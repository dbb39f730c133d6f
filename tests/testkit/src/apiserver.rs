//! kube-apiserver on a free loopback port: client-certificate, static
//! token and (flags from the caller) OIDC authentication and the kubelet client (the node agent), Node+RBAC authorization, service-account keys.
//! Ready when `/readyz` answers `ok` to the admin credential (1.37 refuses
//! anonymous requests, even to /readyz).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::client;
use crate::error::{Error, Result};
use crate::kubeconfig::{self, Server};
use crate::ports;
use crate::process::{self, Proc};
use crate::users::User;

const ATTEMPTS: u32 = 5;
const READY_TIMEOUT: Duration = Duration::from_secs(120);
pub const SERVICE_CIDR: &str = "10.96.0.0/16";
/// First address of [`SERVICE_CIDR`]: the `kubernetes` service.
pub const SERVICE_IP: &str = "10.96.0.1";

/// Files the apiserver reads (written by the supervisor from the PKI).
#[derive(Debug, Clone)]
pub struct Files {
    pub ca_cert: PathBuf,
    pub serving_cert: PathBuf,
    pub serving_key: PathBuf,
    pub sa_public: PathBuf,
    pub sa_private: PathBuf,
    pub token_file: PathBuf,
}

pub struct Apiserver {
    pub proc: Proc,
    pub port: u16,
    pub url: String,
}

fn args(files: &Files, etcd_url: &str, port: u16, extra_flags: &[String]) -> Vec<String> {
    let p = |p: &Path| p.display().to_string();
    vec![
        format!("--etcd-servers={etcd_url}"),
        "--bind-address=127.0.0.1".into(),
        "--advertise-address=127.0.0.1".into(),
        // The lease reconciler refuses a loopback advertise address; the
        // `kubernetes` service simply has no endpoints here.
        "--endpoint-reconciler-type=none".into(),
        format!("--secure-port={port}"),
        format!("--tls-cert-file={}", p(&files.serving_cert)),
        format!("--tls-private-key-file={}", p(&files.serving_key)),
        format!("--client-ca-file={}", p(&files.ca_cert)),
        format!("--token-auth-file={}", p(&files.token_file)),
        "--authorization-mode=Node,RBAC".into(),
        format!("--service-account-key-file={}", p(&files.sa_public)),
        format!(
            "--service-account-signing-key-file={}",
            p(&files.sa_private)
        ),
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local".into(),
        format!("--service-cluster-ip-range={SERVICE_CIDR}"),
        "--allow-privileged=true".into(),
        "--profiling=false".into(),
        "--v=1".into(),
    ]
    .into_iter()
    .chain(extra_flags.iter().cloned())
    .chain(extra_args())
    .collect()
}

/// Extra kube-apiserver flags from `$PORTHOLE_APISERVER_ARGS` (whitespace
/// separated; later flags win), e.g. `--profiling=true --v=4` for a look
/// inside.
pub const EXTRA_ARGS_ENV: &str = "PORTHOLE_APISERVER_ARGS";

fn extra_args() -> Vec<String> {
    std::env::var(EXTRA_ARGS_ENV)
        .map(|v| v.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default()
}

/// Starts kube-apiserver and waits for `/readyz`; retries with a fresh port
/// when the picked one was taken meanwhile.
pub async fn start(
    bin: &Path,
    files: &Files,
    etcd_url: &str,
    admin: &User,
    ca_pem: &str,
    extra_flags: &[String],
    logs: &Path,
) -> Result<Apiserver> {
    let log = logs.join("kube-apiserver.log");
    let mut last_tail = String::new();
    for attempt in 1..=ATTEMPTS {
        let port = ports::free_loopback_ports(1)?[0];
        let url = format!("https://127.0.0.1:{port}");
        let mut proc = process::spawn(
            "kube-apiserver",
            bin,
            args(files, etcd_url, port, extra_flags),
            &log,
        )?;
        let server = Server {
            url: url.clone(),
            ca_pem: ca_pem.to_owned(),
            sni_name: crate::pki::SNI_ONLY_NAME.to_owned(),
        };
        // The plugin path is irrelevant: admin uses a client certificate.
        let doc = kubeconfig::for_user(&server, admin, Path::new("/nonexistent"));
        match wait_ready(&mut proc, &doc).await {
            Ok(()) => return Ok(Apiserver { proc, port, url }),
            Err(e) => {
                let tail = process::tail(&log, 40);
                let clash = ports::is_addr_in_use(&tail);
                let _ = proc.stop(Duration::from_secs(5)).await;
                if !clash {
                    return Err(e);
                }
                tracing::warn!(
                    attempt,
                    "kube-apiserver: port taken, retrying with a fresh port"
                );
                last_tail = tail;
            }
        }
    }
    Err(Error::PortClash {
        what: "kube-apiserver".into(),
        attempts: ATTEMPTS,
        tail: last_tail,
    })
}

async fn wait_ready(proc: &mut Proc, admin_kubeconfig: &serde_json::Value) -> Result<()> {
    let start = Instant::now();
    let client = client::from_value(admin_kubeconfig, Duration::from_secs(5)).await?;
    loop {
        if let Some(status) = proc.exited() {
            return Err(proc.exited_early(status));
        }
        let last = match client::get_text(&client, "/readyz", Duration::from_secs(5)).await {
            Ok(body) if body.trim() == "ok" => return Ok(()),
            Ok(body) => body,
            Err(e) => e.to_string(),
        };
        if start.elapsed() > READY_TIMEOUT {
            return Err(Error::Timeout {
                what: "kube-apiserver /readyz".into(),
                secs: READY_TIMEOUT.as_secs(),
                detail: format!(
                    "last answer: {last}\nlast lines of {}:\n{}",
                    proc.log.display(),
                    process::tail(&proc.log, 20)
                ),
            });
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// `gitVersion` from `/version`.
pub async fn version(client: &kube::Client) -> Result<String> {
    client
        .apiserver_version()
        .await
        .map(|v| v.git_version)
        .map_err(|e| Error::kube("GET /version", e))
}
