//! A running forward: local listeners, and for each accepted connection a
//! stream to the Pod the route names. A service route follows the live
//! endpoints: it keeps using one ready Pod while it stays ready (protocols
//! with sessions like that), moves to another when it goes (ending the
//! connections still open to it), and holds new connections a bounded time
//! while no Pod is ready. A Pod route ends the forward when its Pod goes,
//! as kubectl's forward does.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt as _;
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::runtime::{WatchStreamExt as _, watcher};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::dial::{Dialer, Transport};
use super::endpoints::{self, Endpoints, ReadyPod};
use super::error::{DialError, ForwardError};
use super::pump;
use super::status::{Counters, ForwardState, ForwardStatus};
use super::target::{self, RemotePort, Route, Target};
use crate::cluster::client::ClusterClient;

/// Default bound on how long a connection waits for a ready Pod.
pub const DEFAULT_READY_WAIT: Duration = Duration::from_secs(30);
/// How long a finished connection waits for the node's error text.
const REMOTE_ERROR_GRACE: Duration = Duration::from_millis(250);
/// A connection tries at most this many Pods before giving up.
const DIAL_ATTEMPTS: usize = 3;

/// How a forward behaves.
#[derive(Debug, Clone)]
pub struct ForwardOptions {
    /// A service forward follows its ready endpoints (true) or is pinned
    /// to one Pod at start like kubectl's (false).
    pub heal: bool,
    pub transport: Transport,
    /// How long a connection waits for a ready Pod before it is closed.
    pub ready_wait: Duration,
}

impl Default for ForwardOptions {
    fn default() -> Self {
        Self {
            heal: true,
            transport: Transport::Auto,
            ready_wait: DEFAULT_READY_WAIT,
        }
    }
}

/// What to forward, and where to listen.
#[derive(Debug, Clone)]
pub struct ForwardRequest {
    pub target: Target,
    pub remote: RemotePort,
    /// Addresses to listen on (kubectl's `localhost`: 127.0.0.1 and ::1).
    pub addresses: Vec<IpAddr>,
    /// The local port; 0 picks a free one (the same on every address).
    pub local_port: u16,
    pub options: ForwardOptions,
}

/// One accepted connection, as kubectl reports it ("Handling connection
/// for PORT").
#[derive(Debug, Clone, Copy)]
pub struct ConnectionEvent {
    pub local_port: u16,
}

/// A running forward; dropping it stops it.
pub struct Forward {
    shared: Arc<Shared>,
    listening: Vec<SocketAddr>,
    bind_warnings: Vec<String>,
    tasks: Vec<JoinHandle<()>>,
}

struct Shared {
    client: ClusterClient,
    target: Target,
    route: Route,
    options: ForwardOptions,
    dialer: Dialer,
    counters: Counters,
    /// State, Pod, transport and last error (counters are filled in on read).
    status: watch::Sender<ForwardStatus>,
    /// The Pod new connections go to (service routes); None while none is ready.
    current: watch::Sender<Option<ReadyPod>>,
    /// Open connections, by id: their Pod and how to end them.
    open: Mutex<HashMap<u64, (String, CancellationToken)>>,
    next_id: AtomicU64,
    /// A Pod has been chosen before: a later choice is a heal.
    had_pod: AtomicBool,
    /// Pods a dial just failed on: skipped until the endpoints change.
    shunned: Mutex<Vec<String>>,
    endpoints: Option<watch::Receiver<Endpoints>>,
    events: broadcast::Sender<ConnectionEvent>,
    stopped: CancellationToken,
}

impl Forward {
    /// Resolves the target, binds the local port and starts serving.
    pub async fn start(
        client: ClusterClient,
        request: ForwardRequest,
    ) -> Result<Self, ForwardError> {
        let route = target::resolve(
            &client,
            &request.target,
            &request.remote,
            request.options.heal,
        )
        .await?;
        let pod = match &route {
            Route::Pod { pod, .. } => Some(pod.as_str()),
            Route::Service { .. } => None,
        };
        if let super::access::ForwardAccess::Denied(denied) =
            super::access::check(&client, &request.target.namespace, pod).await?
        {
            return Err(ForwardError::Forbidden(denied.to_string()));
        }
        Self::start_on(client, request, route).await
    }

    /// Binds and serves `route`, already resolved (and its access checked)
    /// by the caller — `portholectl forward` plans every port before any
    /// listener opens and must not resolve, or pin another Pod, twice.
    pub async fn start_on(
        client: ClusterClient,
        request: ForwardRequest,
        route: Route,
    ) -> Result<Self, ForwardError> {
        let (listeners, bind_warnings) = bind(&request.addresses, request.local_port).await?;
        let listening: Vec<SocketAddr> = listeners
            .iter()
            .filter_map(|l| l.local_addr().ok())
            .collect();
        let mut tasks = Vec::new();
        let endpoints = match &route {
            Route::Service {
                service, port_name, ..
            } => {
                let (rx, task) = endpoints::watch_ready(
                    &client,
                    &request.target.namespace,
                    service,
                    port_name.clone(),
                );
                tasks.push(task);
                Some(rx)
            }
            Route::Pod { .. } => None,
        };
        let (pod, pod_port) = match &route {
            Route::Pod { pod, port } => (Some(pod.clone()), Some(*port)),
            Route::Service { .. } => (None, None),
        };
        let status = ForwardStatus {
            listening: listening.iter().map(ToString::to_string).collect(),
            pod,
            pod_port,
            ..ForwardStatus::new(match route {
                Route::Pod { .. } => ForwardState::Listening,
                Route::Service { .. } => ForwardState::Starting,
            })
        };
        let shared = Arc::new(Shared {
            client,
            target: request.target,
            route,
            dialer: Dialer::new(request.options.transport),
            options: request.options,
            counters: Counters::default(),
            status: watch::channel(status).0,
            current: watch::channel(None).0,
            open: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(0),
            had_pod: AtomicBool::new(false),
            shunned: Mutex::new(Vec::new()),
            endpoints,
            events: broadcast::channel(256).0,
            stopped: CancellationToken::new(),
        });
        match &shared.route {
            Route::Service { .. } => tasks.push(tokio::spawn(follow_endpoints(shared.clone()))),
            Route::Pod { pod, .. } => {
                tasks.push(tokio::spawn(watch_pinned_pod(shared.clone(), pod.clone())));
            }
        }
        for listener in listeners {
            tasks.push(tokio::spawn(accept(shared.clone(), listener)));
        }
        Ok(Self {
            shared,
            listening,
            bind_warnings,
            tasks,
        })
    }

    /// The addresses it listens on.
    pub fn listening(&self) -> &[SocketAddr] {
        &self.listening
    }

    /// Addresses that could not be bound while others could (kubectl
    /// carries on in that case, and says so).
    pub fn bind_warnings(&self) -> &[String] {
        &self.bind_warnings
    }

    pub fn local_port(&self) -> u16 {
        self.listening.first().map_or(0, SocketAddr::port)
    }

    pub fn target(&self) -> &Target {
        &self.shared.target
    }

    pub fn route(&self) -> &Route {
        &self.shared.route
    }

    /// The state and counters now.
    pub fn status(&self) -> ForwardStatus {
        let mut status = self.shared.status.borrow().clone();
        self.shared.counters.fill(&mut status);
        status
    }

    /// Changes of state, Pod and errors (counters: read [`Self::status`]).
    pub fn subscribe(&self) -> watch::Receiver<ForwardStatus> {
        self.shared.status.subscribe()
    }

    /// Every accepted connection.
    pub fn connections(&self) -> broadcast::Receiver<ConnectionEvent> {
        self.shared.events.subscribe()
    }

    /// Waits until the forward stops for good; the reason, if it failed.
    pub async fn finished(&self) -> Option<String> {
        let mut rx = self.shared.status.subscribe();
        let state = rx
            .wait_for(|s| !s.state.is_active())
            .await
            .map(|s| s.state.clone())
            .ok()?;
        match state {
            ForwardState::Failed { reason } => Some(reason),
            _ => None,
        }
    }

    /// Closes the listeners and every open connection.
    pub fn stop(&self) {
        self.shared.stop(ForwardState::Stopped);
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl Drop for Forward {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Shared {
    fn set(&self, change: impl FnOnce(&mut ForwardStatus)) {
        self.status.send_modify(change);
    }

    fn stop(&self, state: ForwardState) {
        self.stopped.cancel();
        for (_, (_, token)) in self.open.lock().unwrap_or_else(|p| p.into_inner()).drain() {
            token.cancel();
        }
        self.set(|s| {
            if s.state.is_active() {
                s.state = state;
            }
        });
    }

    fn fail(&self, reason: String) {
        tracing::warn!(target = %self.target, %reason, "port-forward stopped");
        self.stop(ForwardState::Failed { reason });
    }

    /// Ends the open connections to `pod`.
    fn end_connections_to(&self, pod: &str) -> usize {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let ids: Vec<u64> = open
            .iter()
            .filter(|(_, (p, _))| p == pod)
            .map(|(id, _)| *id)
            .collect();
        for id in &ids {
            if let Some((_, token)) = open.remove(id) {
                token.cancel();
            }
        }
        ids.len()
    }

    fn shun(&self, pod: &str) {
        self.shunned
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(pod.to_owned());
        // Let the follower pick again without that Pod.
        self.current.send_if_modified(|c| {
            if c.as_ref().is_some_and(|c| c.pod == pod) {
                *c = None;
                true
            } else {
                false
            }
        });
        if let Some(rx) = &self.endpoints {
            // Wake the follower with the endpoints it already has.
            let ready = rx.borrow().clone();
            self.repick(&ready);
        }
    }

    /// Chooses the Pod for new connections from `endpoints`: the current
    /// one while it stays ready, else the first ready one by name.
    fn repick(&self, endpoints: &Endpoints) {
        if !endpoints.synced {
            return;
        }
        let shunned = self
            .shunned
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let usable: Vec<&ReadyPod> = endpoints
            .ready
            .iter()
            .filter(|r| !shunned.contains(&r.pod))
            .collect();
        let previous = self.current.borrow().clone();
        let keep = previous
            .as_ref()
            .and_then(|p| usable.iter().find(|r| r.pod == p.pod).map(|r| (*r).clone()));
        let next = keep.or_else(|| usable.first().map(|r| (*r).clone()));
        if let Some(gone) = previous
            .as_ref()
            .filter(|p| next.as_ref().map(|n| &n.pod) != Some(&p.pod))
        {
            let ended = self.end_connections_to(&gone.pod);
            tracing::info!(target = %self.target, pod = %gone.pod, ended, "pod is no longer ready: its connections end, new ones go elsewhere");
        }
        let had_one = self.had_pod.load(Ordering::Relaxed);
        if next.is_some() && next != previous {
            if had_one {
                self.counters.heals.fetch_add(1, Ordering::Relaxed);
            }
            self.had_pod.store(true, Ordering::Relaxed);
        }
        self.set(|s| {
            if !s.state.is_active() {
                return;
            }
            match &next {
                Some(r) => {
                    s.state = ForwardState::Listening;
                    s.pod = Some(r.pod.clone());
                    s.pod_port = Some(r.port);
                }
                None if had_one => s.state = ForwardState::Healing,
                None => s.state = ForwardState::WaitingForPod,
            }
            if next.is_none() {
                s.pod = None;
            }
        });
        self.current.send_replace(next);
    }
}

/// Keeps the current Pod in step with the endpoints.
async fn follow_endpoints(shared: Arc<Shared>) {
    let Some(mut rx) = shared.endpoints.clone() else {
        return;
    };
    loop {
        let now = rx.borrow_and_update().clone();
        if let Some(error) = &now.error {
            shared.set(|s| s.last_error = Some(format!("watching the endpoints: {error}")));
        }
        // New endpoints: a shunned Pod gets another chance.
        shared
            .shunned
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        shared.repick(&now);
        tokio::select! {
            changed = rx.changed() => if changed.is_err() { return },
            () = shared.stopped.cancelled() => return,
        }
    }
}

/// A Pod route ends when its Pod is deleted or stops running.
async fn watch_pinned_pod(shared: Arc<Shared>, pod: String) {
    let ns = shared.target.namespace.clone();
    let api: Api<Pod> = Api::namespaced(shared.client.kube_client(&ns), &ns);
    let config = watcher::Config::default().fields(&format!("metadata.name={pod}"));
    let mut events = watcher(api, config).default_backoff().boxed();
    let mut seen = false;
    loop {
        let event = tokio::select! {
            e = events.next() => e,
            () = shared.stopped.cancelled() => return,
        };
        let gone = match event {
            None => return,
            Some(Ok(watcher::Event::Apply(p) | watcher::Event::InitApply(p))) => {
                seen = true;
                let phase = p.status.and_then(|s| s.phase).unwrap_or_default();
                // A Pod being deleted still says Running: say terminating.
                let terminating = p.metadata.deletion_timestamp.is_some() || phase.is_empty();
                (terminating || phase != "Running").then(|| {
                    format!(
                        "the pod is {}",
                        if terminating {
                            "terminating".into()
                        } else {
                            phase.to_lowercase()
                        }
                    )
                })
            }
            Some(Ok(watcher::Event::Delete(_))) => Some("the pod was deleted".to_owned()),
            Some(Ok(watcher::Event::InitDone)) if !seen => Some("the pod was deleted".to_owned()),
            Some(Ok(_)) => None,
            Some(Err(e)) => {
                tracing::debug!(error = %e, "watching the forwarded pod");
                None
            }
        };
        if let Some(reason) = gone {
            shared.fail(
                ForwardError::LostPod {
                    namespace: ns.clone(),
                    pod: pod.clone(),
                    reason,
                }
                .to_string(),
            );
            return;
        }
    }
}

async fn accept(shared: Arc<Shared>, listener: TcpListener) {
    let local_port = listener.local_addr().map_or(0, |a| a.port());
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            () = shared.stopped.cancelled() => return,
        };
        match accepted {
            Ok((socket, _peer)) => {
                let _ = socket.set_nodelay(true);
                let _ = shared.events.send(ConnectionEvent { local_port });
                tokio::spawn(serve(shared.clone(), socket));
            }
            Err(e) => {
                // Out of file descriptors and the like: back off briefly.
                tracing::warn!(error = %e, "accepting a forwarded connection failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Decrements the open-connection count however the connection ends.
struct Active<'a>(&'a Counters);

impl Drop for Active<'_> {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Ordering::Relaxed);
    }
}

async fn serve(shared: Arc<Shared>, socket: TcpStream) {
    shared.counters.total.fetch_add(1, Ordering::Relaxed);
    shared.counters.active.fetch_add(1, Ordering::Relaxed);
    let _active = Active(&shared.counters);
    let id = shared.next_id.fetch_add(1, Ordering::Relaxed);
    let ns = shared.target.namespace.clone();
    let mut attempts = 0;
    let (pod, stream) = loop {
        attempts += 1;
        let Some(ReadyPod { pod, port }) = choose(&shared).await else {
            let reason = format!(
                "no ready pod for {} within {} s: connection closed",
                shared.target,
                shared.options.ready_wait.as_secs()
            );
            tracing::warn!("{reason}");
            shared.set(|s| s.last_error = Some(reason));
            return;
        };
        match shared.dialer.dial(&shared.client, &ns, &pod, port).await {
            Ok(stream) => break (pod, stream),
            Err(e) => {
                let pinned = matches!(shared.route, Route::Pod { .. });
                let reason = format!("pod {ns}/{pod} port {port}: {e}");
                tracing::warn!(%reason, "opening a forwarded connection failed");
                shared.set(|s| s.last_error = Some(reason.clone()));
                match e {
                    DialError::PodGone { .. } if pinned => {
                        shared.fail(ForwardError::from(e).to_string());
                        return;
                    }
                    DialError::PodGone { .. } | DialError::Refused { .. }
                        if !pinned && attempts < DIAL_ATTEMPTS =>
                    {
                        shared.shun(&pod);
                        continue;
                    }
                    _ => return,
                }
            }
        }
    };
    let transport = shared.dialer.transport().name();
    shared.set(|s| {
        if s.transport.as_deref() != Some(transport) {
            s.transport = Some(transport.to_owned());
        }
    });
    let token = shared.stopped.child_token();
    shared
        .open
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(id, (pod.clone(), token.clone()));
    let crate::forward::stream::PodStream {
        io,
        mut remote_error,
    } = stream;
    let pumped = tokio::select! {
        r = pump::both_ways(socket, io, &shared.counters.sent, &shared.counters.received) => r.map_err(|e| e.to_string()),
        () = token.cancelled() => Err("the pod went away".to_owned()),
    };
    shared
        .open
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(&id);
    // The node's error text can trail the end of the data by a moment;
    // without one the sender is dropped and this returns at once.
    let remote_error = tokio::time::timeout(REMOTE_ERROR_GRACE, &mut remote_error).await;
    if let Ok(Ok(message)) = remote_error {
        let reason = format!("pod {ns}/{pod}: {}", message.trim());
        tracing::warn!(%reason, "forwarded connection ended with an error");
        shared.set(|s| s.last_error = Some(reason));
    } else if let Err(e) = pumped {
        tracing::debug!(error = %e, pod = %pod, "forwarded connection ended");
    }
}

/// The Pod for a new connection: the pinned one, or the current ready one,
/// waiting up to `ready_wait` for one to appear.
async fn choose(shared: &Shared) -> Option<ReadyPod> {
    if let Route::Pod { pod, port } = &shared.route {
        return Some(ReadyPod {
            pod: pod.clone(),
            port: *port,
        });
    }
    let mut rx = shared.current.subscribe();
    let wait = rx.wait_for(Option::is_some);
    tokio::select! {
        r = tokio::time::timeout(shared.options.ready_wait, wait) => r.ok()?.ok()?.clone(),
        () = shared.stopped.cancelled() => None,
    }
}

/// Binds `port` on each address (0: a free port, then that same port on
/// the other addresses, as kubectl does). Fails only if none binds.
async fn bind(
    addresses: &[IpAddr],
    port: u16,
) -> Result<(Vec<TcpListener>, Vec<String>), ForwardError> {
    let mut listeners = Vec::new();
    let mut warnings = Vec::new();
    let mut port = port;
    for address in addresses {
        let addr = SocketAddr::new(*address, port);
        match TcpListener::bind(addr).await {
            Ok(l) => {
                if port == 0 {
                    port = l.local_addr().map_or(0, |a| a.port());
                }
                listeners.push(l);
            }
            Err(e) => warnings.push(format!(
                "unable to listen on {addr}: {}",
                super::local_port::describe_bind_error(&e, addr)
            )),
        }
    }
    if listeners.is_empty() {
        let address = addresses
            .iter()
            .map(|a| SocketAddr::new(*a, port).to_string())
            .collect::<Vec<_>>()
            .join(", ");
        return Err(ForwardError::Listen {
            address,
            reason: if warnings.is_empty() {
                "no address to listen on".into()
            } else {
                warnings.join("; ")
            },
        });
    }
    Ok((listeners, warnings))
}
