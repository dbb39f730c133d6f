//! The fixture set, seen through kubectl and kube-rs.

use std::time::Instant;

use k8s_openapi::api::core::v1::{Node, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::networking::v1::Ingress;
use kube::Api;
use kube::api::ListParams;
use porthole_testkit::fixtures;
use porthole_testkit::users::ADMIN;

use crate::support::{PortForward, block_on, cluster, echo_exchange, kubectl, ok};

#[test]
fn admin_lists_at_least_30_fixture_services() {
    let out = ok(kubectl(ADMIN, &["get", "svc", "-A", "-o", "json"]));
    let v: serde_json::Value = serde_json::from_str(&out).expect("service list JSON");
    let items = v["items"].as_array().expect("items");
    assert!(items.len() >= 30, "only {} services", items.len());
    let names: Vec<String> = items
        .iter()
        .map(|s| {
            format!(
                "{}/{}",
                s["metadata"]["namespace"].as_str().unwrap_or(""),
                s["metadata"]["name"].as_str().unwrap_or("")
            )
        })
        .collect();
    for want in [
        "default/kubernetes",
        "kube-system/kube-dns",
        "kube-system/elasticsearch-logging",
        "kube-system/kibana-logging",
        "kube-system/monitoring-grafana",
        "monitoring/grafana",
        "team-a/echo",
        "team-b/frontend",
    ] {
        assert!(
            names.iter().any(|n| n == want),
            "{want} missing from {names:?}"
        );
    }
}

#[test]
fn cluster_info_lists_the_handbook_builtins() {
    let out = ok(kubectl(ADMIN, &["cluster-info"]));
    for name in [
        "kube-dns",
        "elasticsearch-logging",
        "kibana-logging",
        "monitoring-grafana",
    ] {
        assert!(out.contains(&format!("{name} is running at")), "{out}");
    }
}

#[test]
fn services_of_every_shape_exist_with_their_status() {
    block_on(async {
        let client = cluster().client(ADMIN).await.expect("admin client");
        let svcs: Api<Service> = Api::namespaced(client.clone(), "default");
        let get = |name: &'static str| {
            let svcs = svcs.clone();
            async move {
                svcs.get(name)
                    .await
                    .unwrap_or_else(|e| panic!("service {name}: {e}"))
            }
        };
        let spec = |s: &Service| s.spec.clone().expect("spec");

        let lb = get("lb-ip").await;
        let ingress = lb
            .status
            .and_then(|s| s.load_balancer)
            .and_then(|l| l.ingress)
            .expect("lb status");
        assert!(
            ingress[0]
                .ip
                .as_deref()
                .is_some_and(|ip| ip.starts_with("10.213."))
        );
        let lbh = get("lb-hostname").await;
        let ingress = lbh
            .status
            .and_then(|s| s.load_balancer)
            .and_then(|l| l.ingress)
            .expect("lb status");
        assert_eq!(ingress[0].hostname.as_deref(), Some("lb.porthole.test"));
        assert_eq!(
            spec(&get("external-name").await).external_name.as_deref(),
            Some("search.porthole.test")
        );
        assert_eq!(
            spec(&get("headless").await).cluster_ip.as_deref(),
            Some("None")
        );
        assert_eq!(
            spec(&get("nodeport").await).type_.as_deref(),
            Some("NodePort")
        );
        let multi = spec(&get("multi-port").await).ports.expect("ports");
        assert!(multi.len() > 1 && multi.iter().all(|p| p.name.is_some()));
        let single = spec(&get("echo").await).ports.expect("ports");
        assert!(single.len() == 1 && single[0].name.is_none());
        let secure = spec(&get("secure").await).ports.expect("ports");
        assert_eq!(secure[0].name.as_deref(), Some("https"));

        // Endpoint slices point at Pods, ours, and none for no-endpoints.
        let slices: Api<EndpointSlice> = Api::namespaced(client.clone(), "default");
        let es = slices
            .list(&ListParams::default().labels("kubernetes.io/service-name=echo"))
            .await
            .expect("slices");
        let eps = es.items[0].endpoints.clone().unwrap_or_default();
        let ep = eps.first().expect("one endpoint");
        assert_eq!(
            ep.target_ref.as_ref().and_then(|r| r.kind.as_deref()),
            Some("Pod")
        );
        assert_eq!(
            es.items[0]
                .metadata
                .labels
                .as_ref()
                .and_then(|l| l.get("endpointslice.kubernetes.io/managed-by"))
                .map(String::as_str),
            Some(fixtures::MANAGED_BY)
        );
        let none = slices
            .list(&ListParams::default().labels("kubernetes.io/service-name=no-endpoints"))
            .await
            .expect("slices");
        assert!(none.items.is_empty());

        let nodes: Api<Node> = Api::all(client.clone());
        let nodes = nodes.list(&ListParams::default()).await.expect("nodes");
        assert!(nodes.items.len() >= 3);
        let addrs = nodes.items[0]
            .status
            .as_ref()
            .and_then(|s| s.addresses.clone())
            .expect("addresses");
        assert!(addrs.iter().any(|a| a.type_ == "InternalIP"));
        assert!(addrs.iter().any(|a| a.type_ == "Hostname"));

        let ing: Api<Ingress> = Api::namespaced(client, "default");
        let web = ing.get("web").await.expect("ingress");
        let spec = web.spec.expect("ingress spec");
        assert!(spec.tls.is_some_and(|t| !t.is_empty()));
        assert!(spec.rules.is_some_and(|r| r.len() >= 2));
    });
}

/// Creates a scale set in the shared cluster and reports the rate.
/// `PORTHOLE_TEST_SCALE=10000 cargo test -p porthole-testkit --test cluster scale -- --nocapture`
#[test]
fn scale_set_is_created_in_bulk() {
    let n: usize = std::env::var("PORTHOLE_TEST_SCALE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    block_on(async {
        let client = cluster().client(ADMIN).await.expect("admin client");
        let start = Instant::now();
        let took = fixtures::create_scale_set(&client, n)
            .await
            .expect("scale set");
        println!(
            "scale set: {n} services in {} namespaces in {:.1} s ({:.0} services/s, {} in flight)",
            n.div_ceil(fixtures::SCALE_PER_NAMESPACE),
            took.as_secs_f64(),
            n as f64 / took.as_secs_f64().max(0.001),
            fixtures::CONCURRENCY
        );
        let svcs: Api<Service> = Api::namespaced(client, &fixtures::scale_namespace(n - 1));
        svcs.get(&format!("svc-{:05}", n - 1))
            .await
            .expect("last service exists");
        assert!(start.elapsed().as_secs() < 600);
    });
}

/// The non-HTTP services (the app's "Forward" button): a raw TCP echo behind
/// each, reached with `kubectl port-forward svc/…`; their Pods take `exec`.
#[test]
fn non_http_services_echo_bytes_through_kubectl_port_forward() {
    let tcp_only = fixtures::tcp_echo_services();
    assert_eq!(
        tcp_only,
        [
            ("team-a", "postgres"),
            ("team-a", "redis"),
            ("team-a", "grpc")
        ]
    );
    for (ns, name) in tcp_only {
        let port = ok(kubectl(
            ADMIN,
            &[
                "get",
                "svc",
                "-n",
                ns,
                name,
                "-o",
                "jsonpath={.spec.ports[0].port}",
            ],
        ));
        let pf = PortForward::start(kubectl(ADMIN, &[]), ns, &format!("svc/{name}"), &port);
        echo_exchange(&pf.local, 256 * 1024);
    }
    let grpc = ok(kubectl(
        ADMIN,
        &[
            "get",
            "svc",
            "-n",
            "team-a",
            "grpc",
            "-o",
            "jsonpath={.spec.ports[0].name} {.spec.ports[0].appProtocol}",
        ],
    ));
    assert_eq!(grpc, "grpc kubernetes.io/h2c");
    let out = ok(kubectl(
        ADMIN,
        &[
            "exec",
            "-n",
            "team-a",
            "postgres-0",
            "--",
            "sh",
            "-c",
            "echo $((6*7))",
        ],
    ));
    assert_eq!(out.trim(), "42");
}
