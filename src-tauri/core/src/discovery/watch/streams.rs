//! The apiserver streams of a live list: one kube-runtime watcher per kind
//! and scope (list, then watch from the list's resource version, with
//! bookmarks), each in its own task, forwarding what it sees as
//! [`Signal`]s. Lists are streamed (`sendInitialEvents`, served from the
//! apiserver's cache) and handed on in chunks of [`LIST_CHUNK`]; an
//! apiserver that refuses streamed lists (before Kubernetes 1.32 the
//! WatchList feature is off) gets classic lists from its cache instead.
//!
//! Errors: each watcher retries with client-go's backoff (0.8 s doubling to
//! 30 s) and resumes from its last resource version, re-listing only when
//! the apiserver says it is too old — that covers dropped connections and
//! apiserver restarts. While a stream fails, a cheap `limit=1` list every
//! few seconds tells when the apiserver answers again.
//!
//! [`Streams`] holds a session's running streams; [`StreamTable`] what each
//! has told so far (listed, failing, the chunks of a list under way).

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use futures_util::StreamExt as _;
use k8s_openapi::api::core::v1::{Node, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::networking::v1::Ingress;
use kube::api::ListParams;
use kube::runtime::{WatchStreamExt as _, watcher};
use kube::{Api, Resource};
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::discovery::fetch::describe;
use crate::discovery::index::Object;
use crate::discovery::views::{Degraded, ResourceKind};

/// Objects of a first list handed to the aggregator in chunks of this
/// many, so it can show the first rows before the list is complete.
pub const LIST_CHUNK: usize = 500;
/// Server-side timeout of each watch request; a silently dead connection
/// is noticed after this (plus 5 s).
const WATCH_TIMEOUT_SECS: u32 = 60;
/// How often a failing kind checks whether the apiserver answers again.
const RECOVERY_PROBE: Duration = Duration::from_secs(2);
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);
/// Signals the session has not taken yet; beyond, the streams wait.
const SIGNALS: usize = 4096;

/// Which watch a signal is from: a kind and a namespace (`None`: all).
pub(super) type StreamId = (ResourceKind, Option<String>);

pub(super) enum Signal {
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

/// Aborts a task when dropped.
struct Task(JoinHandle<()>);

impl Drop for Task {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The running streams of one session. Dropping it stops them.
pub(super) struct Streams {
    client: kube::Client,
    tx: mpsc::Sender<Signal>,
    tasks: HashMap<StreamId, Task>,
    /// What each running stream has told so far.
    pub table: StreamTable,
}

impl Streams {
    /// No streams yet; their signals arrive on the receiver.
    pub fn new(client: kube::Client) -> (Self, mpsc::Receiver<Signal>) {
        let (tx, rx) = mpsc::channel(SIGNALS);
        let streams = Self {
            client,
            tx,
            tasks: HashMap::new(),
            table: StreamTable::default(),
        };
        (streams, rx)
    }

    pub fn start(&mut self, id: StreamId) {
        let client = self.client.clone();
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
        self.table.add(id.clone());
        self.tasks.insert(id, Task(handle));
    }

    pub fn stop(&mut self, id: &StreamId) {
        self.tasks.remove(id);
        self.table.forget(id);
    }

    /// The streams of a service list in `namespace` (`None`: all):
    /// services, their slices and the ingresses that route to them.
    pub fn start_scope(&mut self, namespace: Option<&str>) {
        for kind in SCOPE_KINDS {
            self.start((kind, namespace.map(str::to_owned)));
        }
    }
}

/// The kinds watched per namespace scope (nodes are watched once).
pub(super) const SCOPE_KINDS: [ResourceKind; 3] = [
    ResourceKind::Services,
    ResourceKind::EndpointSlices,
    ResourceKind::Ingresses,
];

#[derive(Debug, Default)]
struct StreamState {
    listed: bool,
    failure: Option<Degraded>,
}

/// What each stream of a session has told so far: whether it has listed
/// and whether it is failing, and the chunks of a list under way. Signals
/// of a stream not (any more) in the table are ignored.
#[derive(Default)]
pub(super) struct StreamTable {
    states: BTreeMap<StreamId, StreamState>,
    /// Chunks of lists under way, per stream.
    listing: HashMap<StreamId, Vec<Object>>,
}

impl StreamTable {
    fn add(&mut self, id: StreamId) {
        self.states.insert(id, StreamState::default());
    }

    fn forget(&mut self, id: &StreamId) {
        self.states.remove(id);
        self.listing.remove(id);
    }

    pub fn contains(&self, id: &StreamId) -> bool {
        self.states.contains_key(id)
    }

    /// The stream has completed a list (at least once).
    pub fn has_listed(&self, id: &StreamId) -> bool {
        self.states.get(id).is_some_and(|s| s.listed)
    }

    /// A (re-)list begins: the chunks so far are void.
    pub fn list_started(&mut self, id: &StreamId) {
        self.listing.remove(id);
    }

    /// Part of a list under way; false (and dropped) for a stream not in
    /// the table.
    pub fn chunk(&mut self, id: StreamId, objects: Vec<Object>) -> bool {
        if !self.contains(&id) {
            return false;
        }
        self.listing.entry(id).or_default().extend(objects);
        true
    }

    /// A complete list: its earlier chunks followed by `rest`, and whether
    /// the stream had been failing until now. `None` for a stream not in
    /// the table.
    pub fn listed(&mut self, id: &StreamId, rest: Vec<Object>) -> Option<(Vec<Object>, bool)> {
        let mut objects = self.listing.remove(id).unwrap_or_default();
        objects.extend(rest);
        let state = self.states.get_mut(id)?;
        state.listed = true;
        let was_failing = state.failure.take().is_some();
        Some((objects, was_failing))
    }

    /// The apiserver answers again; true when the stream had been failing.
    pub fn recovered(&mut self, id: &StreamId) -> bool {
        self.states
            .get_mut(id)
            .is_some_and(|s| s.failure.take().is_some())
    }

    /// Records a failure; true when it differs from the one recorded.
    pub fn failed(&mut self, id: &StreamId, failure: Degraded) -> bool {
        let Some(state) = self.states.get_mut(id) else {
            return false;
        };
        let changed = state.failure.as_ref() != Some(&failure);
        state.failure = Some(failure);
        changed
    }

    /// The failures of the streams failing now, in stream order.
    pub fn failures(&self) -> impl Iterator<Item = &Degraded> {
        self.states.values().filter_map(|s| s.failure.as_ref())
    }

    /// Every service stream has listed or is failing (and there is one).
    pub fn services_settled(&self) -> bool {
        self.states
            .iter()
            .filter(|((kind, _), _)| *kind == ResourceKind::Services)
            .all(|(_, s)| s.listed || s.failure.is_some())
            && !self.states.is_empty()
    }

    /// Every stream has listed or is failing.
    pub fn all_settled(&self) -> bool {
        self.states
            .values()
            .all(|s| s.listed || s.failure.is_some())
    }

    /// The endpoint counts of `namespace` are known: a slice stream that
    /// covers it has listed.
    pub fn slices_listed_for(&self, namespace: &str) -> bool {
        self.states
            .iter()
            .filter(|((kind, ns), _)| {
                *kind == ResourceKind::EndpointSlices
                    && ns.as_deref().is_none_or(|n| n == namespace)
            })
            .any(|(_, s)| s.listed)
    }

    /// The services of lists under way.
    pub fn services_listing(&self) -> impl Iterator<Item = &Service> {
        self.listing
            .iter()
            .filter(|((kind, _), _)| *kind == ResourceKind::Services)
            .flat_map(|(_, objects)| objects)
            .filter_map(|o| match o {
                Object::Service(s) => Some(s.as_ref()),
                _ => None,
            })
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discovery::convert::tests::from;
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

    fn id(kind: ResourceKind, ns: Option<&str>) -> StreamId {
        (kind, ns.map(str::to_owned))
    }

    fn service(name: &str) -> Object {
        Object::Service(Box::new(from(serde_json::json!({
            "metadata": { "name": name, "namespace": "ns" },
        }))))
    }

    fn names(objects: &[Object]) -> Vec<String> {
        objects
            .iter()
            .filter_map(|o| match o {
                Object::Service(s) => s.metadata.name.clone(),
                _ => None,
            })
            .collect()
    }

    fn failure(reason: &str) -> Degraded {
        Degraded {
            resource: ResourceKind::EndpointSlices,
            namespace: None,
            reason: reason.into(),
            forbidden: false,
        }
    }

    fn table(ids: &[StreamId]) -> StreamTable {
        let mut t = StreamTable::default();
        for id in ids {
            t.add(id.clone());
        }
        t
    }

    #[test]
    fn a_list_is_its_chunks_then_its_rest_and_a_new_list_voids_the_chunks() {
        let services = id(ResourceKind::Services, None);
        let mut t = table(std::slice::from_ref(&services));
        assert!(t.chunk(services.clone(), vec![service("a"), service("b")]));
        let listing: Vec<String> = t
            .services_listing()
            .filter_map(|s| s.metadata.name.clone())
            .collect();
        assert_eq!(listing, ["a", "b"], "the first rows, early");
        t.list_started(&services);
        assert_eq!(t.services_listing().count(), 0);
        assert!(t.chunk(services.clone(), vec![service("c")]));
        let (objects, was_failing) = t.listed(&services, vec![service("d")]).expect("known");
        assert_eq!(names(&objects), ["c", "d"]);
        assert!(!was_failing);
        assert!(t.has_listed(&services));
        assert_eq!(t.services_listing().count(), 0, "taken");
    }

    #[test]
    fn signals_of_a_stream_not_in_the_table_are_ignored() {
        let services = id(ResourceKind::Services, None);
        let mut t = table(std::slice::from_ref(&services));
        t.forget(&services);
        let gone = services;
        assert!(!t.contains(&gone));
        assert!(!t.chunk(gone.clone(), vec![service("a")]));
        assert_eq!(t.services_listing().count(), 0);
        assert!(t.listed(&gone, Vec::new()).is_none());
        assert!(!t.failed(&gone, failure("x")));
        assert!(!t.recovered(&gone));
        assert!(!t.has_listed(&gone));
    }

    #[test]
    fn a_failure_is_news_once_and_a_list_or_an_answer_clears_it() {
        let slices = id(ResourceKind::EndpointSlices, None);
        let mut t = table(std::slice::from_ref(&slices));
        assert!(t.failed(&slices, failure("refused")));
        assert!(!t.failed(&slices, failure("refused")), "the same again");
        assert!(t.failed(&slices, failure("timed out")));
        assert_eq!(
            t.failures().cloned().collect::<Vec<_>>(),
            [failure("timed out")]
        );
        assert!(t.recovered(&slices));
        assert!(!t.recovered(&slices), "once");
        assert_eq!(t.failures().count(), 0);
        assert!(t.failed(&slices, failure("refused")));
        let (_, was_failing) = t.listed(&slices, Vec::new()).expect("known");
        assert!(was_failing);
        assert_eq!(t.failures().count(), 0);
    }

    #[test]
    fn a_stream_is_settled_once_it_has_listed_or_while_it_fails() {
        assert!(!StreamTable::default().services_settled(), "no streams yet");
        let services = id(ResourceKind::Services, Some("a"));
        let slices = id(ResourceKind::EndpointSlices, Some("a"));
        let mut t = table(&[services.clone(), slices.clone()]);
        assert!(!t.services_settled());
        t.failed(&services, failure("refused"));
        assert!(t.services_settled());
        assert!(!t.all_settled());
        t.recovered(&services);
        assert!(!t.services_settled(), "answering again, not listed yet");
        t.listed(&services, Vec::new());
        t.failed(&slices, failure("refused"));
        assert!(t.services_settled() && t.all_settled());
    }

    #[test]
    fn endpoint_counts_are_known_where_a_slice_stream_has_listed() {
        let in_a = id(ResourceKind::EndpointSlices, Some("a"));
        let everywhere = id(ResourceKind::EndpointSlices, None);
        let mut t = table(&[in_a.clone(), everywhere.clone()]);
        assert!(!t.slices_listed_for("a"));
        t.listed(&in_a, Vec::new());
        assert!(t.slices_listed_for("a"));
        assert!(!t.slices_listed_for("b"));
        t.listed(&everywhere, Vec::new());
        assert!(t.slices_listed_for("b"));
    }
}
