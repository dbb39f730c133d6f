//! What a forward's remote port is, read from its Service before the
//! forward starts: what it speaks (for its client commands) and its
//! number (the local port tried first). Without an answer the request
//! itself says what it can.

use std::time::Duration;

use k8s_openapi::api::core::v1::Service;
use kube::Api;

use crate::cluster::ClusterClient;
use crate::forward::{RemotePort, TargetKind};
use crate::port_kind::{PortKind, classify};
use crate::settings::SavedForward;

/// How long reading the Service may take.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct PortInfo {
    pub(super) kind: PortKind,
    /// The remote port's number (0: unknown).
    pub(super) number: u16,
}

/// What the request alone says: a number or a port name.
pub(super) fn from_request(remote: &RemotePort) -> PortInfo {
    match remote {
        RemotePort::Number(n) => PortInfo {
            kind: classify(None, i32::from(*n), None),
            number: *n,
        },
        RemotePort::Name(name) => PortInfo {
            kind: classify(Some(name), 0, None),
            number: 0,
        },
    }
}

/// Reads a service forward's port (name, number, `appProtocol`); a Pod's
/// port, or a Service that cannot be read, gives [`from_request`].
pub(super) async fn port_info(client: &ClusterClient, saved: &SavedForward) -> PortInfo {
    let guess = from_request(&saved.remote);
    if saved.kind != TargetKind::Service {
        return guess;
    }
    let ns = &saved.namespace;
    let api: Api<Service> = Api::namespaced(client.kube_client(ns), ns);
    let service = match tokio::time::timeout(READ_TIMEOUT, api.get_opt(&saved.name)).await {
        Ok(Ok(Some(service))) => service,
        Ok(Ok(None)) => return guess,
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "reading the forwarded service's ports");
            return guess;
        }
        Err(_) => return guess,
    };
    let port = service
        .spec
        .iter()
        .flat_map(|s| s.ports.iter().flatten())
        .find(|p| match &saved.remote {
            RemotePort::Number(n) => p.port == i32::from(*n),
            RemotePort::Name(name) => p.name.as_deref() == Some(name.as_str()),
        });
    match port {
        Some(p) => PortInfo {
            kind: classify(p.name.as_deref(), p.port, p.app_protocol.as_deref()),
            number: u16::try_from(p.port).unwrap_or_default(),
        },
        None => guess,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_alone_classifies_by_number_or_name() {
        assert_eq!(
            from_request(&RemotePort::Number(5432)),
            PortInfo {
                kind: PortKind::Postgres,
                number: 5432
            }
        );
        assert_eq!(
            from_request(&RemotePort::Name("redis".into())),
            PortInfo {
                kind: PortKind::Redis,
                number: 0
            }
        );
        assert_eq!(from_request(&RemotePort::Number(8080)).kind, PortKind::Http);
    }
}
