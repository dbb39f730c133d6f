//! The ready Pods behind one service port, kept live by a watch on the
//! service's EndpointSlices (no polling): what a healing forward picks
//! from. The port comes from the slices too, so a named target port is
//! resolved per Pod the way the service resolves it.

use std::collections::BTreeMap;

use futures_util::StreamExt as _;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::Api;
use kube::runtime::{WatchStreamExt as _, watcher};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::cluster::client::ClusterClient;

/// A Pod that may take connections, and its port.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ReadyPod {
    pub pod: String,
    pub port: u16,
}

/// What the watch knows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Endpoints {
    /// The first list has arrived: `ready` is the truth, not a guess.
    pub synced: bool,
    /// Sorted by Pod name, no duplicates.
    pub ready: Vec<ReadyPod>,
    /// Why the watch fails, while it does (it keeps retrying).
    pub error: Option<String>,
}

/// Watches `namespace/service`'s slices for the port named `port_name`
/// (`None`: the unnamed port). The task ends when every receiver is gone.
pub fn watch_ready(
    client: &ClusterClient,
    namespace: &str,
    service: &str,
    port_name: Option<String>,
) -> (watch::Receiver<Endpoints>, JoinHandle<()>) {
    let api: Api<EndpointSlice> = Api::namespaced(client.kube_client(namespace), namespace);
    let config =
        watcher::Config::default().labels(&format!("kubernetes.io/service-name={service}"));
    let (tx, rx) = watch::channel(Endpoints::default());
    let task = tokio::spawn(async move {
        let mut slices: BTreeMap<String, EndpointSlice> = BTreeMap::new();
        let mut listing: BTreeMap<String, EndpointSlice> = BTreeMap::new();
        let mut synced = false;
        let mut events = watcher(api, config).default_backoff().boxed();
        loop {
            let event = tokio::select! {
                event = events.next() => event,
                () = tx.closed() => return,
            };
            let Some(event) = event else { return };
            let mut error = None;
            match event {
                Ok(watcher::Event::Init) => listing.clear(),
                Ok(watcher::Event::InitApply(s)) => {
                    listing.insert(slice_name(&s), s);
                }
                Ok(watcher::Event::InitDone) => {
                    slices = std::mem::take(&mut listing);
                    synced = true;
                }
                Ok(watcher::Event::Apply(s)) => {
                    slices.insert(slice_name(&s), s);
                }
                Ok(watcher::Event::Delete(s)) => {
                    slices.remove(&slice_name(&s));
                }
                Err(e) => error = Some(e.to_string()),
            }
            let next = Endpoints {
                synced,
                ready: ready_pods(slices.values(), port_name.as_deref()),
                error,
            };
            tx.send_if_modified(|now| {
                let changed = *now != next;
                *now = next;
                changed
            });
        }
    });
    (rx, task)
}

fn slice_name(s: &EndpointSlice) -> String {
    s.metadata.name.clone().unwrap_or_default()
}

/// Ready endpoints that are Pods, with the slice's port of that name.
pub fn ready_pods<'a>(
    slices: impl Iterator<Item = &'a EndpointSlice>,
    port_name: Option<&str>,
) -> Vec<ReadyPod> {
    let mut out = Vec::new();
    for slice in slices {
        let port = slice.ports.iter().flatten().find(|p| {
            p.name.as_deref().filter(|n| !n.is_empty()) == port_name
                && p.protocol.as_deref().unwrap_or("TCP") == "TCP"
        });
        let Some(port) = port
            .and_then(|p| p.port)
            .and_then(|p| u16::try_from(p).ok())
        else {
            continue;
        };
        for endpoint in slice.endpoints.iter().flatten() {
            // The API: an unset `ready` means ready.
            let ready = endpoint
                .conditions
                .as_ref()
                .and_then(|c| c.ready)
                .unwrap_or(true);
            let pod = endpoint
                .target_ref
                .as_ref()
                .filter(|r| r.kind.as_deref() == Some("Pod"))
                .and_then(|r| r.name.clone());
            if let (true, Some(pod)) = (ready, pod) {
                out.push(ReadyPod { pod, port });
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn slice(endpoints: serde_json::Value, ports: serde_json::Value) -> EndpointSlice {
        serde_json::from_value(json!({
            "metadata": {"name": "s"}, "addressType": "IPv4",
            "endpoints": endpoints, "ports": ports
        }))
        .expect("slice")
    }

    fn ep(pod: &str, ready: Option<bool>) -> serde_json::Value {
        json!({"addresses": ["10.0.0.1"], "conditions": {"ready": ready},
               "targetRef": {"kind": "Pod", "name": pod}})
    }

    #[test]
    fn only_ready_pods_with_the_named_port_are_offered() {
        let s = slice(
            json!([ep("b", Some(true)), ep("a", None), ep("c", Some(false))]),
            json!([{"name": "pg", "port": 5432}, {"name": "metrics", "port": 9187}]),
        );
        assert_eq!(
            ready_pods([&s].into_iter(), Some("pg")),
            vec![
                ReadyPod {
                    pod: "a".into(),
                    port: 5432
                },
                ReadyPod {
                    pod: "b".into(),
                    port: 5432
                }
            ]
        );
        assert!(ready_pods([&s].into_iter(), Some("http")).is_empty());
    }

    #[test]
    fn an_unnamed_port_matches_an_empty_or_missing_name() {
        let s = slice(
            json!([ep("a", Some(true))]),
            json!([{"name": "", "port": 8080}]),
        );
        assert_eq!(
            ready_pods([&s].into_iter(), None),
            vec![ReadyPod {
                pod: "a".into(),
                port: 8080
            }]
        );
    }
}
