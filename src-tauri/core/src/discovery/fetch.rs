//! One-shot reads of a context: namespaces, services, one service's
//! details, nodes, pods, cluster-info. Each kind that fails degrades on its
//! own; every call has a timeout.

use std::collections::BTreeSet;
use std::future::Future;
use std::time::Duration;

use k8s_openapi::api::core::v1::{Namespace, Node, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::networking::v1::Ingress;
use kube::Api;
use kube::api::ListParams;
use serde::de::DeserializeOwned;

use super::convert::{self, CLUSTER_SERVICE_LABEL, SERVICE_NAME_LABEL};
use super::index::ServiceIndex;
use super::views::{
    ClusterInfoService, ClusterInfoView, Degraded, NamespaceList, NodeView, PodView, ResourceKind,
    ServiceDetails, ServiceList, ServiceQuery, ServiceView,
};
use crate::cluster::ClusterClient;
use crate::proxy::names::context_host;
use crate::urls::UrlBase;

/// How long one list or get may take.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20);

/// Turns a kube error into a [`Degraded`] entry.
pub(crate) fn degraded(kind: ResourceKind, namespace: Option<&str>, e: &kube::Error) -> Degraded {
    let (reason, forbidden) = describe(e);
    Degraded {
        resource: kind,
        namespace: namespace.map(str::to_owned),
        reason,
        forbidden,
    }
}

/// The apiserver's message (its `Status` holds no credentials) or the
/// client's failure; true when RBAC refused.
pub(crate) fn describe(e: &kube::Error) -> (String, bool) {
    match e {
        kube::Error::Api(status) => {
            let message = if status.message.is_empty() {
                format!("{} ({})", status.reason, status.code)
            } else {
                status.message.clone()
            };
            (message, status.code == 403)
        }
        kube::Error::Service(inner) => (inner.to_string(), false),
        other => (other.to_string(), false),
    }
}

/// True for a 404 from the apiserver.
pub(crate) fn is_not_found(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 404)
}

fn timed_out(kind: ResourceKind, namespace: Option<&str>, after: Duration) -> Degraded {
    Degraded {
        resource: kind,
        namespace: namespace.map(str::to_owned),
        reason: format!("no answer within {} s", after.as_secs()),
        forbidden: false,
    }
}

/// Discovery of one context. Cheap to clone.
#[derive(Clone)]
pub struct Discovery {
    client: kube::Client,
    base: UrlBase,
    context_namespace: String,
    timeout: Duration,
}

impl std::fmt::Debug for Discovery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Discovery")
            .field("base", &self.base)
            .field("context_namespace", &self.context_namespace)
            .finish_non_exhaustive()
    }
}

impl Discovery {
    /// `context_namespace`: the context's namespace (`None`: `default`);
    /// `proxy_port`: where Porthole's proxy listens, for Porthole URLs.
    pub fn new(client: &ClusterClient, context_namespace: Option<&str>, proxy_port: u16) -> Self {
        let namespace = context_namespace
            .filter(|n| !n.is_empty())
            .unwrap_or("default")
            .to_owned();
        Self {
            client: client.kube_client(&namespace),
            base: UrlBase::new(client.context(), &client.server(), proxy_port),
            context_namespace: namespace,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// Each request's time limit (default [`DEFAULT_TIMEOUT`]).
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    pub fn base(&self) -> &UrlBase {
        &self.base
    }

    pub fn context_namespace(&self) -> &str {
        &self.context_namespace
    }

    pub(crate) fn kube(&self) -> &kube::Client {
        &self.client
    }

    async fn call<T>(
        &self,
        kind: ResourceKind,
        namespace: Option<&str>,
        work: impl Future<Output = Result<T, kube::Error>>,
    ) -> Result<T, Degraded> {
        match tokio::time::timeout(self.timeout, work).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => {
                let d = degraded(kind, namespace, &e);
                tracing::debug!(context = %self.base.context, degraded = %d, "discovery read failed");
                Err(d)
            }
            Err(_) => Err(timed_out(kind, namespace, self.timeout)),
        }
    }

    /// Every object of `K` in `namespace` (`None`: all), all pages.
    async fn list<K>(
        &self,
        kind: ResourceKind,
        namespace: Option<&str>,
        params: ListParams,
    ) -> Result<Vec<K>, Degraded>
    where
        K: kube::Resource<DynamicType = ()> + Clone + DeserializeOwned + std::fmt::Debug,
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>,
    {
        let api: Api<K> = match namespace {
            Some(ns) => Api::namespaced(self.client.clone(), ns),
            None => Api::all(self.client.clone()),
        };
        self.call(kind, namespace, list_all(&api, params)).await
    }

    /// The namespaces for the selector; when listing is refused, the
    /// context's namespace plus `added`, with the reason.
    pub async fn namespaces(&self, added: &[String]) -> NamespaceList {
        let api: Api<Namespace> = Api::all(self.client.clone());
        let listed = self
            .call(
                ResourceKind::Namespaces,
                None,
                list_all(&api, ListParams::default()),
            )
            .await;
        let added: BTreeSet<String> = added.iter().filter(|n| !n.is_empty()).cloned().collect();
        let mut names = added.clone();
        let added: Vec<String> = added.into_iter().collect();
        match listed {
            Ok(list) => {
                names.extend(list.into_iter().filter_map(|n| n.metadata.name));
                NamespaceList {
                    namespaces: names.into_iter().collect(),
                    context_namespace: self.context_namespace.clone(),
                    listed: true,
                    degraded: None,
                    added,
                }
            }
            Err(d) => {
                names.insert(self.context_namespace.clone());
                NamespaceList {
                    namespaces: names.into_iter().collect(),
                    context_namespace: self.context_namespace.clone(),
                    listed: false,
                    degraded: Some(d),
                    added,
                }
            }
        }
    }

    /// The namespaces a query covers when services cannot be listed in all
    /// namespaces: the context's and the added ones.
    pub(crate) fn fallback_namespaces(&self, query: &ServiceQuery) -> Vec<String> {
        let mut set: BTreeSet<String> = query
            .added_namespaces
            .iter()
            .filter(|n| !n.is_empty())
            .cloned()
            .collect();
        set.insert(self.context_namespace.clone());
        set.into_iter().collect()
    }

    /// The services of `query` once (the live list is
    /// [`super::ServiceWatch`]): services, their slices and ingresses in
    /// the same scope, and nodes for NodePort addresses, read concurrently.
    pub async fn services(&self, query: &ServiceQuery) -> ServiceList {
        let mut degraded = Vec::new();
        let mut services = Vec::new();
        let mut slices = Vec::new();
        let mut ingresses = Vec::new();
        let scope = query.namespace.as_deref();
        let (first, nodes) = futures_util::join!(self.read_scope(scope), self.list_nodes_raw());
        let mut rounds = vec![first];
        if let Err(d) = &rounds[0].0
            && d.forbidden
            && scope.is_none()
        {
            let fallback = self.fallback_namespaces(query);
            degraded.push(Degraded {
                reason: format!("{} — showing {}", d.reason, fallback.join(", ")),
                ..d.clone()
            });
            rounds =
                futures_util::future::join_all(fallback.iter().map(|ns| self.read_scope(Some(ns))))
                    .await;
        }
        for (svc, sl, ing) in rounds {
            match svc {
                Ok(list) => services.extend(list),
                Err(d) => {
                    if !(d.forbidden && d.namespace.is_none() && scope.is_none()) {
                        degraded.push(d);
                    }
                    continue;
                }
            }
            match sl {
                Ok(list) => slices.extend(list),
                Err(d) => degraded.push(d),
            }
            match ing {
                Ok(list) => ingresses.extend(list),
                Err(d) => degraded.push(d),
            }
        }
        let nodes = nodes.unwrap_or_else(|d| {
            degraded.push(d);
            Vec::new()
        });
        let slices_known = !degraded
            .iter()
            .any(|d| d.resource == ResourceKind::EndpointSlices);
        let index = ServiceIndex::from_lists(services, &slices, &ingresses, &nodes);
        let views = self.views(&index, slices_known);
        ServiceList {
            context: self.base.context.clone(),
            services: views,
            degraded,
            complete: true,
        }
    }

    /// Services, slices and ingresses of one scope (`None`: all namespaces).
    async fn read_scope(
        &self,
        namespace: Option<&str>,
    ) -> (
        Result<Vec<Service>, Degraded>,
        Result<Vec<EndpointSlice>, Degraded>,
        Result<Vec<Ingress>, Degraded>,
    ) {
        futures_util::join!(
            self.list::<Service>(ResourceKind::Services, namespace, ListParams::default()),
            self.list::<EndpointSlice>(
                ResourceKind::EndpointSlices,
                namespace,
                ListParams::default()
            ),
            self.list::<Ingress>(ResourceKind::Ingresses, namespace, ListParams::default()),
        )
    }

    async fn list_nodes_raw(&self) -> Result<Vec<Node>, Degraded> {
        let api: Api<Node> = Api::all(self.client.clone());
        self.call(
            ResourceKind::Nodes,
            None,
            list_all(&api, ListParams::default()),
        )
        .await
    }

    /// The views of every service in `index`, in (namespace, name) order.
    fn views(&self, index: &ServiceIndex, slices_known: bool) -> Vec<ServiceView> {
        index
            .views(&self.base, |_| slices_known)
            .into_values()
            .collect()
    }

    /// One service as the API has it (for `portholectl url`).
    pub async fn service(&self, namespace: &str, name: &str) -> Result<Service, Degraded> {
        let api: Api<Service> = Api::namespaced(self.client.clone(), namespace);
        let got = self
            .call(ResourceKind::Services, Some(namespace), async {
                match api.get_opt(name).await {
                    Ok(found) => Ok(found),
                    Err(e) if is_not_found(&e) => Ok(None),
                    Err(e) => Err(e),
                }
            })
            .await?;
        got.ok_or_else(|| Degraded {
            resource: ResourceKind::Services,
            namespace: Some(namespace.to_owned()),
            reason: format!("no service {name:?} in namespace {namespace:?}"),
            forbidden: false,
        })
    }

    /// The details drawer: the service, its endpoints and its pods (from
    /// the slices' `targetRef`s, else the selector), each with links.
    pub async fn service_details(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<ServiceDetails, Degraded> {
        let service = self.service(namespace, name).await?;
        let by_service = ListParams::default().labels(&format!("{SERVICE_NAME_LABEL}={name}"));
        let (slices, ingresses, nodes) = futures_util::join!(
            self.list::<EndpointSlice>(ResourceKind::EndpointSlices, Some(namespace), by_service),
            self.list::<Ingress>(
                ResourceKind::Ingresses,
                Some(namespace),
                ListParams::default()
            ),
            self.list_nodes_raw(),
        );
        let mut degraded = Vec::new();
        let slices = slices.unwrap_or_else(|d| {
            degraded.push(d);
            Vec::new()
        });
        let slices_known = degraded.is_empty();
        let ingresses = ingresses.unwrap_or_else(|d| {
            degraded.push(d);
            Vec::new()
        });
        let nodes = nodes.unwrap_or_else(|d| {
            degraded.push(d);
            Vec::new()
        });
        let index = ServiceIndex::from_lists([service.clone()], &slices, &ingresses, &nodes);
        let view = self.views(&index, slices_known).into_iter().next();
        let Some(view) = view else {
            return Err(Degraded {
                resource: ResourceKind::Services,
                namespace: Some(namespace.to_owned()),
                reason: format!("{namespace}/{name} could not be shown"),
                forbidden: false,
            });
        };
        let endpoints = convert::endpoint_views(&slices);
        let pod_names: BTreeSet<String> = endpoints.iter().filter_map(|e| e.pod.clone()).collect();
        let selector = service
            .spec
            .as_ref()
            .and_then(|s| s.selector.as_ref())
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(",")
            });
        let pods = match (&selector, pod_names.is_empty()) {
            (Some(sel), _) => self.pods(namespace, Some(sel)).await,
            (None, false) => self.pods(namespace, None).await,
            (None, true) => Ok(Vec::new()),
        };
        let pods = match pods {
            Ok(mut pods) => {
                if selector.is_none() {
                    pods.retain(|p| pod_names.contains(&p.name));
                }
                pods
            }
            Err(d) => {
                degraded.push(d);
                Vec::new()
            }
        };
        Ok(ServiceDetails {
            service: view,
            endpoints,
            pods,
            degraded,
        })
    }

    /// Pods of a namespace (optionally by label selector) with their links.
    pub async fn pods(
        &self,
        namespace: &str,
        selector: Option<&str>,
    ) -> Result<Vec<PodView>, Degraded> {
        let mut params = ListParams::default();
        if let Some(sel) = selector {
            params = params.labels(sel);
        }
        let pods: Vec<Pod> = self
            .list(ResourceKind::Pods, Some(namespace), params)
            .await?;
        let mut views: Vec<PodView> = pods
            .iter()
            .map(|p| convert::pod_view(&self.base, p))
            .collect();
        views.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(views)
    }

    /// Nodes with their addresses and kubelet links.
    pub async fn nodes(&self) -> Result<Vec<NodeView>, Degraded> {
        let nodes = self.list_nodes_raw().await?;
        let mut views: Vec<NodeView> = nodes
            .iter()
            .map(|n| convert::node_view(&self.base, n))
            .collect();
        views.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(views)
    }

    /// `kubectl cluster-info`: the control plane URL and the kube-system
    /// services labelled `kubernetes.io/cluster-service=true`, each with
    /// its apiserver and Porthole URLs.
    pub async fn cluster_info(&self) -> ClusterInfoView {
        let params = ListParams::default().labels(&format!("{CLUSTER_SERVICE_LABEL}=true"));
        let (services, slices) = futures_util::join!(
            self.list::<Service>(ResourceKind::Services, Some("kube-system"), params),
            self.list::<EndpointSlice>(
                ResourceKind::EndpointSlices,
                Some("kube-system"),
                ListParams::default()
            ),
        );
        let mut degraded = Vec::new();
        let services = services.unwrap_or_else(|d| {
            degraded.push(d);
            Vec::new()
        });
        let slices = slices.unwrap_or_else(|d| {
            degraded.push(d);
            Vec::new()
        });
        let slices_known = !degraded
            .iter()
            .any(|d| d.resource == ResourceKind::EndpointSlices);
        let index = ServiceIndex::from_lists(services.iter().cloned(), &slices, &[], &[]);
        let views = self.views(&index, slices_known);
        let mut entries: Vec<ClusterInfoService> = views
            .into_iter()
            .map(|view| {
                let title = services
                    .iter()
                    .find(|s| s.metadata.name.as_deref() == Some(view.name.as_str()))
                    .and_then(|s| s.metadata.labels.as_ref())
                    .and_then(|l| l.get("kubernetes.io/name"))
                    .cloned()
                    .unwrap_or_else(|| view.name.clone());
                ClusterInfoService {
                    title,
                    urls: view.first_urls().cloned(),
                    service: view,
                }
            })
            .collect();
        entries.sort_by(|a, b| a.title.cmp(&b.title));
        ClusterInfoView {
            context: self.base.context.clone(),
            control_plane: self.base.server.clone(),
            control_plane_porthole_url: format!(
                "http://{}:{}/",
                context_host(&self.base.context),
                self.base.proxy_port
            ),
            services: entries,
            degraded,
        }
    }
}

/// All pages of a list.
pub(crate) async fn list_all<K>(api: &Api<K>, params: ListParams) -> Result<Vec<K>, kube::Error>
where
    K: kube::Resource + Clone + DeserializeOwned + std::fmt::Debug,
{
    let mut params = params.limit(500);
    let mut out = Vec::new();
    loop {
        let page = api.list(&params).await?;
        out.extend(page.items);
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(token) => params = params.continue_token(&token),
            None => return Ok(out),
        }
    }
}
