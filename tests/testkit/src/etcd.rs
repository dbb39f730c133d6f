//! etcd on two free loopback ports with a throwaway data directory.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::error::{Error, IoContext, Result};
use crate::http_probe;
use crate::ports;
use crate::process::{self, Proc};

const ATTEMPTS: u32 = 5;
const READY_TIMEOUT: Duration = Duration::from_secs(60);

pub struct Etcd {
    pub proc: Proc,
    pub client_url: String,
    pub data_dir: PathBuf,
}

/// Starts etcd and waits until `/health` says so; retries with fresh ports
/// when a port was taken between picking and binding.
pub async fn start(bin: &Path, dir: &Path, logs: &Path) -> Result<Etcd> {
    let data_dir = dir.join("etcd-data");
    let log = logs.join("etcd.log");
    let mut last_tail = String::new();
    for attempt in 1..=ATTEMPTS {
        if data_dir.exists() {
            std::fs::remove_dir_all(&data_dir)
                .ctx(|| format!("clearing {}", data_dir.display()))?;
        }
        crate::fsutil::create_private_dir(&data_dir)?;
        let p = ports::free_loopback_ports(2)?;
        let client_url = format!("http://127.0.0.1:{}", p[0]);
        let peer_url = format!("http://127.0.0.1:{}", p[1]);
        let args = [
            "--name=porthole".to_owned(),
            format!("--data-dir={}", data_dir.display()),
            format!("--listen-client-urls={client_url}"),
            format!("--advertise-client-urls={client_url}"),
            format!("--listen-peer-urls={peer_url}"),
            format!("--initial-advertise-peer-urls={peer_url}"),
            format!("--initial-cluster=porthole={peer_url}"),
            "--initial-cluster-state=new".to_owned(),
            // Test data: durability is not worth the fsync latency.
            "--unsafe-no-fsync".to_owned(),
            "--log-level=warn".to_owned(),
        ];
        let mut proc = process::spawn("etcd", bin, &args, &log)?;
        let addr = SocketAddr::from(([127, 0, 0, 1], p[0]));
        match wait_healthy(&mut proc, addr).await {
            Ok(()) => {
                return Ok(Etcd {
                    proc,
                    client_url,
                    data_dir,
                });
            }
            Err(e) => {
                let tail = process::tail(&log, 25);
                let clash = ports::is_addr_in_use(&tail);
                let _ = proc.stop(Duration::from_secs(5)).await;
                if !clash {
                    return Err(e);
                }
                tracing::warn!(attempt, "etcd: port taken, retrying with fresh ports");
                last_tail = tail;
            }
        }
    }
    Err(Error::PortClash {
        what: "etcd".into(),
        attempts: ATTEMPTS,
        tail: last_tail,
    })
}

async fn wait_healthy(proc: &mut Proc, addr: SocketAddr) -> Result<()> {
    let start = Instant::now();
    loop {
        if let Some(status) = proc.exited() {
            return Err(proc.exited_early(status));
        }
        let last = match http_probe::get(addr, "/health", Duration::from_secs(2)).await {
            Ok((200, body)) if body.contains("\"health\":\"true\"") => return Ok(()),
            Ok((code, body)) => format!("HTTP {code}: {}", body.trim()),
            Err(e) => e,
        };
        if start.elapsed() > READY_TIMEOUT {
            return Err(Error::Timeout {
                what: format!("etcd at {addr} to report healthy"),
                secs: READY_TIMEOUT.as_secs(),
                detail: format!("{last}; log {}", proc.log.display()),
            });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
