//! Live lists: kubectl changes show within a second; the watch resumes when
//! the connection to the apiserver is cut and comes back (what a restart
//! looks like from the client); dropping the watch closes its watches.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use porthole_core::discovery::{
    ResourceKind, ServiceListChange, ServiceListUpdate, ServiceQuery, ServiceWatch,
};
use serde_json::json;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::support::*;

/// Waits for an update that satisfies `check`, returning it and the time.
async fn until(
    watch: &mut ServiceWatch,
    within: Duration,
    mut check: impl FnMut(&ServiceListUpdate) -> bool,
) -> (ServiceListUpdate, Duration) {
    let start = Instant::now();
    loop {
        let left = within.saturating_sub(start.elapsed());
        let update = next(watch, left).await;
        if check(&update) {
            return (update, start.elapsed());
        }
    }
}

fn upserts(u: &ServiceListUpdate, name: &str) -> Option<usize> {
    match &u.change {
        ServiceListChange::Changed { upserted, .. } => upserted
            .iter()
            .find(|s| s.name == name)
            .map(|s| s.ports.len()),
        _ => None,
    }
}

fn removes(u: &ServiceListUpdate, name: &str) -> bool {
    matches!(&u.change, ServiceListChange::Changed { removed, .. } if removed.iter().any(|k| k.name == name))
}

#[tokio::test]
async fn created_changed_and_deleted_services_show_within_a_second() {
    let _one = WATCHES.lock().await;
    let ns = TestNamespace::create("disc-live");
    let discovery = discovery("porthole-admin", 8001).await;
    let admin = discovery.clone();
    let before = ingress_watches(&admin_client().await).await;
    let mut watch = ServiceWatch::start(discovery, ServiceQuery::namespace(&ns.0));
    let (first, _) = until(&mut watch, Duration::from_secs(30), |_| true).await;
    let ServiceListChange::Reset {
        services, took_ms, ..
    } = &first.change
    else {
        panic!("first a reset: {first:?}");
    };
    assert!(services.is_empty());
    assert_eq!(first.watch_id, watch.id());
    println!("empty namespace listed in {took_ms} ms");
    assert_eq!(
        ingress_watches(&admin_client().await).await,
        before + 1,
        "one watch on ingresses in the namespace"
    );
    drop(admin);

    let t = Instant::now();
    kubectl(&[
        "create",
        "service",
        "clusterip",
        "live-web",
        "--tcp=80:8080",
        "-n",
        &ns.0,
    ]);
    let kubectl_took = t.elapsed();
    let (_, created) = until(&mut watch, Duration::from_secs(10), |u| {
        upserts(u, "live-web").is_some()
    })
    .await;

    let t = Instant::now();
    kubectl(&[
        "patch",
        "service",
        "live-web",
        "-n",
        &ns.0,
        "--type",
        "json",
        "-p",
        r#"[{"op":"add","path":"/spec/ports/-","value":{"name":"metrics","port":9090,"targetPort":9090}}]"#,
    ]);
    let patch_took = t.elapsed();
    let (_, changed) = until(&mut watch, Duration::from_secs(10), |u| {
        upserts(u, "live-web") == Some(2)
    })
    .await;

    // A ready endpoint appears with its EndpointSlice.
    let slice = json!({
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": { "name": "live-web-1", "namespace": ns.0,
                      "labels": { "kubernetes.io/service-name": "live-web" } },
        "addressType": "IPv4",
        "endpoints": [{ "addresses": ["10.213.250.9"], "conditions": { "ready": true } }],
        "ports": [{ "name": "80-8080", "port": 8080, "protocol": "TCP" }],
    });
    let t = Instant::now();
    kubectl_with(&["apply", "-f", "-"], Some(&slice.to_string()));
    let slice_took = t.elapsed();
    let (update, counted) = until(&mut watch, Duration::from_secs(10), |u| {
        matches!(&u.change, ServiceListChange::Changed { upserted, .. }
            if upserted.iter().any(|s| s.name == "live-web" && s.endpoints.is_some_and(|e| e.ready == 1)))
    })
    .await;
    assert!(matches!(update.change, ServiceListChange::Changed { .. }));

    let t = Instant::now();
    kubectl(&["delete", "service", "live-web", "-n", &ns.0]);
    let delete_took = t.elapsed();
    let (_, deleted) = until(&mut watch, Duration::from_secs(10), |u| {
        removes(u, "live-web")
    })
    .await;

    println!(
        "live update latency after kubectl returned: created {created:?} (kubectl {kubectl_took:?}), changed {changed:?} (kubectl {patch_took:?}), endpoint ready {counted:?} (kubectl {slice_took:?}), deleted {deleted:?} (kubectl {delete_took:?})"
    );
    for (what, took) in [
        ("created", created),
        ("changed", changed),
        ("endpoints", counted),
        ("deleted", deleted),
    ] {
        assert!(took < Duration::from_secs(1), "{what} took {took:?}");
    }
    let snapshot = watch.snapshot();
    assert!(
        snapshot.complete && snapshot.services.is_empty(),
        "{snapshot:?}"
    );

    // Dropping the watch closes its apiserver watches.
    drop(watch);
    let client = admin_client().await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now = ingress_watches(&client).await;
        if now == before {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "still {now} ingress watches (before: {before})"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn admin_client() -> porthole_core::cluster::ClusterClient {
    client_in(cluster().kubeconfig(), "porthole-admin").await.0
}

/// A TCP relay in front of the apiserver that can be cut and restored on
/// the same port.
struct Relay {
    port: u16,
    target: String,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Relay {
    async fn start(target: String) -> Self {
        let relay = Self {
            port: free_port(),
            target,
            tasks: Arc::new(Mutex::new(Vec::new())),
        };
        relay.up().await;
        relay
    }

    async fn up(&self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port))
            .await
            .expect("relay binds its port again");
        let target = self.target.clone();
        let tasks = self.tasks.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let target = target.clone();
                let conn = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                if let Ok(mut t) = tasks.lock() {
                    t.push(conn);
                }
            }
        });
        if let Ok(mut t) = self.tasks.lock() {
            t.push(accept);
        }
    }

    /// Every connection dropped and the port closed: like an apiserver that went away.
    fn cut(&self) {
        if let Ok(mut t) = self.tasks.lock() {
            for task in t.drain(..) {
                task.abort();
            }
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.cut();
    }
}

#[tokio::test]
async fn the_watch_resumes_after_the_apiserver_goes_away_and_comes_back() {
    let _one = WATCHES.lock().await;
    let ns = TestNamespace::create("disc-resume");
    let apiserver = cluster()
        .apiserver_url()
        .trim_start_matches("https://")
        .to_owned();
    let relay = Relay::start(apiserver).await;
    // The admin context, with its server moved to the relay.
    let text = std::fs::read_to_string(cluster().kubeconfig()).expect("kubeconfig");
    let doc: serde_json::Value = serde_saphyr::from_str(&text).expect("kubeconfig YAML");
    let mut doc = doc;
    if let Some(clusters) = doc["clusters"].as_array_mut() {
        for c in clusters {
            c["cluster"]["server"] = json!(format!("https://127.0.0.1:{}", relay.port));
        }
    }
    let dir: PathBuf = cluster()
        .scratch_dir(&format!("discovery-relay-{}", std::process::id()))
        .expect("scratch");
    let path = dir.join("kubeconfig.json");
    std::fs::write(&path, serde_json::to_vec(&doc).expect("json")).expect("write kubeconfig");
    let discovery = discovery_in(&path, "porthole-admin", 8001).await;
    let mut watch = ServiceWatch::start(discovery, ServiceQuery::namespace(&ns.0));
    let (first, _) = until(&mut watch, Duration::from_secs(30), |_| true).await;
    assert!(
        matches!(first.change, ServiceListChange::Reset { .. }),
        "{first:?}"
    );

    relay.cut();
    let (update, _) = until(&mut watch, Duration::from_secs(30), |u| {
        matches!(&u.change, ServiceListChange::Degraded { degraded }
            if degraded.iter().any(|d| d.resource == ResourceKind::Services))
    })
    .await;
    println!("while the apiserver is away: {update:?}");
    // Changed while it was away.
    kubectl(&[
        "create",
        "service",
        "clusterip",
        "while-away",
        "--tcp=80:8080",
        "-n",
        &ns.0,
    ]);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let back = Instant::now();
    relay.up().await;
    let (mut shown, mut cleared) = (None, None);
    while shown.is_none() || cleared.is_none() {
        let left = Duration::from_secs(40).saturating_sub(back.elapsed());
        let u = next(&mut watch, left).await;
        if upserts(&u, "while-away").is_some() {
            shown = Some(back.elapsed());
        }
        if matches!(&u.change, ServiceListChange::Degraded { degraded } if degraded.is_empty()) {
            cleared = Some(back.elapsed());
        }
    }
    assert!(watch.snapshot().degraded.is_empty());
    assert!(
        watch
            .snapshot()
            .services
            .iter()
            .any(|s| s.name == "while-away")
    );
    println!(
        "after the apiserver came back: the missed service showed in {shown:?}, degraded cleared in {cleared:?}"
    );
}
