//! Status of one context, as the UI and `portholectl contexts --status`
//! show it. Structured so the UI can word it in the user's language; the
//! `Display` of [`ClusterProblem`] is the English wording for logs and the
//! CLI. Never holds a secret: plugin stderr is filtered before it lands here.

use std::fmt;

use serde::Serialize;
use ts_rs::TS;

/// Where one context stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(tag = "state", rename_all = "camelCase")]
#[ts(export)]
pub enum ContextStatus {
    /// Not probed yet, or a probe is running.
    Checking,
    /// The apiserver answered `/version` with these credentials.
    #[serde(rename_all = "camelCase")]
    Reachable {
        /// `gitVersion` from `/version`, e.g. `v1.37.2`.
        version: String,
        /// Who the apiserver says the user is (SelfSubjectReview), when the
        /// user may ask.
        user: Option<String>,
        groups: Vec<String>,
        /// Round trip of the probe, in milliseconds.
        latency_ms: u32,
    },
    /// The context cannot be used; `problem` says why and what to do.
    Failed { problem: ClusterProblem },
}

/// Why a context cannot be used. Each case carries what the user needs to
/// fix it (file and field, plugin name and PATH, host name, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(tag = "kind", rename_all = "camelCase")]
#[ts(export)]
pub enum ClusterProblem {
    /// The kubeconfig entry is unusable: missing cluster/user, bad server
    /// URL, unreadable certificate file, ...
    #[serde(rename_all = "camelCase")]
    Kubeconfig {
        /// The kubeconfig file that defines the faulty entry.
        file: Option<String>,
        /// 1-based line of the entry in that file, when known.
        line: Option<u32>,
        /// Field path, e.g. `users["dev"].user.client-certificate`.
        field: String,
        reason: String,
    },
    /// The exec plugin's command was not found on the search path.
    #[serde(rename_all = "camelCase")]
    PluginNotFound {
        command: String,
        searched: Vec<String>,
        /// The kubeconfig's `installHint`, when it has one.
        install_hint: Option<String>,
    },
    /// The exec plugin ran and failed.
    #[serde(rename_all = "camelCase")]
    PluginFailed {
        command: String,
        exit_code: Option<i32>,
        /// First lines of its stderr, secret-looking values removed.
        stderr: Vec<String>,
        /// What was wrong with its output, when it exited 0.
        reason: Option<String>,
    },
    /// The exec plugin did not finish in time (it may be waiting for input).
    #[serde(rename_all = "camelCase")]
    PluginTimedOut { command: String, seconds: u32 },
    /// The OIDC issuer refused or failed to refresh the token.
    #[serde(rename_all = "camelCase")]
    OidcRefreshFailed { issuer: String, reason: String },
    /// The server's host name does not resolve.
    #[serde(rename_all = "camelCase")]
    Dns { host: String, reason: String },
    /// Nothing listens at the server address.
    #[serde(rename_all = "camelCase")]
    ConnectionRefused { address: String },
    /// The configured HTTP or SOCKS proxy failed.
    #[serde(rename_all = "camelCase")]
    Proxy { proxy: String, reason: String },
    /// The TLS handshake failed.
    #[serde(rename_all = "camelCase")]
    Tls { problem: TlsProblem },
    /// 401: the apiserver did not accept the credentials.
    #[serde(rename_all = "camelCase")]
    Unauthorized { user: Option<String> },
    /// 403 on the probe itself.
    #[serde(rename_all = "camelCase")]
    Forbidden {
        user: Option<String>,
        message: String,
    },
    /// No answer in time; `phase` is where it stalled (connect, tls, response).
    #[serde(rename_all = "camelCase")]
    Timeout { phase: String, seconds: u32 },
    /// Anything else, in words.
    #[serde(rename_all = "camelCase")]
    Other { detail: String },
}

/// What was wrong with the server's certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(tag = "kind", rename_all = "camelCase")]
#[ts(export)]
pub enum TlsProblem {
    /// Not signed by the configured (or system) certificate authority.
    UnknownAuthority,
    /// Expired or not yet valid.
    Expired,
    /// Issued for other names than the one checked.
    #[serde(rename_all = "camelCase")]
    NameMismatch {
        expected: String,
        presented: Vec<String>,
    },
    /// The server never completed the handshake.
    HandshakeStalled,
    #[serde(rename_all = "camelCase")]
    Other { detail: String },
}

/// One context's new status: the payload of the `context-status` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct StatusUpdate {
    pub context: String,
    pub status: ContextStatus,
}

impl fmt::Display for TlsProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownAuthority => f.write_str(
                "the server's certificate is not signed by the trusted certificate authority",
            ),
            Self::Expired => {
                f.write_str("the server's certificate has expired or is not yet valid")
            }
            Self::NameMismatch {
                expected,
                presented,
            } => write!(
                f,
                "the server's certificate is for {} but {expected} was checked",
                if presented.is_empty() {
                    "other names".to_owned()
                } else {
                    presented.join(", ")
                }
            ),
            Self::HandshakeStalled => f.write_str("the server did not complete the TLS handshake"),
            Self::Other { detail } => write!(f, "{detail}"),
        }
    }
}

impl fmt::Display for ClusterProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Kubeconfig {
                file,
                line,
                field,
                reason,
            } => {
                match (file, line) {
                    (Some(file), Some(line)) => write!(f, "{file}:{line}: ")?,
                    (Some(file), None) => write!(f, "{file}: ")?,
                    _ => {}
                }
                write!(f, "{field}: {reason}")
            }
            Self::PluginNotFound {
                command,
                searched,
                install_hint,
            } => {
                write!(
                    f,
                    "exec plugin {command:?} not found; searched {} — install it or add its directory to the extra PATH in settings",
                    searched.join(":")
                )?;
                if let Some(hint) = install_hint {
                    write!(f, " ({hint})")?;
                }
                Ok(())
            }
            Self::PluginFailed {
                command,
                exit_code,
                stderr,
                reason,
            } => {
                write!(f, "exec plugin {command:?} failed")?;
                if let Some(code) = exit_code {
                    write!(f, " with exit code {code}")?;
                }
                if let Some(reason) = reason {
                    write!(f, ": {reason}")?;
                }
                if !stderr.is_empty() {
                    write!(f, ": {}", stderr.join(" / "))?;
                }
                Ok(())
            }
            Self::PluginTimedOut { command, seconds } => write!(
                f,
                "exec plugin {command:?} did not finish within {seconds} s (is it waiting for a login?)"
            ),
            Self::OidcRefreshFailed { issuer, reason } => {
                write!(
                    f,
                    "refreshing the OIDC token at {issuer} failed: {reason} — log in again"
                )
            }
            Self::Dns { host, reason } => write!(f, "cannot resolve {host}: {reason}"),
            Self::ConnectionRefused { address } => write!(
                f,
                "connection refused by {address}: is the cluster running?"
            ),
            Self::Proxy { proxy, reason } => write!(f, "proxy {proxy} failed: {reason}"),
            Self::Tls { problem } => write!(f, "TLS: {problem}"),
            Self::Unauthorized { user } => match user {
                Some(u) => write!(
                    f,
                    "401 Unauthorized: the server rejected the credentials of user {u:?} — they may have expired"
                ),
                None => f.write_str(
                    "401 Unauthorized: the server rejected the credentials — they may have expired",
                ),
            },
            Self::Forbidden { user, message } => match user {
                Some(u) => write!(f, "403 Forbidden for user {u:?}: {message}"),
                None => write!(f, "403 Forbidden: {message}"),
            },
            Self::Timeout { phase, seconds } => {
                write!(f, "no answer within {seconds} s ({phase})")
            }
            Self::Other { detail } => f.write_str(detail),
        }
    }
}
