//! The live service list of one context and namespace selection.
//!
//! A [`ServiceWatch`] runs one session per client (`session.rs`). Its
//! streams (`streams.rs`) watch Services, EndpointSlices and Ingresses in
//! the selected scope, and Nodes for NodePort addresses, each in its own
//! task; the session keeps what they report in a `ServiceIndex`
//! (`discovery/index.rs`), which joins it into
//! [`ServiceView`](super::ServiceView)s; its batcher (`batch.rs`) decides
//! when the [`ServiceListUpdate`]s go out:
//!
//! - while a first list arrives (streamed: `sendInitialEvents`, served from
//!   the apiserver's cache), `partial` lists of what came so far — the
//!   first [`LIST_CHUNK`] services at once, then at most every
//!   [`PARTIAL_EVERY`] — so a long list shows its first rows early;
//! - a `reset` with the whole list once every service source has listed
//!   (slices, ingresses and nodes get [`AUX_GRACE`] more to join it);
//! - `changed` batches (only views that really changed), at most one per
//!   [`BATCH`];
//! - `degraded` when a kind fails or recovers.
//!
//! Each watcher retries with backoff and resumes where it was (see
//! `streams.rs`); while a kind fails it is reported as degraded. When the
//! user may not list services in all namespaces, the watch falls back to
//! the context's namespace plus the ones the user added.
//!
//! Dropping the [`ServiceWatch`] stops every task and closes the watches:
//! a context that is not on screen holds none.

mod batch;
mod session;
mod streams;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::fetch::Discovery;
use super::rows::{Published, ServiceRows};
use super::views::{
    Degraded, ResourceKind, ServiceList, ServiceListChange, ServiceListUpdate, ServiceQuery,
};
use batch::Outbox;
use session::Session;

pub use batch::{AUX_GRACE, BATCH, PARTIAL_EVERY};
pub use streams::LIST_CHUNK;

/// Updates the receiver has not taken yet; beyond, the next one is a reset.
const QUEUE: usize = 1024;

static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// The live service list; see the module documentation. Dropping it stops
/// the watches.
pub struct ServiceWatch {
    id: u64,
    context: String,
    updates: mpsc::Receiver<ServiceListUpdate>,
    published: Arc<Mutex<Published>>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for ServiceWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceWatch")
            .field("id", &self.id)
            .field("context", &self.context)
            .finish_non_exhaustive()
    }
}

impl ServiceWatch {
    /// Watches with one client for its whole life (`portholectl`, tests).
    pub fn start(discovery: Discovery, query: ServiceQuery) -> Self {
        let context = discovery.base().context.clone();
        let (tx, rx) = watch::channel(Some(discovery));
        Self::spawn(context, rx, Some(tx), query)
    }

    /// Watches whatever `targets` holds now, and starts over (a new
    /// `reset`) each time it changes: the context's client was rebuilt
    /// after a kubeconfig edit, or the proxy port changed. `None`: no
    /// client (yet); the list is empty and says so.
    pub fn follow(
        context: &str,
        targets: watch::Receiver<Option<Discovery>>,
        query: ServiceQuery,
    ) -> Self {
        Self::spawn(context.to_owned(), targets, None, query)
    }

    fn spawn(
        context: String,
        targets: watch::Receiver<Option<Discovery>>,
        keep: Option<watch::Sender<Option<Discovery>>>,
        query: ServiceQuery,
    ) -> Self {
        let id = NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (tx, updates) = mpsc::channel(QUEUE);
        let published = Arc::new(Mutex::new(Published::default()));
        let out = Outbox::new(id, context.clone(), tx, published.clone());
        let task = tokio::spawn(supervise(targets, keep, query, out));
        Self {
            id,
            context,
            updates,
            published,
            task,
        }
    }

    /// This watch's id (every update carries it).
    pub fn id(&self) -> u64 {
        self.id
    }

    pub fn context(&self) -> &str {
        &self.context
    }

    /// The next update; `None` once the watch has ended.
    pub async fn recv(&mut self) -> Option<ServiceListUpdate> {
        self.updates.recv().await
    }

    /// The list's rows, filtered, sorted and windowed for a table; the
    /// handle answers from the latest published list.
    pub fn rows(&self) -> ServiceRows {
        ServiceRows::new(self.published.clone())
    }

    /// The list as of the last update sent.
    pub fn snapshot(&self) -> ServiceList {
        let p = self
            .published
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        ServiceList {
            context: self.context.clone(),
            services: p.views.values().cloned().collect(),
            degraded: p.degraded.clone(),
            complete: p.complete,
        }
    }
}

impl Drop for ServiceWatch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Runs a session per target; a new target (or none) ends the old one.
async fn supervise(
    mut targets: watch::Receiver<Option<Discovery>>,
    _keep: Option<watch::Sender<Option<Discovery>>>,
    query: ServiceQuery,
    mut out: Outbox,
) {
    loop {
        let target = targets.borrow_and_update().clone();
        match target {
            Some(discovery) => {
                let mut session = Session::new(discovery, query.clone());
                tokio::select! {
                    () = session.run(&mut out) => return,
                    changed = targets.changed() => {
                        if changed.is_err() {
                            return;
                        }
                        tracing::debug!(context = %out.context(), "client changed: watching again");
                    }
                }
            }
            None => {
                let degraded = vec![Degraded {
                    resource: ResourceKind::Services,
                    namespace: None,
                    reason: "the context has no client: it is not in the kubeconfig any more, or its entry cannot be used (see its status)".to_owned(),
                    forbidden: false,
                }];
                {
                    let mut p = out.published();
                    p.replace(BTreeMap::new(), false);
                    p.set_degraded(degraded.clone());
                }
                out.send(ServiceListChange::Reset {
                    services: Vec::new(),
                    degraded,
                    took_ms: 0,
                });
                if targets.changed().await.is_err() {
                    return;
                }
            }
        }
    }
}
