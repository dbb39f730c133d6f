//! `porthole-node-agent` (tests/control-plane/node-agent): a stand-in for
//! the kubelet, not a kubelet. It runs inside the network namespace on the
//! Nodes' addresses and serves the kubelet API paths the apiserver calls for
//! `pods/portforward`, `pods/exec`, `pods/attach` and `pods/log`, with the
//! kubelet's own streaming code. The backends stand in for the containers:
//! port-forward dials the Pod's IP, exec runs in the namespace, and logs
//! come from one CRI-format file per container under `logs/pods/`.
//!
//! Its Pods: the fixture Pods in `node-agent-pods.json` (fixed at start),
//! and Pods that come and go (test workloads, [`crate::workload`]) in
//! `node-agent-pods.d/<namespace>_<name>.json`, which the agent reads on
//! every request for a Pod it does not know otherwise: [`register_pod`]
//! makes a Pod known at once, [`unregister_pod`] makes the agent answer 404
//! `pod … is not known` again.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::error::{Error, IoContext, Result};
use crate::fsutil;
use crate::http_probe;
use crate::netns::Netns;
use crate::pki::Pki;
use crate::process::{self, Proc};
use crate::state::NodeAgentInfo;

/// The kubelet's port, on every Node address (each Node has its own IP).
pub const PORT: u16 = 10250;
/// Name of the user in the apiserver's kubelet client certificate.
const APISERVER_CLIENT_USER: &str = "kube-apiserver-kubelet-client";
/// The directory of per-Pod files in the state directory (`--pods-dir`).
pub const PODS_DIR: &str = "node-agent-pods.d";

/// A Pod the agent answers for: where it lives and its one container.
#[derive(Debug, Clone)]
pub struct AgentPod {
    pub namespace: String,
    pub name: String,
    pub ip: Ipv4Addr,
    pub container: String,
}

/// What the agent runs as and for.
pub struct Spec<'a> {
    /// The `porthole-node-agent` binary.
    pub bin: &'a Path,
    /// The Nodes' InternalIPs (inside the namespace): where it listens.
    pub node_ips: &'a [Ipv4Addr],
    pub pods: &'a [AgentPod],
}

pub struct NodeAgent {
    pub proc: Proc,
    pub info: NodeAgentInfo,
    /// Flags that point kube-apiserver at the agent.
    pub apiserver_args: Vec<String>,
}

/// The CRI log file of `container` in `namespace/pod` (what `kubectl logs`
/// reads through the agent) under the cluster's `logs/` directory.
pub fn log_path(logs: &Path, namespace: &str, pod: &str, container: &str) -> PathBuf {
    logs.join("pods")
        .join(format!("{namespace}_{pod}"))
        .join(format!("{container}.log"))
}

/// Appends `text` as one stdout line in the CRI log format
/// (`<RFC3339Nano> stdout F <text>`), as a container runtime would.
pub fn append_log_line(path: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    let now = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".into());
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .ctx(|| format!("opening {}", path.display()))?;
    f.write_all(format!("{now} stdout F {text}\n").as_bytes())
        .ctx(|| format!("writing {}", path.display()))
}

/// Writes the container's first log line ("porthole test container
/// NS/POD/C started") and returns the Pod's entry as the agent reads it.
fn start_container_log(logs: &Path, p: &AgentPod) -> Result<serde_json::Value> {
    let log = log_path(logs, &p.namespace, &p.name, &p.container);
    if let Some(parent) = log.parent() {
        std::fs::create_dir_all(parent).ctx(|| format!("creating {}", parent.display()))?;
    }
    append_log_line(
        &log,
        &format!(
            "porthole test container {}/{}/{} started",
            p.namespace, p.name, p.container
        ),
    )?;
    Ok(json!({
        "namespace": p.namespace, "name": p.name, "ip": p.ip.to_string(),
        "containers": { p.container.clone(): log },
    }))
}

/// The file in `pods_dir` that makes `namespace/name` known to the agent.
pub fn pod_file(pods_dir: &Path, namespace: &str, name: &str) -> PathBuf {
    pods_dir.join(format!("{namespace}_{name}.json"))
}

/// Makes `pod` known to the running agent (its container log started under
/// `logs`): one file in `pods_dir`, written atomically, read by the agent
/// on the next request for that Pod.
pub fn register_pod(pods_dir: &Path, logs: &Path, pod: &AgentPod) -> Result<PathBuf> {
    let entry = start_container_log(logs, pod)?;
    let path = pod_file(pods_dir, &pod.namespace, &pod.name);
    let text = serde_json::to_vec_pretty(&entry)
        .map_err(|e| Error::json(format!("writing {}", path.display()), e))?;
    fsutil::write_atomic(&path, &text)?;
    Ok(path)
}

/// Forgets a Pod [`register_pod`] added: from now on the agent answers 404
/// for it. Missing is fine.
pub fn unregister_pod(pods_dir: &Path, namespace: &str, name: &str) -> Result<()> {
    let path = pod_file(pods_dir, namespace, name);
    match std::fs::remove_file(&path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).ctx(|| format!("removing {}", path.display()))
        }
        _ => Ok(()),
    }
}

/// Starts the agent inside `ns` on `node_ips`:[`PORT`] with a serving
/// certificate for those addresses, writes the apiserver's kubelet client
/// certificate, and waits until every address accepts connections.
pub async fn start(
    ip: &Path,
    ns: &Netns,
    spec: &Spec<'_>,
    pki: &Pki,
    dir: &Path,
    logs: &Path,
) -> Result<NodeAgent> {
    let Spec {
        bin,
        node_ips,
        pods,
    } = *spec;
    let pki_dir = dir.join("pki");
    let names: Vec<String> = node_ips.iter().map(ToString::to_string).collect();
    let serving = pki.server_cert("porthole-node-agent", &names)?;
    let client = pki.client_cert(APISERVER_CLIENT_USER, &[])?;
    let files = [
        ("node-agent.crt", &serving.cert_pem, false),
        ("node-agent.key", &serving.key_pem, true),
        ("apiserver-kubelet-client.crt", &client.cert_pem, false),
        ("apiserver-kubelet-client.key", &client.key_pem, true),
        ("ca.crt", &pki.ca_cert_pem, false),
    ];
    for (name, pem, private) in files {
        let path = pki_dir.join(name);
        if private {
            fsutil::write_private(&path, pem.as_bytes())?;
        } else {
            fsutil::write_atomic(&path, pem.as_bytes())?;
        }
    }

    let mut entries = Vec::new();
    for p in pods {
        entries.push(start_container_log(logs, p)?);
    }
    let pods_dir = dir.join(PODS_DIR);
    fsutil::create_private_dir(&pods_dir)?;
    let pods_file = dir.join("node-agent-pods.json");
    fsutil::write_atomic(
        &pods_file,
        serde_json::to_string_pretty(&json!({ "pods": entries }))
            .map_err(|e| Error::json("writing the node agent's pods", e))?
            .as_bytes(),
    )?;

    let addrs: Vec<SocketAddrV4> = node_ips
        .iter()
        .map(|a| SocketAddrV4::new(*a, PORT))
        .collect();
    let listen = addrs
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let p = |name: &str| pki_dir.join(name).display().to_string();
    let args: Vec<String> = vec![
        "netns".into(),
        "exec".into(),
        ns.name.clone(),
        bin.display().to_string(),
        format!("--listen={listen}"),
        format!("--tls-cert-file={}", p("node-agent.crt")),
        format!("--tls-private-key-file={}", p("node-agent.key")),
        format!("--client-ca-file={}", p("ca.crt")),
        format!("--pods={}", pods_file.display()),
        format!("--pods-dir={}", pods_dir.display()),
    ];
    let mut proc = process::spawn(
        "porthole-node-agent",
        ip,
        &args,
        &logs.join("node-agent.log"),
    )?;
    wait_listening(&mut proc, &addrs).await?;
    let info = NodeAgentInfo {
        pid: proc.pid,
        port: PORT,
        addresses: names,
        pods_file,
        pods_dir,
    };
    let apiserver_args = vec![
        format!(
            "--kubelet-client-certificate={}",
            p("apiserver-kubelet-client.crt")
        ),
        format!("--kubelet-client-key={}", p("apiserver-kubelet-client.key")),
        format!("--kubelet-certificate-authority={}", p("ca.crt")),
        "--kubelet-preferred-address-types=InternalIP".into(),
    ];
    Ok(NodeAgent {
        proc,
        info,
        apiserver_args,
    })
}

async fn wait_listening(proc: &mut Proc, addrs: &[SocketAddrV4]) -> Result<()> {
    let timeout = Duration::from_secs(30);
    let start = Instant::now();
    for addr in addrs {
        loop {
            if let Some(status) = proc.exited() {
                return Err(proc.exited_early(status));
            }
            let last =
                match http_probe::connects(SocketAddr::V4(*addr), Duration::from_secs(2)).await {
                    Ok(()) => break,
                    Err(e) => e,
                };
            if start.elapsed() > timeout {
                return Err(Error::Timeout {
                    what: format!("porthole-node-agent to listen on {addr}"),
                    secs: timeout.as_secs(),
                    detail: format!(
                        "last attempt: {last}\nlast lines of {}:\n{}",
                        proc.log.display(),
                        process::tail(&proc.log, 20)
                    ),
                });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_registered_pod_is_one_file_in_the_agents_shape_until_unregistered() {
        let dir = std::env::temp_dir().join(format!("porthole-agent-pods-{}", std::process::id()));
        let (pods_dir, logs) = (dir.join(PODS_DIR), dir.join("logs"));
        std::fs::create_dir_all(&pods_dir).expect("mkdir");
        let pod = AgentPod {
            namespace: "wl-1".into(),
            name: "a".into(),
            ip: Ipv4Addr::new(10, 213, 7, 100),
            container: "heal".into(),
        };
        let path = register_pod(&pods_dir, &logs, &pod).expect("register");
        assert!(path.ends_with("node-agent-pods.d/wl-1_a.json"));
        let entry: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("JSON");
        let log = log_path(&logs, "wl-1", "a", "heal");
        assert_eq!(
            entry,
            json!({ "namespace": "wl-1", "name": "a", "ip": "10.213.7.100",
                    "containers": { "heal": log } })
        );
        assert!(
            std::fs::read_to_string(&log)
                .expect("container log")
                .contains("porthole test container wl-1/a/heal started")
        );
        unregister_pod(&pods_dir, "wl-1", "a").expect("unregister");
        assert!(!path.exists());
        unregister_pod(&pods_dir, "wl-1", "a").expect("unregistering twice is fine");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn log_lines_are_in_the_cri_format_under_the_pod_directory() {
        let dir = std::env::temp_dir().join(format!("porthole-agent-log-{}", std::process::id()));
        let path = log_path(&dir, "team-a", "echo-0", "echo");
        assert!(path.ends_with("pods/team-a_echo-0/echo.log"));
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        append_log_line(&path, "hello there").expect("append");
        let text = std::fs::read_to_string(&path).expect("read");
        let _ = std::fs::remove_dir_all(&dir);
        let parts: Vec<&str> = text.trim_end().splitn(4, ' ').collect();
        assert_eq!(parts.len(), 4, "{text}");
        assert!(
            parts[0].len() >= 20 && parts[0].contains('T') && parts[0].ends_with('Z'),
            "not an RFC 3339 UTC time: {text}"
        );
        assert_eq!(&parts[1..], ["stdout", "F", "hello there"]);
    }
}
