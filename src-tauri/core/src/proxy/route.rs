//! Which cluster and what a request is for, decided by its `Host`:
//! `localhost`, `127.0.0.1`, `[::1]` (or what `--accept-hosts` allows) →
//! the active context's API; `CONTEXT.localhost` → that context's API;
//! `PORT.SERVICE.NAMESPACE.CONTEXT.localhost` → that service. Every other
//! host is refused: that is the DNS-rebinding defence (a page on
//! `evil.example` that makes its name resolve to 127.0.0.1 still sends
//! `Host: evil.example`).

use super::filter::{Filter, host_without_port};
use super::names::{HostName, ServiceTarget, parse_host};
use crate::cluster::ClusterClient;

/// A context and its client.
#[derive(Clone)]
pub struct Upstream {
    pub context: String,
    pub client: ClusterClient,
}

/// Where the proxy finds clusters: the app's workspace, or the one context
/// of `portholectl proxy`.
pub trait Upstreams: Send + Sync + 'static {
    /// The context `localhost` serves.
    fn active(&self) -> Option<Upstream>;
    /// The context whose host label (see `names::context_label`) is `label`.
    fn by_label(&self, label: &str) -> Option<Upstream>;
}

/// What a request is for.
#[derive(Clone)]
pub enum Target {
    /// The context's API (at `/`, after `--api-prefix`).
    Api {
        /// Reached through a `CONTEXT.localhost` name (not a filtered host).
        generated: bool,
    },
    Service(ServiceTarget),
}

pub struct Routed {
    pub upstream: Upstream,
    pub target: Target,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteError {
    /// Not an accepted host: kubectl's `Forbidden`.
    HostRefused,
    /// A Porthole host name for a context that does not exist (any more).
    UnknownContext(String),
    /// `localhost` with no current context in the kubeconfig.
    NoActiveContext,
}

/// Routes by the `Host` header (lowercased here). `service_hosts` turns
/// Porthole's `*.localhost` names on; `filter` is kubectl's (None with
/// `--disable-filter`, which accepts any host for the API).
pub fn route(
    host_header: &str,
    filter: Option<&Filter>,
    upstreams: &dyn Upstreams,
    service_hosts: bool,
) -> Result<Routed, RouteError> {
    let lower = host_header.to_ascii_lowercase();
    let host = host_without_port(&lower);
    if service_hosts && let Ok(name) = parse_host(host) {
        let (label, target) = match name {
            HostName::Context { label } => (label, Target::Api { generated: true }),
            HostName::Service { label, target } => (label, Target::Service(target)),
        };
        let upstream = upstreams
            .by_label(&label)
            .ok_or(RouteError::UnknownContext(label))?;
        return Ok(Routed { upstream, target });
    }
    if filter.is_none_or(|f| f.host_accepted(host)) {
        let upstream = upstreams.active().ok_or(RouteError::NoActiveContext)?;
        return Ok(Routed {
            upstream,
            target: Target::Api { generated: false },
        });
    }
    Err(RouteError::HostRefused)
}
