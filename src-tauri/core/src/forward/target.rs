//! What a forward reaches, and how a request for one becomes a route: a
//! fixed Pod and port, or a service port whose Pod is chosen per
//! connection from the live endpoints. `TYPE/NAME` resolution follows
//! kubectl: `svc/`, `pod/` (or a bare name), and the workloads with a
//! selector (`deploy/`, `rs/`, `sts/`, `ds/`), which resolve to one of
//! their running Pods.

use std::fmt;
use std::time::Duration;

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::core::v1::{Pod, Service};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::Api;
use kube::api::ListParams;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::error::ForwardError;
use crate::cluster::client::ClusterClient;

/// How long an API read while starting a forward may take.
const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// The kinds a forward can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum TargetKind {
    Service,
    Pod,
    Deployment,
    ReplicaSet,
    StatefulSet,
    DaemonSet,
}

impl TargetKind {
    /// kubectl's spellings: `svc`, `service`, `services`, `deploy`, ...
    pub fn parse(word: &str) -> Option<Self> {
        let word = word.to_ascii_lowercase();
        let word = word.split('.').next().unwrap_or_default();
        Some(match word {
            "svc" | "service" | "services" => Self::Service,
            "po" | "pod" | "pods" => Self::Pod,
            "deploy" | "deployment" | "deployments" => Self::Deployment,
            "rs" | "replicaset" | "replicasets" => Self::ReplicaSet,
            "sts" | "statefulset" | "statefulsets" => Self::StatefulSet,
            "ds" | "daemonset" | "daemonsets" => Self::DaemonSet,
            _ => return None,
        })
    }

    pub fn short(self) -> &'static str {
        match self {
            Self::Service => "svc",
            Self::Pod => "pod",
            Self::Deployment => "deploy",
            Self::ReplicaSet => "rs",
            Self::StatefulSet => "sts",
            Self::DaemonSet => "ds",
        }
    }
}

/// A named object in a namespace.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Target {
    pub namespace: String,
    pub kind: TargetKind,
    pub name: String,
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.namespace, self.kind.short(), self.name)
    }
}

/// A remote port: a number, or a port name (the service's port name for a
/// service, a container port name for a Pod).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(untagged)]
#[ts(export)]
pub enum RemotePort {
    Number(u16),
    Name(String),
}

impl RemotePort {
    pub fn parse(text: &str) -> Self {
        match text.parse::<u16>() {
            Ok(n) => Self::Number(n),
            Err(_) => Self::Name(text.to_owned()),
        }
    }
}

impl fmt::Display for RemotePort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Number(n) => write!(f, "{n}"),
            Self::Name(n) => f.write_str(n),
        }
    }
}

/// Where a forward's connections go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// Always this Pod and port.
    Pod { pod: String, port: u16 },
    /// A service port: each connection goes to a ready endpoint Pod, on the
    /// port the endpoints give for `port_name` (the service port's name,
    /// `None` for an unnamed single port).
    Service {
        service: String,
        port_name: Option<String>,
        /// The service port (what the user named).
        service_port: u16,
        /// What the service says the Pod port is, when it says a number
        /// (a named target port is only known from the endpoints).
        target_hint: Option<u16>,
    },
}

/// Resolves `target`/`remote` against the cluster. A service with `heal`
/// stays a [`Route::Service`]; without it, it is pinned to one Pod as
/// kubectl does.
pub async fn resolve(
    client: &ClusterClient,
    target: &Target,
    remote: &RemotePort,
    heal: bool,
) -> Result<Route, ForwardError> {
    let kube = client.kube_client(&target.namespace);
    let ns = target.namespace.as_str();
    match target.kind {
        TargetKind::Pod => {
            let pod = get::<Pod>(&kube, ns, &target.name, "pod")
                .await?
                .ok_or_else(|| ForwardError::PodNotFound {
                    namespace: ns.to_owned(),
                    name: target.name.clone(),
                })?;
            pod_route(&pod, remote)
        }
        TargetKind::Service => {
            let svc = get::<Service>(&kube, ns, &target.name, "service")
                .await?
                .ok_or_else(|| ForwardError::ServiceNotFound {
                    namespace: ns.to_owned(),
                    name: target.name.clone(),
                })?;
            let route = service_route(&svc, remote)?;
            if heal {
                // Healing would wait for endpoints that never come; pinned,
                // kubectl's "defined without a selector" says it.
                if svc.spec.as_ref().and_then(|s| s.type_.as_deref()) == Some("ExternalName") {
                    return Err(ForwardError::ExternalName {
                        namespace: ns.to_owned(),
                        name: target.name.clone(),
                    });
                }
                return Ok(route);
            }
            let selector = svc
                .spec
                .as_ref()
                .and_then(|s| s.selector.clone())
                .filter(|s| !s.is_empty())
                .ok_or_else(|| ForwardError::NoSelector {
                    namespace: ns.to_owned(),
                    name: target.name.clone(),
                })?;
            let selector = selector
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(",");
            let pod = first_running_pod(&kube, ns, &selector, &target.to_string()).await?;
            pin_service_route(&route, &pod, &svc)
        }
        kind => {
            let selector = workload_selector(&kube, target, kind).await?;
            let pod = first_running_pod(&kube, ns, &selector, &target.to_string()).await?;
            pod_route(&pod, remote)
        }
    }
}

async fn get<K>(
    kube: &kube::Client,
    namespace: &str,
    name: &str,
    what: &str,
) -> Result<Option<K>, ForwardError>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
        + Clone
        + serde::de::DeserializeOwned
        + fmt::Debug,
{
    let api: Api<K> = Api::namespaced(kube.clone(), namespace);
    match tokio::time::timeout(READ_TIMEOUT, api.get_opt(name)).await {
        Ok(Ok(found)) => Ok(found),
        Ok(Err(e)) => Err(api_error(e, &format!("{what} {namespace}/{name}"))),
        Err(_) => Err(ForwardError::Unreachable(format!(
            "reading {what} {namespace}/{name} took longer than {} s",
            READ_TIMEOUT.as_secs()
        ))),
    }
}

fn api_error(e: kube::Error, what: &str) -> ForwardError {
    match e {
        kube::Error::Api(status) if status.code == 403 => ForwardError::Forbidden(status.message),
        kube::Error::Api(status) => ForwardError::Api {
            what: what.to_owned(),
            detail: status.message,
        },
        other => ForwardError::Unreachable(other.to_string()),
    }
}

/// A Pod's port: a number as it is, a name from its containers' ports.
fn pod_route(pod: &Pod, remote: &RemotePort) -> Result<Route, ForwardError> {
    let name = pod.metadata.name.clone().unwrap_or_default();
    let phase = pod
        .status
        .as_ref()
        .and_then(|s| s.phase.clone())
        .unwrap_or_default();
    if phase != "Running" {
        return Err(ForwardError::PodNotRunning { phase });
    }
    let port = match remote {
        RemotePort::Number(n) => *n,
        RemotePort::Name(port_name) => {
            container_port(pod, port_name).ok_or_else(|| ForwardError::NoSuchPodPort {
                name: name.clone(),
                port: port_name.clone(),
            })?
        }
    };
    if container_protocol(pod, port).as_deref() == Some("UDP") {
        return Err(ForwardError::Udp(port.to_string()));
    }
    Ok(Route::Pod { pod: name, port })
}

fn container_ports(pod: &Pod) -> impl Iterator<Item = &k8s_openapi::api::core::v1::ContainerPort> {
    pod.spec
        .iter()
        .flat_map(|s| s.containers.iter())
        .flat_map(|c| c.ports.iter().flatten())
}

fn container_port(pod: &Pod, name: &str) -> Option<u16> {
    container_ports(pod)
        .find(|p| p.name.as_deref() == Some(name))
        .and_then(|p| u16::try_from(p.container_port).ok())
}

/// The protocol of a declared container port, when every declaration of
/// that number says UDP (kubectl refuses only UDP-only ports).
fn container_protocol(pod: &Pod, port: u16) -> Option<String> {
    let mut protocols = container_ports(pod)
        .filter(|p| p.container_port == i32::from(port))
        .map(|p| p.protocol.clone().unwrap_or_else(|| "TCP".into()));
    let first = protocols.next()?;
    if protocols.all(|p| p == first) {
        Some(first)
    } else {
        None
    }
}

/// A service port by number or name (TCP only).
fn service_route(svc: &Service, remote: &RemotePort) -> Result<Route, ForwardError> {
    let name = svc.metadata.name.clone().unwrap_or_default();
    let ports = svc
        .spec
        .as_ref()
        .and_then(|s| s.ports.as_ref())
        .map(Vec::as_slice)
        .unwrap_or_default();
    let matches = |p: &&k8s_openapi::api::core::v1::ServicePort| match remote {
        RemotePort::Number(n) => p.port == i32::from(*n),
        RemotePort::Name(n) => p.name.as_deref() == Some(n.as_str()),
    };
    let tcp = ports
        .iter()
        .filter(matches)
        .find(|p| p.protocol.as_deref().unwrap_or("TCP") == "TCP");
    let Some(port) = tcp else {
        if ports.iter().any(|p| matches(&p)) {
            return Err(ForwardError::Udp(format!("service port {remote}")));
        }
        return Err(ForwardError::NoSuchServicePort {
            name,
            port: remote.to_string(),
        });
    };
    let target_hint = match &port.target_port {
        Some(k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(n)) => {
            u16::try_from(*n).ok().filter(|n| *n > 0)
        }
        Some(_) => None,
        None => u16::try_from(port.port).ok(),
    };
    Ok(Route::Service {
        service: name,
        port_name: port.name.clone().filter(|n| !n.is_empty()),
        service_port: u16::try_from(port.port).unwrap_or_default(),
        target_hint,
    })
}

/// A service route pinned to `pod`, its target port resolved the way
/// kubectl does (a named target port from the Pod's container ports).
fn pin_service_route(route: &Route, pod: &Pod, svc: &Service) -> Result<Route, ForwardError> {
    let Route::Service {
        service_port,
        target_hint,
        ..
    } = route
    else {
        return Ok(route.clone());
    };
    let pod_name = pod.metadata.name.clone().unwrap_or_default();
    let port = match target_hint {
        Some(n) => *n,
        None => {
            let target_name = svc
                .spec
                .iter()
                .flat_map(|s| s.ports.iter().flatten())
                .find(|p| p.port == i32::from(*service_port))
                .and_then(|p| match &p.target_port {
                    Some(k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String(s)) => {
                        Some(s.clone())
                    }
                    _ => None,
                })
                .unwrap_or_default();
            container_port(pod, &target_name).ok_or_else(|| ForwardError::NoSuchPodPort {
                name: pod_name.clone(),
                port: target_name,
            })?
        }
    };
    Ok(Route::Pod {
        pod: pod_name,
        port,
    })
}

/// The selector of a workload, as a label selector string.
async fn workload_selector(
    kube: &kube::Client,
    target: &Target,
    kind: TargetKind,
) -> Result<String, ForwardError> {
    let ns = target.namespace.as_str();
    let name = target.name.as_str();
    let selector: Option<LabelSelector> = match kind {
        TargetKind::Deployment => get::<Deployment>(kube, ns, name, "deployment")
            .await?
            .map(|o| o.spec.selector),
        TargetKind::ReplicaSet => get::<ReplicaSet>(kube, ns, name, "replicaset")
            .await?
            .map(|o| o.spec.selector),
        TargetKind::StatefulSet => get::<StatefulSet>(kube, ns, name, "statefulset")
            .await?
            .map(|o| o.spec.selector),
        TargetKind::DaemonSet => get::<DaemonSet>(kube, ns, name, "daemonset")
            .await?
            .map(|o| o.spec.selector),
        TargetKind::Service | TargetKind::Pod => None,
    };
    let selector = selector.ok_or_else(|| ForwardError::WorkloadNotFound {
        kind: kind.short().to_owned(),
        namespace: ns.to_owned(),
        name: name.to_owned(),
    })?;
    Ok(selector_string(&selector))
}

fn selector_string(selector: &LabelSelector) -> String {
    let mut parts: Vec<String> = selector
        .match_labels
        .iter()
        .flatten()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    for e in selector.match_expressions.iter().flatten() {
        let values = e.values.clone().unwrap_or_default().join(",");
        parts.push(match e.operator.as_str() {
            "In" => format!("{} in ({values})", e.key),
            "NotIn" => format!("{} notin ({values})", e.key),
            "Exists" => e.key.clone(),
            _ => format!("!{}", e.key),
        });
    }
    parts.join(",")
}

/// The Pod kubectl would pick: running and ready first, then by name.
async fn first_running_pod(
    kube: &kube::Client,
    namespace: &str,
    selector: &str,
    what: &str,
) -> Result<Pod, ForwardError> {
    let api: Api<Pod> = Api::namespaced(kube.clone(), namespace);
    let list = tokio::time::timeout(
        READ_TIMEOUT,
        api.list(&ListParams::default().labels(selector)),
    )
    .await
    .map_err(|_| ForwardError::Unreachable(format!("listing the pods of {what} timed out")))?
    .map_err(|e| api_error(e, &format!("the pods of {what}")))?;
    let mut pods: Vec<Pod> = list
        .items
        .into_iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .collect();
    pods.sort_by_key(|p| (!is_running(p), !is_ready(p), p.metadata.name.clone()));
    let first = pods
        .into_iter()
        .next()
        .ok_or_else(|| ForwardError::NoRunningPod {
            what: what.to_owned(),
        })?;
    // Pods that are there but not running are named by their phase, as
    // kubectl does (it takes the best one and finds it is not running);
    // `NoRunningPod` means none at all, which a caller may wait out.
    if !is_running(&first) {
        return Err(ForwardError::PodNotRunning {
            phase: pod_phase(&first),
        });
    }
    Ok(first)
}

fn pod_phase(pod: &Pod) -> String {
    pod.status
        .as_ref()
        .and_then(|s| s.phase.clone())
        .unwrap_or_default()
}

fn is_running(pod: &Pod) -> bool {
    pod.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running")
}

fn is_ready(pod: &Pod) -> bool {
    pod.status
        .iter()
        .flat_map(|s| s.conditions.iter().flatten())
        .any(|c| c.type_ == "Ready" && c.status == "True")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn svc(ports: serde_json::Value) -> Service {
        serde_json::from_value(json!({
            "metadata": {"name": "db", "namespace": "ns"},
            "spec": {"selector": {"app": "db"}, "ports": ports}
        }))
        .expect("service")
    }

    #[test]
    fn kubectl_spellings_of_kinds_are_understood() {
        assert_eq!(TargetKind::parse("svc"), Some(TargetKind::Service));
        assert_eq!(
            TargetKind::parse("deployment.apps"),
            Some(TargetKind::Deployment)
        );
        assert_eq!(TargetKind::parse("Pods"), Some(TargetKind::Pod));
        assert_eq!(TargetKind::parse("cronjob"), None);
    }

    #[test]
    fn a_service_port_is_found_by_number_or_name() {
        let s = svc(json!([
            {"name": "pg", "port": 5432, "targetPort": "postgres"},
            {"name": "metrics", "port": 9187, "targetPort": 9100}
        ]));
        assert_eq!(
            service_route(&s, &RemotePort::parse("pg")).expect("pg"),
            Route::Service {
                service: "db".into(),
                port_name: Some("pg".into()),
                service_port: 5432,
                target_hint: None
            }
        );
        assert_eq!(
            service_route(&s, &RemotePort::parse("9187")).expect("metrics"),
            Route::Service {
                service: "db".into(),
                port_name: Some("metrics".into()),
                service_port: 9187,
                target_hint: Some(9100)
            }
        );
        let missing = service_route(&s, &RemotePort::parse("81")).expect_err("no port 81");
        assert_eq!(
            missing.to_string(),
            "service db does not have a service port 81"
        );
    }

    #[test]
    fn a_udp_only_service_port_is_refused_by_name() {
        let s = svc(json!([{"name": "dns", "port": 53, "protocol": "UDP"}]));
        let e = service_route(&s, &RemotePort::parse("53")).expect_err("udp");
        assert!(e.to_string().contains("UDP"), "{e}");
    }

    #[test]
    fn a_named_pod_port_comes_from_the_containers() {
        let pod: Pod = serde_json::from_value(json!({
            "metadata": {"name": "db-0"},
            "spec": {"containers": [{"name": "c", "ports": [{"name": "postgres", "containerPort": 5432}]}]},
            "status": {"phase": "Running"}
        }))
        .expect("pod");
        assert_eq!(
            pod_route(&pod, &RemotePort::parse("postgres")).expect("named"),
            Route::Pod {
                pod: "db-0".into(),
                port: 5432
            }
        );
        assert_eq!(
            pod_route(&pod, &RemotePort::parse("7000")).expect("number"),
            Route::Pod {
                pod: "db-0".into(),
                port: 7000
            }
        );
        assert!(pod_route(&pod, &RemotePort::parse("http")).is_err());
    }

    #[test]
    fn a_pod_that_is_not_running_is_refused_like_kubectl() {
        let pod: Pod = serde_json::from_value(json!({
            "metadata": {"name": "db-0"}, "spec": {"containers": []},
            "status": {"phase": "Pending"}
        }))
        .expect("pod");
        assert_eq!(
            pod_route(&pod, &RemotePort::Number(1))
                .expect_err("pending")
                .to_string(),
            "unable to forward port because pod is not running. Current status=Pending"
        );
    }
}
