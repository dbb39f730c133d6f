//! Why a link was not opened.

use thiserror::Error;

use super::command::BrowserCommandError;

/// Why a link was not opened, in words the user can act on.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum OpenError {
    #[error("not a URL ({reason}): {url:?}")]
    NotAUrl { url: String, reason: String },
    #[error("only http and https links are opened, not {0:?}")]
    Scheme(String),
    #[error("links with credentials in them are not opened")]
    Credentials,
    #[error(
        "{url} is neither a Porthole link on the proxy's port {proxy_port} nor an address the cluster reported: not opened"
    )]
    NotOffered { url: String, proxy_port: u16 },
    #[error(transparent)]
    BrowserCommand(#[from] BrowserCommandError),
    #[error("empty browser command")]
    EmptyCommand,
    #[error("cannot run the browser command {program:?}: {reason}")]
    CannotRun { program: String, reason: String },
    #[error("the browser command {command:?} failed ({status})")]
    BrowserFailed { command: String, status: String },
    #[error("cannot open the system browser: {reason}; copy the link instead")]
    SystemBrowser { reason: String },
    #[error("the local proxy could not start, so the link would not load: {0}")]
    ProxyDidNotStart(String),
}
