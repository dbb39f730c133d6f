//! Port-forward over SPDY/3.1 (`portforward.k8s.io`): placeholder until the
//! SPDY client lands.

use super::error::DialError;
use super::stream::PodStream;
use crate::cluster::client::ClusterClient;

/// Opens a stream to `port` of `namespace/pod` over SPDY.
pub async fn dial(
    _client: &ClusterClient,
    _namespace: &str,
    _pod: &str,
    _port: u16,
) -> Result<PodStream, DialError> {
    Err(DialError::TransportNotServed {
        transport: "SPDY",
        message: "this build has no SPDY client yet".into(),
    })
}
