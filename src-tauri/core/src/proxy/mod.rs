//! The local proxy: a drop-in for `kubectl proxy` that adds the user's
//! credentials, plus one browser origin per service.
//!
//! - [`control`]: the app's on/off switch and the status it shows.
//! - [`server`]: the listener (TCP or Unix socket), graceful stop.
//! - [`handler`]: one request — route, checks, forward or splice.
//! - [`route`]: Host → the active context's API, a context's API, a service.
//! - [`names`]: Porthole's `*.localhost` host names.
//! - [`filter`]: kubectl proxy's accept/reject flags.
//! - [`framing`]: requests with both Content-Length and Transfer-Encoding.
//! - [`guard`]: cross-site, odd paths, read-only, headers a client may not set.
//! - [`rewrite`]: prefixed links in HTML mapped back to the service's root.
//! - [`respond`]: `Forbidden`, `Status` JSON, error pages.
//! - [`www`]: `--www` static files.

pub mod control;
pub mod filter;
pub mod framing;
pub mod guard;
pub mod handler;
pub mod names;
pub mod respond;
pub mod rewrite;
pub mod route;
pub mod server;
mod service_answer;
pub mod www;

pub use control::{ProxyControl, ProxyStatus};
pub use filter::Filter;
pub use handler::{HandlerOptions, Stats};
pub use route::{Upstream, Upstreams};
pub use server::{Listen, ProxyError, ProxyServer};
