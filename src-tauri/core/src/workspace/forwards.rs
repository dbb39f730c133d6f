//! Port-forwards as the workspace runs them, across every context: started
//! with the context's client, on a local port that stays put (the
//! remembered one; at the first start a stable pick that no other saved
//! forward remembers, then remembered), saved in settings as they are started or changed,
//! restored when the workspace starts (those marked so), and announced as
//! one event whenever the set or a state changes. Byte counts change too
//! often for events: the UI reads [`super::Workspace::forwards`] while it
//! shows them.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::{Arc, Weak};
use std::time::Duration;

use futures_util::future::join_all;
use thiserror::Error;

use super::events::WorkspaceEvent;
use super::forward_port;
use super::forward_view::{ForwardTarget, ForwardView};
use super::shared::Shared;
use crate::cluster::ClusterClient;
use crate::forward::{Forward, ForwardOptions, ForwardRequest, ForwardState};
use crate::settings::{SavedForward, SettingsError};

/// Changes closer together than this make one event.
const COALESCE: Duration = Duration::from_millis(50);

/// Why a forward operation failed, in words the user can act on. (A
/// forward that cannot start is not an error: its view says why.)
#[derive(Debug, Error)]
pub enum ForwardsError {
    #[error("no port-forward {0:?} (it was removed)")]
    Unknown(String),
    #[error("pick a local port from 1 to 65535")]
    NoLocalPort,
    #[error(transparent)]
    Settings(#[from] SettingsError),
}

/// Where the app's forwards listen: kubectl's `localhost` (127.0.0.1 and
/// ::1; a machine without IPv6 listens on the first only).
fn addresses() -> Vec<IpAddr> {
    vec![
        IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(Ipv6Addr::LOCALHOST),
    ]
}

impl Shared {
    /// Starts a forward to `target` (saved first, restored at start by
    /// default), or the saved one it names if that is not running.
    pub(super) async fn start_forward(
        &self,
        target: &ForwardTarget,
    ) -> Result<ForwardView, ForwardsError> {
        let fresh = target.to_saved();
        let saved = self.forwards.saved(&fresh.id()).unwrap_or(fresh);
        self.run_forward(saved).await
    }

    /// Starts the saved forward `id` if it is not running.
    pub(super) async fn start_saved_forward(&self, id: &str) -> Result<ForwardView, ForwardsError> {
        let saved = self
            .forwards
            .saved(id)
            .ok_or_else(|| ForwardsError::Unknown(id.to_owned()))?;
        self.run_forward(saved).await
    }

    /// Starts every saved forward that is not running ("Start all").
    pub(super) async fn start_all_forwards(&self) -> Vec<ForwardView> {
        let idle: Vec<SavedForward> = self
            .forwards
            .all_saved()
            .into_iter()
            .filter(|s| !self.forwards.is_active(&s.id()))
            .collect();
        for result in join_all(idle.into_iter().map(|s| self.run_forward(s))).await {
            if let Err(e) = result {
                tracing::warn!(error = %e, "starting a saved port-forward");
            }
        }
        self.forwards.views()
    }

    pub(super) fn stop_forward(&self, id: &str) -> Result<ForwardView, ForwardsError> {
        let view = self
            .forwards
            .stop(id)
            .ok_or_else(|| ForwardsError::Unknown(id.to_owned()))?;
        tracing::info!(forward = %id, "port-forward stopped");
        Ok(view)
    }

    /// Stops `id` and starts it again (a new listener, a fresh Pod choice).
    pub(super) async fn restart_forward(&self, id: &str) -> Result<ForwardView, ForwardsError> {
        self.stop_forward(id)?;
        self.start_saved_forward(id).await
    }

    /// Stops `id` and forgets it (settings too).
    pub(super) async fn remove_forward(&self, id: &str) -> Result<(), ForwardsError> {
        self.settings
            .change(async |store| store.remove_forward(id).await)
            .await?;
        if !self.forwards.remove(id) {
            return Err(ForwardsError::Unknown(id.to_owned()));
        }
        tracing::info!(forward = %id, "port-forward removed");
        Ok(())
    }

    /// Remembers `port` as the local port of `id`; a running forward moves
    /// to it (and says so if it cannot listen there), a failed one tries
    /// again there; a stopped one stays stopped.
    pub(super) async fn set_forward_local_port(
        &self,
        id: &str,
        port: u16,
    ) -> Result<ForwardView, ForwardsError> {
        if port == 0 {
            return Err(ForwardsError::NoLocalPort);
        }
        let stopped = self.view(id)?.status.state == ForwardState::Stopped;
        self.change_saved(id, |s| s.local_port = port).await?;
        if !stopped {
            return self.restart_forward(id).await;
        }
        self.view(id)
    }

    /// Whether `id` starts when Porthole starts.
    pub(super) async fn set_forward_restore(
        &self,
        id: &str,
        restore: bool,
    ) -> Result<ForwardView, ForwardsError> {
        self.change_saved(id, |s| s.restore = restore).await?;
        self.view(id)
    }

    fn view(&self, id: &str) -> Result<ForwardView, ForwardsError> {
        self.forwards
            .view(id)
            .ok_or_else(|| ForwardsError::Unknown(id.to_owned()))
    }

    async fn change_saved(
        &self,
        id: &str,
        change: impl FnOnce(&mut SavedForward),
    ) -> Result<(), ForwardsError> {
        let mut saved = self
            .forwards
            .saved(id)
            .ok_or_else(|| ForwardsError::Unknown(id.to_owned()))?;
        change(&mut saved);
        self.save_forward(&saved).await
    }

    async fn save_forward(&self, saved: &SavedForward) -> Result<(), ForwardsError> {
        self.settings
            .change(async |store| store.put_forward(saved.clone()).await)
            .await?;
        self.forwards.upsert(saved.clone());
        Ok(())
    }

    /// Saves `saved` (its local port chosen if it has none, what its port
    /// speaks refreshed) and starts it, unless it runs already. A forward
    /// that cannot start shows as failed, with why.
    async fn run_forward(&self, mut saved: SavedForward) -> Result<ForwardView, ForwardsError> {
        let id = saved.id();
        if self.forwards.is_active(&id) {
            return self.view(&id);
        }
        let client = self.forward_client(&saved.context);
        let info = match &client {
            Ok(client) => forward_port::port_info(client, &saved).await,
            Err(_) => forward_port::from_request(&saved.remote),
        };
        saved.port_kind = info.kind;
        if saved.local_port == 0 {
            // In the table first, so the choice can see every other one.
            self.forwards.upsert(saved.clone());
            saved.local_port = self.forwards.choose_port(&id, info.number);
        }
        self.save_forward(&saved).await?;
        let Some(generation) = self.forwards.begin_start(&id) else {
            return Err(ForwardsError::Unknown(id));
        };
        let started = match client {
            Ok(client) => {
                let request = ForwardRequest {
                    target: crate::forward::Target {
                        namespace: saved.namespace.clone(),
                        kind: saved.kind,
                        name: saved.name.clone(),
                    },
                    remote: saved.remote.clone(),
                    addresses: addresses(),
                    local_port: saved.local_port,
                    options: ForwardOptions::default(),
                };
                Forward::start(client, request)
                    .await
                    .map_err(|e| e.to_string())
                    .and_then(needs_ipv4_loopback)
            }
            Err(reason) => Err(reason),
        };
        match &started {
            Ok(forward) => {
                for warning in forward.bind_warnings() {
                    tracing::debug!(forward = %id, %warning, "a listen address was left out");
                }
                tracing::info!(forward = %id, listening = ?forward.listening(), "port-forward started");
            }
            Err(reason) => tracing::warn!(forward = %id, %reason, "port-forward did not start"),
        }
        self.forwards.finish_start(&id, generation, started);
        self.view(&id)
    }

    /// The client of `context`, or why there is none (in words for the
    /// forward's failed state).
    fn forward_client(&self, context: &str) -> Result<ClusterClient, String> {
        if !self
            .snapshot()
            .list
            .contexts
            .iter()
            .any(|c| c.name == context)
        {
            return Err(format!("no context named {context:?} in the kubeconfig"));
        }
        self.clients.get(context).ok_or_else(|| {
            format!("{context:?} has no working connection: see its status on the Overview tab")
        })
    }
}

/// A forward that could not listen on 127.0.0.1 fails, even when it could
/// on ::1 (kubectl carries on then): the address the app shows and its
/// commands name would reach whatever program holds that port instead.
fn needs_ipv4_loopback(forward: Forward) -> Result<Forward, String> {
    if forward
        .listening()
        .iter()
        .any(|a| a.ip() == IpAddr::V4(Ipv4Addr::LOCALHOST))
    {
        return Ok(forward);
    }
    let why = forward
        .bind_warnings()
        .first()
        .cloned()
        .unwrap_or_else(|| "unable to listen on 127.0.0.1".to_owned());
    forward.stop();
    Err(why)
}

/// Sends the forwards as one event after every change (changes close
/// together make one), until the workspace is gone.
pub(super) async fn announce(shared: Weak<Shared>, changed: Arc<tokio::sync::Notify>) {
    loop {
        changed.notified().await;
        tokio::time::sleep(COALESCE).await;
        let Some(shared) = shared.upgrade() else {
            return;
        };
        let _ = shared
            .events
            .send(WorkspaceEvent::Forwards(shared.forwards.views()));
    }
}

/// Starts the saved forwards marked "restore" once the clients are built
/// (a forward to a context without a working client shows why).
pub(super) async fn restore(shared: Weak<Shared>) {
    let Some(mut built) = shared.upgrade().map(|s| s.clients.subscribe()) else {
        return;
    };
    // Held weakly while waiting: a workspace dropped meanwhile ends this.
    if *built.borrow_and_update() == 0 && built.changed().await.is_err() {
        return;
    }
    let Some(shared) = shared.upgrade() else {
        return;
    };
    let restored: Vec<SavedForward> = shared
        .forwards
        .all_saved()
        .into_iter()
        .filter(|s| s.restore)
        .collect();
    if restored.is_empty() {
        return;
    }
    tracing::info!(count = restored.len(), "restoring saved port-forwards");
    let runs = restored.into_iter().map(|s| {
        let shared = shared.clone();
        async move {
            if let Err(e) = shared.run_forward(s).await {
                tracing::warn!(error = %e, "restoring a port-forward");
            }
        }
    });
    join_all(runs).await;
}
