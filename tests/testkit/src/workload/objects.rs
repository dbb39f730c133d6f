//! The API objects of a test workload, as the apiserver would get them from
//! real controllers: the Service, Pods whose status a kubelet would report,
//! and the Endpoints and EndpointSlice an endpoint controller would keep in
//! step (the test cluster runs no controllers: we are them).

use k8s_openapi::api::core::v1::{Endpoints, Pod};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::{Patch, PatchParams, PostParams};
use kube::{Api, Client, Resource};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::{PortBackend, WorkloadPort};
use crate::error::{Error, Result};
use crate::fixtures::{MANAGED_BY, now};

/// Label on every object of a workload (value: the service name).
pub const WORKLOAD_LABEL: &str = "porthole.test/workload";

/// One Pod as the objects show it.
pub(super) struct PodView<'a> {
    pub name: &'a str,
    pub ip: &'a str,
    pub node: &'a str,
    pub node_ip: &'a str,
    pub uid: &'a str,
    pub ready: bool,
    pub started: &'a str,
}

pub(super) fn labels(service: &str) -> Value {
    json!({ "app": service, WORKLOAD_LABEL: service })
}

pub(super) fn slice_name(service: &str) -> String {
    format!("{service}-porthole")
}

pub(super) fn service(name: &str, ports: &[WorkloadPort]) -> Value {
    let ports: Vec<Value> = ports
        .iter()
        .map(|p| {
            let target = if p.target_by_name {
                json!(p.name)
            } else {
                json!(p.target)
            };
            let mut v = json!({
                "name": p.name, "port": p.port, "targetPort": target, "protocol": "TCP",
            });
            if let Some(app) = &p.app_protocol {
                v["appProtocol"] = json!(app);
            }
            v
        })
        .collect();
    json!({
        "metadata": { "name": name, "labels": labels(name) },
        "spec": { "selector": { "app": name }, "ports": ports },
    })
}

/// Ports of the Endpoints and the EndpointSlice: the service's port names,
/// the Pods' (target) port numbers.
fn endpoint_ports(ports: &[WorkloadPort]) -> Vec<Value> {
    ports
        .iter()
        .map(|p| {
            let mut v = json!({ "name": p.name, "port": p.target, "protocol": "TCP" });
            if let Some(app) = &p.app_protocol {
                v["appProtocol"] = json!(app);
            }
            v
        })
        .collect()
}

pub(super) fn endpoint_slice(service: &str, service_uid: &str, ports: &[WorkloadPort]) -> Value {
    json!({
        "metadata": {
            "name": slice_name(service),
            "labels": {
                "kubernetes.io/service-name": service,
                "endpointslice.kubernetes.io/managed-by": MANAGED_BY,
                WORKLOAD_LABEL: service,
            },
            "ownerReferences": [{
                "apiVersion": "v1", "kind": "Service", "name": service, "uid": service_uid,
                "controller": true, "blockOwnerDeletion": true,
            }],
        },
        "addressType": "IPv4",
        "endpoints": [],
        "ports": endpoint_ports(ports),
    })
}

pub(super) fn endpoints(service: &str) -> Value {
    json!({ "metadata": { "name": service, "labels": labels(service) }, "subsets": [] })
}

fn target_ref(namespace: &str, pod: &PodView<'_>) -> Value {
    json!({ "kind": "Pod", "namespace": namespace, "name": pod.name, "uid": pod.uid })
}

/// The slice's `endpoints`: every Pod, ready or not (as the endpoint
/// controller publishes unready Pods with `ready: false`).
pub(super) fn slice_endpoints(namespace: &str, pods: &[PodView<'_>]) -> Value {
    let list: Vec<Value> = pods
        .iter()
        .map(|p| {
            json!({
                "addresses": [p.ip],
                "conditions": { "ready": p.ready, "serving": p.ready, "terminating": false },
                "nodeName": p.node,
                "targetRef": target_ref(namespace, p),
            })
        })
        .collect();
    json!({ "endpoints": list })
}

/// The Endpoints' `subsets`: ready Pods in `addresses`, the others in
/// `notReadyAddresses`; none at all without Pods.
pub(super) fn endpoints_subsets(
    namespace: &str,
    pods: &[PodView<'_>],
    ports: &[WorkloadPort],
) -> Value {
    if pods.is_empty() {
        return json!({ "subsets": [] });
    }
    let address = |p: &PodView<'_>| json!({ "ip": p.ip, "nodeName": p.node, "targetRef": target_ref(namespace, p) });
    let mut subset = json!({ "ports": endpoint_ports(ports) });
    let ready: Vec<Value> = pods.iter().filter(|p| p.ready).map(address).collect();
    let unready: Vec<Value> = pods.iter().filter(|p| !p.ready).map(address).collect();
    if !ready.is_empty() {
        subset["addresses"] = json!(ready);
    }
    if !unready.is_empty() {
        subset["notReadyAddresses"] = json!(unready);
    }
    json!({ "subsets": [subset] })
}

pub(super) fn pod(
    name: &str,
    service: &str,
    container: &str,
    node: &str,
    ports: &[WorkloadPort],
) -> Value {
    let container_ports: Vec<Value> = ports
        .iter()
        .map(|p| json!({ "name": p.name, "containerPort": p.target, "protocol": "TCP" }))
        .collect();
    let modes: Vec<&str> = ports.iter().map(|p| p.backend.mode()).collect();
    json!({
        "metadata": { "name": name, "labels": labels(service) },
        "spec": {
            "nodeName": node,
            "automountServiceAccountToken": false,
            "terminationGracePeriodSeconds": 0,
            "containers": [{
                "name": container,
                "image": format!("porthole.test/backends:{}", modes.join("+")),
                "ports": container_ports,
            }],
        },
    })
}

/// What a kubelet would report: Running, the Pod's IP, Ready as asked.
pub(super) fn pod_status(pod: &PodView<'_>, container: &str) -> Value {
    let t = now();
    let status = |ok: bool| if ok { "True" } else { "False" };
    let cond =
        |ty: &str, ok: bool| json!({ "type": ty, "status": status(ok), "lastTransitionTime": t });
    json!({
        "phase": "Running",
        "podIP": pod.ip,
        "podIPs": [{ "ip": pod.ip }],
        "hostIP": pod.node_ip,
        "hostIPs": [{ "ip": pod.node_ip }],
        "startTime": pod.started,
        "conditions": [
            cond("PodScheduled", true), cond("Initialized", true),
            cond("ContainersReady", pod.ready), cond("Ready", pod.ready),
        ],
        "containerStatuses": [{
            "name": container,
            "image": "porthole.test/backends",
            "imageID": "",
            "ready": pod.ready,
            "started": true,
            "restartCount": 0,
            "state": { "running": { "startedAt": pod.started } },
        }],
    })
}

impl PortBackend {
    /// The `porthole-backends` mode.
    pub(super) fn mode(self) -> &'static str {
        match self {
            PortBackend::TcpEcho => "tcp-echo",
            PortBackend::HttpEcho => "echo",
        }
    }
}

/// Creates `value` as a `K`; `Ok(None)` when it exists already.
pub(super) async fn create_new<K>(api: &Api<K>, mut value: Value) -> Result<Option<K>>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + serde::Serialize + std::fmt::Debug,
{
    value["apiVersion"] = json!(K::api_version(&()));
    value["kind"] = json!(K::kind(&()));
    let name = value["metadata"]["name"].as_str().unwrap_or_default();
    let what = format!("creating {} {name}", K::kind(&()));
    let obj: K = serde_json::from_value(value.clone()).map_err(|e| Error::json(&what, e))?;
    match api.create(&PostParams::default(), &obj).await {
        Ok(created) => Ok(Some(created)),
        Err(kube::Error::Api(s)) if s.code == 409 => Ok(None),
        Err(e) => Err(Error::kube(what, e)),
    }
}

/// Merge-patches the object (`status`: its status subresource).
pub(super) async fn merge_patch<K>(
    api: &Api<K>,
    name: &str,
    status: bool,
    patch: Value,
) -> Result<()>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + std::fmt::Debug,
{
    let params = PatchParams::default();
    let what = format!(
        "patching {}{} {name}",
        if status { "the status of " } else { "" },
        K::kind(&())
    );
    let result = if status {
        api.patch_status(name, &params, &Patch::Merge(&json!({ "status": patch })))
            .await
    } else {
        api.patch(name, &params, &Patch::Merge(&patch)).await
    };
    result.map(drop).map_err(|e| Error::kube(what, e))
}

/// Deletes at once (no kubelet confirms a graceful deletion here); gone
/// already is fine.
pub(super) async fn delete_now<K>(api: &Api<K>, name: &str) -> Result<()>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + std::fmt::Debug,
{
    let params = kube::api::DeleteParams::default().grace_period(0);
    match api.delete(name, &params).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
        Err(e) => Err(Error::kube(format!("deleting {} {name}", K::kind(&())), e)),
    }
}

/// The per-namespace Apis a workload writes through.
#[derive(Clone)]
pub(super) struct Apis {
    pub pods: Api<Pod>,
    pub slices: Api<EndpointSlice>,
    pub endpoints: Api<Endpoints>,
}

impl Apis {
    pub fn new(client: &Client, namespace: &str) -> Apis {
        Apis {
            pods: Api::namespaced(client.clone(), namespace),
            slices: Api::namespaced(client.clone(), namespace),
            endpoints: Api::namespaced(client.clone(), namespace),
        }
    }
}
