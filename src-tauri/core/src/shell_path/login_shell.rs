//! Asking the user's login shell for its PATH.
//!
//! The shell runs as `SHELL -l -c SCRIPT`: a login shell reads the profile
//! files where PATH is set (`.bash_profile`, `.zprofile`, `.profile`,
//! fish's config), and a non-interactive one (no `-i`) does not wait for a
//! terminal or print prompts. `-l -c` works for bash, zsh, fish, dash and
//! ksh. The script prints PATH between two markers made unique per run,
//! so whatever the profile itself prints is ignored. stdin is closed; stderr
//! is kept for the debug log only (a profile may print anything there).
//!
//! A profile that hangs is stopped at the timeout: the shell runs in its
//! own process group and the whole group is killed, so a `sleep` it started
//! does not linger.

use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use thiserror::Error;
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::child::{kill_group, read_bounded};
use tokio::process::Command;

/// The most of stdout kept while looking for the markers; a profile that
/// prints more than this is not a sane one.
const STDOUT_LIMIT: usize = 1 << 20;
/// The most of stderr kept for the debug log.
const STDERR_LIMIT: usize = 4096;
/// How long a shell that printed its PATH (or closed stdout) gets to exit.
const EXIT_GRACE: Duration = Duration::from_millis(500);

/// Why the login shell's PATH is not known. Porthole then uses its own PATH
/// and the extra directories from settings.
#[derive(Debug, Error)]
pub enum LoginShellError {
    #[error(
        "login shell {} not found; set $SHELL to your shell, or add the plugins' directories to \"extra PATH directories\" in the settings",
        shell.display()
    )]
    ShellNotFound { shell: PathBuf },
    #[error("cannot start login shell {}: {source}", shell.display())]
    Spawn { shell: PathBuf, source: io::Error },
    #[error(
        "login shell {} did not print PATH within {:.1} s (a login profile that waits for something?); it was stopped",
        shell.display(),
        timeout.as_secs_f64()
    )]
    TimedOut { shell: PathBuf, timeout: Duration },
    #[error(
        "login shell {} exited ({status}) without printing PATH; check its login profile (run `{} -l -c 'printenv PATH'`)",
        shell.display(),
        shell.display()
    )]
    NoPath { shell: PathBuf, status: ExitStatus },
    #[error("reading from login shell {} failed: {source}", shell.display())]
    Read { shell: PathBuf, source: io::Error },
    #[error("login shell {} printed more than {STDOUT_LIMIT} bytes without the PATH markers", shell.display())]
    TooMuchOutput { shell: PathBuf },
    #[error("asking a login shell for PATH is not supported on this system")]
    Unsupported,
}

/// The shell to ask: `$SHELL`, else the user's entry in the passwd
/// database (`getent passwd USER`), else `/bin/sh`.
pub async fn default_login_shell() -> PathBuf {
    if let Some(shell) = std::env::var_os("SHELL").filter(|s| !s.is_empty()) {
        return PathBuf::from(shell);
    }
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .ok()
        .filter(|u| !u.is_empty());
    if let Some(user) = user
        && let Some(shell) = passwd_shell(&user).await
    {
        return shell;
    }
    PathBuf::from("/bin/sh")
}

async fn passwd_shell(user: &str) -> Option<PathBuf> {
    let lookup = Command::new("getent")
        .args(["passwd", user])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(2), lookup)
        .await
        .ok()?
        .ok()?;
    if !output.status.success() {
        return None;
    }
    shell_from_passwd_line(&String::from_utf8_lossy(&output.stdout))
}

/// The shell field (the 7th) of a passwd line.
pub fn shell_from_passwd_line(line: &str) -> Option<PathBuf> {
    let shell = line.lines().next()?.split(':').nth(6)?.trim();
    (!shell.is_empty()).then(|| PathBuf::from(shell))
}

/// Runs `shell -l -c …` and returns the PATH it prints.
pub async fn login_shell_path(
    shell: &Path,
    timeout: Duration,
) -> Result<OsString, LoginShellError> {
    #[cfg(not(unix))]
    {
        let _ = (shell, timeout);
        Err(LoginShellError::Unsupported)
    }
    #[cfg(unix)]
    {
        run(shell, timeout).await
    }
}

#[cfg(unix)]
async fn run(shell: &Path, timeout: Duration) -> Result<OsString, LoginShellError> {
    let markers = Markers::new();
    let script = format!(
        "echo {}; printenv PATH; echo {}",
        markers.begin, markers.end
    );
    tracing::debug!(shell = %shell.display(), "asking the login shell for PATH");
    let mut child = Command::new(shell)
        .args(["-l", "-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
        .map_err(|source| match source.kind() {
            io::ErrorKind::NotFound => LoginShellError::ShellNotFound {
                shell: shell.to_path_buf(),
            },
            _ => LoginShellError::Spawn {
                shell: shell.to_path_buf(),
                source,
            },
        })?;
    let group = child.id();
    let (Some(mut stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
        return Err(LoginShellError::Spawn {
            shell: shell.to_path_buf(),
            source: io::Error::other("the shell's output pipes are missing"),
        });
    };
    let stderr_log = tokio::spawn(async move {
        String::from_utf8_lossy(&read_bounded(stderr, STDERR_LIMIT).await).into_owned()
    });
    let shell_buf = || shell.to_path_buf();

    let read = tokio::time::timeout(timeout, read_until_end_marker(&mut stdout, &markers)).await;
    let result = match read {
        Ok(Ok(Some(path))) => {
            // The shell is done; give it a moment to exit on its own.
            if tokio::time::timeout(EXIT_GRACE, child.wait())
                .await
                .is_err()
            {
                stop(&mut child, group).await;
            }
            Ok(path)
        }
        Ok(Ok(None)) => {
            // stdout closed without the markers: the exit status says why.
            match tokio::time::timeout(EXIT_GRACE, child.wait()).await {
                Ok(Ok(status)) => Err(LoginShellError::NoPath {
                    shell: shell_buf(),
                    status,
                }),
                Ok(Err(source)) => Err(LoginShellError::Read {
                    shell: shell_buf(),
                    source,
                }),
                Err(_) => {
                    stop(&mut child, group).await;
                    Err(LoginShellError::TimedOut {
                        shell: shell_buf(),
                        timeout,
                    })
                }
            }
        }
        Ok(Err(source)) => {
            stop(&mut child, group).await;
            Err(if source.kind() == io::ErrorKind::OutOfMemory {
                LoginShellError::TooMuchOutput { shell: shell_buf() }
            } else {
                LoginShellError::Read {
                    shell: shell_buf(),
                    source,
                }
            })
        }
        Err(_elapsed) => {
            stop(&mut child, group).await;
            Err(LoginShellError::TimedOut {
                shell: shell_buf(),
                timeout,
            })
        }
    };
    if let Ok(Ok(text)) = tokio::time::timeout(EXIT_GRACE, stderr_log).await
        && !text.trim().is_empty()
    {
        tracing::debug!(shell = %shell.display(), stderr = %text.trim(), "login shell stderr");
    }
    result
}

/// Kills the shell's whole process group (a `sleep` its profile runs goes
/// too), then the shell itself, and reaps it. The group is signalled while
/// the shell is not yet reaped, so its id cannot have been reused.
#[cfg(unix)]
async fn stop(child: &mut tokio::process::Child, group: Option<u32>) {
    kill_group(group);
    let _ = child.kill().await;
}

/// Two marker lines no profile prints by accident: a fixed prefix, the
/// process id and the time.
struct Markers {
    begin: String,
    end: String,
}

impl Markers {
    fn new() -> Self {
        let nonce = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let id = format!("{}_{nonce}", std::process::id());
        Self {
            begin: format!("__PORTHOLE_PATH_BEGIN_{id}__"),
            end: format!("__PORTHOLE_PATH_END_{id}__"),
        }
    }
}

/// Reads stdout until the end marker (not to EOF: a daemon started by the
/// profile may keep the pipe open) and returns what was printed between the
/// markers; `None` when the shell closed stdout without them.
async fn read_until_end_marker(
    stdout: &mut (impl AsyncRead + Unpin),
    markers: &Markers,
) -> io::Result<Option<OsString>> {
    let mut seen = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = stdout.read(&mut chunk).await?;
        if n == 0 {
            return Ok(between_markers(&seen, markers));
        }
        seen.extend_from_slice(&chunk[..n]);
        if let Some(path) = between_markers(&seen, markers) {
            return Ok(Some(path));
        }
        if seen.len() > STDOUT_LIMIT {
            return Err(io::Error::new(
                io::ErrorKind::OutOfMemory,
                "too much output",
            ));
        }
    }
}

/// The text between the begin marker's line and the end marker's line.
fn between_markers(output: &[u8], markers: &Markers) -> Option<OsString> {
    let begin = format!("{}\n", markers.begin);
    let end = format!("\n{}", markers.end);
    let start = find(output, begin.as_bytes())? + begin.len();
    let len = find(&output[start..], end.as_bytes())?;
    let value = output[start..start + len].to_vec();
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStringExt;
        Some(OsString::from_vec(value))
    }
    #[cfg(not(unix))]
    {
        Some(OsString::from(String::from_utf8_lossy(&value).into_owned()))
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_path_is_read_between_the_markers_and_noise_is_ignored() {
        let m = Markers::new();
        let out = format!(
            "Welcome!\nPATH=/fake/from/noise\n{}\n/usr/bin:/opt/x\n{}\nbye\n",
            m.begin, m.end
        );
        assert_eq!(
            between_markers(out.as_bytes(), &m),
            Some(OsString::from("/usr/bin:/opt/x"))
        );
        assert_eq!(between_markers(b"no markers\n", &m), None);
        let empty = format!("{}\n\n{}\n", m.begin, m.end);
        assert_eq!(between_markers(empty.as_bytes(), &m), Some(OsString::new()));
    }

    #[test]
    fn the_shell_is_the_seventh_passwd_field() {
        assert_eq!(
            shell_from_passwd_line("alice:x:1000:1000:Alice,,,:/home/alice:/usr/bin/fish\n"),
            Some(PathBuf::from("/usr/bin/fish"))
        );
        assert_eq!(
            shell_from_passwd_line("alice:x:1000:1000::/home/alice:\n"),
            None
        );
        assert_eq!(shell_from_passwd_line("garbage"), None);
    }
}
