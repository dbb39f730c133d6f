//! Finding exec plugins (`aws`, `gke-gcloud-auth-plugin`, `kubelogin`,
//! `doctl`) when Porthole was started from a desktop menu.
//!
//! A desktop launcher does not run the user's login profile, so the PATH
//! that a terminal has (with `~/.local/bin`, `/opt/homebrew/bin`, an SDK's
//! `bin`) is missing and plugins are "not found". At start Porthole asks
//! the login shell for its PATH once ([`login_shell`]), keeps it, and builds
//! the search path from the process PATH, that login PATH and the extra
//! directories from settings ([`search`]). Changing the extra directories
//! later only needs [`ResolvedPath::search_path`], not a new shell.

pub mod login_shell;
pub mod search;

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use login_shell::{LoginShellError, default_login_shell, login_shell_path};
pub use search::SearchPath;

/// How long the login shell gets to print its PATH.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3);

/// The process PATH and the login shell's, as resolved once at start.
#[derive(Debug)]
pub struct ResolvedPath {
    /// The PATH Porthole was started with.
    pub process: Option<OsString>,
    /// The login shell that was asked.
    pub shell: PathBuf,
    /// Its PATH, when it answered.
    pub login: Option<OsString>,
    /// Why it did not, when it did not (Porthole carries on without it).
    pub problem: Option<LoginShellError>,
}

impl ResolvedPath {
    /// Asks `shell` for its login PATH, within `timeout`.
    pub async fn resolve(process: Option<OsString>, shell: &Path, timeout: Duration) -> Self {
        let (login, problem) = match login_shell_path(shell, timeout).await {
            Ok(path) => (Some(path), None),
            Err(problem) => (None, Some(problem)),
        };
        let resolved = Self {
            process,
            shell: shell.to_path_buf(),
            login,
            problem,
        };
        resolved.log();
        resolved
    }

    /// The process PATH alone, without asking a login shell.
    pub fn process_only(process: Option<OsString>) -> Self {
        Self {
            process,
            shell: PathBuf::new(),
            login: None,
            problem: None,
        }
    }

    /// [`Self::resolve`] for this process: its PATH and its login shell.
    pub async fn resolve_for_this_process(timeout: Duration) -> Self {
        let shell = default_login_shell().await;
        Self::resolve(std::env::var_os("PATH"), &shell, timeout).await
    }

    /// The search path for exec plugins: process PATH, then the login
    /// shell's directories it lacks, then `extra` (from settings).
    pub fn search_path(&self, extra: &[PathBuf]) -> SearchPath {
        SearchPath::merge(self.process.as_deref(), self.login.as_deref(), extra)
    }

    fn log(&self) {
        match &self.problem {
            None => {
                let before = SearchPath::merge(self.process.as_deref(), None, &[]);
                let after = self.search_path(&[]);
                let added = after.dirs().len() - before.dirs().len();
                tracing::info!(
                    shell = %self.shell.display(),
                    added,
                    "login shell PATH resolved"
                );
                tracing::debug!(path = %after, "exec plugin search path");
            }
            Some(problem) => {
                tracing::warn!(%problem, "login shell PATH not available; using the process PATH");
            }
        }
    }
}

/// The process PATH alone, for when no login shell should be asked.
pub fn process_search_path(process: Option<&OsStr>, extra: &[PathBuf]) -> SearchPath {
    SearchPath::merge(process, None, extra)
}
