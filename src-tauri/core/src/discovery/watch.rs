//! The live service list of one context and namespace selection.
//!
//! A [`ServiceWatch`] runs kube-runtime watchers (list, then watch from the
//! list's resource version, with bookmarks) for Services, EndpointSlices
//! and Ingresses in the selected scope, and Nodes for NodePort addresses,
//! each in its own task. One aggregator task keeps the objects, turns them
//! into [`ServiceView`]s and sends [`ServiceListUpdate`]s:
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
//! An apiserver that refuses streamed lists (before Kubernetes 1.32 the
//! WatchList feature is off) gets classic lists from its cache instead.
//!
//! Errors: each watcher retries with client-go's backoff (0.8 s doubling to
//! 30 s) and resumes from its last resource version, re-listing only when
//! the apiserver says it is too old — that covers dropped connections and
//! apiserver restarts. While a kind fails it is reported as degraded; a
//! cheap `limit=1` list every few seconds tells when the apiserver answers
//! again. When the user may not list services in all namespaces, the watch
//! falls back to the context's namespace plus the ones the user added.
//!
//! Dropping the [`ServiceWatch`] stops every task and closes the watches:
//! a context that is not on screen holds none.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use k8s_openapi::api::core::v1::{Node, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::networking::v1::Ingress;
use kube::api::ListParams;
use kube::runtime::{WatchStreamExt as _, watcher};
use kube::{Api, Resource, ResourceExt as _};
use serde::de::DeserializeOwned;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::convert::{self, Aux, IngressRoute, SliceSummary};
use super::fetch::{Discovery, describe};
use super::rows::{Published, ServiceRows};
use super::views::{
    Degraded, ResourceKind, ServiceKey, ServiceList, ServiceListChange, ServiceListUpdate,
    ServiceQuery, ServiceView,
};

/// Changes are sent in batches at most this often.
pub const BATCH: Duration = Duration::from_millis(50);
/// After the services are listed, slices, ingresses and nodes get this
/// long to be in the first list; later they arrive as changes.
pub const AUX_GRACE: Duration = Duration::from_millis(300);
/// Objects of a first list handed to the aggregator in chunks of this
/// many, so it can show the first rows before the list is complete.
pub const LIST_CHUNK: usize = 500;
/// While a first list arrives, the rows so far are shown at most this often.
pub const PARTIAL_EVERY: Duration = Duration::from_secs(1);
/// Server-side timeout of each watch request; a silently dead connection
/// is noticed after this (plus 5 s).
const WATCH_TIMEOUT_SECS: u32 = 60;
/// How often a failing kind checks whether the apiserver answers again.
const RECOVERY_PROBE: Duration = Duration::from_secs(2);
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);
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
        let out = Outbox {
            id,
            context: context.clone(),
            tx,
            overflowed: false,
            published: published.clone(),
        };
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

    /// The list as of the last update sent.
    /// The list's rows, filtered, sorted and windowed for a table; the
    /// handle answers from the latest published list.
    pub fn rows(&self) -> ServiceRows {
        ServiceRows::new(self.published.clone())
    }

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

/// Aborts a task when dropped.
struct Task(JoinHandle<()>);

impl Drop for Task {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Where updates go.
struct Outbox {
    id: u64,
    context: String,
    tx: mpsc::Sender<ServiceListUpdate>,
    /// An update was dropped (the receiver did not keep up): the next one
    /// must be a reset.
    overflowed: bool,
    published: Arc<Mutex<Published>>,
}

impl Outbox {
    fn send(&mut self, change: ServiceListChange) {
        let update = ServiceListUpdate {
            context: self.context.clone(),
            watch_id: self.id,
            change,
        };
        match self.tx.try_send(update) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                tracing::debug!(context = %self.context, "service list updates not taken; a reset follows");
                self.overflowed = true;
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }

    fn published(&self) -> std::sync::MutexGuard<'_, Published> {
        self.published
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
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
                        tracing::debug!(context = %out.context, "client changed: watching again");
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

/// Which watch a signal is from: a kind and a namespace (`None`: all).
type StreamId = (ResourceKind, Option<String>);

enum Object {
    Service(Box<Service>),
    Slice(Box<EndpointSlice>),
    Ingress(Box<Ingress>),
    Node(Box<Node>),
}

enum Signal {
    /// A (re-)list of the stream's scope begins: chunks so far are void.
    ListStarted(StreamId),
    /// Part of the list under way.
    Listing(StreamId, Vec<Object>),
    /// The list is complete: these objects and the chunks before them.
    Listed(StreamId, Vec<Object>),
    Applied(StreamId, Object),
    Deleted(StreamId, Object),
    Failed(StreamId, Degraded),
    /// The apiserver answers this stream's requests again.
    Recovered(StreamId),
}

trait Watched:
    Resource<DynamicType = ()> + Clone + DeserializeOwned + std::fmt::Debug + Send + Sync + 'static
{
    fn wrap(self) -> Object;
}

impl Watched for Service {
    fn wrap(self) -> Object {
        Object::Service(Box::new(self))
    }
}
impl Watched for EndpointSlice {
    fn wrap(self) -> Object {
        Object::Slice(Box::new(self))
    }
}
impl Watched for Ingress {
    fn wrap(self) -> Object {
        Object::Ingress(Box::new(self))
    }
}
impl Watched for Node {
    fn wrap(self) -> Object {
        Object::Node(Box::new(self))
    }
}

/// Fields no view uses: dropped as objects arrive (memory at 10,000).
fn slim<K: Resource>(mut o: K) -> K {
    let meta = o.meta_mut();
    meta.managed_fields = None;
    meta.annotations = None;
    meta.owner_references = None;
    o
}

/// One watcher: forwards its events as signals until the session ends.
/// Lists are streamed when the apiserver can (one watch request whose
/// first events are the current objects), else listed from its cache.
async fn run_stream<K: Watched>(api: Api<K>, id: StreamId, tx: mpsc::Sender<Signal>) {
    let mut streaming = true;
    loop {
        let base = watcher::Config::default().timeout(WATCH_TIMEOUT_SECS);
        let config = if streaming {
            base.streaming_lists()
        } else {
            base.any_semantic()
        };
        match follow_stream(&api, config, &id, &tx).await {
            StreamEnd::Closed => return,
            StreamEnd::StreamingRefused(reason) => {
                tracing::info!(stream = ?id, %reason, "the apiserver refuses streamed lists; listing instead");
                streaming = false;
            }
        }
    }
}

enum StreamEnd {
    /// The session ended (or the watcher did).
    Closed,
    /// The apiserver refused a streamed list (`sendInitialEvents`).
    StreamingRefused(String),
}

async fn follow_stream<K: Watched>(
    api: &Api<K>,
    config: watcher::Config,
    id: &StreamId,
    tx: &mpsc::Sender<Signal>,
) -> StreamEnd {
    let streaming = config.initial_list_strategy == watcher::InitialListStrategy::StreamingList;
    let mut stream = std::pin::pin!(watcher(api.clone(), config).default_backoff());
    let mut buffer: Vec<Object> = Vec::new();
    let mut listed_once = false;
    let mut failing = false;
    let mut probe = tokio::time::interval(RECOVERY_PROBE);
    probe.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let signal = tokio::select! {
            item = stream.next() => {
                let Some(item) = item else { return StreamEnd::Closed };
                match item {
                    Ok(event) => {
                        let recovered = std::mem::take(&mut failing);
                        if recovered && tx.send(Signal::Recovered(id.clone())).await.is_err() {
                            return StreamEnd::Closed;
                        }
                        match event {
                            watcher::Event::Init => {
                                buffer.clear();
                                Some(Signal::ListStarted(id.clone()))
                            }
                            watcher::Event::InitApply(o) => {
                                buffer.push(slim(o).wrap());
                                (buffer.len() >= LIST_CHUNK)
                                    .then(|| Signal::Listing(id.clone(), std::mem::take(&mut buffer)))
                            }
                            watcher::Event::InitDone => {
                                listed_once = true;
                                Some(Signal::Listed(id.clone(), std::mem::take(&mut buffer)))
                            }
                            watcher::Event::Apply(o) => Some(Signal::Applied(id.clone(), slim(o).wrap())),
                            watcher::Event::Delete(o) => Some(Signal::Deleted(id.clone(), slim(o).wrap())),
                        }
                    }
                    Err(e) if streaming && !listed_once && streaming_refused(&e) => {
                        return StreamEnd::StreamingRefused(e.to_string());
                    }
                    Err(e) => watch_failure(id, &e).map(|d| {
                        failing = true;
                        probe.reset();
                        Signal::Failed(id.clone(), d)
                    }),
                }
            }
            _ = probe.tick(), if failing => {
                let params = ListParams::default().limit(1);
                match tokio::time::timeout(PROBE_TIMEOUT, api.list_metadata(&params)).await {
                    Ok(Ok(_)) => {
                        failing = false;
                        Some(Signal::Recovered(id.clone()))
                    }
                    _ => None,
                }
            }
        };
        if let Some(signal) = signal
            && tx.send(signal).await.is_err()
        {
            return StreamEnd::Closed;
        }
    }
}

/// Whether the apiserver refused the streamed list itself (400/422 on the
/// watch request: `sendInitialEvents` unknown or its feature gate off),
/// rather than failing for a reason a classic list would share.
fn streaming_refused(e: &watcher::Error) -> bool {
    let response = match e {
        watcher::Error::WatchStartFailed(kube::Error::Api(r))
        | watcher::Error::WatchFailed(kube::Error::Api(r)) => r,
        watcher::Error::WatchError(r) => r,
        _ => return false,
    };
    matches!(response.code, 400 | 422)
}

fn watch_failure(id: &StreamId, e: &watcher::Error) -> Option<Degraded> {
    let (reason, forbidden) = match e {
        watcher::Error::InitialListFailed(e)
        | watcher::Error::WatchStartFailed(e)
        | watcher::Error::WatchFailed(e) => describe(e),
        watcher::Error::WatchError(status) if status.code == 410 => return None,
        watcher::Error::WatchError(status) => (status.message.clone(), status.code == 403),
        watcher::Error::NoResourceVersion => (e.to_string(), false),
    };
    tracing::debug!(kind = ?id.0, namespace = ?id.1, %reason, "watch failed; retrying with backoff");
    Some(Degraded {
        resource: id.0,
        namespace: id.1.clone(),
        reason,
        forbidden,
    })
}

#[derive(Default)]
struct StreamState {
    listed: bool,
    failure: Option<Degraded>,
}

/// The watches of one target, and what they have seen.
struct Session {
    discovery: Discovery,
    query: ServiceQuery,
    started: Instant,
    tx: mpsc::Sender<Signal>,
    rx: mpsc::Receiver<Signal>,
    tasks: HashMap<StreamId, Task>,
    streams: BTreeMap<StreamId, StreamState>,
    /// Services cannot be listed in all namespaces: the namespaces shown.
    fallback: Option<(Degraded, Vec<String>)>,
    services: HashMap<ServiceKey, Service>,
    slices: HashMap<(String, String), SliceSummary>,
    slices_by_service: HashMap<ServiceKey, BTreeSet<String>>,
    ingresses: HashMap<(String, String), Vec<IngressRoute>>,
    routes: HashMap<ServiceKey, Vec<IngressRoute>>,
    nodes: BTreeMap<String, String>,
    node_list: Vec<(String, String)>,
    /// Services whose view may have changed since the last batch.
    dirty: HashSet<ServiceKey>,
    dirty_since: Option<Instant>,
    degraded_dirty: bool,
    reset_sent: bool,
    services_listed_at: Option<Instant>,
    /// Chunks of lists under way, per stream.
    listing: HashMap<StreamId, Vec<Object>>,
    /// Services arrived since the last `partial` (before the first reset).
    partial_due: bool,
    partial_sent_at: Option<Instant>,
}

impl Session {
    fn new(discovery: Discovery, query: ServiceQuery) -> Self {
        let (tx, rx) = mpsc::channel(4096);
        Self {
            discovery,
            query,
            started: Instant::now(),
            tx,
            rx,
            tasks: HashMap::new(),
            streams: BTreeMap::new(),
            fallback: None,
            services: HashMap::new(),
            slices: HashMap::new(),
            slices_by_service: HashMap::new(),
            ingresses: HashMap::new(),
            routes: HashMap::new(),
            nodes: BTreeMap::new(),
            node_list: Vec::new(),
            dirty: HashSet::new(),
            dirty_since: None,
            degraded_dirty: false,
            reset_sent: false,
            services_listed_at: None,
            listing: HashMap::new(),
            partial_due: false,
            partial_sent_at: None,
        }
    }

    fn start_stream(&mut self, id: StreamId) {
        let client = self.discovery.kube().clone();
        let tx = self.tx.clone();
        let ns = id.1.clone();
        let handle = match id.0 {
            ResourceKind::Services => {
                tokio::spawn(run_stream::<Service>(api(client, ns), id.clone(), tx))
            }
            ResourceKind::EndpointSlices => {
                tokio::spawn(run_stream::<EndpointSlice>(api(client, ns), id.clone(), tx))
            }
            ResourceKind::Ingresses => {
                tokio::spawn(run_stream::<Ingress>(api(client, ns), id.clone(), tx))
            }
            ResourceKind::Nodes => {
                tokio::spawn(run_stream::<Node>(Api::all(client), id.clone(), tx))
            }
            ResourceKind::Namespaces | ResourceKind::Pods => return,
        };
        self.streams.insert(id.clone(), StreamState::default());
        self.tasks.insert(id, Task(handle));
    }

    fn stop_stream(&mut self, id: &StreamId) {
        self.tasks.remove(id);
        self.streams.remove(id);
        self.listing.remove(id);
    }

    fn start_scope(&mut self, namespace: Option<&str>) {
        for kind in [
            ResourceKind::Services,
            ResourceKind::EndpointSlices,
            ResourceKind::Ingresses,
        ] {
            self.start_stream((kind, namespace.map(str::to_owned)));
        }
    }

    async fn run(&mut self, out: &mut Outbox) {
        self.start_scope(self.query.namespace.clone().as_deref());
        self.start_stream((ResourceKind::Nodes, None));
        tracing::debug!(context = %out.context, query = ?self.query, "watching services");
        loop {
            let deadline = self.next_deadline();
            let signal = tokio::select! {
                s = self.rx.recv() => s,
                () = sleep_until(deadline) => None,
            };
            if let Some(signal) = signal {
                self.apply(signal);
                // Take whatever else is queued before deciding.
                while let Ok(s) = self.rx.try_recv() {
                    self.apply(s);
                }
            }
            self.maybe_flush(out);
            if out.tx.is_closed() {
                return;
            }
        }
    }

    /// When the next batch or the first list is due.
    fn next_deadline(&self) -> Option<Instant> {
        if !self.reset_sent {
            if let Some(t) = self.services_listed_at {
                return Some(t + AUX_GRACE);
            }
            return self
                .partial_sent_at
                .filter(|_| self.partial_due)
                .map(|t| t + PARTIAL_EVERY);
        }
        self.dirty_since.map(|t| t + BATCH)
    }

    fn service_streams_settled(&self) -> bool {
        self.streams
            .iter()
            .filter(|((kind, _), _)| *kind == ResourceKind::Services)
            .all(|(_, s)| s.listed || s.failure.is_some())
            && !self.streams.is_empty()
    }

    fn all_settled(&self) -> bool {
        self.streams
            .values()
            .all(|s| s.listed || s.failure.is_some())
    }

    fn maybe_flush(&mut self, out: &mut Outbox) {
        if !self.reset_sent || out.overflowed {
            if !self.service_streams_settled() {
                let partial_now = self
                    .partial_sent_at
                    .is_none_or(|t| t.elapsed() >= PARTIAL_EVERY);
                if self.partial_due && !self.reset_sent && partial_now {
                    self.send_partial(out);
                }
                return;
            }
            let now = Instant::now();
            let listed_at = *self.services_listed_at.get_or_insert(now);
            if !out.overflowed && !self.all_settled() && now < listed_at + AUX_GRACE {
                return;
            }
            self.send_reset(out);
            return;
        }
        if self.degraded_dirty {
            self.degraded_dirty = false;
            let degraded = self.degraded();
            out.published().set_degraded(degraded.clone());
            out.send(ServiceListChange::Degraded { degraded });
        }
        let due = self.dirty_since.is_some_and(|t| t.elapsed() >= BATCH);
        if due {
            self.send_changes(out);
        }
    }

    fn degraded(&self) -> Vec<Degraded> {
        let mut out: Vec<Degraded> = self.fallback.iter().map(|(d, _)| d.clone()).collect();
        out.extend(self.streams.values().filter_map(|s| s.failure.clone()));
        out
    }

    fn send_reset(&mut self, out: &mut Outbox) {
        // Published in key order, which is (namespace, name) order.
        let views: BTreeMap<ServiceKey, ServiceView> = self
            .services
            .keys()
            .filter_map(|key| Some((key.clone(), self.view(key)?)))
            .collect();
        let services: Vec<ServiceView> = views.values().cloned().collect();
        let degraded = self.degraded();
        {
            let mut p = out.published();
            p.replace(views, true);
            p.set_degraded(degraded.clone());
        }
        let took_ms = u32::try_from(self.started.elapsed().as_millis()).unwrap_or(u32::MAX);
        tracing::debug!(context = %out.context, services = services.len(), took_ms, "service list complete");
        out.overflowed = false;
        out.send(ServiceListChange::Reset {
            services,
            degraded,
            took_ms,
        });
        self.reset_sent = true;
        self.dirty.clear();
        self.dirty_since = None;
        self.degraded_dirty = false;
    }

    /// The services so far (listed scopes and chunks of lists under way),
    /// without endpoint counts: the first rows, early.
    fn send_partial(&mut self, out: &mut Outbox) {
        self.partial_due = false;
        self.partial_sent_at = Some(Instant::now());
        let aux = Aux {
            endpoints: None,
            routes: &[],
            nodes: &self.node_list,
        };
        let chunks = self
            .listing
            .iter()
            .filter(|((kind, _), _)| *kind == ResourceKind::Services)
            .flat_map(|(_, objects)| objects)
            .filter_map(|o| match o {
                Object::Service(s) => Some(s.as_ref()),
                _ => None,
            });
        let mut services: Vec<ServiceView> = self
            .services
            .values()
            .chain(chunks)
            .map(|s| convert::service_view(self.discovery.base(), s, aux))
            .collect();
        services.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
        tracing::debug!(context = %out.context, services = services.len(), "first rows of a list under way");
        let views = services.iter().map(|v| (v.key(), v.clone())).collect();
        out.published().replace(views, false);
        out.send(ServiceListChange::Partial { services });
    }

    fn send_changes(&mut self, out: &mut Outbox) {
        self.dirty_since = None;
        let mut upserted = Vec::new();
        let mut removed = Vec::new();
        let dirty = std::mem::take(&mut self.dirty);
        let views: Vec<(ServiceKey, Option<ServiceView>)> = dirty
            .into_iter()
            .map(|key| {
                let v = self.view(&key);
                (key, v)
            })
            .collect();
        {
            // The published list is what was sent: only real changes go out.
            let mut p = out.published();
            for (key, view) in views {
                match view {
                    Some(view) => {
                        if p.views.get(&key) != Some(&view) {
                            p.views.insert(key, view.clone());
                            upserted.push(view);
                        }
                    }
                    None => {
                        if p.views.remove(&key).is_some() {
                            removed.push(key);
                        }
                    }
                }
            }
            if !upserted.is_empty() || !removed.is_empty() {
                p.version += 1;
            }
        }
        if upserted.is_empty() && removed.is_empty() {
            return;
        }
        upserted.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
        removed.sort();
        out.send(ServiceListChange::Changed { upserted, removed });
    }

    fn view(&self, key: &ServiceKey) -> Option<ServiceView> {
        let service = self.services.get(key)?;
        let slices_known = self
            .streams
            .iter()
            .filter(|((kind, ns), _)| {
                *kind == ResourceKind::EndpointSlices
                    && ns.as_deref().is_none_or(|n| n == key.namespace)
            })
            .any(|(_, s)| s.listed);
        let endpoints = slices_known.then(|| {
            let names = self.slices_by_service.get(key);
            convert::endpoint_counts(
                names
                    .into_iter()
                    .flatten()
                    .filter_map(|slice| self.slices.get(&(key.namespace.clone(), slice.clone()))),
            )
        });
        let aux = Aux {
            endpoints,
            routes: self.routes.get(key).map(Vec::as_slice).unwrap_or_default(),
            nodes: &self.node_list,
        };
        Some(convert::service_view(self.discovery.base(), service, aux))
    }

    fn mark(&mut self, key: ServiceKey) {
        self.dirty.insert(key);
        self.dirty_since.get_or_insert_with(Instant::now);
    }

    fn apply(&mut self, signal: Signal) {
        match signal {
            Signal::ListStarted(id) => {
                self.listing.remove(&id);
            }
            Signal::Listing(id, objects) => {
                if !self.streams.contains_key(&id) {
                    return;
                }
                if id.0 == ResourceKind::Services && !self.reset_sent {
                    self.partial_due = true;
                }
                self.listing.entry(id).or_default().extend(objects);
            }
            Signal::Failed(id, d) => self.failed(id, d),
            Signal::Recovered(id) => {
                if let Some(s) = self.streams.get_mut(&id)
                    && s.failure.take().is_some()
                {
                    self.degraded_dirty = true;
                }
            }
            Signal::Listed(id, rest) => {
                let mut objects = self.listing.remove(&id).unwrap_or_default();
                objects.extend(rest);
                let Some(state) = self.streams.get_mut(&id) else {
                    return;
                };
                state.listed = true;
                if state.failure.take().is_some() {
                    self.degraded_dirty = true;
                }
                let scope = id.1.clone();
                self.relist(id.0, scope.as_deref(), objects);
                if id.0 == ResourceKind::EndpointSlices {
                    // Counts are known now for this scope.
                    let keys: Vec<ServiceKey> = self
                        .services
                        .keys()
                        .filter(|k| scope.as_deref().is_none_or(|n| n == k.namespace))
                        .cloned()
                        .collect();
                    for k in keys {
                        self.mark(k);
                    }
                }
            }
            Signal::Applied(id, object) => {
                if !self.streams.contains_key(&id) {
                    return;
                }
                self.upsert(object);
            }
            Signal::Deleted(id, object) => {
                if !self.streams.contains_key(&id) {
                    return;
                }
                self.delete(object);
            }
        }
    }

    fn failed(&mut self, id: StreamId, d: Degraded) {
        let Some(state) = self.streams.get(&id) else {
            return;
        };
        // Not allowed to list services in all namespaces: show the
        // namespaces the user can name instead.
        if id == (ResourceKind::Services, None) && d.forbidden && !state.listed {
            let namespaces = self.discovery.fallback_namespaces(&self.query);
            tracing::info!(context = %self.discovery.base().context, ?namespaces, "services cannot be listed in all namespaces; watching namespaces one by one");
            for kind in [
                ResourceKind::Services,
                ResourceKind::EndpointSlices,
                ResourceKind::Ingresses,
            ] {
                self.stop_stream(&(kind, None));
            }
            for ns in &namespaces {
                self.start_scope(Some(ns));
            }
            let shown = Degraded {
                reason: format!("{} — showing {}", d.reason, namespaces.join(", ")),
                ..d
            };
            self.fallback = Some((shown, namespaces));
            self.degraded_dirty = true;
            return;
        }
        if let Some(state) = self.streams.get_mut(&id) {
            if state.failure.as_ref() != Some(&d) {
                self.degraded_dirty = true;
            }
            state.failure = Some(d);
        }
    }

    fn relist(&mut self, kind: ResourceKind, scope: Option<&str>, objects: Vec<Object>) {
        let in_scope = |ns: &str| scope.is_none_or(|s| s == ns);
        match kind {
            ResourceKind::Services => {
                let old: Vec<ServiceKey> = self
                    .services
                    .keys()
                    .filter(|k| in_scope(&k.namespace))
                    .cloned()
                    .collect();
                for k in old {
                    self.services.remove(&k);
                    self.mark(k);
                }
            }
            ResourceKind::EndpointSlices => {
                let old: Vec<(String, String)> = self
                    .slices
                    .keys()
                    .filter(|(ns, _)| in_scope(ns))
                    .cloned()
                    .collect();
                for k in old {
                    self.remove_slice(&k);
                }
            }
            ResourceKind::Ingresses => {
                let old: Vec<(String, String)> = self
                    .ingresses
                    .keys()
                    .filter(|(ns, _)| in_scope(ns))
                    .cloned()
                    .collect();
                for k in old {
                    self.remove_ingress(&k);
                }
            }
            ResourceKind::Nodes => {
                self.nodes.clear();
                self.nodes_changed();
            }
            ResourceKind::Namespaces | ResourceKind::Pods => {}
        }
        for o in objects {
            self.upsert(o);
        }
    }

    fn upsert(&mut self, object: Object) {
        match object {
            Object::Service(s) => {
                let key = key_of(&s);
                self.services.insert(key.clone(), *s);
                self.mark(key);
            }
            Object::Slice(s) => {
                let id = (s.namespace().unwrap_or_default(), s.name_any());
                self.remove_slice(&id);
                if let Some(summary) = convert::slice_summary(&s) {
                    let key = ServiceKey {
                        namespace: id.0.clone(),
                        name: summary.service.clone(),
                    };
                    self.slices_by_service
                        .entry(key.clone())
                        .or_default()
                        .insert(id.1.clone());
                    self.slices.insert(id, summary);
                    self.mark(key);
                }
            }
            Object::Ingress(i) => {
                let id = (i.namespace().unwrap_or_default(), i.name_any());
                self.remove_ingress(&id);
                let routes = convert::ingress_routes(&i);
                let touched: BTreeSet<String> = routes.iter().map(|r| r.service.clone()).collect();
                self.ingresses.insert(id.clone(), routes);
                for service in touched {
                    self.rebuild_routes(&id.0, &service);
                }
            }
            Object::Node(n) => {
                let name = n.name_any();
                match convert::node_address(&n) {
                    Some((_, address)) => {
                        if self.nodes.get(&name) != Some(&address) {
                            self.nodes.insert(name, address);
                            self.nodes_changed();
                        }
                    }
                    None => {
                        if self.nodes.remove(&name).is_some() {
                            self.nodes_changed();
                        }
                    }
                }
            }
        }
    }

    fn delete(&mut self, object: Object) {
        match object {
            Object::Service(s) => {
                let key = key_of(&s);
                self.services.remove(&key);
                self.mark(key);
            }
            Object::Slice(s) => {
                self.remove_slice(&(s.namespace().unwrap_or_default(), s.name_any()));
            }
            Object::Ingress(i) => {
                self.remove_ingress(&(i.namespace().unwrap_or_default(), i.name_any()));
            }
            Object::Node(n) => {
                if self.nodes.remove(&n.name_any()).is_some() {
                    self.nodes_changed();
                }
            }
        }
    }

    fn remove_slice(&mut self, id: &(String, String)) {
        if let Some(old) = self.slices.remove(id) {
            let key = ServiceKey {
                namespace: id.0.clone(),
                name: old.service,
            };
            if let Some(set) = self.slices_by_service.get_mut(&key) {
                set.remove(&id.1);
                if set.is_empty() {
                    self.slices_by_service.remove(&key);
                }
            }
            self.mark(key);
        }
    }

    fn remove_ingress(&mut self, id: &(String, String)) {
        if let Some(old) = self.ingresses.remove(id) {
            let touched: BTreeSet<String> = old.into_iter().map(|r| r.service).collect();
            for service in touched {
                self.rebuild_routes(&id.0, &service);
            }
        }
    }

    fn rebuild_routes(&mut self, namespace: &str, service: &str) {
        let mut routes: Vec<IngressRoute> = self
            .ingresses
            .iter()
            .filter(|((ns, _), _)| ns == namespace)
            .flat_map(|(_, rs)| rs.iter().filter(|r| r.service == service).cloned())
            .collect();
        routes.sort_by(|a, b| (&a.ingress, &a.host, &a.path).cmp(&(&b.ingress, &b.host, &b.path)));
        let key = ServiceKey {
            namespace: namespace.to_owned(),
            name: service.to_owned(),
        };
        if routes.is_empty() {
            self.routes.remove(&key);
        } else {
            self.routes.insert(key.clone(), routes);
        }
        self.mark(key);
    }

    fn nodes_changed(&mut self) {
        self.node_list = self
            .nodes
            .iter()
            .map(|(n, a)| (n.clone(), a.clone()))
            .collect();
        let keys: Vec<ServiceKey> = self
            .services
            .iter()
            .filter(|(_, s)| {
                matches!(
                    s.spec.as_ref().and_then(|s| s.type_.as_deref()),
                    Some("NodePort" | "LoadBalancer")
                )
            })
            .map(|(k, _)| k.clone())
            .collect();
        for k in keys {
            self.mark(k);
        }
    }
}

fn api<K: Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>>(
    client: kube::Client,
    namespace: Option<String>,
) -> Api<K> {
    match namespace {
        Some(ns) => Api::namespaced(client, &ns),
        None => Api::all(client),
    }
}

fn key_of(s: &Service) -> ServiceKey {
    ServiceKey {
        namespace: s.namespace().unwrap_or_default(),
        name: s.name_any(),
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(t) => tokio::time::sleep_until(tokio::time::Instant::from_std(t)).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::core::Status;

    fn api_error(code: u16) -> kube::Error {
        kube::Error::Api(
            Status::failure("refused", "Invalid")
                .with_code(code)
                .boxed(),
        )
    }

    #[test]
    fn an_apiserver_refusing_streamed_lists_gets_classic_lists() {
        // Before Kubernetes 1.32, sendInitialEvents without the WatchList
        // feature gate is refused with 422 (400 on older servers).
        assert!(streaming_refused(&watcher::Error::WatchStartFailed(
            api_error(422)
        )));
        assert!(streaming_refused(&watcher::Error::WatchFailed(api_error(
            400
        ))));
        assert!(streaming_refused(&watcher::Error::WatchError(
            Status::failure("bad", "BadRequest").with_code(400).boxed()
        )));
    }

    #[test]
    fn other_failures_are_not_taken_for_a_refused_streamed_list() {
        for code in [401, 403, 404, 410, 500, 503] {
            assert!(
                !streaming_refused(&watcher::Error::WatchStartFailed(api_error(code))),
                "{code}"
            );
        }
        assert!(!streaming_refused(&watcher::Error::InitialListFailed(
            api_error(422)
        )));
        assert!(!streaming_refused(&watcher::Error::NoResourceVersion));
    }
}
