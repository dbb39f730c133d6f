//! Opening things: which links Porthole offered and may open
//! ([`policy`], [`offered`]), whether to start the proxy or ask first, and
//! handing a link to the browser ([`launch`]). The app's `open_url` command
//! and `portholectl open` both go through here.

pub mod launch;
pub mod offered;
pub mod policy;

use thiserror::Error;

pub use launch::Launcher;
pub use offered::{OfferedLinks, Panel};
pub use policy::{LinkKind, Step};

use crate::discovery::OpenOutcome;
use crate::proxy::ProxyStatus;
use crate::settings::BrowserCommandError;
use crate::workspace::Workspace;

/// The environment variable whose browser command beats the setting.
pub use crate::settings::BROWSER_ENV;

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

/// Opens a link the page asked for: refused unless Porthole built it or a
/// view shows it; a Porthole link while the proxy is off starts the proxy
/// first — unless the proxy settings say to ask and the user has not agreed
/// (`consent`): then nothing happens and the outcome says so.
pub async fn open_link(
    ws: &Workspace,
    offered: &OfferedLinks,
    url: &str,
    consent: bool,
) -> Result<OpenOutcome, OpenError> {
    let settings = ws.settings();
    let kind = policy::classify(url, settings.proxy.port, |u| offered.contains(u))?;
    // A broken browser command is told before anything starts.
    let env = std::env::var(BROWSER_ENV).ok();
    let launcher = Launcher::for_app(env.as_deref(), &settings.browser_command, url)?;
    let running = matches!(ws.proxy_status(), ProxyStatus::Running { .. });
    match policy::step(kind, running, settings.proxy.ask_before_starting, consent) {
        Step::Open => {}
        Step::Ask => {
            tracing::info!("opening {url}: the proxy is off, asking first");
            return Ok(OpenOutcome::ProxyOffAskFirst {
                target: policy::target_of(url),
            });
        }
        Step::StartThenOpen => {
            tracing::info!("opening {url}: starting the proxy first");
            if let ProxyStatus::Failed { message, .. } = ws.start_proxy().await {
                return Err(OpenError::ProxyDidNotStart(message));
            }
        }
    }
    launcher.spawn(url)?;
    Ok(OpenOutcome::Opened)
}
