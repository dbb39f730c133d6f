//! Child processes of the supervisor: output to a log file, killed when the
//! supervisor dies (`PR_SET_PDEATHSIG`, plus tokio's kill-on-drop), stopped
//! with SIGTERM then SIGKILL. Also small /proc helpers for pids we did not
//! spawn ourselves (`down` runs in another process than the supervisor).

use std::ffi::OsStr;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use crate::error::{Error, IoContext, Result};

/// A running child whose stdout and stderr go to `log`.
#[derive(Debug)]
pub struct Proc {
    pub name: String,
    pub pid: u32,
    pub log: PathBuf,
    child: tokio::process::Child,
}

/// Starts `program args...` with stdin closed and all output appended to `log`.
///
/// The child gets `PR_SET_PDEATHSIG(SIGKILL)`: it dies with the thread that
/// spawned it. Only spawn from a thread that lives as long as the child (the
/// supervisor runs a current-thread runtime, so that is its main thread).
pub fn spawn<I, S>(name: &str, program: &Path, args: I, log: &Path) -> Result<Proc>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let out = File::options()
        .create(true)
        .append(true)
        .open(log)
        .ctx(|| format!("opening log file {}", log.display()))?;
    let err = out
        .try_clone()
        .ctx(|| format!("duplicating log file handle {}", log.display()))?;
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err))
        .kill_on_drop(true);
    die_with_parent(cmd.as_std_mut());
    let child = cmd.spawn().map_err(|source| Error::Spawn {
        what: name.to_owned(),
        path: program.to_owned(),
        source,
    })?;
    let pid = child.id().ok_or_else(|| Error::Spawn {
        what: name.to_owned(),
        path: program.to_owned(),
        source: std::io::Error::other("the child exited before its pid could be read"),
    })?;
    Ok(Proc {
        name: name.to_owned(),
        pid,
        log: log.to_owned(),
        child,
    })
}

/// Makes a command's child receive SIGKILL when the spawning thread exits.
pub fn die_with_parent(cmd: &mut std::process::Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: getpid/prctl/getppid/_exit are async-signal-safe; nothing is
    // allocated between fork and exec.
    let parent = unsafe { libc::getpid() };
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(
                libc::PR_SET_PDEATHSIG,
                libc::SIGKILL as libc::c_ulong,
                0,
                0,
                0,
            ) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            // The parent may have died between fork and prctl.
            if libc::getppid() != parent {
                libc::_exit(1);
            }
            Ok(())
        });
    }
}

/// A spawn request for the thread that lives as long as this process.
struct SpawnRequest {
    cmd: std::process::Command,
    reply: tokio::sync::oneshot::Sender<std::io::Result<std::process::Child>>,
}

/// Starts `cmd` so that it dies with this process, not with the calling
/// thread: `PR_SET_PDEATHSIG` fires when the *thread* that forked exits, and
/// test threads (and runtime workers) end long before the process does. So
/// the fork happens on one thread that never ends. For children of a test
/// process (test workloads); the supervisor uses [`spawn`].
pub async fn spawn_for_process_lifetime(
    mut cmd: std::process::Command,
) -> std::io::Result<std::process::Child> {
    static SPAWNER: std::sync::OnceLock<std::sync::mpsc::Sender<SpawnRequest>> =
        std::sync::OnceLock::new();
    let sender = SPAWNER.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel::<SpawnRequest>();
        std::thread::Builder::new()
            .name("porthole-spawner".into())
            .spawn(move || {
                for mut req in rx {
                    let _ = req.reply.send(req.cmd.spawn());
                }
            })
            .map(drop)
            .unwrap_or_else(|e| eprintln!("porthole-testkit: no spawner thread: {e}"));
        tx
    });
    die_with_parent(&mut cmd);
    let (reply, answer) = tokio::sync::oneshot::channel();
    let gone = || std::io::Error::other("the porthole-spawner thread is gone");
    sender
        .send(SpawnRequest { cmd, reply })
        .map_err(|_| gone())?;
    answer.await.map_err(|_| gone())?
}

impl Proc {
    /// `Some(description)` once the child has exited.
    pub fn exited(&mut self) -> Option<String> {
        match self.child.try_wait() {
            Ok(Some(status)) => Some(status.to_string()),
            Ok(None) => None,
            Err(e) => Some(format!("wait failed: {e}")),
        }
    }

    /// The error for a child that died while we waited for it.
    pub fn exited_early(&self, status: String) -> Error {
        Error::ExitedEarly {
            what: self.name.clone(),
            status,
            log: self.log.clone(),
            tail: tail(&self.log, 25),
        }
    }

    /// SIGTERM, then SIGKILL after `grace`. Returns how it ended.
    pub async fn stop(mut self, grace: Duration) -> String {
        if let Some(status) = self.exited() {
            return format!(
                "{} (pid {}) had already exited: {status}",
                self.name, self.pid
            );
        }
        signal(self.pid, libc::SIGTERM);
        match tokio::time::timeout(grace, self.child.wait()).await {
            Ok(Ok(status)) => format!("stopped {} (pid {}): {status}", self.name, self.pid),
            Ok(Err(e)) => format!(
                "stopping {} (pid {}): wait failed: {e}",
                self.name, self.pid
            ),
            Err(_) => {
                let _ = self.child.kill().await;
                format!(
                    "killed {} (pid {}) after it ignored SIGTERM for {} s",
                    self.name,
                    self.pid,
                    grace.as_secs()
                )
            }
        }
    }
}

/// The last `n` lines of a file (or a note that it cannot be read).
pub fn tail(path: &Path, n: usize) -> String {
    match fs::read(path) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            let lines: Vec<&str> = text.lines().collect();
            let start = lines.len().saturating_sub(n);
            let mut out = lines[start..].join("\n");
            if out.is_empty() {
                out = "(empty)".to_owned();
            }
            out
        }
        Err(e) => format!("(cannot read {}: {e})", path.display()),
    }
}

pub fn signal(pid: u32, sig: libc::c_int) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: kill(2) with a plain pid and signal number.
    unsafe { libc::kill(pid, sig) == 0 }
}

/// Whether `pid` is a live (non-zombie) process.
pub fn alive(pid: u32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        // Field 3 (after the parenthesised name) is the state.
        Ok(stat) => stat
            .rsplit_once(')')
            .map(|(_, rest)| !rest.trim_start().starts_with(['Z', 'X']))
            .unwrap_or(false),
        Err(_) => false,
    }
}

/// The argv of `pid`, joined with spaces ("" if unreadable).
pub fn cmdline(pid: u32) -> String {
    fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| {
            b.split(|c| *c == 0)
                .map(|s| String::from_utf8_lossy(s).into_owned())
                .collect::<Vec<_>>()
                .join(" ")
                .trim()
                .to_owned()
        })
        .unwrap_or_default()
}

/// Whether `pid` is alive and its command line contains `needle` (guards
/// against signalling a recycled pid).
pub fn alive_as(pid: u32, needle: &str) -> bool {
    alive(pid) && cmdline(pid).contains(needle)
}

/// Resident set size of `pid` in KiB, from /proc/PID/status.
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

/// Waits until `pid` is gone, up to `timeout`. Returns whether it is gone.
pub async fn wait_gone(pid: u32, timeout: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + timeout;
    while alive(pid) {
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    true
}

/// Effective uid of this process.
pub fn euid() -> u32 {
    // SAFETY: geteuid never fails.
    unsafe { libc::geteuid() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_process_is_alive_and_has_rss() {
        let me = std::process::id();
        assert!(alive(me));
        assert!(rss_kib(me).is_some_and(|k| k > 0));
        assert!(!cmdline(me).is_empty());
    }

    #[test]
    fn tail_takes_last_lines() {
        let dir = std::env::temp_dir().join(format!("porthole-tail-{}", std::process::id()));
        fs::create_dir_all(&dir).expect("mkdir");
        let f = dir.join("log");
        fs::write(&f, "a\nb\nc\nd\n").expect("write");
        assert_eq!(tail(&f, 2), "c\nd");
        assert!(tail(&dir.join("missing"), 2).starts_with("(cannot read"));
        fs::remove_dir_all(&dir).expect("cleanup");
    }
}
