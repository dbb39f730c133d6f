//! What the workspace's parts share with its background tasks.

use std::collections::BTreeMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use tokio::sync::{Notify, broadcast, watch};

use super::clients::ClientCache;
use super::events::WorkspaceEvent;
use super::forward_table::ForwardTable;
use super::options::WorkspaceOptions;
use super::settings_front::SettingsFront;
use crate::cluster::ContextStatus;
use crate::kubeconfig::Snapshot;
use crate::proxy::ProxyControl;
use crate::shell_path::ResolvedPath;

/// What the workspace's parts share with its background tasks.
pub(super) struct Shared {
    pub(super) options: WorkspaceOptions,
    /// The latest snapshot, straight from the watcher: readers never see
    /// an older one than what was just published.
    pub(super) snapshot: watch::Receiver<Arc<Snapshot>>,
    pub(super) statuses: Mutex<BTreeMap<String, ContextStatus>>,
    pub(super) clients: ClientCache,
    pub(super) settings: SettingsFront,
    /// The login shell's PATH, once resolved.
    pub(super) path: watch::Sender<Option<Arc<ResolvedPath>>>,
    pub(super) events: broadcast::Sender<WorkspaceEvent>,
    /// Rebuild clients and probe now (settings changed, user reloaded).
    pub(super) kick: Notify,
    /// Probe rounds; results of an older round are dropped.
    pub(super) round: AtomicU64,
    pub(super) proxy: ProxyControl,
    /// The port-forwards, saved and running, across contexts.
    pub(super) forwards: ForwardTable,
}

impl Shared {
    pub(super) fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot.borrow().clone()
    }
}
