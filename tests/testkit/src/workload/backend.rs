//! The process behind a workload Pod: one `porthole-backends` in the
//! network namespace serving every port of the Pod on its address, tied to
//! the test process's life.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::error::{Error, IoContext, Result};

/// How long the backend may take to bind and answer.
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long it gets to stop after SIGTERM before SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(3);

/// What a backend process needs to start.
pub(super) struct Launch<'a> {
    pub ip_bin: &'a Path,
    pub netns: &'a str,
    pub bin: &'a Path,
    pub ip: Ipv4Addr,
    /// (backend mode, port)
    pub listeners: Vec<(&'static str, u16)>,
    /// Its ready file (removed first) and its output.
    pub ready_file: PathBuf,
    pub log: PathBuf,
}

/// Starts the backend and returns once every listener answers from the host
/// side (an HTTP `/healthz`, or bytes echoed back).
pub(super) async fn start(launch: &Launch<'_>) -> Result<Child> {
    let _ = std::fs::remove_file(&launch.ready_file);
    if let Some(dir) = launch.log.parent() {
        std::fs::create_dir_all(dir).ctx(|| format!("creating {}", dir.display()))?;
    }
    let out = std::fs::File::options()
        .create(true)
        .append(true)
        .open(&launch.log)
        .ctx(|| format!("opening {}", launch.log.display()))?;
    let err = out
        .try_clone()
        .ctx(|| format!("duplicating {}", launch.log.display()))?;
    let mut cmd = Command::new(launch.ip_bin);
    cmd.args(["netns", "exec", launch.netns])
        .arg(launch.bin)
        .stdin(Stdio::null())
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err));
    for (mode, port) in &launch.listeners {
        cmd.arg("--serve")
            .arg(format!("{mode}={}", SocketAddrV4::new(launch.ip, *port)));
    }
    cmd.arg("--ready-file").arg(&launch.ready_file);
    let mut child = crate::process::spawn_for_process_lifetime(cmd)
        .await
        .map_err(|source| Error::Spawn {
            what: "porthole-backends (test workload)".into(),
            path: launch.bin.to_owned(),
            source,
        })?;
    if let Err(e) = wait_ready(launch, &mut child).await {
        stop(child).await;
        return Err(e);
    }
    Ok(child)
}

async fn wait_ready(launch: &Launch<'_>, child: &mut Child) -> Result<()> {
    let start = Instant::now();
    while !launch.ready_file.is_file() {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(Error::ExitedEarly {
                what: "porthole-backends (test workload)".into(),
                status: status.to_string(),
                log: launch.log.clone(),
                tail: crate::process::tail(&launch.log, 20),
            });
        }
        if start.elapsed() > READY_TIMEOUT {
            return Err(Error::Timeout {
                what: format!("porthole-backends to write {}", launch.ready_file.display()),
                secs: READY_TIMEOUT.as_secs(),
                detail: crate::process::tail(&launch.log, 20),
            });
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for (mode, port) in &launch.listeners {
        let addr = SocketAddr::V4(SocketAddrV4::new(launch.ip, *port));
        crate::backends::check_from_host(mode, addr).await?;
    }
    Ok(())
}

/// SIGTERM (open connections end), then SIGKILL after a grace period.
pub(super) async fn stop(mut child: Child) {
    crate::process::signal(child.id(), libc::SIGTERM);
    let deadline = Instant::now() + STOP_GRACE;
    while Instant::now() < deadline {
        if !matches!(child.try_wait(), Ok(None)) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// [`stop`] for `Drop`: SIGKILL and reap, nothing awaited.
pub(super) fn kill_now(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}
