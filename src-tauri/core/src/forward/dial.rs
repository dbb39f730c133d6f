//! One stream to one port of one Pod, through the apiserver's
//! `pods/portforward` subresource: over WebSocket (`v4.channel.k8s.io`, what
//! the apiserver and kubelet serve today) or over SPDY/3.1 (what older
//! servers and some proxies in front of them serve). `Auto` tries WebSocket
//! and falls back to SPDY the way kubectl does, then remembers what worked.

use std::sync::atomic::{AtomicU8, Ordering};

use super::error::DialError;
use super::stream::PodStream;
use super::{spdy, websocket};
use crate::cluster::client::ClusterClient;

/// Which streaming protocol carries the forward.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// WebSocket first, SPDY when WebSocket is not served (kubectl's way).
    #[default]
    Auto,
    WebSocket,
    Spdy,
}

impl Transport {
    pub fn name(self) -> &'static str {
        match self {
            Transport::Auto => "auto",
            Transport::WebSocket => "WebSocket",
            Transport::Spdy => "SPDY",
        }
    }
}

/// The transport a forward settled on; `Auto` until one has worked.
#[derive(Debug, Default)]
pub struct Dialer {
    wanted: Transport,
    /// 0 = not settled, 1 = WebSocket, 2 = SPDY.
    settled: AtomicU8,
}

impl Dialer {
    pub fn new(wanted: Transport) -> Self {
        Self {
            wanted,
            settled: AtomicU8::new(0),
        }
    }

    /// The transport in use (or asked for, before the first stream).
    pub fn transport(&self) -> Transport {
        match self.settled.load(Ordering::Relaxed) {
            1 => Transport::WebSocket,
            2 => Transport::Spdy,
            _ => self.wanted,
        }
    }

    /// Opens a stream to `port` of `namespace/pod`.
    pub async fn dial(
        &self,
        client: &ClusterClient,
        namespace: &str,
        pod: &str,
        port: u16,
    ) -> Result<PodStream, DialError> {
        match self.transport() {
            Transport::WebSocket => websocket::dial(client, namespace, pod, port).await,
            Transport::Spdy => spdy::dial(client, namespace, pod, port).await,
            Transport::Auto => match websocket::dial(client, namespace, pod, port).await {
                Ok(stream) => {
                    self.settled.store(1, Ordering::Relaxed);
                    Ok(stream)
                }
                // kubectl falls back on any failed upgrade, 403 included:
                // roles often grant only `create` on pods/portforward,
                // which SPDY's POST needs and WebSocket's GET does not get.
                Err(ws @ (DialError::TransportNotServed { .. } | DialError::Forbidden { .. })) => {
                    tracing::info!(error = %ws, "port-forward over WebSocket failed: trying SPDY");
                    match spdy::dial(client, namespace, pod, port).await {
                        Ok(stream) => {
                            self.settled.store(2, Ordering::Relaxed);
                            Ok(stream)
                        }
                        // SPDY not served either: WebSocket's answer says more.
                        Err(DialError::TransportNotServed { .. }) => Err(ws),
                        Err(e) => Err(e),
                    }
                }
                Err(e) => Err(e),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unsettled_dialer_reports_what_was_asked_for() {
        assert_eq!(Dialer::new(Transport::Spdy).transport(), Transport::Spdy);
        assert_eq!(Dialer::new(Transport::Auto).transport(), Transport::Auto);
    }
}
