//! Test workloads: a test-owned Service whose Pods the test adds and removes
//! while it runs — to prove that what rides on the Service (a port-forward)
//! heals when its Pod goes away and a new ready one appears.
//!
//! ```no_run
//! # async fn demo() -> porthole_testkit::Result<()> {
//! use porthole_testkit::workload::{Workload, WorkloadPort, unique_namespace};
//! let cluster = porthole_testkit::cluster();
//! let ns = unique_namespace("heal");
//! let w = Workload::create(cluster, &ns, "db", &[
//!     WorkloadPort::tcp_echo("postgres", 5432, 5432),
//!     WorkloadPort::http_echo("http", 80, 8080),
//! ]).await?;
//! let a = w.add_pod("db-a").await?;      // reachable when this returns
//! w.set_ready("db-a", false).await?;     // Pod Ready=False, endpoint not ready
//! w.delete_pod("db-a").await?;           // process, Pod, endpoint, agent entry, address: gone
//! let b = w.add_pod("db-b").await?;
//! w.teardown().await?;                   // or just drop it (local parts only)
//! # Ok(()) }
//! ```
//!
//! What a Pod is here: a `porthole-backends` process in the cluster's
//! network namespace on an address of its own (10.213.X.100–254, claimed
//! with a lock file so test processes sharing one cluster never collide),
//! serving every port of the workload (`tcp-echo`, or the HTTP `echo` whose
//! `GET /whoami` names the address that answered); registered with the
//! node agent (port-forward, exec, logs work, see [`crate::node_agent`]);
//! a Pod object whose status says Running with the Ready condition as set,
//! on one of the fixture Nodes (in turn), with one container named after
//! the service and container ports named like the service's ports. No
//! controllers run in the test cluster, so the workload itself keeps the
//! Endpoints and the EndpointSlice (`<service>-porthole`, managed by
//! `porthole-testkit`) in step with its Pods, ready or not, each with its
//! `targetRef` and `nodeName`.
//!
//! Changes are serialised per workload; several workloads (several tests,
//! several processes) may run at once in their own namespaces. Processes
//! die with the test process however it ends; dropping the workload stops
//! them and frees their addresses; [`Workload::teardown`] also deletes the
//! API objects and the namespace it created.
//!
//! RBAC for forwards: the viewer may create `pods/portforward` in `team-a`
//! only (see [`crate::rbac`]); a workload's own namespace is admin-only.

mod address;
mod backend;
mod objects;

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::path::PathBuf;
use std::process::Child;
use std::sync::Mutex;

use k8s_openapi::api::core::v1::{Namespace, Pod, Service, ServiceAccount};
use kube::api::PostParams;
use kube::{Api, Client};
use serde_json::json;

use crate::cluster::Cluster;
use crate::error::{Error, Result};
use crate::fixtures::NODES;
use crate::node_agent::{self, AgentPod};

use address::{Claim, Network};
use objects::{Apis, PodView};

pub use objects::WORKLOAD_LABEL;

/// What serves a workload port in each Pod.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortBackend {
    /// Raw TCP: every byte echoed back, half-close friendly.
    TcpEcho,
    /// HTTP echo: `/healthz`, `/whoami` (the Pod's `IP:PORT`), and a JSON
    /// description of any other request.
    HttpEcho,
}

/// One port of the workload's Service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkloadPort {
    /// The service port's name, also the container port's name (an
    /// IANA service name: at most 15 characters, lowercase, a letter).
    pub name: String,
    /// The service port.
    pub port: u16,
    /// The container port the Pods listen on.
    pub target: u16,
    pub backend: PortBackend,
    /// `appProtocol` of the service port (and of the endpoint ports).
    pub app_protocol: Option<String>,
    /// The Service names its `targetPort` (`name`) instead of giving the
    /// number: clients resolve it through the Pods' container ports.
    pub target_by_name: bool,
}

impl WorkloadPort {
    /// A raw TCP echo port.
    pub fn tcp_echo(name: &str, port: u16, target: u16) -> WorkloadPort {
        WorkloadPort::new(name, port, target, PortBackend::TcpEcho)
    }

    /// An HTTP echo port.
    pub fn http_echo(name: &str, port: u16, target: u16) -> WorkloadPort {
        WorkloadPort::new(name, port, target, PortBackend::HttpEcho)
    }

    fn new(name: &str, port: u16, target: u16, backend: PortBackend) -> WorkloadPort {
        WorkloadPort {
            name: name.to_owned(),
            port,
            target,
            backend,
            app_protocol: None,
            target_by_name: false,
        }
    }

    /// Sets `appProtocol` (e.g. `kubernetes.io/h2c`).
    pub fn app_protocol(mut self, app_protocol: &str) -> WorkloadPort {
        self.app_protocol = Some(app_protocol.to_owned());
        self
    }

    /// The Service's `targetPort` becomes the port's name.
    pub fn target_by_name(mut self) -> WorkloadPort {
        self.target_by_name = true;
        self
    }
}

/// A Pod of a workload, as added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkloadPod {
    pub name: String,
    pub ip: Ipv4Addr,
    /// The fixture Node it is on (`node-1`…`node-3`).
    pub node: String,
    pub uid: String,
    pub ready: bool,
}

/// A namespace name no other test uses: `<prefix>-<8 hex>`.
pub fn unique_namespace(prefix: &str) -> String {
    let suffix = crate::random::hex(4).unwrap_or_else(|_| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        format!("{:04x}{nanos:08x}", std::process::id() & 0xffff)
    });
    format!("{prefix}-{suffix}")
}

/// A running Pod and what it holds locally.
struct Running {
    info: WorkloadPod,
    node_ip: String,
    started: String,
    child: Option<Child>,
    /// Held until the address is off the interface.
    claim: Option<Claim>,
}

impl Running {
    fn view(&self) -> OwnedView {
        OwnedView {
            name: self.info.name.clone(),
            ip: self.info.ip.to_string(),
            node: self.info.node.clone(),
            node_ip: self.node_ip.clone(),
            uid: self.info.uid.clone(),
            ready: self.info.ready,
            started: self.started.clone(),
        }
    }
}

/// [`PodView`] with owned strings (taken out of the lock).
struct OwnedView {
    name: String,
    ip: String,
    node: String,
    node_ip: String,
    uid: String,
    ready: bool,
    started: String,
}

impl OwnedView {
    fn view(&self) -> PodView<'_> {
        PodView {
            name: &self.name,
            ip: &self.ip,
            node: &self.node,
            node_ip: &self.node_ip,
            uid: &self.uid,
            ready: self.ready,
            started: &self.started,
        }
    }
}

/// A test-owned Service and the Pods behind it. See the module doc.
pub struct Workload {
    namespace: String,
    service: String,
    ports: Vec<WorkloadPort>,
    client: Client,
    apis: Apis,
    net: Network,
    backends_bin: PathBuf,
    /// The node agent's per-Pod directory and the cluster's `logs/`.
    pods_dir: PathBuf,
    logs_dir: PathBuf,
    /// Ready files of the backend processes.
    run_dir: PathBuf,
    /// (Node name, its address) of the fixture Nodes.
    nodes: Vec<(String, String)>,
    created_namespace: bool,
    pods: Mutex<BTreeMap<String, Running>>,
    /// Serialises changes (so the endpoint objects are written in order);
    /// holds the number of Pods added so far (to spread them over Nodes).
    changes: tokio::sync::Mutex<usize>,
}

impl Workload {
    /// Creates the namespace (if missing), the Service (selector `app:
    /// <service>`), empty Endpoints and an empty EndpointSlice. No Pods
    /// yet: [`Self::add_pod`]. A Service of that name must not exist.
    pub async fn create(
        cluster: &Cluster,
        namespace: &str,
        service: &str,
        ports: &[WorkloadPort],
    ) -> Result<Workload> {
        if ports.is_empty() {
            return Err(Error::Workload(format!("{service}: no ports")));
        }
        let mut names: Vec<&str> = ports.iter().map(|p| p.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        if names.len() != ports.len() {
            return Err(Error::Workload(format!("{service}: port names repeat")));
        }
        let state = &cluster.state;
        let missing = |what: &str| {
            Error::Workload(format!(
                "the cluster in {} records no {what} (is it ready, and started by this \
                 version of the testkit?)",
                state.dir.display()
            ))
        };
        let netns = state
            .netns
            .as_ref()
            .ok_or_else(|| missing("network namespace"))?;
        let agent = state
            .node_agent
            .as_ref()
            .ok_or_else(|| missing("node agent"))?;
        if agent.pods_dir.as_os_str().is_empty() || !agent.pods_dir.is_dir() {
            return Err(missing("node agent Pods directory (node-agent-pods.d)"));
        }
        let prefix = subnet_prefix(&netns.subnet)
            .ok_or_else(|| Error::Workload(format!("unexpected subnet {:?}", netns.subnet)))?;
        let net = Network {
            ip_bin: crate::netns::ip_binary()?,
            netns: netns.name.clone(),
            prefix,
            claims_dir: state.dir.join("workloads").join("addresses"),
        };
        let backends_bin = tokio::task::spawn_blocking(crate::bins::backends)
            .await
            .map_err(|e| Error::Workload(format!("finding porthole-backends: {e}")))??;
        let client = cluster.client(crate::users::ADMIN).await?;

        let namespaces: Api<Namespace> = Api::all(client.clone());
        let created_namespace = objects::create_new(
            &namespaces,
            json!({ "metadata": { "name": namespace, "labels": { WORKLOAD_LABEL: service } } }),
        )
        .await?
        .is_some();
        // The ServiceAccount admission plugin wants it before any Pod (no
        // controller creates it here).
        objects::create_new::<ServiceAccount>(
            &Api::namespaced(client.clone(), namespace),
            json!({ "metadata": { "name": "default" } }),
        )
        .await?;
        let services: Api<Service> = Api::namespaced(client.clone(), namespace);
        let created = objects::create_new(&services, objects::service(service, ports))
            .await?
            .ok_or_else(|| {
                Error::Workload(format!(
                    "service {namespace}/{service} exists already; a workload owns its \
                     Service (take a fresh namespace: workload::unique_namespace)"
                ))
            })?;
        let uid = created.metadata.uid.unwrap_or_default();
        let apis = Apis::new(&client, namespace);
        objects::create_new(&apis.slices, objects::endpoint_slice(service, &uid, ports)).await?;
        objects::create_new(&apis.endpoints, objects::endpoints(service)).await?;

        let nodes = NODES
            .iter()
            .zip(&agent.addresses)
            .map(|(n, ip)| ((*n).to_owned(), ip.clone()))
            .collect();
        Ok(Workload {
            namespace: namespace.to_owned(),
            service: service.to_owned(),
            ports: ports.to_vec(),
            client,
            apis,
            net,
            backends_bin,
            pods_dir: agent.pods_dir.clone(),
            logs_dir: state.dir.join("logs"),
            run_dir: state.dir.join("workloads").join(namespace),
            nodes,
            created_namespace,
            pods: Mutex::new(BTreeMap::new()),
            changes: tokio::sync::Mutex::new(0),
        })
    }

    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The Service's name (also its selector's `app` and the container's name).
    pub fn service(&self) -> &str {
        &self.service
    }

    /// The one container of every Pod.
    pub fn container(&self) -> &str {
        &self.service
    }

    pub fn ports(&self) -> &[WorkloadPort] {
        &self.ports
    }

    /// The Pods now, by name.
    pub fn pods(&self) -> Vec<WorkloadPod> {
        self.lock_pods().values().map(|r| r.info.clone()).collect()
    }

    pub fn pod(&self, name: &str) -> Option<WorkloadPod> {
        self.lock_pods().get(name).map(|r| r.info.clone())
    }

    pub fn pod_ip(&self, name: &str) -> Option<Ipv4Addr> {
        self.lock_pods().get(name).map(|r| r.info.ip)
    }

    /// `IP:target` of a Pod's port (by the port's name), reachable from the
    /// host directly.
    pub fn pod_addr(&self, pod: &str, port: &str) -> Option<SocketAddr> {
        let ip = self.pod_ip(pod)?;
        let p = self.ports.iter().find(|p| p.name == port)?;
        Some(SocketAddr::V4(SocketAddrV4::new(ip, p.target)))
    }

    fn lock_pods(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Running>> {
        // A panic elsewhere must not hide the Pods from teardown.
        self.pods
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Starts a ready Pod `name` (a DNS label, new in this workload): an
    /// address, the backend process serving every port there, the node
    /// agent's entry, the Pod object (Running, Ready) and a ready endpoint.
    /// Returns once every port answers from the host.
    pub async fn add_pod(&self, name: &str) -> Result<WorkloadPod> {
        if !is_dns_label(name) {
            return Err(Error::Workload(format!(
                "pod name {name:?} is not a DNS label (lowercase letters, digits, '-')"
            )));
        }
        let mut added = self.changes.lock().await;
        if self.lock_pods().contains_key(name) {
            return Err(Error::Workload(format!(
                "pod {}/{name} exists already",
                self.namespace
            )));
        }
        let (node, node_ip) = self
            .nodes
            .get(*added % self.nodes.len().max(1))
            .cloned()
            .ok_or_else(|| Error::Workload("the cluster records no Node addresses".into()))?;
        *added += 1;

        let mut pending = Pending::new(self, name);
        let claim = self.net.claim()?;
        let ip = claim.ip;
        let added_to_netns = self.net.add(&claim).await;
        pending.claim = Some(claim);
        added_to_netns?;
        pending.address_added = true;

        let launch = backend::Launch {
            ip_bin: &self.net.ip_bin,
            netns: &self.net.netns,
            bin: &self.backends_bin,
            ip,
            listeners: self
                .ports
                .iter()
                .map(|p| (p.backend.mode(), p.target))
                .collect(),
            ready_file: self.run_dir.join(format!("{name}.ready.json")),
            log: self
                .logs_dir
                .join("workloads")
                .join(format!("{}_{name}.log", self.namespace)),
        };
        if let Some(dir) = launch.ready_file.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::Workload(format!("creating {}: {e}", dir.display())))?;
        }
        pending.child = Some(backend::start(&launch).await?);

        node_agent::register_pod(
            &self.pods_dir,
            &self.logs_dir,
            &AgentPod {
                namespace: self.namespace.clone(),
                name: name.to_owned(),
                ip,
                container: self.container().to_owned(),
            },
        )?;
        pending.registered = true;

        let created = objects::create_new(
            &self.apis.pods,
            objects::pod(name, &self.service, self.container(), &node, &self.ports),
        )
        .await?
        .ok_or_else(|| {
            Error::Workload(format!(
                "pod {}/{name} exists already in the API",
                self.namespace
            ))
        })?;
        pending.pod_created = true;
        let started = crate::fixtures::now();
        let view = OwnedView {
            name: name.to_owned(),
            ip: ip.to_string(),
            node: node.clone(),
            node_ip: node_ip.clone(),
            uid: created.metadata.uid.unwrap_or_default(),
            ready: true,
            started: started.clone(),
        };
        if let Err(e) = self.patch_pod_status(&view).await {
            pending.delete_pod_object().await;
            return Err(e);
        }

        let info = WorkloadPod {
            name: name.to_owned(),
            ip,
            node,
            uid: view.uid.clone(),
            ready: true,
        };
        let (child, claim) = pending.disarm();
        self.lock_pods().insert(
            name.to_owned(),
            Running {
                info: info.clone(),
                node_ip,
                started,
                child,
                claim,
            },
        );
        self.sync_endpoints().await?;
        Ok(info)
    }

    /// Sets the Pod's Ready (and ContainersReady) condition and its
    /// endpoint's `ready`/`serving` (Endpoints: `addresses` or
    /// `notReadyAddresses`). The process keeps running.
    pub async fn set_ready(&self, name: &str, ready: bool) -> Result<()> {
        let _serialised = self.changes.lock().await;
        let view = {
            let mut pods = self.lock_pods();
            let running = pods.get_mut(name).ok_or_else(|| self.unknown(name))?;
            running.info.ready = ready;
            running.view()
        };
        self.patch_pod_status(&view).await?;
        self.sync_endpoints().await
    }

    /// Removes the Pod as a crash followed by its deletion would: the
    /// process is stopped (SIGTERM: open connections end), the Pod object
    /// deleted (at once), its endpoint removed, the node agent's entry
    /// removed (404 "not known" from then on), the address released.
    pub async fn delete_pod(&self, name: &str) -> Result<()> {
        let _serialised = self.changes.lock().await;
        let mut running = self
            .lock_pods()
            .remove(name)
            .ok_or_else(|| self.unknown(name))?;
        if let Some(child) = running.child.take() {
            backend::stop(child).await;
        }
        let deleted = objects::delete_now(&self.apis.pods, name).await;
        let synced = self.sync_endpoints().await;
        let unregistered = node_agent::unregister_pod(&self.pods_dir, &self.namespace, name);
        let removed = self.net.remove(running.info.ip).await;
        drop(running.claim);
        let _ = std::fs::remove_file(self.run_dir.join(format!("{name}.ready.json")));
        deleted.and(synced).and(unregistered).and(removed)
    }

    /// Deletes every Pod (as [`Self::delete_pod`]), the EndpointSlice, the
    /// Endpoints and the Service, and the namespace when this workload
    /// created it (finalising it: no namespace controller runs here). Goes
    /// on after a failure; returns the first.
    pub async fn teardown(self) -> Result<()> {
        let mut first: Option<Error> = None;
        let mut keep = |r: Result<()>| {
            if let Err(e) = r
                && first.is_none()
            {
                first = Some(e);
            }
        };
        let names: Vec<String> = self.lock_pods().keys().cloned().collect();
        for name in names {
            keep(self.delete_pod(&name).await);
        }
        let services: Api<Service> = Api::namespaced(self.client.clone(), &self.namespace);
        let slice = objects::slice_name(&self.service);
        keep(objects::delete_now(&self.apis.slices, &slice).await);
        keep(objects::delete_now(&self.apis.endpoints, &self.service).await);
        keep(objects::delete_now(&services, &self.service).await);
        if self.created_namespace {
            let accounts: Api<ServiceAccount> =
                Api::namespaced(self.client.clone(), &self.namespace);
            keep(objects::delete_now(&accounts, "default").await);
            keep(self.delete_namespace().await);
        }
        let _ = std::fs::remove_dir(&self.run_dir);
        first.map_or(Ok(()), Err)
    }

    async fn delete_namespace(&self) -> Result<()> {
        let namespaces: Api<Namespace> = Api::all(self.client.clone());
        objects::delete_now(&namespaces, &self.namespace).await?;
        let mut ns = match namespaces.get(&self.namespace).await {
            Ok(ns) => ns,
            Err(kube::Error::Api(s)) if s.code == 404 => return Ok(()),
            Err(e) => {
                return Err(Error::kube(
                    format!("reading namespace {}", self.namespace),
                    e,
                ));
            }
        };
        // What the namespace controller would do once it is empty.
        if let Some(spec) = ns.spec.as_mut() {
            spec.finalizers = Some(Vec::new());
        }
        namespaces
            .replace_subresource("finalize", &self.namespace, &PostParams::default(), &ns)
            .await
            .map(drop)
            .or_else(|e| match e {
                kube::Error::Api(s) if s.code == 404 => Ok(()),
                e => Err(Error::kube(
                    format!("finalising namespace {}", self.namespace),
                    e,
                )),
            })
    }

    fn unknown(&self, name: &str) -> Error {
        Error::Workload(format!(
            "no pod {name} in workload {}/{}",
            self.namespace, self.service
        ))
    }

    async fn patch_pod_status(&self, pod: &OwnedView) -> Result<()> {
        objects::merge_patch::<Pod>(
            &self.apis.pods,
            &pod.name,
            true,
            objects::pod_status(&pod.view(), self.container()),
        )
        .await
    }

    /// Writes the Endpoints and the EndpointSlice from the Pods now (whole
    /// lists: we are their only writer, and changes are serialised).
    async fn sync_endpoints(&self) -> Result<()> {
        let owned: Vec<OwnedView> = self.lock_pods().values().map(Running::view).collect();
        let views: Vec<PodView<'_>> = owned.iter().map(OwnedView::view).collect();
        let slice = objects::slice_name(&self.service);
        objects::merge_patch(
            &self.apis.slices,
            &slice,
            false,
            objects::slice_endpoints(&self.namespace, &views),
        )
        .await?;
        objects::merge_patch(
            &self.apis.endpoints,
            &self.service,
            false,
            objects::endpoints_subsets(&self.namespace, &views, &self.ports),
        )
        .await
    }
}

impl Drop for Workload {
    /// Stops what runs locally (processes, agent entries, addresses); the
    /// API objects stay (they go with the cluster; [`Workload::teardown`]
    /// deletes them).
    fn drop(&mut self) {
        let pods = std::mem::take(&mut *self.lock_pods());
        for (name, mut running) in pods {
            if let Some(child) = running.child.take() {
                backend::kill_now(child);
            }
            let _ = node_agent::unregister_pod(&self.pods_dir, &self.namespace, &name);
            self.net.remove_blocking(running.info.ip);
        }
    }
}

/// What [`Workload::add_pod`] has set up so far, undone if it fails or its
/// future is dropped half-way.
struct Pending<'a> {
    workload: &'a Workload,
    name: String,
    claim: Option<Claim>,
    address_added: bool,
    child: Option<Child>,
    registered: bool,
    pod_created: bool,
}

impl<'a> Pending<'a> {
    fn new(workload: &'a Workload, name: &str) -> Pending<'a> {
        Pending {
            workload,
            name: name.to_owned(),
            claim: None,
            address_added: false,
            child: None,
            registered: false,
            pod_created: false,
        }
    }

    /// Best effort: the Pod object of a failed add.
    async fn delete_pod_object(&mut self) {
        if std::mem::take(&mut self.pod_created) {
            let _ = objects::delete_now(&self.workload.apis.pods, &self.name).await;
        }
    }

    /// Success: hands over the process and the claim; nothing is undone.
    fn disarm(mut self) -> (Option<Child>, Option<Claim>) {
        self.address_added = false;
        self.registered = false;
        self.pod_created = false;
        (self.child.take(), self.claim.take())
    }
}

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        let w = self.workload;
        if let Some(child) = self.child.take() {
            backend::kill_now(child);
        }
        if self.registered {
            let _ = node_agent::unregister_pod(&w.pods_dir, &w.namespace, &self.name);
        }
        if self.pod_created {
            // Nothing can be awaited here: the object stays, and says so.
            tracing::warn!(
                "pod {}/{} was created but its start did not finish; it stays in the API",
                w.namespace,
                self.name
            );
        }
        if let Some(claim) = self.claim.take() {
            if self.address_added {
                w.net.remove_blocking(claim.ip);
            }
            drop(claim);
        }
    }
}

/// `10.213.X.0/24` → `[10, 213, X]`.
fn subnet_prefix(subnet: &str) -> Option<[u8; 3]> {
    let ip: Ipv4Addr = subnet.split('/').next()?.parse().ok()?;
    let [a, b, c, _] = ip.octets();
    Some([a, b, c])
}

fn is_dns_label(name: &str) -> bool {
    let bytes = name.as_bytes();
    (1..=63).contains(&bytes.len())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
        && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subnet_prefix_takes_the_first_three_octets() {
        assert_eq!(subnet_prefix("10.213.7.0/24"), Some([10, 213, 7]));
        assert_eq!(subnet_prefix("nonsense"), None);
    }

    #[test]
    fn pod_names_must_be_dns_labels() {
        for ok in ["a", "db-0", "x1"] {
            assert!(is_dns_label(ok), "{ok}");
        }
        for bad in ["", "-a", "a-", "A", "a_b", "a.b", &"a".repeat(64)] {
            assert!(!is_dns_label(bad), "{bad}");
        }
    }

    /// Tests share a workload across tasks (`Arc<Workload>`) and spawn its
    /// futures.
    #[test]
    fn workloads_and_their_futures_are_send() {
        fn send_sync<T: Send + Sync>() {}
        fn send<T: Send>(_: &T) {}
        fn futures(w: &Workload) {
            send(&w.add_pod("a"));
            send(&w.set_ready("a", false));
            send(&w.delete_pod("a"));
        }
        send_sync::<Workload>();
        let _ = futures;
    }

    #[test]
    fn unique_namespaces_differ_and_are_dns_labels() {
        let a = unique_namespace("heal");
        let b = unique_namespace("heal");
        assert_ne!(a, b);
        assert!(a.starts_with("heal-") && is_dns_label(&a), "{a}");
    }
}
