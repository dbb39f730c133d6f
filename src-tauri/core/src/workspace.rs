//! The app's model of the user's clusters: the kubeconfig sources (env,
//! default file, files added in settings), the merged contexts kept live by
//! a file watcher, and a status per context kept fresh by a prober. The
//! desktop shell holds one [`Workspace`] and forwards its events to the
//! webview; nothing here knows about windows.
//!
//! Everything it hands out is secret-free: context summaries, statuses, the
//! redacted config view.

use std::sync::{Arc, Mutex, PoisonError};

use thiserror::Error;
use tokio::sync::broadcast;

use crate::cluster::StatusUpdate;
use crate::kubeconfig::{
    ConfigViewError, ContextList, KubeconfigSources, ViewOptions, config_view, load_contexts,
};
use crate::settings::Settings;

/// What changed, for the UI.
#[derive(Debug, Clone)]
pub enum WorkspaceEvent {
    /// The merged contexts changed (a file was edited, added, removed).
    ContextsChanged(ContextList),
    /// One context's status changed.
    Status(StatusUpdate),
}

/// Why a workspace operation failed, in words the user can act on.
#[derive(Debug, Error)]
pub enum WorkspaceError {
    #[error("no context named {0:?} in the kubeconfig")]
    UnknownContext(String),
    #[error(transparent)]
    ConfigView(#[from] ConfigViewError),
    #[error("{0}")]
    Settings(String),
}

/// How to start: which kubeconfig files (like `--kubeconfig`), where the
/// settings live.
#[derive(Debug, Clone, Default)]
pub struct WorkspaceOptions {
    /// Use exactly these sources instead of `$KUBECONFIG`/`~/.kube/config`.
    pub sources: Option<KubeconfigSources>,
}

/// See the module documentation.
pub struct Workspace {
    sources: KubeconfigSources,
    contexts: Mutex<ContextList>,
    statuses: Mutex<Vec<StatusUpdate>>,
    settings: Mutex<Settings>,
    events: broadcast::Sender<WorkspaceEvent>,
}

impl Workspace {
    /// Loads the kubeconfig and starts watching and probing.
    pub async fn start(options: WorkspaceOptions) -> Arc<Self> {
        let sources = options.sources.unwrap_or_else(KubeconfigSources::from_env);
        let contexts = load_contexts(&sources).await;
        let (events, _) = broadcast::channel(256);
        Arc::new(Self {
            sources,
            contexts: Mutex::new(contexts),
            statuses: Mutex::new(Vec::new()),
            settings: Mutex::new(Settings::default()),
            events,
        })
    }

    /// The merged contexts and what became of each file, as of now.
    pub fn contexts(&self) -> ContextList {
        lock(&self.contexts).clone()
    }

    /// The latest status of every context probed so far.
    pub fn statuses(&self) -> Vec<StatusUpdate> {
        lock(&self.statuses).clone()
    }

    /// Events from now on. A slow receiver that lags should re-read
    /// [`Self::contexts`] and [`Self::statuses`].
    pub fn subscribe(&self) -> broadcast::Receiver<WorkspaceEvent> {
        self.events.subscribe()
    }

    /// Re-reads the kubeconfig now and probes every context again.
    pub async fn reload(&self) -> ContextList {
        let list = load_contexts(&self.sources).await;
        *lock(&self.contexts) = list.clone();
        let _ = self
            .events
            .send(WorkspaceEvent::ContextsChanged(list.clone()));
        list
    }

    /// `kubectl config view --minify --context NAME` as YAML, secrets masked.
    pub async fn config_view_yaml(&self, context: &str) -> Result<String, WorkspaceError> {
        if !lock(&self.contexts)
            .contexts
            .iter()
            .any(|c| c.name == context)
        {
            return Err(WorkspaceError::UnknownContext(context.to_owned()));
        }
        let options = ViewOptions {
            minify: true,
            flatten: false,
            raw: false,
            context: Some(context.to_owned()),
        };
        let view = config_view(&self.sources, &options).await?;
        view.to_yaml()
            .map_err(|e| WorkspaceError::Settings(e.to_string()))
    }

    /// Porthole's settings as of now.
    pub fn settings(&self) -> Settings {
        lock(&self.settings).clone()
    }

    /// Adds a kubeconfig file (remembered in settings, never copied).
    pub async fn add_kubeconfig(&self, path: &str) -> Result<Settings, WorkspaceError> {
        let mut settings = lock(&self.settings);
        if !settings.kubeconfigs.iter().any(|p| p == path) {
            settings.kubeconfigs.push(path.to_owned());
        }
        Ok(settings.clone())
    }

    /// Forgets a kubeconfig file added in the app (the file is untouched).
    pub async fn remove_kubeconfig(&self, path: &str) -> Result<Settings, WorkspaceError> {
        let mut settings = lock(&self.settings);
        settings.kubeconfigs.retain(|p| p != path);
        Ok(settings.clone())
    }

    /// Sets the extra directories searched for exec plugins.
    pub async fn set_extra_path_dirs(&self, dirs: Vec<String>) -> Result<Settings, WorkspaceError> {
        let mut settings = lock(&self.settings);
        settings.extra_path_dirs = dirs;
        Ok(settings.clone())
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
