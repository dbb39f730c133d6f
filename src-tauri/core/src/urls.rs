//! THE URL builder: every link Porthole shows for a service, pod or node is
//! made here, so the apiserver's proxy grammar lives in one place.
//!
//! # The grammar
//!
//! The apiserver proxies a service port at
//!
//! ```text
//! /api/v1/namespaces/NS/services/[https:]NAME[:PORT]/proxy/PATH
//! ```
//!
//! where `PORT` is the service port's **name**, or its **number** when the
//! port has no name. Porthole always writes the port: without it the
//! apiserver picks the port named `""`, which a service whose only port is
//! named does not have (`no endpoints available`, checked on v1.37).
//! Pods use the same grammar under `/pods/`
//! (`[https:]POD[:PORT]`, the container port, default: the pod's first),
//! nodes `/api/v1/nodes/NAME/proxy/` (the kubelet).
//!
//! # The scheme rule
//!
//! `https:` is written — the apiserver then speaks TLS to the pod, without
//! verifying its certificate — when **any** of these holds:
//!
//! - the port is named `https`, ends in `-https` (`web-https`) or starts
//!   with `https-` (`https-web`: Istio's `<protocol>[-<suffix>]` naming);
//! - its `appProtocol` is `https` (any case; also `kubernetes.io/https`);
//! - its number is `443`.
//!
//! Otherwise plain HTTP. The rule looks at the service port (not the target
//! port), as `kubectl cluster-info` does.
//!
//! # What is built
//!
//! For a (context, service, port): the apiserver proxy path and URL, the
//! Porthole URL `http://HOST:PROXYPORT/` with the host from
//! [`crate::proxy::names::service_host`] (the service mounted at `/` of its
//! own origin), and a ready `curl` command. Or, when the apiserver cannot
//! proxy the port, a [`NotProxyable`] reason with what works instead.
//!
//! # What cannot be proxied (observed on kube-apiserver v1.37.2)
//!
//! - **ExternalName**: the apiserver finds a service's backends through its
//!   EndpointSlices and ExternalName services have none: every form
//!   (`name`, `name:443`, `https:name:443`) answers `503 no endpoints
//!   available`. The apiserver never resolves `externalName` (that would let
//!   any user reach any host through it). Porthole offers the external name
//!   itself (`https://search.example:443/`), opened directly.
//! - **No ports** (an ExternalName or headless service without `ports`):
//!   there is nothing to address.
//! - **UDP and SCTP ports**: the proxy speaks HTTP over TCP. The apiserver
//!   does not check the protocol — `kube-dns:dns` (UDP 53) is dialled over
//!   TCP at the endpoint's port 53 — so such a link only "works" when a TCP
//!   server happens to share the number; Porthole offers the TCP port of the
//!   same number when the service has one.
//!
//! **Headless services are proxyable**: the apiserver does not use the
//! cluster IP, it picks a ready endpoint from the EndpointSlices, so
//! `headless:80` answers like any other service while it has endpoints, and
//! `503 no endpoints available` without (the same as a ClusterIP service
//! with no ready pod). Each request may reach a different pod; pod links are
//! offered next to it (see [`pod_urls`]).

use k8s_openapi::api::core::v1::{Service, ServicePort};
use serde::Serialize;
use ts_rs::TS;

use crate::proxy::names::{ServiceTarget, context_host, service_host};

/// The proxy port `kubectl proxy` and Porthole use by default.
pub const DEFAULT_PROXY_PORT: u16 = 8001;

/// Where links point: the context (for its host names), its apiserver URL
/// (`https://host:6443[/prefix]`, for apiserver URLs) and the local
/// proxy's port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlBase {
    pub context: String,
    /// The apiserver's URL without a trailing slash (the cluster entry's
    /// `server`).
    pub server: String,
    pub proxy_port: u16,
}

impl UrlBase {
    pub fn new(context: &str, server: &str, proxy_port: u16) -> Self {
        Self {
            context: context.to_owned(),
            server: server.trim_end_matches('/').to_owned(),
            proxy_port,
        }
    }

    /// `http://HOST:PORT/` for a Porthole host name.
    fn local(&self, host: &str) -> String {
        format!("http://{host}:{}/", self.proxy_port)
    }
}

/// A service port, as the builder needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortSpec<'a> {
    /// `None` or `""`: an unnamed port (only a single-port service has one).
    pub name: Option<&'a str>,
    pub port: i32,
    /// `TCP` when unset.
    pub protocol: Option<&'a str>,
    pub app_protocol: Option<&'a str>,
}

impl<'a> From<&'a ServicePort> for PortSpec<'a> {
    fn from(p: &'a ServicePort) -> Self {
        Self {
            name: p.name.as_deref().filter(|n| !n.is_empty()),
            port: p.port,
            protocol: p.protocol.as_deref(),
            app_protocol: p.app_protocol.as_deref(),
        }
    }
}

impl PortSpec<'_> {
    /// The port as the apiserver's proxy takes it: the name, else the number.
    pub fn reference(&self) -> String {
        match self.name.filter(|n| !n.is_empty()) {
            Some(name) => name.to_owned(),
            None => self.port.to_string(),
        }
    }

    /// `TCP`, `UDP`, `SCTP` (upper case; unset means TCP).
    pub fn protocol(&self) -> String {
        self.protocol.unwrap_or("TCP").to_ascii_uppercase()
    }

    /// See the module documentation's scheme rule.
    pub fn is_https(&self) -> bool {
        is_https(self.name, self.port, self.app_protocol)
    }
}

/// The scheme rule (see the module documentation): true when the apiserver
/// should speak TLS to the backend.
pub fn is_https(name: Option<&str>, port: i32, app_protocol: Option<&str>) -> bool {
    let named = name.is_some_and(|n| {
        let n = n.to_ascii_lowercase();
        n == "https" || n.ends_with("-https") || n.starts_with("https-")
    });
    let app = app_protocol.is_some_and(|a| {
        let a = a.to_ascii_lowercase();
        a == "https" || a == "kubernetes.io/https"
    });
    named || app || port == 443
}

/// The links of one proxyable service port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ServiceUrls {
    /// `https:` is in the path (the scheme rule matched).
    pub https: bool,
    /// `/api/v1/namespaces/NS/services/[https:]NAME:PORT/proxy/`
    pub apiserver_path: String,
    /// The apiserver's URL plus that path (needs the user's credentials:
    /// for kubectl and scripts, not the browser).
    pub apiserver_url: String,
    /// `http://PORT.SERVICE.NS.CONTEXT.localhost:8001/`: the service at the
    /// root of its own origin through Porthole's proxy.
    pub porthole_url: String,
    /// `curl 'http://…localhost:8001/'`: works while the proxy runs.
    pub curl: String,
}

/// The apiserver proxy target of a service port (name, or number when unnamed).
pub fn service_target(namespace: &str, service: &str, port: &PortSpec<'_>) -> ServiceTarget {
    ServiceTarget {
        namespace: namespace.to_owned(),
        service: service.to_owned(),
        port: port.reference(),
        https: port.is_https(),
    }
}

/// The links of a service port (whether the apiserver can proxy it is
/// [`port_access`]'s question).
pub fn service_urls(
    base: &UrlBase,
    namespace: &str,
    service: &str,
    port: &PortSpec<'_>,
) -> ServiceUrls {
    let target = service_target(namespace, service, port);
    let apiserver_path = format!("{}/", target.proxy_prefix());
    let porthole_url = base.local(&service_host(&base.context, &target));
    ServiceUrls {
        https: target.https,
        apiserver_url: format!("{}{apiserver_path}", base.server),
        curl: curl(&porthole_url),
        apiserver_path,
        porthole_url,
    }
}

/// `curl 'URL'`, the URL quoted for POSIX shells.
pub fn curl(url: &str) -> String {
    format!("curl {}", shell_quote(url))
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Why the apiserver cannot proxy a service (port), and what works instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(tag = "reason", rename_all = "camelCase")]
#[ts(export)]
pub enum NotProxyable {
    /// The apiserver proxies only to EndpointSlice addresses; an
    /// ExternalName service has none. `url` is the external name itself
    /// (scheme by the same rule), opened directly.
    #[serde(rename_all = "camelCase")]
    ExternalName {
        external_name: String,
        url: Option<String>,
    },
    /// The service has no ports.
    NoPorts,
    /// A UDP or SCTP port: the proxy speaks HTTP over TCP.
    /// `tcp_alternative`: a TCP port of the same number on the service.
    #[serde(rename_all = "camelCase")]
    NotTcp {
        protocol: String,
        tcp_alternative: Option<String>,
    },
}

impl NotProxyable {
    /// English wording for the CLI and logs (the UI words it itself).
    pub fn message(&self) -> String {
        match self {
            Self::ExternalName { external_name, url } => format!(
                "ExternalName service: the API server only proxies to endpoints and this service has none; it is an alias for {external_name}{}",
                url.as_ref()
                    .map(|u| format!(" — open {u} directly"))
                    .unwrap_or_default()
            ),
            Self::NoPorts => "the service has no ports to proxy to".to_owned(),
            Self::NotTcp {
                protocol,
                tcp_alternative,
            } => format!(
                "{protocol} port: the API server's proxy speaks HTTP over TCP{}",
                tcp_alternative
                    .as_ref()
                    .map(|p| format!("; use the TCP port {p}"))
                    .unwrap_or_default()
            ),
        }
    }
}

impl std::fmt::Display for NotProxyable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message())
    }
}

/// How a service port can be opened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(tag = "kind", rename_all = "camelCase")]
#[ts(export)]
pub enum PortAccess {
    /// Through the apiserver's proxy (and Porthole's).
    Proxy { urls: ServiceUrls },
    /// Not through the apiserver; `why` says what works instead.
    NotProxyable { why: NotProxyable },
}

impl PortAccess {
    pub fn urls(&self) -> Option<&ServiceUrls> {
        match self {
            Self::Proxy { urls } => Some(urls),
            Self::NotProxyable { .. } => None,
        }
    }
}

/// Why a whole service cannot be proxied, before looking at a port:
/// ExternalName, or no ports.
pub fn service_refusal(service: &Service) -> Option<NotProxyable> {
    let spec = service.spec.as_ref()?;
    if spec.type_.as_deref() == Some("ExternalName") {
        let external_name = spec.external_name.clone().unwrap_or_default();
        let url = spec
            .ports
            .as_ref()
            .and_then(|p| p.first())
            .map(|p| {
                let p = PortSpec::from(p);
                external_url(&external_name, p.port, p.is_https())
            })
            .or_else(|| (!external_name.is_empty()).then(|| format!("http://{external_name}/")));
        return Some(NotProxyable::ExternalName { external_name, url });
    }
    if spec.ports.as_ref().is_none_or(Vec::is_empty) {
        return Some(NotProxyable::NoPorts);
    }
    None
}

/// `http(s)://HOST[:PORT]/`, the default port left out; IPv6 in brackets.
pub fn external_url(host: &str, port: i32, https: bool) -> String {
    let scheme = if https { "https" } else { "http" };
    let host = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_owned()
    };
    match (https, port) {
        (true, 443) | (false, 80) => format!("{scheme}://{host}/"),
        _ => format!("{scheme}://{host}:{port}/"),
    }
}

/// How `port` of `service` can be opened.
pub fn port_access(base: &UrlBase, service: &Service, port: &ServicePort) -> PortAccess {
    if let Some(why) = service_refusal(service) {
        return PortAccess::NotProxyable { why };
    }
    let spec = PortSpec::from(port);
    let protocol = spec.protocol();
    if protocol != "TCP" {
        let tcp_alternative = service
            .spec
            .as_ref()
            .and_then(|s| s.ports.as_ref())
            .and_then(|ports| {
                ports
                    .iter()
                    .map(PortSpec::from)
                    .find(|p| p.port == spec.port && p.protocol() == "TCP")
            })
            .map(|p| p.reference());
        return PortAccess::NotProxyable {
            why: NotProxyable::NotTcp {
                protocol,
                tcp_alternative,
            },
        };
    }
    let namespace = service.metadata.namespace.as_deref().unwrap_or("default");
    let name = service.metadata.name.as_deref().unwrap_or_default();
    PortAccess::Proxy {
        urls: service_urls(base, namespace, name, &spec),
    }
}

/// Why `NS/SVC[:PORT]` does not name a port that can be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortChoiceError {
    #[error("service {service} has no port {wanted:?} (it has: {have})")]
    NoSuchPort {
        service: String,
        wanted: String,
        have: String,
    },
    #[error("{service}: {why}")]
    NotProxyable { service: String, why: NotProxyable },
}

/// The port `wanted` names (a port name or number, as the apiserver takes
/// them), or without one the first port the proxy can open (TCP).
pub fn choose_port<'a>(
    service: &'a Service,
    wanted: Option<&str>,
) -> Result<&'a ServicePort, PortChoiceError> {
    let label = format!(
        "{}/{}",
        service.metadata.namespace.as_deref().unwrap_or_default(),
        service.metadata.name.as_deref().unwrap_or_default()
    );
    if let Some(why) = service_refusal(service) {
        return Err(PortChoiceError::NotProxyable {
            service: label,
            why,
        });
    }
    let ports: &[ServicePort] = service
        .spec
        .as_ref()
        .and_then(|s| s.ports.as_deref())
        .unwrap_or_default();
    match wanted {
        Some(w) => {
            let by_name = ports.iter().find(|p| p.name.as_deref() == Some(w));
            let by_number = || {
                let n: i32 = w.parse().ok()?;
                // Same number on TCP and UDP (DNS): the TCP one.
                ports
                    .iter()
                    .filter(|p| p.port == n)
                    .min_by_key(|p| PortSpec::from(*p).protocol() != "TCP")
            };
            by_name
                .or_else(by_number)
                .ok_or_else(|| PortChoiceError::NoSuchPort {
                    service: label,
                    wanted: w.to_owned(),
                    have: ports
                        .iter()
                        .map(|p| {
                            let s = PortSpec::from(p);
                            format!("{}/{}", s.reference(), s.protocol())
                        })
                        .collect::<Vec<_>>()
                        .join(", "),
                })
        }
        None => ports
            .iter()
            .find(|p| PortSpec::from(*p).protocol() == "TCP")
            .ok_or_else(|| PortChoiceError::NotProxyable {
                service: label,
                why: NotProxyable::NotTcp {
                    protocol: ports
                        .first()
                        .map(|p| PortSpec::from(p).protocol())
                        .unwrap_or_default(),
                    tcp_alternative: None,
                },
            }),
    }
}

/// Links to a pod or node through the apiserver: its path and URL, and the
/// same path on the context's own Porthole host (`CONTEXT.localhost`
/// serves the context's API at `/`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ApiProxyUrls {
    pub apiserver_path: String,
    pub apiserver_url: String,
    pub porthole_url: String,
    pub curl: String,
}

fn api_proxy_urls(base: &UrlBase, path: String) -> ApiProxyUrls {
    let local = base.local(&context_host(&base.context));
    let porthole_url = format!("{}{}", local.trim_end_matches('/'), path);
    ApiProxyUrls {
        apiserver_url: format!("{}{path}", base.server),
        curl: curl(&porthole_url),
        porthole_url,
        apiserver_path: path,
    }
}

/// `/api/v1/namespaces/NS/pods/[https:]POD[:PORT]/proxy/`. `port`: a
/// container port's name or number; `None`: the pod's first port.
pub fn pod_urls(
    base: &UrlBase,
    namespace: &str,
    pod: &str,
    port: Option<&str>,
    https: bool,
) -> ApiProxyUrls {
    let path = format!(
        "/api/v1/namespaces/{namespace}/pods/{}{pod}{}/proxy/",
        if https { "https:" } else { "" },
        port.map(|p| format!(":{p}")).unwrap_or_default()
    );
    api_proxy_urls(base, path)
}

/// `/api/v1/nodes/NODE/proxy/`: the node's kubelet through the apiserver.
pub fn node_urls(base: &UrlBase, node: &str) -> ApiProxyUrls {
    api_proxy_urls(base, format!("/api/v1/nodes/{node}/proxy/"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn base() -> UrlBase {
        UrlBase::new("porthole-admin", "https://127.0.0.1:6443/", 8001)
    }

    fn service(v: serde_json::Value) -> Service {
        serde_json::from_value(v).expect("service JSON")
    }

    fn port(name: Option<&str>, port: i32) -> PortSpec<'_> {
        PortSpec {
            name,
            port,
            protocol: None,
            app_protocol: None,
        }
    }

    #[test]
    fn the_scheme_rule() {
        assert!(is_https(Some("https"), 8443, None));
        assert!(is_https(Some("web-https"), 8443, None));
        assert!(is_https(Some("https-web"), 8443, None));
        assert!(is_https(Some("HTTPS"), 1, None));
        assert!(is_https(None, 443, None));
        assert!(is_https(Some("http"), 8080, Some("https")));
        assert!(is_https(Some("x"), 8080, Some("kubernetes.io/https")));
        assert!(!is_https(Some("http"), 80, None));
        assert!(!is_https(Some("httpsx"), 80, None));
        assert!(!is_https(Some("xhttps"), 80, None));
        assert!(!is_https(None, 8443, Some("http")));
        assert!(!is_https(None, 4430, Some("h2c")));
    }

    #[test]
    fn named_numbered_and_https_ports() {
        let named = service_urls(&base(), "team-a", "api", &port(Some("grpc"), 9090));
        assert_eq!(
            named.apiserver_path,
            "/api/v1/namespaces/team-a/services/api:grpc/proxy/"
        );
        assert_eq!(
            named.apiserver_url,
            "https://127.0.0.1:6443/api/v1/namespaces/team-a/services/api:grpc/proxy/"
        );
        assert_eq!(
            named.porthole_url,
            "http://grpc.api.team-a.porthole-admin.localhost:8001/"
        );
        assert_eq!(
            named.curl,
            "curl 'http://grpc.api.team-a.porthole-admin.localhost:8001/'"
        );
        let unnamed = service_urls(
            &base(),
            "kube-system",
            "elasticsearch-logging",
            &port(None, 9200),
        );
        assert_eq!(
            unnamed.porthole_url,
            "http://9200.elasticsearch-logging.kube-system.porthole-admin.localhost:8001/"
        );
        assert!(!unnamed.https);
        let secure = service_urls(&base(), "default", "secure", &port(Some("https"), 443));
        assert!(secure.https);
        assert_eq!(
            secure.apiserver_path,
            "/api/v1/namespaces/default/services/https:secure:https/proxy/"
        );
        assert_eq!(
            secure.porthole_url,
            "http://https--https.secure.default.porthole-admin.localhost:8001/"
        );
    }

    #[test]
    fn the_porthole_host_round_trips_through_the_proxy_parser() {
        use crate::proxy::names::{HostName, parse_host};
        for (name, number) in [(Some("http"), 80), (None, 9200), (Some("https"), 443)] {
            let p = port(name, number);
            let urls = service_urls(&base(), "ns", "svc", &p);
            let host = urls
                .porthole_url
                .trim_start_matches("http://")
                .split(':')
                .next()
                .unwrap_or_default()
                .to_owned();
            match parse_host(&host) {
                Ok(HostName::Service { target, .. }) => {
                    assert_eq!(target, service_target("ns", "svc", &p));
                    assert_eq!(format!("{}/", target.proxy_prefix()), urls.apiserver_path);
                }
                other => panic!("{host}: {other:?}"),
            }
        }
    }

    #[test]
    fn context_names_that_are_not_labels_and_server_prefixes() {
        let b = UrlBase::new(
            "arn:aws:eks:eu-west-1:1:cluster/x",
            "https://rancher.example/k8s/clusters/c-1",
            18001,
        );
        let urls = service_urls(&b, "ns", "web", &port(Some("http"), 80));
        assert!(
            urls.porthole_url
                .starts_with("http://http.web.ns.arn-aws-eks-eu-west-1-1-cluster-x-"),
            "{}",
            urls.porthole_url
        );
        assert!(urls.porthole_url.ends_with(".localhost:18001/"));
        assert_eq!(
            urls.apiserver_url,
            "https://rancher.example/k8s/clusters/c-1/api/v1/namespaces/ns/services/web:http/proxy/"
        );
    }

    #[test]
    fn external_name_no_ports_and_udp_are_refused_with_what_works() {
        let ext = service(json!({
            "metadata": { "name": "external-name", "namespace": "default" },
            "spec": { "type": "ExternalName", "externalName": "search.porthole.test",
                      "ports": [{ "name": "https", "port": 443 }] }
        }));
        let p = &ext
            .spec
            .as_ref()
            .and_then(|s| s.ports.clone())
            .unwrap_or_default()[0];
        match port_access(&base(), &ext, p) {
            PortAccess::NotProxyable {
                why: NotProxyable::ExternalName { external_name, url },
            } => {
                assert_eq!(external_name, "search.porthole.test");
                assert_eq!(url.as_deref(), Some("https://search.porthole.test/"));
            }
            other => panic!("{other:?}"),
        }
        let legacy = service(json!({
            "metadata": { "name": "legacy", "namespace": "team-b" },
            "spec": { "type": "ExternalName", "externalName": "legacy.porthole.test" }
        }));
        assert!(matches!(
            service_refusal(&legacy),
            Some(NotProxyable::ExternalName { url: Some(u), .. }) if u == "http://legacy.porthole.test/"
        ));
        let portless = service(json!({
            "metadata": { "name": "x", "namespace": "default" },
            "spec": { "clusterIP": "None" }
        }));
        assert_eq!(service_refusal(&portless), Some(NotProxyable::NoPorts));
        let dns = service(json!({
            "metadata": { "name": "kube-dns", "namespace": "kube-system" },
            "spec": { "ports": [
                { "name": "dns", "port": 53, "protocol": "UDP" },
                { "name": "dns-tcp", "port": 53, "protocol": "TCP" },
                { "name": "metrics", "port": 9153, "protocol": "TCP" },
            ] }
        }));
        let ports = dns
            .spec
            .as_ref()
            .and_then(|s| s.ports.clone())
            .unwrap_or_default();
        assert_eq!(
            port_access(&base(), &dns, &ports[0]),
            PortAccess::NotProxyable {
                why: NotProxyable::NotTcp {
                    protocol: "UDP".into(),
                    tcp_alternative: Some("dns-tcp".into())
                }
            }
        );
        assert!(port_access(&base(), &dns, &ports[1]).urls().is_some());
        assert_eq!(
            choose_port(&dns, None).map(|p| p.name.clone()),
            Ok(Some("dns-tcp".into()))
        );
        assert_eq!(
            choose_port(&dns, Some("53")).map(|p| p.name.clone()),
            Ok(Some("dns-tcp".into()))
        );
        assert_eq!(choose_port(&dns, Some("metrics")).map(|p| p.port), Ok(9153));
        assert!(matches!(
            choose_port(&dns, Some("nope")),
            Err(PortChoiceError::NoSuchPort { have, .. }) if have == "dns/UDP, dns-tcp/TCP, metrics/TCP"
        ));
        assert!(matches!(
            choose_port(&ext, None),
            Err(PortChoiceError::NotProxyable { .. })
        ));
    }

    #[test]
    fn headless_services_are_proxyable() {
        let headless = service(json!({
            "metadata": { "name": "headless", "namespace": "default" },
            "spec": { "clusterIP": "None", "ports": [{ "name": "http", "port": 80 }] }
        }));
        let ports = headless
            .spec
            .as_ref()
            .and_then(|s| s.ports.clone())
            .unwrap_or_default();
        let access = port_access(&base(), &headless, &ports[0]);
        assert_eq!(
            access.urls().map(|u| u.apiserver_path.as_str()),
            Some("/api/v1/namespaces/default/services/headless:http/proxy/")
        );
    }

    #[test]
    fn pods_nodes_and_quoting() {
        let pod = pod_urls(&base(), "default", "echo-0", Some("8080"), false);
        assert_eq!(
            pod.apiserver_path,
            "/api/v1/namespaces/default/pods/echo-0:8080/proxy/"
        );
        assert_eq!(
            pod.porthole_url,
            "http://porthole-admin.localhost:8001/api/v1/namespaces/default/pods/echo-0:8080/proxy/"
        );
        let tls = pod_urls(&base(), "default", "secure-0", None, true);
        assert_eq!(
            tls.apiserver_path,
            "/api/v1/namespaces/default/pods/https:secure-0/proxy/"
        );
        let node = node_urls(&base(), "node-1");
        assert_eq!(
            node.apiserver_url,
            "https://127.0.0.1:6443/api/v1/nodes/node-1/proxy/"
        );
        assert_eq!(curl("http://a/'b"), r"curl 'http://a/'\''b'");
        assert_eq!(
            external_url("fd00::1", 8080, false),
            "http://[fd00::1]:8080/"
        );
        assert_eq!(external_url("lb.example", 443, true), "https://lb.example/");
    }
}
