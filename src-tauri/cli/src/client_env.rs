//! The client environment of the command-line verbs: the search path for
//! exec plugins and the timeouts.

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::time::Duration;

use porthole_core::cluster::ClientEnv;
use porthole_core::shell_path::{self, ResolvedPath};

/// `timeout` bounds connecting and the TLS handshake (three quarters of
/// it each) and the wait for response headers.
pub async fn client_env(timeout: Duration, extra_path_dirs: &[PathBuf]) -> ClientEnv {
    // A terminal's PATH is complete; started from elsewhere (a desktop
    // entry, cron, systemd) the login shell is asked, as the app does.
    let resolved = if std::io::stdin().is_terminal() {
        ResolvedPath::process_only(std::env::var_os("PATH"))
    } else {
        ResolvedPath::resolve_for_this_process(shell_path::DEFAULT_TIMEOUT).await
    };
    ClientEnv::new(resolved.search_path(extra_path_dirs), timeout, timeout)
}
