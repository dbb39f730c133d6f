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

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use thiserror::Error;
use tokio::sync::{Notify, broadcast, watch};

use crate::cluster::probe::{self, probe_all};
use crate::cluster::{
    ClientEnv, ClusterClient, ClusterProblem, ContextStatus, StatusUpdate, client_for_context,
};
use crate::kubeconfig::view::{InlinedFiles, plan};
use crate::kubeconfig::{
    ContextList, KubeconfigSources, Snapshot, ViewError, ViewOptions, Watcher, load_snapshot,
};
use crate::proxy::names::context_label;
use crate::proxy::{ProxyControl, ProxyStatus, Upstream, Upstreams};
use crate::settings::{ProxySettings, Settings, SettingsError, SettingsStore};
use crate::shell_path::{self, ResolvedPath, SearchPath};

/// What changed, for the UI.
#[derive(Debug, Clone)]
pub enum WorkspaceEvent {
    /// The merged contexts changed (a file was edited, added, removed).
    ContextsChanged(ContextList),
    /// One context's status changed.
    Status(StatusUpdate),
    /// The proxy started, stopped, failed, or counted more requests.
    Proxy(ProxyStatus),
}

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
}

/// How to start.
#[derive(Debug, Clone)]
pub struct WorkspaceOptions {
    /// Use exactly these sources instead of `$KUBECONFIG`/`~/.kube/config`
    /// (files added in settings still come after them).
    pub sources: Option<KubeconfigSources>,
    /// Where the settings file is; default: the platform's config dir.
    pub settings_path: Option<PathBuf>,
    /// How long one context's probe may take, everything included.
    pub probe_timeout: Duration,
    /// Probe every context again this often (a cluster may go down).
    pub reprobe_every: Option<Duration>,
    /// Ask the login shell for its PATH at start (off in tests that must
    /// not depend on the machine's shell profile).
    pub login_shell_path: bool,
    /// The shell to ask; default: the user's login shell (`$SHELL`).
    pub login_shell: Option<PathBuf>,
    /// Start the proxy at once when the settings say so (off in tests that
    /// must not take port 8001).
    pub proxy_autostart: bool,
}

impl Default for WorkspaceOptions {
    fn default() -> Self {
        Self {
            sources: None,
            settings_path: None,
            probe_timeout: probe::DEFAULT_TIMEOUT,
            reprobe_every: Some(Duration::from_secs(30)),
            login_shell_path: true,
            login_shell: None,
            proxy_autostart: true,
        }
    }
}

/// See the module documentation.
pub struct Workspace {
    shared: Arc<Shared>,
    live: Live,
    driver: tokio::task::JoinHandle<()>,
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

struct Shared {
    options: WorkspaceOptions,
    /// The latest snapshot, straight from the watcher: readers never see
    /// an older one than what was just published.
    snapshot: watch::Receiver<Arc<Snapshot>>,
    statuses: Mutex<BTreeMap<String, ContextStatus>>,
    /// Per context: the fingerprint of what built it, and the client.
    clients: Mutex<HashMap<String, (u64, ClusterClient)>>,
    settings: tokio::sync::Mutex<SettingsStore>,
    /// A copy of the settings for readers that must not wait.
    settings_now: Mutex<Settings>,
    /// The login shell's PATH, once resolved.
    path: watch::Sender<Option<Arc<ResolvedPath>>>,
    events: broadcast::Sender<WorkspaceEvent>,
    /// Rebuild clients and probe now (settings changed, user reloaded).
    kick: Notify,
    /// Probe rounds; results of an older round are dropped.
    round: AtomicU64,
    proxy: ProxyControl,
}

/// The proxy's view of the workspace: the current context for
/// `localhost`, any context by its host label.
struct WorkspaceUpstreams(std::sync::Weak<Shared>);

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
        let start_proxy = options.proxy_autostart && store.settings().proxy.start_with_app;
        let shared = Arc::new_cyclic(|weak| Shared {
            proxy: ProxyControl::new(Arc::new(WorkspaceUpstreams(weak.clone()))),
            options,
            snapshot: snapshots.clone(),
            statuses: Mutex::new(BTreeMap::new()),
            clients: Mutex::new(HashMap::new()),
            settings_now: Mutex::new(store.settings().clone()),
            settings: tokio::sync::Mutex::new(store),
            path,
            events,
            kick: Notify::new(),
            round: AtomicU64::new(0),
        });
        shared.mark_checking();
        if start_proxy {
            let settings = shared.settings_now();
            let status = shared.proxy.start(&settings.proxy).await;
            let _ = shared.events.send(WorkspaceEvent::Proxy(status));
        }
        tokio::spawn(count_requests(Arc::downgrade(&shared)));
        let driver = tokio::spawn(drive(shared.clone(), snapshots));
        Arc::new(Self {
            shared,
            live,
            driver,
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
        lock(&self.shared.clients)
            .get(context)
            .map(|(_, client)| client.clone())
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
        lock(&self.shared.settings_now).clone()
    }

    /// Why the settings file could not be used, when it could not.
    pub async fn settings_problem(&self) -> Option<String> {
        self.shared
            .settings
            .lock()
            .await
            .load_problem()
            .map(ToString::to_string)
    }

    /// Adds a kubeconfig file (remembered in settings, never copied).
    pub async fn add_kubeconfig(&self, path: &str) -> Result<Settings, WorkspaceError> {
        let mut store = self.shared.settings.lock().await;
        store.add_kubeconfig(path).await?;
        *lock(&self.shared.settings_now) = store.settings().clone();
        self.live
            .set_sources(sources_for(&self.shared.options, store.settings()))
            .await;
        Ok(store.settings().clone())
    }

    /// Forgets a kubeconfig file added in the app (the file is untouched).
    pub async fn remove_kubeconfig(&self, path: &str) -> Result<Settings, WorkspaceError> {
        let mut store = self.shared.settings.lock().await;
        store.remove_kubeconfig(path).await?;
        *lock(&self.shared.settings_now) = store.settings().clone();
        self.live
            .set_sources(sources_for(&self.shared.options, store.settings()))
            .await;
        Ok(store.settings().clone())
    }

    /// The proxy's status as of now.
    pub fn proxy_status(&self) -> ProxyStatus {
        self.shared.proxy.status()
    }

    /// Starts the proxy with the saved settings.
    pub async fn start_proxy(&self) -> ProxyStatus {
        let settings = self.shared.settings_now();
        let status = self.shared.proxy.start(&settings.proxy).await;
        let _ = self
            .shared
            .events
            .send(WorkspaceEvent::Proxy(status.clone()));
        status
    }

    /// Stops the proxy (requests in flight get a moment to finish).
    pub async fn stop_proxy(&self) -> ProxyStatus {
        let status = self.shared.proxy.stop().await;
        let _ = self
            .shared
            .events
            .send(WorkspaceEvent::Proxy(status.clone()));
        status
    }

    /// Saves the proxy settings; a running proxy restarts with them when
    /// they change how it serves (address, port, read-only, exec).
    pub async fn set_proxy_settings(
        &self,
        proxy: ProxySettings,
    ) -> Result<Settings, WorkspaceError> {
        let mut store = self.shared.settings.lock().await;
        let restart = store.settings().proxy.serves_differently(&proxy);
        store.set_proxy(proxy.clone()).await?;
        *lock(&self.shared.settings_now) = store.settings().clone();
        let settings = store.settings().clone();
        drop(store);
        if restart && self.shared.proxy.is_running().await {
            let status = self.shared.proxy.start(&proxy).await;
            let _ = self.shared.events.send(WorkspaceEvent::Proxy(status));
        }
        Ok(settings)
    }

    /// One-shot discovery of `context` (namespaces, a service's details,
    /// nodes, pods, cluster-info) with its current client, Porthole URLs
    /// for the proxy port in the settings. `None` until the context's
    /// client is built (or when it cannot be: see its status).
    pub fn discovery(&self, context: &str) -> Option<crate::discovery::Discovery> {
        self.shared.discovery_for(context).map(|(_, d)| d)
    }

    /// The live service list of `context` for `query`. Updates come from
    /// [`crate::discovery::ServiceWatch::recv`] (a `reset` with the whole
    /// list first, then batched changes); the shell forwards them as
    /// events. The watch follows the context: when its client is rebuilt
    /// (kubeconfig edited) or the proxy port changes, it starts over with a
    /// new `reset`. Drop the watch when the context or namespace leaves the
    /// screen: that closes its apiserver watches.
    pub fn watch_services(
        &self,
        context: &str,
        query: crate::discovery::ServiceQuery,
    ) -> crate::discovery::ServiceWatch {
        let (tx, rx) = watch::channel(self.shared.discovery_for(context));
        let weak = Arc::downgrade(&self.shared);
        let name = context.to_owned();
        let feed = tx.borrow().as_ref().map(|(print, _)| *print);
        let watch = crate::discovery::ServiceWatch::follow(context, map_discovery(rx), query);
        tokio::spawn(follow_client(weak, name, tx, feed));
        watch
    }

    /// Sets the command that opens services in the browser (empty: the
    /// system's default browser).
    pub async fn set_browser_command(&self, command: String) -> Result<Settings, WorkspaceError> {
        let mut store = self.shared.settings.lock().await;
        store.set_browser_command(command).await?;
        *lock(&self.shared.settings_now) = store.settings().clone();
        Ok(store.settings().clone())
    }

    /// Remembers a namespace added by hand for `context` (a DNS-1123
    /// label); returns the context's added namespaces.
    pub async fn add_namespace(
        &self,
        context: &str,
        namespace: &str,
    ) -> Result<Vec<String>, WorkspaceError> {
        let mut store = self.shared.settings.lock().await;
        store.add_namespace(context, namespace).await?;
        *lock(&self.shared.settings_now) = store.settings().clone();
        Ok(store
            .settings()
            .added_namespaces_for(context.trim())
            .to_vec())
    }

    /// Forgets a namespace added for `context`; returns the ones left.
    pub async fn remove_namespace(
        &self,
        context: &str,
        namespace: &str,
    ) -> Result<Vec<String>, WorkspaceError> {
        let mut store = self.shared.settings.lock().await;
        store.remove_namespace(context, namespace).await?;
        *lock(&self.shared.settings_now) = store.settings().clone();
        Ok(store
            .settings()
            .added_namespaces_for(context.trim())
            .to_vec())
    }

    /// Sets the extra directories searched for exec plugins; clients are
    /// rebuilt and probed again with the new search path.
    pub async fn set_extra_path_dirs(&self, dirs: Vec<String>) -> Result<Settings, WorkspaceError> {
        let mut store = self.shared.settings.lock().await;
        store.set_extra_path_dirs(dirs).await?;
        *lock(&self.shared.settings_now) = store.settings().clone();
        self.shared.kick.notify_one();
        Ok(store.settings().clone())
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        self.driver.abort();
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

/// The background task: PATH, then clients and probes after every snapshot,
/// kick and re-probe tick.
async fn drive(shared: Arc<Shared>, mut snapshots: watch::Receiver<Arc<Snapshot>>) {
    let resolved = if shared.options.login_shell_path {
        let shell = match &shared.options.login_shell {
            Some(shell) => shell.clone(),
            None => shell_path::default_login_shell().await,
        };
        ResolvedPath::resolve(
            std::env::var_os("PATH"),
            &shell,
            shell_path::DEFAULT_TIMEOUT,
        )
        .await
    } else {
        ResolvedPath::process_only(std::env::var_os("PATH"))
    };
    shared.path.send_replace(Some(Arc::new(resolved)));
    shared.rebuild_and_probe(true).await;

    let every = shared.options.reprobe_every;
    let mut tick = every.map(|d| {
        let mut i = tokio::time::interval_at(tokio::time::Instant::now() + d, d);
        i.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        i
    });
    loop {
        let step = tokio::select! {
            changed = snapshots.changed() => {
                if changed.is_err() {
                    return;
                }
                let next = snapshots.borrow_and_update().clone();
                shared.mark_checking();
                let _ = shared.events.send(WorkspaceEvent::ContextsChanged(next.list.clone()));
                Step::Rebuild { force: false }
            }
            () = shared.kick.notified() => Step::Rebuild { force: true },
            _ = async {
                match tick.as_mut() {
                    Some(t) => t.tick().await,
                    None => std::future::pending().await,
                }
            } => Step::Reprobe,
        };
        match step {
            Step::Reprobe => shared.probe_existing().await,
            Step::Rebuild { force } => shared.rebuild_and_probe(force).await,
        }
    }
}

enum Step {
    /// Probe the clients there are.
    Reprobe,
    /// Build clients for changed contexts (all of them when forced: the
    /// search path changed or the user asked), then probe.
    Rebuild { force: bool },
}

/// What a context's client is built from: its context, cluster and user
/// entries and the size and time of every file they reference. Unchanged,
/// the client (and its cached exec credential) is kept across reloads, so
/// adding one cluster does not re-run every other cluster's plugin.
async fn fingerprint(snapshot: &Snapshot, context: &str) -> u64 {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let config = snapshot.merged.config();
    let mut hasher = DefaultHasher::new();
    let ctx = config.contexts.iter().find(|c| c.name == context);
    let (cluster, user) = ctx
        .and_then(|c| c.context.as_ref())
        .map(|c| (c.cluster.clone(), c.user.clone().unwrap_or_default()))
        .unwrap_or_default();
    let json = |v: Option<serde_json::Value>| v.map(|v| v.to_string()).unwrap_or_default();
    json(ctx.and_then(|c| serde_json::to_value(c).ok())).hash(&mut hasher);
    json(
        config
            .clusters
            .iter()
            .find(|c| c.name == cluster)
            .and_then(|c| serde_json::to_value(c).ok()),
    )
    .hash(&mut hasher);
    json(
        config
            .auth_infos
            .iter()
            .find(|u| u.name == user)
            .and_then(|u| serde_json::to_value(u).ok()),
    )
    .hash(&mut hasher);
    for reference in snapshot.referenced_files() {
        let ours = match reference.list {
            crate::kubeconfig::EntryList::Clusters => reference.name == cluster,
            crate::kubeconfig::EntryList::Users => reference.name == user,
            crate::kubeconfig::EntryList::Contexts => reference.name == context,
        };
        if ours {
            reference.path.hash(&mut hasher);
            if let Ok(meta) = tokio::fs::metadata(&reference.path).await {
                meta.len().hash(&mut hasher);
                meta.modified().ok().hash(&mut hasher);
            }
        }
    }
    hasher.finish()
}

/// Tells the UI about new requests through the proxy, once a second at most.
async fn count_requests(shared: std::sync::Weak<Shared>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(shared) = shared.upgrade() else {
            return;
        };
        if shared.proxy.refresh().await {
            let _ = shared
                .events
                .send(WorkspaceEvent::Proxy(shared.proxy.status()));
        }
    }
}

impl Shared {
    fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot.borrow().clone()
    }

    fn settings_now(&self) -> Settings {
        lock(&self.settings_now).clone()
    }

    fn upstream(&self, context: &str) -> Option<Upstream> {
        lock(&self.clients)
            .get(context)
            .map(|(_, client)| Upstream {
                context: context.to_owned(),
                client: client.clone(),
            })
    }

    /// New contexts start as "checking"; vanished ones are forgotten.
    fn mark_checking(&self) {
        let snapshot = self.snapshot();
        let mut statuses = lock(&self.statuses);
        statuses.retain(|name, _| snapshot.list.contexts.iter().any(|c| &c.name == name));
        for c in &snapshot.list.contexts {
            statuses
                .entry(c.name.clone())
                .or_insert(ContextStatus::Checking);
        }
    }

    fn client_env(&self) -> ClientEnv {
        let extra: Vec<PathBuf> = lock(&self.settings_now)
            .extra_path_dirs
            .iter()
            .map(PathBuf::from)
            .collect();
        let search: SearchPath = match self.path.borrow().as_ref() {
            Some(resolved) => resolved.search_path(&extra),
            None => shell_path::process_search_path(std::env::var_os("PATH").as_deref(), &extra),
        };
        ClientEnv::new(search, self.options.probe_timeout, Duration::from_secs(30))
    }

    /// Builds a client for every context of the snapshot whose inputs
    /// changed (every context when `force`) and probes them all.
    async fn rebuild_and_probe(&self, force: bool) {
        let snapshot = self.snapshot();
        let env = self.client_env();
        let previous = lock(&self.clients).clone();
        let mut built = Vec::with_capacity(snapshot.list.contexts.len());
        let mut clients = HashMap::new();
        for summary in &snapshot.list.contexts {
            let print = fingerprint(&snapshot, &summary.name).await;
            let kept = previous
                .get(&summary.name)
                .filter(|(old, _)| !force && *old == print)
                .map(|(_, client)| client.clone());
            let result = match kept {
                Some(client) => Ok(client),
                None => client_for_context(&snapshot.merged, &summary.name, &env).await,
            };
            if let Ok(client) = &result {
                clients.insert(summary.name.clone(), (print, client.clone()));
            }
            built.push((summary.name.clone(), result));
        }
        *lock(&self.clients) = clients;
        self.probe(built).await;
    }

    /// Probes the existing clients again (the periodic check).
    async fn probe_existing(&self) {
        let snapshot = self.snapshot();
        let clients = lock(&self.clients).clone();
        let statuses = lock(&self.statuses).clone();
        let work: Vec<(String, Result<ClusterClient, ClusterProblem>)> = snapshot
            .list
            .contexts
            .iter()
            .filter_map(|c| match clients.get(&c.name) {
                Some((_, client)) => Some((c.name.clone(), Ok(client.clone()))),
                // A context whose client could not be built keeps its problem.
                None => match statuses.get(&c.name) {
                    Some(ContextStatus::Failed { problem }) => {
                        Some((c.name.clone(), Err(problem.clone())))
                    }
                    _ => None,
                },
            })
            .collect();
        self.probe(work).await;
    }

    async fn probe(&self, work: Vec<(String, Result<ClusterClient, ClusterProblem>)>) {
        let round = self.round.fetch_add(1, Ordering::AcqRel) + 1;
        let mut updates = probe_all(work, self.options.probe_timeout);
        while let Some(update) = updates.recv().await {
            if self.round.load(Ordering::Acquire) != round {
                return;
            }
            let changed = {
                let mut statuses = lock(&self.statuses);
                if !statuses.contains_key(&update.context) {
                    continue;
                }
                let old = statuses.insert(update.context.clone(), update.status.clone());
                old.as_ref() != Some(&update.status)
            };
            if changed {
                if let ContextStatus::Failed { problem } = &update.status {
                    tracing::info!(context = %update.context, %problem, "context unavailable");
                }
                let _ = self.events.send(WorkspaceEvent::Status(update));
            }
        }
    }
}

/// How often a service watch checks whether its context's client changed.
const CLIENT_CHECK: Duration = Duration::from_secs(1);

/// What a watch's client is made of: the client's fingerprint and the
/// proxy port.
type DiscoveryPrint = (u64, u16);

/// A receiver of discoveries from one of (print, discovery).
fn map_discovery(
    mut rx: watch::Receiver<Option<(DiscoveryPrint, crate::discovery::Discovery)>>,
) -> watch::Receiver<Option<crate::discovery::Discovery>> {
    let (tx, out) = watch::channel(rx.borrow_and_update().as_ref().map(|(_, d)| d.clone()));
    tokio::spawn(async move {
        loop {
            tokio::select! {
                changed = rx.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    let next = rx.borrow_and_update().as_ref().map(|(_, d)| d.clone());
                    tx.send_replace(next);
                }
                () = tx.closed() => return,
            }
        }
    });
    out
}

/// Publishes the context's discovery again whenever its client or the
/// proxy port changes; ends with the watch (or the workspace).
async fn follow_client(
    shared: std::sync::Weak<Shared>,
    context: String,
    tx: watch::Sender<Option<(DiscoveryPrint, crate::discovery::Discovery)>>,
    mut last: Option<DiscoveryPrint>,
) {
    loop {
        tokio::select! {
            () = tx.closed() => return,
            () = tokio::time::sleep(CLIENT_CHECK) => {}
        }
        let Some(shared) = shared.upgrade() else {
            return;
        };
        let next = shared.discovery_for(&context);
        let print = next.as_ref().map(|(p, _)| *p);
        if print != last {
            tracing::debug!(%context, "the context's client changed: its service watch starts over");
            last = print;
            tx.send_replace(next);
        }
    }
}

impl Shared {
    /// The context's discovery with what it was built from.
    fn discovery_for(
        &self,
        context: &str,
    ) -> Option<(DiscoveryPrint, crate::discovery::Discovery)> {
        let (print, client) = lock(&self.clients).get(context).cloned()?;
        let port = lock(&self.settings_now).proxy.port;
        let snapshot = self.snapshot();
        let namespace = snapshot
            .list
            .contexts
            .iter()
            .find(|c| c.name == context)
            .and_then(|c| c.namespace.clone());
        Some((
            (print, port),
            crate::discovery::Discovery::new(&client, namespace.as_deref(), port),
        ))
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
