//! The app's proxy as the workspace runs it: started and stopped with the
//! saved settings, restarted when new settings serve differently, fed the
//! workspace's clients, and its status announced as an event.

use std::sync::{Arc, Weak};
use std::time::Duration;

use super::events::WorkspaceEvent;
use super::shared::Shared;
use crate::proxy::names::context_label;
use crate::proxy::{ProxyStatus, Upstream, Upstreams};
use crate::settings::{ProxySettings, Settings, SettingsError};

/// The proxy's view of the workspace: the current context for
/// `localhost`, any context by its host label.
pub(super) struct WorkspaceUpstreams(pub(super) Weak<Shared>);

impl Upstreams for WorkspaceUpstreams {
    fn active(&self) -> Option<Upstream> {
        let shared = self.0.upgrade()?;
        let context = shared.snapshot().list.current_context.clone()?;
        shared.upstream(&context)
    }

    fn by_label(&self, label: &str) -> Option<Upstream> {
        let shared = self.0.upgrade()?;
        let snapshot = shared.snapshot();
        let context = snapshot
            .list
            .contexts
            .iter()
            .find(|c| context_label(&c.name) == label)?;
        shared.upstream(&context.name)
    }
}

impl Shared {
    fn upstream(&self, context: &str) -> Option<Upstream> {
        self.clients.get(context).map(|client| Upstream {
            context: context.to_owned(),
            client,
        })
    }

    /// Starts (or restarts) the proxy with the saved settings.
    pub(super) async fn start_proxy(&self) -> ProxyStatus {
        let proxy = self.settings.read(|s| s.proxy.clone());
        self.announce(self.proxy.start(&proxy).await)
    }

    /// Stops the proxy (requests in flight get a moment to finish).
    pub(super) async fn stop_proxy(&self) -> ProxyStatus {
        self.announce(self.proxy.stop().await)
    }

    /// Saves the proxy settings; a running proxy restarts with them when
    /// they change how it serves (address, port, read-only, exec).
    pub(super) async fn set_proxy_settings(
        &self,
        proxy: ProxySettings,
    ) -> Result<Settings, SettingsError> {
        let (restart, settings) = self
            .settings
            .change(async |store| {
                let restart = store.settings().proxy.serves_differently(&proxy);
                store.set_proxy(proxy.clone()).await?;
                Ok(restart)
            })
            .await?;
        if restart && self.proxy.is_running().await {
            self.announce(self.proxy.start(&proxy).await);
        }
        Ok(settings)
    }

    fn announce(&self, status: ProxyStatus) -> ProxyStatus {
        let _ = self.events.send(WorkspaceEvent::Proxy(status.clone()));
        status
    }
}

/// Tells the UI about new requests through the proxy, once a second at most.
pub(super) async fn count_requests(shared: Weak<Shared>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(shared) = shared.upgrade() else {
            return;
        };
        if shared.proxy.refresh().await {
            shared.announce(shared.proxy.status());
        }
    }
}

/// Starts the proxy at start-up when the options and settings say so.
pub(super) async fn autostart(shared: &Arc<Shared>) {
    if shared.options.proxy_autostart && shared.settings.read(|s| s.proxy.start_with_app) {
        shared.start_proxy().await;
    }
}
