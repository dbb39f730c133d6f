//! The backend HTTP servers (`porthole-backends`, tests/backends/) running
//! inside the network namespace, one address per backend "pod".

use std::net::{SocketAddr, SocketAddrV4};
use std::path::Path;
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::http_probe;
use crate::netns::Netns;
use crate::process::{self, Proc};
use crate::state::{BackendInstance, BackendsInfo};

/// A backend "pod": last octet of its address, and (mode, port) listeners.
pub struct Instance {
    pub name: &'static str,
    pub host: u8,
    pub listeners: &'static [(&'static str, u16)],
}

/// Every backend the fixtures point services at.
pub const INSTANCES: &[Instance] = &[
    Instance {
        name: "spa",
        host: 10,
        listeners: &[("spa", 8080)],
    },
    Instance {
        name: "echo",
        host: 11,
        listeners: &[("echo", 8080), ("echo", 9090)],
    },
    Instance {
        name: "elasticsearch",
        host: 12,
        listeners: &[("elasticsearch", 9200)],
    },
    Instance {
        name: "https",
        host: 13,
        listeners: &[("https", 8443)],
    },
    Instance {
        name: "stream",
        host: 14,
        listeners: &[("stream", 8080)],
    },
    Instance {
        name: "websocket",
        host: 15,
        listeners: &[("websocket", 8080)],
    },
    Instance {
        name: "download",
        host: 16,
        listeners: &[("download", 8080)],
    },
    // Not HTTP: the team-a `postgres`, `redis` and `grpc` services, for
    // port-forwards (raw bytes echoed back).
    Instance {
        name: "tcp-echo",
        host: 17,
        listeners: &[("tcp-echo", 5432), ("tcp-echo", 6379), ("tcp-echo", 9090)],
    },
    // kube-dns: an echo server on the DNS TCP port and the metrics port,
    // so the builtin has a real (HTTP) server behind it.
    Instance {
        name: "dns",
        host: 20,
        listeners: &[("echo", 53), ("echo", 9153)],
    },
];

/// The last octets of all instance addresses (for the namespace setup).
pub fn hosts() -> Vec<u8> {
    INSTANCES.iter().map(|i| i.host).collect()
}

pub struct Backends {
    pub proc: Proc,
    pub info: BackendsInfo,
}

#[derive(Deserialize)]
struct ReadyFile {
    listeners: Vec<ReadyListener>,
}

#[derive(Deserialize)]
struct ReadyListener {
    mode: String,
    addr: String,
}

/// Starts `porthole-backends` inside `ns` serving every instance, waits for
/// its ready file and checks each listener from the host side.
pub async fn start(ip: &Path, bin: &Path, ns: &Netns, dir: &Path, logs: &Path) -> Result<Backends> {
    let ready_file = dir.join("backends-ready.json");
    let _ = std::fs::remove_file(&ready_file);
    let mut args: Vec<String> = vec![
        "netns".into(),
        "exec".into(),
        ns.name.clone(),
        bin.display().to_string(),
    ];
    let mut wanted: Vec<(String, SocketAddrV4)> = Vec::new();
    for inst in INSTANCES {
        for (mode, port) in inst.listeners {
            let addr = SocketAddrV4::new(ns.ip(inst.host), *port);
            args.push("--serve".into());
            args.push(format!("{mode}={addr}"));
            wanted.push(((*mode).to_owned(), addr));
        }
    }
    args.push("--ready-file".into());
    args.push(ready_file.display().to_string());

    let mut proc = process::spawn("porthole-backends", ip, &args, &logs.join("backends.log"))?;
    let ready = wait_ready_file(&mut proc, &ready_file).await?;
    for (mode, addr) in &wanted {
        if !ready
            .listeners
            .iter()
            .any(|l| &l.mode == mode && l.addr == addr.to_string())
        {
            return Err(Error::Backends(format!(
                "{} lists no `{mode}` listener on {addr} (asked with --serve {mode}={addr})",
                ready_file.display()
            )));
        }
    }
    for (mode, addr) in &wanted {
        check_from_host(mode, SocketAddr::V4(*addr)).await?;
    }
    let instances = INSTANCES
        .iter()
        .map(|i| BackendInstance {
            name: i.name.to_owned(),
            ip: ns.ip(i.host).to_string(),
            listeners: i
                .listeners
                .iter()
                .map(|(m, p)| ((*m).to_owned(), *p))
                .collect(),
        })
        .collect();
    let info = BackendsInfo {
        pid: proc.pid,
        instances,
    };
    Ok(Backends { proc, info })
}

async fn wait_ready_file(proc: &mut Proc, path: &Path) -> Result<ReadyFile> {
    let timeout = Duration::from_secs(30);
    let start = Instant::now();
    loop {
        if let Some(status) = proc.exited() {
            return Err(proc.exited_early(status));
        }
        if let Ok(text) = std::fs::read_to_string(path) {
            return serde_json::from_str(&text).map_err(|e| {
                Error::Backends(format!("{} is not valid: {e}: {text}", path.display()))
            });
        }
        if start.elapsed() > timeout {
            return Err(Error::Timeout {
                what: format!("porthole-backends to write {}", path.display()),
                secs: timeout.as_secs(),
                detail: format!(
                    "last lines of {}:\n{}",
                    proc.log.display(),
                    process::tail(&proc.log, 20)
                ),
            });
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `GET /healthz` → `ok` from the host side (TLS listener: TCP connect;
/// `tcp-echo`: bytes come back).
pub async fn check_from_host(mode: &str, addr: SocketAddr) -> Result<()> {
    let timeout = Duration::from_secs(5);
    let result = if mode == "https" {
        http_probe::connects(addr, timeout).await
    } else if mode == "tcp-echo" {
        http_probe::echoes(addr, timeout).await
    } else {
        match http_probe::get(addr, "/healthz", timeout).await {
            Ok((200, body)) if body.trim() == "ok" => Ok(()),
            Ok((code, body)) => Err(format!("HTTP {code}: {}", body.trim())),
            Err(e) => Err(e),
        }
    };
    result.map_err(|e| {
        Error::Backends(format!(
            "`{mode}` backend at {addr} is not reachable from the host: {e}"
        ))
    })
}
