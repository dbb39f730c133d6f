//! The two port-forwards under test as child processes, started with the
//! same arguments on the same kubeconfig: `kubectl port-forward` and
//! `portholectl forward`, listening on one loopback port each (read from
//! their "Forwarding from 127.0.0.1:PORT -> REMOTE" line).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};

use crate::error::{Error, Result};
use crate::proxies::{peak_rss_kib, tail};

const START_TIMEOUT: Duration = Duration::from_secs(60);

/// Which program forwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    Kubectl,
    Porthole,
}

impl Tool {
    pub fn name(self) -> &'static str {
        match self {
            Tool::Kubectl => "kubectl port-forward",
            Tool::Porthole => "portholectl forward",
        }
    }

    fn verb(self) -> &'static str {
        match self {
            Tool::Kubectl => "port-forward",
            Tool::Porthole => "forward",
        }
    }
}

/// The programs and the kubeconfig both run with.
#[derive(Debug, Clone)]
pub struct Programs {
    pub kubectl: PathBuf,
    pub portholectl: PathBuf,
    pub kubeconfig: PathBuf,
    pub logs: PathBuf,
}

/// A running forward; killed when dropped.
pub struct Forwarder {
    pub tool: Tool,
    pub addr: SocketAddr,
    child: Child,
    log: PathBuf,
}

impl Forwarder {
    /// `PROGRAM --kubeconfig F VERB -n NAMESPACE TARGET :REMOTE --address
    /// 127.0.0.1`; stderr to `<logs>/<label>.log`.
    pub async fn start(
        tool: Tool,
        programs: &Programs,
        namespace: &str,
        target: &str,
        remote: &str,
        label: &str,
    ) -> Result<Forwarder> {
        let program = match tool {
            Tool::Kubectl => &programs.kubectl,
            Tool::Porthole => &programs.portholectl,
        };
        let log = programs.logs.join(format!("{label}.log"));
        let spawn_err = |detail: String| Error::Spawn {
            what: format!("{} {target} ({})", tool.name(), program.display()),
            detail,
        };
        let log_file = std::fs::File::create(&log)
            .map_err(|e| spawn_err(format!("creating {}: {e}", log.display())))?;
        let mut child = Command::new(program)
            .arg("--kubeconfig")
            .arg(&programs.kubeconfig)
            .arg(tool.verb())
            .args(["-n", namespace, target, &format!(":{remote}")])
            .args(["--address", "127.0.0.1"])
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
                    "it exited without \"Forwarding from\"; see {}: {}",
                    log.display(),
                    tail(&log)
                )));
            }
            Err(_) => {
                return Err(Error::Timeout {
                    what: format!("{} {target} to print \"Forwarding from\"", tool.name()),
                    secs: START_TIMEOUT.as_secs(),
                });
            }
        };
        let addr = parse_forwarding_line(&line)
            .ok_or_else(|| spawn_err(format!("unexpected first line {line:?}")))?;
        // "Handling connection for …" per connection: keep reading so the
        // forward never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Forwarder {
            tool,
            addr,
            child,
            log,
        })
    }

    pub fn peak_rss_kib(&self) -> Option<u64> {
        peak_rss_kib(self.child.id()?)
    }

    /// Its exit status once it has ended.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// The last lines it wrote to stderr.
    pub fn stderr_tail(&self) -> String {
        tail(&self.log)
    }

    pub fn log(&self) -> &Path {
        &self.log
    }
}

/// `Forwarding from 127.0.0.1:PORT -> REMOTE` → the local address.
pub fn parse_forwarding_line(line: &str) -> Option<SocketAddr> {
    let rest = line.trim().strip_prefix("Forwarding from ")?;
    let (local, _remote) = rest.split_once(" -> ")?;
    local.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_forwarding_line_gives_the_local_address() {
        assert_eq!(
            parse_forwarding_line("Forwarding from 127.0.0.1:40123 -> 8080\n"),
            Some("127.0.0.1:40123".parse().expect("addr"))
        );
        assert_eq!(
            parse_forwarding_line("Forwarding from [::1]:40123 -> 80"),
            Some("[::1]:40123".parse().expect("addr"))
        );
        assert_eq!(parse_forwarding_line("Handling connection for 40123"), None);
    }
}
