//! The app's proxy switch: start, stop, restart on other settings, and a
//! status the UI and the tray show (where it listens, how many requests,
//! or why it could not start — a port in use says so and names it).

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde::Serialize;
use ts_rs::TS;

use super::filter::{
    DEFAULT_ACCEPT_HOSTS, DEFAULT_ACCEPT_PATHS, DEFAULT_REJECT_METHODS, DEFAULT_REJECT_PATHS,
};
use super::{Filter, HandlerOptions, Listen, ProxyError, ProxyServer, Upstreams};
use crate::settings::{ProxySettings, parse_loopback};

/// In-flight requests get this long when the proxy is switched off.
pub const STOP_GRACE: Duration = Duration::from_secs(3);

/// The proxy as the UI shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(tag = "state", rename_all = "camelCase")]
#[ts(export)]
pub enum ProxyStatus {
    Stopped,
    #[serde(rename_all = "camelCase")]
    Running {
        /// `127.0.0.1:8001`
        address: String,
        /// `http://localhost:8001`
        url: String,
        #[ts(type = "number")]
        requests: u64,
        read_only: bool,
    },
    /// Could not start; `port_in_use` when another program holds the port.
    #[serde(rename_all = "camelCase")]
    Failed {
        address: String,
        message: String,
        port_in_use: bool,
    },
}

/// Starts and stops the proxy; one at a time.
pub struct ProxyControl {
    upstreams: Arc<dyn Upstreams>,
    server: tokio::sync::Mutex<Option<(ProxyServer, bool)>>,
    status: Mutex<ProxyStatus>,
}

impl ProxyControl {
    pub fn new(upstreams: Arc<dyn Upstreams>) -> Self {
        Self {
            upstreams,
            server: tokio::sync::Mutex::new(None),
            status: Mutex::new(ProxyStatus::Stopped),
        }
    }

    /// The status, with the request count as of now.
    pub fn status(&self) -> ProxyStatus {
        self.status
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Refreshes the request count; true when it changed.
    pub async fn refresh(&self) -> bool {
        let server = self.server.lock().await;
        let Some((server, _)) = server.as_ref() else {
            return false;
        };
        let count = server.stats().requests.load(Ordering::Relaxed);
        let mut status = self.status.lock().unwrap_or_else(PoisonError::into_inner);
        match &mut *status {
            ProxyStatus::Running { requests, .. } if *requests != count => {
                *requests = count;
                true
            }
            _ => false,
        }
    }

    /// Starts with `settings` (stopping a running proxy first).
    pub async fn start(&self, settings: &ProxySettings) -> ProxyStatus {
        let mut server = self.server.lock().await;
        if let Some((running, _)) = server.take() {
            running.stop(STOP_GRACE).await;
        }
        let next = match listen_address(settings) {
            Err(message) => ProxyStatus::Failed {
                address: format!("{}:{}", settings.address, settings.port),
                message,
                port_in_use: false,
            },
            Ok(addr) => match ProxyServer::start(
                Listen::Tcp(addr),
                options(settings),
                self.upstreams.clone(),
            )
            .await
            {
                Ok(started) => {
                    let address = started.listening().to_string();
                    let status = ProxyStatus::Running {
                        url: url_for(&address),
                        address,
                        requests: 0,
                        read_only: settings.read_only,
                    };
                    tracing::info!(address = %started.listening(), "proxy started");
                    *server = Some((started, settings.read_only));
                    status
                }
                Err(error) => {
                    tracing::warn!(%error, "proxy not started");
                    ProxyStatus::Failed {
                        address: addr.to_string(),
                        port_in_use: matches!(error, ProxyError::InUse { .. }),
                        message: error.to_string(),
                    }
                }
            },
        };
        *self.status.lock().unwrap_or_else(PoisonError::into_inner) = next.clone();
        next
    }

    /// Stops it, letting requests in flight finish for a moment.
    pub async fn stop(&self) -> ProxyStatus {
        let mut server = self.server.lock().await;
        if let Some((running, _)) = server.take() {
            running.stop(STOP_GRACE).await;
            tracing::info!("proxy stopped");
        }
        *self.status.lock().unwrap_or_else(PoisonError::into_inner) = ProxyStatus::Stopped;
        ProxyStatus::Stopped
    }

    pub async fn is_running(&self) -> bool {
        self.server.lock().await.is_some()
    }
}

/// The app's proxy only listens on loopback.
fn listen_address(settings: &ProxySettings) -> Result<SocketAddr, String> {
    let ip = parse_loopback(&settings.address).map_err(|e| e.to_string())?;
    Ok(SocketAddr::new(ip, settings.port))
}

fn url_for(address: &str) -> String {
    match address.rsplit_once(':') {
        Some((_, port)) => format!("http://localhost:{port}"),
        None => format!("http://{address}"),
    }
}

fn options(settings: &ProxySettings) -> HandlerOptions {
    let reject_paths = if settings.allow_exec {
        "^$"
    } else {
        DEFAULT_REJECT_PATHS
    };
    let filter = Filter::from_flags(
        DEFAULT_ACCEPT_HOSTS,
        DEFAULT_ACCEPT_PATHS,
        reject_paths,
        DEFAULT_REJECT_METHODS,
    )
    .unwrap_or_else(|_| Filter::kubectl_defaults());
    HandlerOptions {
        filter: Some(filter),
        api_prefix: "/".to_owned(),
        www: None,
        append_server_path: true,
        read_only: settings.read_only,
        service_hosts: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_proxy_listens_only_on_a_loopback_address() {
        let with = |address: &str| ProxySettings {
            address: address.to_owned(),
            port: 8123,
            ..ProxySettings::default()
        };
        assert_eq!(
            listen_address(&with(" [::1] ")),
            Ok("[::1]:8123".parse().expect("address"))
        );
        let err = listen_address(&with("10.1.2.3")).expect_err("not loopback");
        assert!(
            err.starts_with("10.1.2.3 is not a loopback address"),
            "{err}"
        );
        let err = listen_address(&with("localhost")).expect_err("a name");
        assert!(err.contains("not an IP address"), "{err}");
    }
}
