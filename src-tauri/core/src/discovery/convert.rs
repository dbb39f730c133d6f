//! Kubernetes objects → views. Pure functions: no I/O, unit-tested.

use std::collections::{BTreeMap, HashMap};

use k8s_openapi::api::core::v1::{Node, Pod, Service, ServicePort};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::networking::v1::Ingress;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::views::{
    EndpointCounts, EndpointView, ExternalEndpoint, NodeAddressView, NodeView, PodPortView,
    PodView, ServicePortView, ServiceView,
};
use crate::port_kind;
use crate::urls::{self, PortSpec, UrlBase};

/// The label that ties an EndpointSlice to its service.
pub const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";
/// The label `kubectl cluster-info` selects builtins by.
pub const CLUSTER_SERVICE_LABEL: &str = "kubernetes.io/cluster-service";

/// What one EndpointSlice adds to its service's counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SliceSummary {
    pub service: String,
    pub address_type: String,
    pub ready: u32,
    pub not_ready: u32,
}

/// The counts of a slice; `None` when it names no service.
pub fn slice_summary(slice: &EndpointSlice) -> Option<SliceSummary> {
    let service = slice.metadata.labels.as_ref()?.get(SERVICE_NAME_LABEL)?;
    let (mut ready, mut not_ready) = (0u32, 0u32);
    for e in slice.endpoints.iter().flatten() {
        // discovery/v1: an unset `ready` is to be read as ready.
        if endpoint_ready(e) {
            ready = ready.saturating_add(1);
        } else {
            not_ready = not_ready.saturating_add(1);
        }
    }
    Some(SliceSummary {
        service: service.clone(),
        address_type: slice.address_type.clone(),
        ready,
        not_ready,
    })
}

fn endpoint_ready(e: &k8s_openapi::api::discovery::v1::Endpoint) -> bool {
    e.conditions.as_ref().and_then(|c| c.ready).unwrap_or(true)
}

/// A service's counts from its slices: summed per address type, the
/// largest family taken (a dual-stack service has the same pods in an
/// IPv4 and an IPv6 slice).
pub fn endpoint_counts<'a>(slices: impl IntoIterator<Item = &'a SliceSummary>) -> EndpointCounts {
    let mut per_type: BTreeMap<&str, EndpointCounts> = BTreeMap::new();
    for s in slices {
        let c = per_type.entry(s.address_type.as_str()).or_default();
        c.ready = c.ready.saturating_add(s.ready);
        c.not_ready = c.not_ready.saturating_add(s.not_ready);
    }
    per_type
        .into_values()
        .max_by_key(|c| (c.ready.saturating_add(c.not_ready), c.ready))
        .unwrap_or_default()
}

/// One Ingress path that routes to a service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngressRoute {
    pub ingress: String,
    pub service: String,
    pub service_port: String,
    pub host: Option<String>,
    pub path: String,
    pub tls: bool,
    pub url: Option<String>,
}

/// Every (host, path) → service route of an Ingress, the default backend
/// included (path `/`, no host).
pub fn ingress_routes(ingress: &Ingress) -> Vec<IngressRoute> {
    let name = ingress.metadata.name.clone().unwrap_or_default();
    let Some(spec) = ingress.spec.as_ref() else {
        return Vec::new();
    };
    let tls_hosts: Vec<&str> = spec
        .tls
        .iter()
        .flatten()
        .flat_map(|t| t.hosts.iter().flatten().map(String::as_str))
        .collect();
    // A TLS entry without hosts covers the hostless rules.
    let tls_any = spec
        .tls
        .iter()
        .flatten()
        .any(|t| t.hosts.as_ref().is_none_or(Vec::is_empty));
    let lb_address = ingress
        .status
        .as_ref()
        .and_then(|s| s.load_balancer.as_ref())
        .and_then(|lb| lb.ingress.as_ref())
        .and_then(|i| i.first())
        .and_then(|i| i.hostname.clone().or_else(|| i.ip.clone()));
    let route = |host: Option<&str>,
                 path: &str,
                 backend: &k8s_openapi::api::networking::v1::IngressBackend|
     -> Option<IngressRoute> {
        let svc = backend.service.as_ref()?;
        let port = svc.port.as_ref();
        let service_port = port
            .and_then(|p| p.name.clone().filter(|n| !n.is_empty()))
            .or_else(|| port.and_then(|p| p.number).map(|n| n.to_string()))
            .unwrap_or_default();
        let tls = match host {
            Some(h) => tls_hosts.iter().any(|t| host_matches(t, h)),
            None => tls_any,
        };
        let scheme = if tls { "https" } else { "http" };
        let path = if path.is_empty() { "/" } else { path };
        let url = match host {
            Some(h) if !h.contains('*') => Some(format!("{scheme}://{h}{path}")),
            Some(_) => None,
            None => lb_address
                .as_ref()
                .map(|a| format!("{scheme}://{}{path}", bracket(a))),
        };
        Some(IngressRoute {
            ingress: name.clone(),
            service: svc.name.clone(),
            service_port,
            host: host.map(str::to_owned),
            path: path.to_owned(),
            tls,
            url,
        })
    };
    let mut out = Vec::new();
    if let Some(backend) = spec.default_backend.as_ref() {
        out.extend(route(None, "/", backend));
    }
    for rule in spec.rules.iter().flatten() {
        let host = rule.host.as_deref().filter(|h| !h.is_empty());
        for p in rule.http.iter().flat_map(|h| h.paths.iter()) {
            out.extend(route(host, p.path.as_deref().unwrap_or("/"), &p.backend));
        }
    }
    out
}

/// `*.example.com` covers `a.example.com`; otherwise equal names.
fn host_matches(pattern: &str, host: &str) -> bool {
    match pattern.strip_prefix("*.") {
        Some(suffix) => host
            .split_once('.')
            .is_some_and(|(_, rest)| rest.eq_ignore_ascii_case(suffix)),
        None => pattern.eq_ignore_ascii_case(host),
    }
}

fn bracket(address: &str) -> String {
    if address.contains(':') && !address.starts_with('[') {
        format!("[{address}]")
    } else {
        address.to_owned()
    }
}

/// The address NodePorts are reached at: ExternalIP, else InternalIP.
pub fn node_address(node: &Node) -> Option<(String, String)> {
    let name = node.metadata.name.clone()?;
    let addresses = node.status.as_ref()?.addresses.as_ref()?;
    let pick = |t: &str| {
        addresses
            .iter()
            .find(|a| a.type_ == t)
            .map(|a| a.address.clone())
    };
    let address = pick("ExternalIP").or_else(|| pick("InternalIP"))?;
    Some((name, address))
}

/// What a service's view needs besides the service.
#[derive(Debug, Clone, Copy, Default)]
pub struct Aux<'a> {
    /// `None`: unknown (slices not readable or not listed yet).
    pub endpoints: Option<EndpointCounts>,
    pub routes: &'a [IngressRoute],
    /// (node, address) for NodePorts.
    pub nodes: &'a [(String, String)],
}

/// A service as the list shows it.
pub fn service_view(base: &UrlBase, service: &Service, aux: Aux<'_>) -> ServiceView {
    let meta = &service.metadata;
    let empty = k8s_openapi::api::core::v1::ServiceSpec::default();
    let spec = service.spec.as_ref().unwrap_or(&empty);
    let service_type = spec.type_.clone().unwrap_or_else(|| "ClusterIP".to_owned());
    let external_name_type = service_type == "ExternalName";
    let headless = spec.cluster_ip.as_deref() == Some("None");
    let cluster_ip = spec
        .cluster_ip
        .clone()
        .filter(|ip| !ip.is_empty() && ip != "None");
    let not_proxyable = urls::service_refusal(service);
    let ports: Vec<ServicePortView> = spec
        .ports
        .iter()
        .flatten()
        .map(|p| port_view(base, service, p))
        .collect();
    let mut external = Vec::new();
    if let Some(urls::NotProxyable::ExternalName { external_name, url }) = &not_proxyable {
        external.push(ExternalEndpoint::ExternalName {
            external_name: external_name.clone(),
            url: url.clone(),
        });
    }
    let lb_addresses: Vec<String> = service
        .status
        .as_ref()
        .and_then(|s| s.load_balancer.as_ref())
        .and_then(|lb| lb.ingress.as_ref())
        .into_iter()
        .flatten()
        .filter_map(|i| i.ip.clone().or_else(|| i.hostname.clone()))
        .collect();
    let tcp_ports: Vec<&ServicePort> = spec
        .ports
        .iter()
        .flatten()
        .filter(|p| PortSpec::from(*p).protocol() == "TCP")
        .collect();
    if service_type == "LoadBalancer" {
        for address in &lb_addresses {
            for p in &tcp_ports {
                let s = PortSpec::from(*p);
                external.push(ExternalEndpoint::LoadBalancer {
                    address: address.clone(),
                    port: p.port,
                    service_port: s.reference(),
                    url: urls::external_url(address, p.port, s.is_https()),
                });
            }
        }
    }
    for address in spec.external_ips.iter().flatten() {
        for p in &tcp_ports {
            let s = PortSpec::from(*p);
            external.push(ExternalEndpoint::ExternalIp {
                address: address.clone(),
                port: p.port,
                service_port: s.reference(),
                url: urls::external_url(address, p.port, s.is_https()),
            });
        }
    }
    if matches!(service_type.as_str(), "NodePort" | "LoadBalancer") {
        for p in &tcp_ports {
            let Some(node_port) = p.node_port else {
                continue;
            };
            let s = PortSpec::from(*p);
            for (node, address) in aux.nodes {
                external.push(ExternalEndpoint::NodePort {
                    node: node.clone(),
                    address: address.clone(),
                    node_port,
                    service_port: s.reference(),
                    url: urls::external_url(address, node_port, s.is_https()),
                });
            }
        }
    }
    for r in aux.routes {
        external.push(ExternalEndpoint::Ingress {
            ingress: r.ingress.clone(),
            host: r.host.clone(),
            path: r.path.clone(),
            tls: r.tls,
            service_port: r.service_port.clone(),
            url: r.url.clone(),
        });
    }
    ServiceView {
        namespace: meta.namespace.clone().unwrap_or_default(),
        name: meta.name.clone().unwrap_or_default(),
        service_type,
        headless,
        cluster_ip,
        external_name: spec.external_name.clone().filter(|_| external_name_type),
        ports,
        endpoints: if external_name_type {
            None
        } else {
            aux.endpoints
        },
        external,
        not_proxyable,
        cluster_service: meta
            .labels
            .as_ref()
            .and_then(|l| l.get(CLUSTER_SERVICE_LABEL))
            .is_some_and(|v| v == "true"),
        created: meta.creation_timestamp.as_ref().map(|t| t.0.to_string()),
    }
}

fn port_view(base: &UrlBase, service: &Service, p: &ServicePort) -> ServicePortView {
    let spec = PortSpec::from(p);
    let kind = port_kind::classify(spec.name, p.port, spec.app_protocol);
    ServicePortView {
        name: spec.name.map(str::to_owned),
        port: p.port,
        target_port: p.target_port.as_ref().map(|t| match t {
            IntOrString::Int(n) => n.to_string(),
            IntOrString::String(s) => s.clone(),
        }),
        protocol: spec.protocol(),
        app_protocol: p.app_protocol.clone(),
        node_port: p.node_port,
        kind,
        http: kind.is_http(),
        access: urls::port_access(base, service, p),
    }
}

/// A pod with a link per TCP container port.
pub fn pod_view(base: &UrlBase, pod: &Pod) -> PodView {
    let namespace = pod.metadata.namespace.clone().unwrap_or_default();
    let name = pod.metadata.name.clone().unwrap_or_default();
    let status = pod.status.as_ref();
    let mut ports = Vec::new();
    for c in pod.spec.iter().flat_map(|s| s.containers.iter()) {
        for p in c.ports.iter().flatten() {
            let protocol = p
                .protocol
                .clone()
                .unwrap_or_else(|| "TCP".to_owned())
                .to_ascii_uppercase();
            if protocol != "TCP" {
                continue;
            }
            let port_name = p.name.clone().filter(|n| !n.is_empty());
            let https = urls::is_https(port_name.as_deref(), p.container_port, None);
            ports.push(PodPortView {
                container: c.name.clone(),
                name: port_name,
                port: Some(p.container_port),
                protocol,
                urls: urls::pod_urls(
                    base,
                    &namespace,
                    &name,
                    Some(&p.container_port.to_string()),
                    https,
                ),
            });
        }
    }
    if ports.is_empty() {
        ports.push(PodPortView {
            container: String::new(),
            name: None,
            port: None,
            protocol: "TCP".to_owned(),
            urls: urls::pod_urls(base, &namespace, &name, None, false),
        });
    }
    PodView {
        ready: status
            .and_then(|s| s.conditions.as_ref())
            .and_then(|c| c.iter().find(|c| c.type_ == "Ready"))
            .is_some_and(|c| c.status == "True"),
        phase: status.and_then(|s| s.phase.clone()),
        pod_ip: status.and_then(|s| s.pod_ip.clone()),
        node: pod.spec.as_ref().and_then(|s| s.node_name.clone()),
        ports,
        namespace,
        name,
    }
}

/// A node with its addresses and kubelet link.
pub fn node_view(base: &UrlBase, node: &Node) -> NodeView {
    let name = node.metadata.name.clone().unwrap_or_default();
    let status = node.status.as_ref();
    let mut roles: Vec<String> = node
        .metadata
        .labels
        .iter()
        .flatten()
        .filter_map(|(k, _)| k.strip_prefix("node-role.kubernetes.io/"))
        .filter(|r| !r.is_empty())
        .map(str::to_owned)
        .collect();
    roles.sort();
    NodeView {
        addresses: status
            .and_then(|s| s.addresses.as_ref())
            .into_iter()
            .flatten()
            .map(|a| NodeAddressView {
                address_type: a.type_.clone(),
                address: a.address.clone(),
            })
            .collect(),
        ready: status
            .and_then(|s| s.conditions.as_ref())
            .and_then(|c| c.iter().find(|c| c.type_ == "Ready"))
            .map(|c| c.status == "True"),
        roles,
        kubelet_version: status
            .and_then(|s| s.node_info.as_ref())
            .map(|i| i.kubelet_version.clone())
            .filter(|v| !v.is_empty()),
        urls: urls::node_urls(base, &name),
        name,
    }
}

/// The endpoints of a service's slices (one per endpoint, not per family
/// duplicate: endpoints with the same pod are merged).
pub fn endpoint_views(slices: &[EndpointSlice]) -> Vec<EndpointView> {
    let mut by_pod: HashMap<String, usize> = HashMap::new();
    let mut out: Vec<EndpointView> = Vec::new();
    for slice in slices {
        for e in slice.endpoints.iter().flatten() {
            let conditions = e.conditions.clone().unwrap_or_default();
            let pod = e
                .target_ref
                .as_ref()
                .filter(|r| r.kind.as_deref() == Some("Pod"))
                .and_then(|r| r.name.clone());
            if let Some(p) = &pod
                && let Some(i) = by_pod.get(p)
                && let Some(existing) = out.get_mut(*i)
            {
                existing.addresses.extend(e.addresses.iter().cloned());
                continue;
            }
            if let Some(p) = &pod {
                by_pod.insert(p.clone(), out.len());
            }
            out.push(EndpointView {
                addresses: e.addresses.clone(),
                ready: endpoint_ready(e),
                serving: conditions.serving.unwrap_or(true),
                terminating: conditions.terminating.unwrap_or(false),
                pod,
                node: e.node_name.clone(),
            });
        }
    }
    out
}

/// Also the fixtures of the other discovery modules' tests.
#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    pub(crate) fn base() -> UrlBase {
        UrlBase::new("ctx", "https://127.0.0.1:6443", 8001)
    }

    /// A Kubernetes object from its JSON.
    pub(crate) fn from<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> T {
        serde_json::from_value(v).expect("valid object")
    }

    #[test]
    fn slices_count_ready_endpoints_once_per_family() {
        let slice = |ty: &str, ready: &[Option<bool>]| -> EndpointSlice {
            from(json!({
                "metadata": { "name": "x", "labels": { SERVICE_NAME_LABEL: "web" } },
                "addressType": ty,
                "endpoints": ready.iter().map(|r| {
                    let mut e = json!({ "addresses": ["10.0.0.1"] });
                    if let Some(r) = r { e["conditions"] = json!({ "ready": r }); }
                    e
                }).collect::<Vec<_>>(),
            }))
        };
        let v4a = slice_summary(&slice("IPv4", &[Some(true), None, Some(false)]));
        let v4b = slice_summary(&slice("IPv4", &[Some(true)]));
        let v6 = slice_summary(&slice("IPv6", &[Some(true), Some(true), Some(false)]));
        let all: Vec<SliceSummary> = [v4a, v4b, v6].into_iter().flatten().collect();
        assert_eq!(
            endpoint_counts(&all),
            EndpointCounts {
                ready: 3,
                not_ready: 1
            }
        );
        assert_eq!(endpoint_counts(&[]), EndpointCounts::default());
        let unlabelled: EndpointSlice =
            from(json!({ "metadata": { "name": "y" }, "addressType": "IPv4", "endpoints": [] }));
        assert_eq!(slice_summary(&unlabelled), None);
    }

    #[test]
    fn ingress_routes_with_tls_default_backend_and_wildcards() {
        let ing: Ingress = from(json!({
            "metadata": { "name": "web", "namespace": "default" },
            "spec": {
                "defaultBackend": { "service": { "name": "fallback", "port": { "number": 80 } } },
                "tls": [{ "hosts": ["web.example", "*.apps.example"] }],
                "rules": [
                    { "host": "web.example", "http": { "paths": [
                        { "path": "/", "pathType": "Prefix", "backend": { "service": { "name": "spa", "port": { "name": "http" } } } },
                        { "path": "/echo", "pathType": "Prefix", "backend": { "service": { "name": "echo", "port": { "number": 80 } } } },
                    ] } },
                    { "host": "plain.example", "http": { "paths": [
                        { "pathType": "Prefix", "backend": { "service": { "name": "spa", "port": { "number": 80 } } } },
                    ] } },
                    { "host": "*.apps.example", "http": { "paths": [
                        { "path": "/", "pathType": "Prefix", "backend": { "service": { "name": "spa", "port": { "number": 80 } } } },
                    ] } },
                ],
            },
            "status": { "loadBalancer": { "ingress": [{ "ip": "10.1.2.3" }] } },
        }));
        let routes = ingress_routes(&ing);
        let urls: Vec<(String, Option<String>, bool)> = routes
            .iter()
            .map(|r| (r.service.clone(), r.url.clone(), r.tls))
            .collect();
        assert_eq!(
            urls,
            vec![
                ("fallback".into(), Some("http://10.1.2.3/".into()), false),
                ("spa".into(), Some("https://web.example/".into()), true),
                ("echo".into(), Some("https://web.example/echo".into()), true),
                ("spa".into(), Some("http://plain.example/".into()), false),
                ("spa".into(), None, true),
            ]
        );
        assert_eq!(routes[1].service_port, "http");
        assert_eq!(routes[2].service_port, "80");
    }

    #[test]
    fn services_of_every_shape() {
        let nodes = vec![
            ("node-1".to_owned(), "10.0.0.3".to_owned()),
            ("node-2".to_owned(), "10.0.0.4".to_owned()),
        ];
        let np: Service = from(json!({
            "metadata": { "name": "nodeport", "namespace": "default",
                          "labels": { CLUSTER_SERVICE_LABEL: "true" } },
            "spec": { "type": "NodePort", "clusterIP": "10.96.1.1",
                      "ports": [{ "name": "http", "port": 80, "targetPort": 8080, "nodePort": 30080 }] },
        }));
        let v = service_view(
            &base(),
            &np,
            Aux {
                endpoints: Some(EndpointCounts {
                    ready: 1,
                    not_ready: 0,
                }),
                routes: &[],
                nodes: &nodes,
            },
        );
        assert_eq!(v.service_type, "NodePort");
        assert!(v.cluster_service && !v.headless);
        assert_eq!(v.cluster_ip.as_deref(), Some("10.96.1.1"));
        assert_eq!(v.ports[0].target_port.as_deref(), Some("8080"));
        assert_eq!(v.ports[0].node_port, Some(30080));
        assert_eq!(
            v.external
                .iter()
                .filter_map(ExternalEndpoint::url)
                .collect::<Vec<_>>(),
            vec!["http://10.0.0.3:30080/", "http://10.0.0.4:30080/"]
        );
        let lb: Service = from(json!({
            "metadata": { "name": "lb", "namespace": "default" },
            "spec": { "type": "LoadBalancer", "ports": [{ "name": "https", "port": 443, "nodePort": 31443 }] },
            "status": { "loadBalancer": { "ingress": [{ "hostname": "lb.example" }] } },
        }));
        let v = service_view(&base(), &lb, Aux::default());
        assert_eq!(
            v.external,
            vec![ExternalEndpoint::LoadBalancer {
                address: "lb.example".into(),
                port: 443,
                service_port: "https".into(),
                url: "https://lb.example/".into()
            }]
        );
        assert_eq!(v.endpoints, None);
        let ext: Service = from(json!({
            "metadata": { "name": "x", "namespace": "default" },
            "spec": { "type": "ExternalName", "externalName": "db.example" },
        }));
        let v = service_view(
            &base(),
            &ext,
            Aux {
                endpoints: Some(EndpointCounts::default()),
                ..Aux::default()
            },
        );
        assert_eq!(v.external_name.as_deref(), Some("db.example"));
        assert_eq!(v.endpoints, None, "ExternalName has no endpoints to count");
        assert!(v.not_proxyable.is_some() && v.first_urls().is_none());
        assert!(matches!(
            v.external.first(),
            Some(ExternalEndpoint::ExternalName { url: Some(u), .. }) if u == "http://db.example/"
        ));
        let headless: Service = from(json!({
            "metadata": { "name": "h", "namespace": "default" },
            "spec": { "clusterIP": "None", "ports": [{ "port": 80 }] },
        }));
        let v = service_view(&base(), &headless, Aux::default());
        assert!(v.headless && v.cluster_ip.is_none() && v.not_proxyable.is_none());
        assert_eq!(
            v.first_urls().map(|u| u.apiserver_path.as_str()),
            Some("/api/v1/namespaces/default/services/h:80/proxy/")
        );
    }

    #[test]
    fn pods_and_nodes_get_proxy_links() {
        let pod: Pod = from(json!({
            "metadata": { "name": "echo-0", "namespace": "default" },
            "spec": { "nodeName": "node-1", "containers": [{ "name": "echo", "ports": [
                { "containerPort": 8080 }, { "containerPort": 53, "protocol": "UDP" },
                { "name": "https", "containerPort": 8443 },
            ] }] },
            "status": { "phase": "Running", "podIP": "10.0.0.9",
                        "conditions": [{ "type": "Ready", "status": "True" }] },
        }));
        let v = pod_view(&base(), &pod);
        assert!(v.ready);
        assert_eq!(v.ports.len(), 2, "UDP has no HTTP link");
        assert_eq!(
            v.ports[1].urls.apiserver_path,
            "/api/v1/namespaces/default/pods/https:echo-0:8443/proxy/"
        );
        let node: Node = from(json!({
            "metadata": { "name": "node-1", "labels": { "node-role.kubernetes.io/control-plane": "" } },
            "status": { "addresses": [
                { "type": "InternalIP", "address": "10.0.0.3" },
                { "type": "Hostname", "address": "node-1" },
            ], "conditions": [{ "type": "Ready", "status": "True" }] },
        }));
        let v = node_view(&base(), &node);
        assert_eq!(v.roles, vec!["control-plane"]);
        assert_eq!(v.ready, Some(true));
        assert_eq!(
            node_address(&node),
            Some(("node-1".into(), "10.0.0.3".into()))
        );
    }
}
