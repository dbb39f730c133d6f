//! The two proxies under test, started with `--port=0` against the admin
//! kubeconfig: where they listen (from their "Starting to serve on" line)
//! and their peak memory.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};

use crate::error::{Error, Result};

const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A running proxy; killed when dropped.
pub struct Proxy {
    pub addr: std::net::SocketAddr,
    child: Child,
}

impl Proxy {
    /// `program ARGS… proxy --port=0 --kubeconfig FILE`, stderr to `log`.
    pub async fn start(
        name: &'static str,
        program: &Path,
        kubeconfig: &Path,
        log: &Path,
    ) -> Result<Proxy> {
        let spawn_err = |detail: String| Error::Spawn {
            what: format!("{name} ({})", program.display()),
            detail,
        };
        let log_file = std::fs::File::create(log)
            .map_err(|e| spawn_err(format!("creating {}: {e}", log.display())))?;
        let mut child = Command::new(program)
            .arg("proxy")
            .arg("--port=0")
            .arg("--kubeconfig")
            .arg(kubeconfig)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log_file)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| spawn_err(e.to_string()))?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| spawn_err("no stdout pipe".into()))?;
        let mut lines = BufReader::new(stdout).lines();
        let line = match tokio::time::timeout(START_TIMEOUT, lines.next_line()).await {
            Ok(Ok(Some(line))) => line,
            Ok(Ok(None)) | Ok(Err(_)) => {
                return Err(spawn_err(format!(
                    "it exited without \"Starting to serve on\"; see {}: {}",
                    log.display(),
                    tail(log)
                )));
            }
            Err(_) => {
                return Err(Error::Timeout {
                    what: format!("{name} to print \"Starting to serve on\""),
                    secs: START_TIMEOUT.as_secs(),
                });
            }
        };
        let addr = parse_serving_line(&line)
            .ok_or_else(|| spawn_err(format!("unexpected first line {line:?}")))?;
        // Keep reading stdout so the proxy never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Proxy { addr, child })
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Peak resident set size (VmHWM) of the proxy and its children, in KiB.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        peak_rss_kib(self.pid()?)
    }
}

/// Peak resident set size (VmHWM) of process `pid` and its children, in KiB.
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    let mut total = vm_hwm_kib(pid)?;
    for child in children(pid) {
        total += vm_hwm_kib(child).unwrap_or(0);
    }
    Some(total)
}

/// `Starting to serve on 127.0.0.1:PORT` → the address.
pub fn parse_serving_line(line: &str) -> Option<std::net::SocketAddr> {
    line.trim()
        .strip_prefix("Starting to serve on ")?
        .trim()
        .parse()
        .ok()
}

fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn children(pid: u32) -> Vec<u32> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for task in tasks.flatten() {
        if let Ok(text) = std::fs::read_to_string(task.path().join("children")) {
            out.extend(
                text.split_whitespace()
                    .filter_map(|p| p.parse::<u32>().ok()),
            );
        }
    }
    out
}

pub fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(5)..].join(" | ")
}

/// `portholectl` next to this executable (the same cargo target dir),
/// unless given.
pub fn portholectl(given: Option<PathBuf>) -> Result<PathBuf> {
    let path = match given {
        Some(p) => p,
        None => std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(|d| d.join("portholectl")))
            .unwrap_or_else(|| PathBuf::from("portholectl")),
    };
    if path.is_file() {
        Ok(path)
    } else {
        Err(Error::Spawn {
            what: "portholectl".into(),
            detail: format!(
                "{} does not exist: build it in the same profile (cargo build --release -p porthole-cli --bin portholectl) or pass --portholectl",
                path.display()
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_serving_line_gives_the_address() {
        assert_eq!(
            parse_serving_line("Starting to serve on 127.0.0.1:40123\n"),
            Some("127.0.0.1:40123".parse().expect("addr"))
        );
        assert_eq!(parse_serving_line("hello"), None);
    }
}
