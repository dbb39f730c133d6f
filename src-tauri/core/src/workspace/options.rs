//! How a workspace starts.

use std::path::PathBuf;
use std::time::Duration;

use crate::cluster::probe;
use crate::kubeconfig::KubeconfigSources;

/// How to start.
#[derive(Debug, Clone)]
pub struct WorkspaceOptions {
    /// Use exactly these sources instead of `$KUBECONFIG`/`~/.kube/config`
    /// (files added in settings still come after them).
    pub sources: Option<KubeconfigSources>,
    /// Where the settings file is; default: the platform's config dir.
    pub settings_path: Option<PathBuf>,
    /// How long one context's probe may take, everything included.
    pub probe_timeout: Duration,
    /// Probe every context again this often (a cluster may go down).
    pub reprobe_every: Option<Duration>,
    /// Ask the login shell for its PATH at start (off in tests that must
    /// not depend on the machine's shell profile).
    pub login_shell_path: bool,
    /// The shell to ask; default: the user's login shell (`$SHELL`).
    pub login_shell: Option<PathBuf>,
    /// Start the proxy at once when the settings say so (off in tests that
    /// must not take port 8001).
    pub proxy_autostart: bool,
}

impl Default for WorkspaceOptions {
    fn default() -> Self {
        Self {
            sources: None,
            settings_path: None,
            probe_timeout: probe::DEFAULT_TIMEOUT,
            reprobe_every: Some(Duration::from_secs(30)),
            login_shell_path: true,
            login_shell: None,
            proxy_autostart: true,
        }
    }
}
