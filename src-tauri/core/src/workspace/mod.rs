//! The app's model of the user's clusters: the kubeconfig sources (env,
//! default file, files added in settings, the service account in a pod),
//! the merged contexts kept live by the file watcher, a client per context,
//! and a status per context kept fresh by the prober. The desktop shell
//! holds one [`Workspace`] and forwards its events to the webview; nothing
//! here knows about windows.
//!
//! Everything it hands out is secret-free: context summaries, statuses, the
//! redacted config view.
//!
//! Start-up never waits for the network or the login shell: the first
//! snapshot is read, then a background task resolves the login shell's
//! PATH (exec plugins need it), builds the clients and probes them.
//!
//! - [`settings_front`]: the settings, held once, changes published.
//! - [`clients`]: a client per context, kept while its inputs are.
//! - [`prober`]: the background task that builds clients and probes them.
//! - [`proxy_switch`]: the app's proxy, run on the saved settings.
//! - [`discovery_follower`]: discovery and live service lists that follow
//!   the context's client and the proxy port.
//! - [`forwards`]: port-forwards across contexts, saved, restored at start
//!   ([`forward_table`] holds them, [`forward_view`] shows them,
//!   [`forward_port`] reads what a port speaks).
//! - `events`, `options`, `shared`, `lock`: what the parts share, kept out
//!   of this file so they depend on it one way.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use thiserror::Error;
use tokio::sync::{Notify, broadcast, watch};

use crate::cluster::{ClusterClient, StatusUpdate};
use crate::discovery::{Discovery, ServiceQuery, ServiceWatch};
use crate::kubeconfig::view::{InlinedFiles, plan};
use crate::kubeconfig::{
    ContextList, KubeconfigSources, Snapshot, ViewError, ViewOptions, Watcher, load_snapshot,
};
use crate::proxy::{ProxyControl, ProxyStatus};
use crate::settings::{ProxySettings, Settings, SettingsError, SettingsStore};

mod clients;
mod discovery_follower;
mod events;
mod forward_port;
mod forward_table;
mod forward_view;
mod forwards;
mod lock;
mod options;
mod prober;
mod proxy_switch;
mod settings_front;
mod shared;

use clients::ClientCache;
use discovery_follower::DiscoverySource;
use proxy_switch::WorkspaceUpstreams;
use settings_front::SettingsFront;

pub use events::WorkspaceEvent;
use forward_table::ForwardTable;
pub use forward_view::{ForwardTarget, ForwardView};
pub use forwards::ForwardsError;
use lock::lock;
pub use options::WorkspaceOptions;
use shared::Shared;

/// Why a workspace operation failed, in words the user can act on.
#[derive(Debug, Error)]
pub enum WorkspaceError {
    #[error("no context named {0:?} in the kubeconfig")]
    UnknownContext(String),
    #[error(transparent)]
    View(#[from] ViewError),
    #[error("the config view could not be written: {0}")]
    Encode(String),
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error(transparent)]
    Watch(#[from] crate::kubeconfig::WatchError),
    #[error(transparent)]
    Forwards(#[from] ForwardsError),
}

/// See the module documentation.
pub struct Workspace {
    shared: Arc<Shared>,
    live: Live,
    driver: tokio::task::JoinHandle<()>,
    /// The forwards' announcer and their restoring at start.
    forward_tasks: [tokio::task::JoinHandle<()>; 2],
}

/// How snapshots are kept current.
enum Live {
    Watched(Watcher),
    /// Without file watching: reloads happen when asked for.
    Manual {
        sources: Mutex<KubeconfigSources>,
        snapshots: watch::Sender<Arc<Snapshot>>,
    },
}

impl Live {
    async fn reload(&self) {
        match self {
            Self::Watched(watcher) => watcher.reload_and_wait().await,
            Self::Manual { sources, snapshots } => {
                let current = lock(sources).clone();
                let previous = snapshots.borrow().generation;
                let mut next = load_snapshot(&current).await;
                next.generation = previous + 1;
                snapshots.send_replace(Arc::new(next));
            }
        }
    }

    async fn set_sources(&self, next: KubeconfigSources) {
        match self {
            Self::Watched(watcher) => watcher.set_sources_and_wait(next).await,
            Self::Manual { sources, .. } => {
                *lock(sources) = next;
                self.reload().await;
            }
        }
    }
}

impl Workspace {
    /// Reads the kubeconfig and settings, starts watching, and starts the
    /// background task that resolves PATH and probes. Returns at once.
    pub async fn start(options: WorkspaceOptions) -> Arc<Self> {
        let settings_path = options
            .settings_path
            .clone()
            .or_else(|| SettingsStore::default_path().ok())
            .unwrap_or_else(|| PathBuf::from("porthole-settings.json"));
        let store = SettingsStore::load_or_default(settings_path).await;
        let sources = sources_for(&options, store.settings());
        let (live, snapshots) = match Watcher::start(sources.clone()).await {
            Ok((watcher, snapshots)) => (Live::Watched(watcher), snapshots),
            Err(e) => {
                // No inotify (its limits reached): reload on demand only.
                tracing::warn!(error = %e, "kubeconfig files will not be watched; use Reload");
                let (tx, rx) = watch::channel(Arc::new(load_snapshot(&sources).await));
                (
                    Live::Manual {
                        sources: Mutex::new(sources),
                        snapshots: tx,
                    },
                    rx,
                )
            }
        };
        let (events, _) = broadcast::channel(1024);
        let (path, _) = watch::channel(None);
        let forwards = ForwardTable::new(&store.settings().forwards);
        let shared = Arc::new_cyclic(|weak| Shared {
            proxy: ProxyControl::new(Arc::new(WorkspaceUpstreams(weak.clone()))),
            options,
            snapshot: snapshots.clone(),
            statuses: Mutex::new(BTreeMap::new()),
            clients: ClientCache::new(),
            settings: SettingsFront::new(store),
            path,
            events,
            kick: Notify::new(),
            round: AtomicU64::new(0),
            forwards,
        });
        shared.mark_checking();
        proxy_switch::autostart(&shared).await;
        tokio::spawn(proxy_switch::count_requests(Arc::downgrade(&shared)));
        let driver = tokio::spawn(prober::drive(shared.clone(), snapshots));
        let forward_tasks = [
            tokio::spawn(forwards::announce(
                Arc::downgrade(&shared),
                shared.forwards.changed(),
            )),
            tokio::spawn(forwards::restore(Arc::downgrade(&shared))),
        ];
        Arc::new(Self {
            shared,
            live,
            driver,
            forward_tasks,
        })
    }

    /// The merged contexts and what became of each file, as of now.
    pub fn contexts(&self) -> ContextList {
        self.shared.snapshot().list.clone()
    }

    /// The latest snapshot (merged config and context list).
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.shared.snapshot()
    }

    /// The latest status of every context.
    pub fn statuses(&self) -> Vec<StatusUpdate> {
        lock(&self.shared.statuses)
            .iter()
            .map(|(context, status)| StatusUpdate {
                context: context.clone(),
                status: status.clone(),
            })
            .collect()
    }

    /// The client of `context`, once built (for the proxy and discovery).
    pub fn client(&self, context: &str) -> Option<ClusterClient> {
        self.shared.clients.get(context)
    }

    /// Events from now on. A receiver that lags should re-read
    /// [`Self::contexts`] and [`Self::statuses`].
    pub fn subscribe(&self) -> broadcast::Receiver<WorkspaceEvent> {
        self.shared.events.subscribe()
    }

    /// Re-reads the kubeconfig now and probes every context again.
    pub async fn reload(&self) -> ContextList {
        self.live.reload().await;
        self.shared.kick.notify_one();
        self.contexts()
    }

    /// `kubectl config view --minify --context NAME` as YAML, secrets
    /// masked. Built from the live snapshot, so a broken file elsewhere
    /// does not hide it.
    pub async fn config_view_yaml(&self, context: &str) -> Result<String, WorkspaceError> {
        let snapshot = self.shared.snapshot();
        if !snapshot.list.contexts.iter().any(|c| c.name == context) {
            return Err(WorkspaceError::UnknownContext(context.to_owned()));
        }
        let options = ViewOptions {
            minify: true,
            flatten: false,
            raw: false,
            context: Some(context.to_owned()),
        };
        let view = plan(&snapshot.merged, &options)?.render(&InlinedFiles::default())?;
        view.to_yaml()
            .map_err(|e| WorkspaceError::Encode(e.to_string()))
    }

    /// Porthole's settings as of now.
    pub fn settings(&self) -> Settings {
        self.shared.settings.now()
    }

    /// Why the settings file could not be used, when it could not.
    pub async fn settings_problem(&self) -> Option<String> {
        self.shared.settings.load_problem().await
    }

    /// Adds a kubeconfig file (remembered in settings, never copied).
    pub async fn add_kubeconfig(&self, path: &str) -> Result<Settings, WorkspaceError> {
        self.change_sources(async |store| store.add_kubeconfig(path).await.map(drop))
            .await
    }

    /// Forgets a kubeconfig file added in the app (the file is untouched).
    pub async fn remove_kubeconfig(&self, path: &str) -> Result<Settings, WorkspaceError> {
        self.change_sources(async |store| store.remove_kubeconfig(path).await.map(drop))
            .await
    }

    /// Changes the added kubeconfig files, then watches the sources they
    /// make. The sources are set before the settings are let go of, so two
    /// changes at once cannot leave the older sources watched.
    async fn change_sources(
        &self,
        change: impl AsyncFnOnce(&mut SettingsStore) -> Result<(), SettingsError>,
    ) -> Result<Settings, WorkspaceError> {
        let ((), settings) = self
            .shared
            .settings
            .change(async |store| {
                change(store).await?;
                self.live
                    .set_sources(sources_for(&self.shared.options, store.settings()))
                    .await;
                Ok(())
            })
            .await?;
        Ok(settings)
    }

    /// The proxy's status as of now.
    pub fn proxy_status(&self) -> ProxyStatus {
        self.shared.proxy.status()
    }

    /// Starts the proxy with the saved settings.
    pub async fn start_proxy(&self) -> ProxyStatus {
        self.shared.start_proxy().await
    }

    /// Stops the proxy (requests in flight get a moment to finish).
    pub async fn stop_proxy(&self) -> ProxyStatus {
        self.shared.stop_proxy().await
    }

    /// Saves the proxy settings; a running proxy restarts with them when
    /// they change how it serves (address, port, read-only, exec).
    pub async fn set_proxy_settings(
        &self,
        proxy: ProxySettings,
    ) -> Result<Settings, WorkspaceError> {
        Ok(self.shared.set_proxy_settings(proxy).await?)
    }

    /// One-shot discovery of `context` (namespaces, a service's details,
    /// nodes, pods, cluster-info) with its current client, Porthole URLs
    /// for the proxy port in the settings. `None` until the context's
    /// client is built (or when it cannot be: see its status).
    pub fn discovery(&self, context: &str) -> Option<Discovery> {
        self.shared.current(context).map(|(_, d)| d)
    }

    /// The live service list of `context` for `query`. Updates come from
    /// [`crate::discovery::ServiceWatch::recv`] (a `reset` with the whole
    /// list first, then batched changes); the shell forwards them as
    /// events. The watch follows the context: when its client is rebuilt
    /// (kubeconfig edited) or the proxy port changes, it starts over with a
    /// new `reset`. Drop the watch when the context or namespace leaves the
    /// screen: that closes its apiserver watches. The namespaces added by
    /// hand for the context in settings are watched too, even when the
    /// query does not name them yet.
    pub fn watch_services(&self, context: &str, mut query: ServiceQuery) -> ServiceWatch {
        for ns in self.settings().added_namespaces_for(context) {
            if !query.added_namespaces.contains(ns) {
                query.added_namespaces.push(ns.clone());
            }
        }
        discovery_follower::watch_services(&self.shared, context, query)
    }

    /// Sets the command that opens services in the browser (empty: the
    /// system's default browser).
    pub async fn set_browser_command(&self, command: String) -> Result<Settings, WorkspaceError> {
        let ((), settings) = self
            .shared
            .settings
            .change(async |store| store.set_browser_command(command).await)
            .await?;
        Ok(settings)
    }

    /// Remembers a namespace added by hand for `context` (a DNS-1123
    /// label); returns the context's added namespaces.
    pub async fn add_namespace(
        &self,
        context: &str,
        namespace: &str,
    ) -> Result<Vec<String>, WorkspaceError> {
        self.change_namespaces(context, async |store| {
            store.add_namespace(context, namespace).await.map(drop)
        })
        .await
    }

    /// Forgets a namespace added for `context`; returns the ones left.
    pub async fn remove_namespace(
        &self,
        context: &str,
        namespace: &str,
    ) -> Result<Vec<String>, WorkspaceError> {
        self.change_namespaces(context, async |store| {
            store.remove_namespace(context, namespace).await.map(drop)
        })
        .await
    }

    /// Changes the namespaces added for `context`; returns them after.
    async fn change_namespaces(
        &self,
        context: &str,
        change: impl AsyncFnOnce(&mut SettingsStore) -> Result<(), SettingsError>,
    ) -> Result<Vec<String>, WorkspaceError> {
        let ((), settings) = self.shared.settings.change(change).await?;
        Ok(settings.added_namespaces_for(context.trim()).to_vec())
    }

    /// Every port-forward, saved and running, across contexts, with its
    /// state and counters as of now (read it again for live byte counts).
    pub fn forwards(&self) -> Vec<ForwardView> {
        self.shared.forwards.views()
    }

    /// Starts a forward to `target` and saves it (its local port chosen
    /// once and kept; restored at start by default), or starts the saved
    /// one it names. A forward that cannot start comes back failed, with
    /// why; an error means nothing was saved.
    pub async fn start_forward(
        &self,
        target: &ForwardTarget,
    ) -> Result<ForwardView, WorkspaceError> {
        Ok(self.shared.start_forward(target).await?)
    }

    /// Starts the saved forward `id` (nothing happens if it runs).
    pub async fn start_saved_forward(&self, id: &str) -> Result<ForwardView, WorkspaceError> {
        Ok(self.shared.start_saved_forward(id).await?)
    }

    /// "Start all": every saved forward that is not running.
    pub async fn start_all_forwards(&self) -> Vec<ForwardView> {
        self.shared.start_all_forwards().await
    }

    /// Stops `id` (it stays saved).
    pub fn stop_forward(&self, id: &str) -> Result<ForwardView, WorkspaceError> {
        Ok(self.shared.stop_forward(id)?)
    }

    /// Stops `id` and starts it again.
    pub async fn restart_forward(&self, id: &str) -> Result<ForwardView, WorkspaceError> {
        Ok(self.shared.restart_forward(id).await?)
    }

    /// Stops `id` and forgets it.
    pub async fn remove_forward(&self, id: &str) -> Result<(), WorkspaceError> {
        Ok(self.shared.remove_forward(id).await?)
    }

    /// Sets the local port of `id` (1–65535); a running (or failed) forward
    /// starts there.
    pub async fn set_forward_local_port(
        &self,
        id: &str,
        port: u16,
    ) -> Result<ForwardView, WorkspaceError> {
        Ok(self.shared.set_forward_local_port(id, port).await?)
    }

    /// Whether `id` starts when Porthole starts.
    pub async fn set_forward_restore(
        &self,
        id: &str,
        restore: bool,
    ) -> Result<ForwardView, WorkspaceError> {
        Ok(self.shared.set_forward_restore(id, restore).await?)
    }

    /// Sets the extra directories searched for exec plugins; clients are
    /// rebuilt and probed again with the new search path.
    pub async fn set_extra_path_dirs(&self, dirs: Vec<String>) -> Result<Settings, WorkspaceError> {
        let ((), settings) = self
            .shared
            .settings
            .change(async |store| store.set_extra_path_dirs(dirs).await)
            .await?;
        self.shared.kick.notify_one();
        Ok(settings)
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        self.driver.abort();
        for task in &self.forward_tasks {
            task.abort();
        }
    }
}

fn sources_for(options: &WorkspaceOptions, settings: &Settings) -> KubeconfigSources {
    match &options.sources {
        Some(sources) => sources
            .clone()
            .with_added(settings.kubeconfigs.iter().map(PathBuf::from)),
        None => KubeconfigSources::for_app(settings),
    }
}
