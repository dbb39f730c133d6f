//! Opening things: which links Porthole offered and may open
//! ([`policy`], [`offered`]), whether to start the proxy or ask first, the
//! browser command's words ([`command`]) and handing a link to the browser
//! ([`launch`]). The app's `open_url` command and `portholectl open` both go
//! through here.

pub mod command;
mod error;
pub mod launch;
pub mod offered;
pub mod policy;

pub use command::{
    BROWSER_ENV, BrowserCommandError, BrowserCommandOrigin, browser_argv, split_command,
};
pub use error::OpenError;
pub use launch::Launcher;
pub use offered::{OfferedLinks, Panel};
pub use policy::{LinkKind, Step};

use crate::discovery::OpenOutcome;
use crate::proxy::ProxyStatus;
use crate::workspace::Workspace;

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
