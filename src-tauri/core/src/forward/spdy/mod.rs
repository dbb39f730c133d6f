//! Port-forward over SPDY/3.1 (`portforward.k8s.io`), what kubectl spoke
//! before WebSocket and what older apiservers and kubelets (and some
//! proxies in front of them) still only serve.
//!
//! - [`frame`]: frames on the wire; [`headers`]: their compressed header
//!   blocks ([`dictionary`]).
//! - [`conn`]: one SPDY connection, its streams, pings and goodbye.
//! - [`pair`]: one forwarded TCP connection as an error and a data stream.
//! - [`pool`]: connections shared by the dials to one Pod, as kubectl
//!   shares one per forward (a new forwarded connection then costs one
//!   round trip to the node), within bounds that keep one stalled reader
//!   from holding up many.

pub mod conn;
pub mod dictionary;
pub mod frame;
pub mod headers;
pub mod pair;
#[cfg(test)]
mod peer;
pub mod pool;

use std::time::Duration;

use http::{Request, header};
use hyper_util::rt::TokioIo;

use super::error::DialError;
use super::stream::{PodStream, pod_portforward_path, refusal};
use crate::cluster::client::ClusterClient;
use conn::Connection;

/// The upgrade asked for.
pub const UPGRADE: &str = "SPDY/3.1";
/// The port-forward protocol over it (the kubelet's only one).
pub const PROTOCOL: &str = "portforward.k8s.io";
const PROTOCOL_HEADER: &str = "X-Stream-Protocol-Version";

/// How long the node has to accept a forwarded connection's streams on a
/// new connection (kubectl waits as long).
pub const STREAM_CREATION_TIMEOUT: Duration = Duration::from_secs(30);
/// The same on a shared connection, which answers in one round trip when
/// healthy: past this, a new connection is tried.
pub const SHARED_REPLY_TIMEOUT: Duration = Duration::from_secs(5);

/// Opens a stream to `port` of `namespace/pod` over SPDY: on a shared
/// connection to the Pod when one has room, else on a new one.
pub async fn dial(
    client: &ClusterClient,
    namespace: &str,
    pod: &str,
    port: u16,
) -> Result<PodStream, DialError> {
    let key = pool::Key::new(client, namespace, pod);
    if let Some(lease) = pool::lease(&key) {
        match pair::open(lease, port, SHARED_REPLY_TIMEOUT).await {
            Ok(stream) => return Ok(stream),
            Err(e) => {
                tracing::debug!(error = %e, "SPDY: a shared connection failed; opening a new one");
            }
        }
    }
    let conn = connect(client, namespace, pod).await?;
    pair::open(pool::add(key, conn), port, STREAM_CREATION_TIMEOUT).await
}

/// Upgrades a connection to the Pod's portforward subresource.
async fn connect(
    client: &ClusterClient,
    namespace: &str,
    pod: &str,
) -> Result<Connection, DialError> {
    // POST, as kubectl sends it (RBAC: `create` on pods/portforward).
    let request = Request::post(pod_portforward_path(namespace, pod))
        .header(header::CONNECTION, "Upgrade")
        .header(header::UPGRADE, UPGRADE)
        .header(PROTOCOL_HEADER, PROTOCOL)
        .body(())
        .map_err(|e| DialError::Protocol(format!("building the request: {e}")))?;
    let (response, upgraded) = client.upgrade(request, true).await?;
    let Some(upgraded) = upgraded else {
        return Err(refusal(response, namespace, pod, "SPDY").await);
    };
    let protocol = response
        .headers()
        .get(PROTOCOL_HEADER)
        .and_then(|v| v.to_str().ok());
    if protocol != Some(PROTOCOL) {
        return Err(DialError::Protocol(format!(
            "unable to negotiate protocol: client supports {PROTOCOL:?}, server returned {:?}",
            protocol.unwrap_or_default()
        )));
    }
    Ok(Connection::start(TokioIo::new(upgraded)))
}
