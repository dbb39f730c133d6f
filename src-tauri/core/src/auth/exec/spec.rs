//! What runs and how: the kubeconfig's exec entry ([`ExecSpec`]) and the
//! surroundings a plugin runs in ([`ExecEnv`]).

use std::time::Duration;

use super::credential::ClusterInfo;
use crate::shell_path::SearchPath;

/// How long a plugin may run before it is killed, by default. Generous:
/// plugins such as kubelogin wait for a browser login.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// `interactiveMode` of the kubeconfig's exec entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InteractiveMode {
    Never,
    IfAvailable,
    Always,
}

/// The kubeconfig's exec entry, with the command as client-go resolves it
/// (relative to the kubeconfig only when it contains a path separator).
#[derive(Clone)]
pub struct ExecSpec {
    pub command: String,
    pub args: Vec<String>,
    /// `env` entries; values may be secrets, so `Debug` shows names only.
    pub env: Vec<(String, String)>,
    pub api_version: String,
    pub interactive_mode: InteractiveMode,
    /// Set when `provideClusterInfo: true`.
    pub cluster: Option<ClusterInfo>,
    pub install_hint: Option<String>,
}

impl std::fmt::Debug for ExecSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let env: Vec<&str> = self.env.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("ExecSpec")
            .field("command", &self.command)
            .field("args", &self.args.len())
            .field("env", &env)
            .field("api_version", &self.api_version)
            .field("interactive_mode", &self.interactive_mode)
            .finish_non_exhaustive()
    }
}

/// Where and how plugins run: the search path (process + login shell +
/// settings), whether a terminal is there to talk to, the timeout.
#[derive(Debug, Clone)]
pub struct ExecEnv {
    pub search_path: SearchPath,
    pub stdin_is_terminal: bool,
    pub timeout: Duration,
}
