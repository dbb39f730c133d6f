//! Running one exec plugin: found on the search path, given the kubeconfig's
//! args and env plus `KUBERNETES_EXEC_INFO`, stdin closed unless it may
//! talk to a terminal, stdout and stderr captured (bounded), killed with
//! everything it started when it overruns its timeout. Nothing blocks the
//! async runtime.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::Command;

use super::credential::{self, ExecCredential};
use super::error::ExecError;
use super::spec::ExecSpec;
use crate::child::{kill_group, read_bounded};
use crate::redact::scrub_secret_words;
use crate::shell_path::SearchPath;

const STDOUT_LIMIT: usize = 1024 * 1024;
const STDERR_LIMIT: usize = 64 * 1024;
/// Lines of stderr kept for the user.
const STDERR_LINES: usize = 5;

/// Runs the plugin once and parses its credential.
pub async fn run_plugin(
    spec: &ExecSpec,
    search: &SearchPath,
    interactive: bool,
    timeout: Duration,
) -> Result<ExecCredential, ExecError> {
    let program = find(spec, search).await?;
    let mut cmd = Command::new(&program);
    cmd.args(&spec.args)
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .env(
            "KUBERNETES_EXEC_INFO",
            credential::exec_info(&spec.api_version, interactive, spec.cluster.as_ref()),
        )
        .stdin(if interactive {
            Stdio::inherit()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    // The plugin itself may call other tools (aws → python): give it the
    // same search path it was found on.
    if let Ok(path) = search.to_env_value() {
        cmd.env("PATH", path);
    }
    #[cfg(unix)]
    cmd.process_group(0);

    let started = Instant::now();
    let mut child = cmd.spawn().map_err(|source| ExecError::Spawn {
        command: spec.command.clone(),
        reason: source.to_string(),
    })?;
    let group = child.id();
    let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
        kill_group(group);
        return Err(ExecError::Spawn {
            command: spec.command.clone(),
            reason: "its output pipes are missing".into(),
        });
    };
    let out = tokio::spawn(read_bounded(stdout, STDOUT_LIMIT));
    let err = tokio::spawn(read_bounded(stderr, STDERR_LIMIT));

    let status = match tokio::time::timeout(timeout, child.wait()).await {
        Ok(Ok(status)) => status,
        Ok(Err(source)) => {
            kill_group(group);
            return Err(ExecError::Spawn {
                command: spec.command.clone(),
                reason: source.to_string(),
            });
        }
        Err(_) => {
            kill_group(group);
            let _ = child.kill().await;
            return Err(ExecError::TimedOut {
                command: spec.command.clone(),
                seconds: u32::try_from(timeout.as_secs()).unwrap_or(u32::MAX),
            });
        }
    };
    // Output pipes can stay open in a grandchild; don't wait for them forever.
    let grace = Duration::from_secs(2);
    let stdout = tokio::time::timeout(grace, out)
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default();
    let stderr = tokio::time::timeout(grace, err)
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default();
    let stderr = stderr_lines(&stderr);
    tracing::debug!(
        command = %spec.command,
        elapsed_ms = started.elapsed().as_millis() as u64,
        code = status.code(),
        "exec plugin finished"
    );
    if !status.success() {
        return Err(ExecError::Failed {
            command: spec.command.clone(),
            exit_code: status.code(),
            stderr,
            reason: None,
        });
    }
    credential::parse(&stdout, &spec.api_version, Instant::now()).map_err(|reason| {
        ExecError::Failed {
            command: spec.command.clone(),
            exit_code: Some(0),
            stderr,
            reason: Some(reason),
        }
    })
}

async fn find(spec: &ExecSpec, search: &SearchPath) -> Result<PathBuf, ExecError> {
    search
        .find_executable(&spec.command)
        .await
        .ok_or_else(|| ExecError::NotFound {
            command: spec.command.clone(),
            searched: search
                .dirs()
                .iter()
                .map(|d| d.display().to_string())
                .collect(),
            install_hint: spec.install_hint.clone(),
        })
}

/// The first lines of stderr, secret-looking words masked.
fn stderr_lines(bytes: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(bytes)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .take(STDERR_LINES)
        .map(scrub_secret_words)
        .collect()
}
