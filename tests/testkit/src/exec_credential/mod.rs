//! The exec credential plugin (`porthole-cluster exec-credential`): prints
//! an ExecCredential and counts its runs in a file tests read. By default it
//! hands out the token of one file (what `exec-user` uses); options make
//! the odd plugins a client must survive: another API version, a different
//! token per run (a bad one first, to prove the re-run after a 401), a
//! hang, a failure with stderr, required environment, cluster info,
//! stdin checks, and client certificates instead of a token.
//! [`PluginArgs`] builds the kubeconfig `exec` section for any of them.

mod args;
pub mod checks;

use std::fs;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::error::{Error, IoContext, Result};

pub use args::PluginArgs;
pub use checks::StdinExpectation;

/// `client.authentication.k8s.io` versions the plugin speaks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExecApiVersion {
    #[default]
    #[serde(rename = "client.authentication.k8s.io/v1")]
    V1,
    #[serde(rename = "client.authentication.k8s.io/v1beta1")]
    V1beta1,
}

impl ExecApiVersion {
    pub fn as_str(self) -> &'static str {
        match self {
            ExecApiVersion::V1 => "client.authentication.k8s.io/v1",
            ExecApiVersion::V1beta1 => "client.authentication.k8s.io/v1beta1",
        }
    }
}

impl std::str::FromStr for ExecApiVersion {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "client.authentication.k8s.io/v1" | "v1" => Ok(ExecApiVersion::V1),
            "client.authentication.k8s.io/v1beta1" | "v1beta1" => Ok(ExecApiVersion::V1beta1),
            other => Err(format!(
                "unsupported apiVersion {other:?} (client.authentication.k8s.io/v1 or v1beta1)"
            )),
        }
    }
}

/// Adds one to the number in `counter` (under an exclusive lock, written
/// atomically) and returns the new value.
pub fn increment(counter: &Path) -> Result<u64> {
    let mut lock_name = counter.as_os_str().to_owned();
    lock_name.push(".lock");
    let lock = fs::File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_name)
        .ctx(|| format!("opening {}", Path::new(&lock_name).display()))?;
    // SAFETY: flock on a descriptor we own; released when `lock` closes.
    if unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) } != 0 {
        return Err(std::io::Error::last_os_error())
            .ctx(|| format!("locking {}", Path::new(&lock_name).display()));
    }
    let n = read_count(counter)? + 1;
    crate::fsutil::write_atomic(counter, format!("{n}\n").as_bytes())?;
    drop(lock);
    Ok(n)
}

/// The number in a counter file (0 when it does not exist yet).
pub fn read_count(counter: &Path) -> Result<u64> {
    match fs::read_to_string(counter) {
        Ok(s) => s.trim().parse().map_err(|_| Error::State {
            path: counter.to_owned(),
            detail: format!("not a number: {s:?}"),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
        Err(e) => Err(e).ctx(|| format!("reading {}", counter.display())),
    }
}

fn expiry(ttl: Duration) -> Result<String> {
    let ttl = time::Duration::try_from(ttl).unwrap_or(time::Duration::hours(1));
    let expiry = (time::OffsetDateTime::now_utc() + ttl)
        .replace_nanosecond(0)
        .unwrap_or_else(|_| time::OffsetDateTime::now_utc());
    expiry
        .format(&time::format_description::well_known::Rfc3339)
        .map_err(|e| Error::Usage(format!("formatting the expiry: {e}")))
}

/// What the credential carries.
#[derive(Debug, Clone)]
pub enum Secret {
    Token(String),
    /// PEM certificate and key.
    ClientCert {
        cert_pem: String,
        key_pem: String,
    },
}

/// The ExecCredential JSON, expiring `ttl` from now.
pub fn exec_credential(
    version: ExecApiVersion,
    secret: &Secret,
    ttl: Duration,
) -> Result<serde_json::Value> {
    let ts = expiry(ttl)?;
    let status = match secret {
        Secret::Token(token) => json!({ "token": token, "expirationTimestamp": ts }),
        Secret::ClientCert { cert_pem, key_pem } => json!({
            "clientCertificateData": cert_pem,
            "clientKeyData": key_pem,
            "expirationTimestamp": ts,
        }),
    };
    Ok(json!({
        "kind": "ExecCredential",
        "apiVersion": version.as_str(),
        "status": status,
    }))
}

/// The v1 ExecCredential JSON for `token`, expiring `ttl` from now.
pub fn credential(token: &str, ttl: Duration) -> Result<serde_json::Value> {
    exec_credential(ExecApiVersion::V1, &Secret::Token(token.to_owned()), ttl)
}

/// Everything `porthole-cluster exec-credential` can be told.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub api_version: ExecApiVersion,
    /// The token: the whole file, trimmed.
    pub token_file: Option<PathBuf>,
    /// One token per line: run n (the counter after this run) prints line
    /// n; past the end the last line repeats.
    pub tokens_file: Option<PathBuf>,
    pub counter: PathBuf,
    pub ttl_secs: u64,
    pub sleep_secs: u64,
    /// Exit with this code instead of printing a credential.
    pub fail_with: Option<u8>,
    /// Written to stderr on every run (failing or not).
    pub stderr: Option<String>,
    /// `NAME=VALUE` pairs that must be in the environment.
    pub require_env: Vec<String>,
    pub expect_cluster_info: bool,
    pub check_stdin: Option<StdinExpectation>,
    pub client_cert: Option<PathBuf>,
    pub client_key: Option<PathBuf>,
}

/// How a run ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Print this on stdout, exit 0.
    Credential(String),
    /// Exit with `code` after writing `message` on stderr.
    Fail { code: u8, message: String },
}

/// Exit code of a failed check (the client started the plugin wrongly).
pub const CHECK_FAILED: u8 = 3;

/// What the plugin does: count (every run, failing or not), check how it
/// was started, maybe hang or fail, then print the credential.
pub fn run(opts: &Options) -> Result<Outcome> {
    let n = increment(&opts.counter)?;
    if let Some(text) = &opts.stderr {
        eprintln!("{text}");
    }
    if let Err(why) = check(opts) {
        return Ok(Outcome::Fail {
            code: CHECK_FAILED,
            message: why,
        });
    }
    if opts.sleep_secs > 0 {
        std::thread::sleep(Duration::from_secs(opts.sleep_secs));
    }
    if let Some(code) = opts.fail_with {
        return Ok(Outcome::Fail {
            code,
            message: String::new(),
        });
    }
    let secret = secret(opts, n)?;
    let cred = exec_credential(
        opts.api_version,
        &secret,
        Duration::from_secs(opts.ttl_secs),
    )?;
    Ok(Outcome::Credential(cred.to_string()))
}

fn check(opts: &Options) -> Result<(), String> {
    for spec in &opts.require_env {
        checks::require_env(spec)?;
    }
    let info = checks::exec_info()?;
    if opts.expect_cluster_info {
        checks::cluster_info(info.as_ref())?;
    }
    if let Some(want) = opts.check_stdin {
        checks::stdin(want, info.as_ref())?;
    }
    Ok(())
}

fn read(path: &Path, what: &str) -> Result<String> {
    fs::read_to_string(path).ctx(|| format!("reading the {what} {}", path.display()))
}

fn secret(opts: &Options, run: u64) -> Result<Secret> {
    if let (Some(cert), Some(key)) = (&opts.client_cert, &opts.client_key) {
        return Ok(Secret::ClientCert {
            cert_pem: read(cert, "client certificate")?,
            key_pem: read(key, "client key")?,
        });
    }
    if let Some(path) = &opts.tokens_file {
        let text = read(path, "tokens file")?;
        let lines: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        let index = usize::try_from(run.saturating_sub(1)).unwrap_or(usize::MAX);
        let token = lines
            .get(index)
            .or(lines.last())
            .ok_or_else(|| Error::Usage(format!("the tokens file {} is empty", path.display())))?;
        return Ok(Secret::Token((*token).to_owned()));
    }
    if let Some(path) = &opts.token_file {
        return Ok(Secret::Token(read(path, "token file")?.trim().to_owned()));
    }
    Err(Error::Usage(
        "exec-credential needs --token-file, --tokens-file or --client-cert with --client-key"
            .into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("porthole-exec-{name}-{}", std::process::id()));
        fs::create_dir_all(&dir).expect("mkdir");
        dir
    }

    #[test]
    fn counts_and_formats() {
        let dir = scratch("count");
        let counter = dir.join("count");
        assert_eq!(read_count(&counter).expect("read"), 0);
        assert_eq!(increment(&counter).expect("inc"), 1);
        assert_eq!(increment(&counter).expect("inc"), 2);
        let c = credential("t", Duration::from_secs(60)).expect("cred");
        assert_eq!(c["status"]["token"], "t");
        assert!(
            c["status"]["expirationTimestamp"]
                .as_str()
                .is_some_and(|s| s.ends_with('Z'))
        );
        fs::remove_dir_all(&dir).expect("cleanup");
    }

    #[test]
    fn tokens_file_hands_out_line_n_then_repeats_the_last() {
        let dir = scratch("lines");
        let tokens = dir.join("tokens");
        fs::write(&tokens, "bad\ngood\n").expect("write");
        let opts = Options {
            api_version: ExecApiVersion::V1beta1,
            tokens_file: Some(tokens),
            counter: dir.join("count"),
            ttl_secs: 60,
            ..Options::default()
        };
        let runs: Vec<String> = (0..3)
            .map(|_| match run(&opts).expect("run") {
                Outcome::Credential(json) => {
                    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
                    assert_eq!(v["apiVersion"], "client.authentication.k8s.io/v1beta1");
                    v["status"]["token"].as_str().unwrap_or_default().to_owned()
                }
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        assert_eq!(runs, ["bad", "good", "good"]);
        fs::remove_dir_all(&dir).expect("cleanup");
    }

    #[test]
    fn fail_with_still_counts() {
        let dir = scratch("fail");
        let opts = Options {
            counter: dir.join("count"),
            fail_with: Some(42),
            ..Options::default()
        };
        assert_eq!(
            run(&opts).expect("run"),
            Outcome::Fail {
                code: 42,
                message: String::new()
            }
        );
        assert_eq!(read_count(&opts.counter).expect("count"), 1);
        fs::remove_dir_all(&dir).expect("cleanup");
    }
}
