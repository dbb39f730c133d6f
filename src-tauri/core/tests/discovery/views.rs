//! What discovery shows of the fixtures: ways in from outside, endpoint
//! counts, namespaces, nodes, cluster-info.

use porthole_core::discovery::{ExternalEndpoint, ServiceQuery, ServiceView};

use crate::support::*;

fn find<'a>(services: &'a [ServiceView], ns: &str, name: &str) -> &'a ServiceView {
    services
        .iter()
        .find(|s| s.namespace == ns && s.name == name)
        .unwrap_or_else(|| panic!("{ns}/{name} is not listed"))
}

fn urls(s: &ServiceView) -> Vec<&str> {
    s.external
        .iter()
        .filter_map(ExternalEndpoint::url)
        .collect()
}

#[tokio::test]
async fn the_ways_in_from_outside_and_the_endpoint_counts() {
    let discovery = discovery("porthole-admin", 8001).await;
    let list = discovery.services(&ServiceQuery::all()).await;
    assert!(list.degraded.is_empty(), "{:?}", list.degraded);
    let s = &list.services;
    let state = &cluster().state;
    let host_ip = state
        .netns
        .as_ref()
        .map(|n| n.host_ip.clone())
        .unwrap_or_default();

    let np = find(s, "default", "nodeport");
    let node_urls = urls(np);
    assert_eq!(node_urls.len(), 3, "one per node: {node_urls:?}");
    assert!(
        node_urls.iter().all(|u| u.ends_with(":30080/")),
        "{node_urls:?}"
    );
    assert!(matches!(
        &np.external[0],
        ExternalEndpoint::NodePort { node, service_port, .. } if node == "node-1" && service_port == "http"
    ));

    let lb_ip = find(s, "default", "lb-ip");
    assert!(
        urls(lb_ip).contains(&format!("http://{host_ip}/").as_str()),
        "{:?}",
        lb_ip.external
    );
    assert!(
        urls(lb_ip).iter().filter(|u| u.contains(":3")).count() == 3,
        "a LoadBalancer has node ports too: {:?}",
        lb_ip.external
    );
    let lb_host = find(s, "default", "lb-hostname");
    assert!(
        urls(lb_host).contains(&"http://lb.porthole.test/"),
        "{:?}",
        lb_host.external
    );

    assert_eq!(
        urls(find(s, "default", "spa")),
        vec!["https://web.porthole.test/"]
    );
    assert_eq!(
        urls(find(s, "default", "echo")),
        vec!["https://web.porthole.test/echo"]
    );
    assert_eq!(
        urls(find(s, "default", "multi-port")),
        vec!["https://api.porthole.test/v1"]
    );
    assert_eq!(
        urls(find(s, "team-a", "web")),
        vec!["http://team-a.porthole.test/"]
    );
    assert!(matches!(
        &find(s, "team-a", "web").external[0],
        ExternalEndpoint::Ingress { tls: false, host: Some(h), .. } if h == "team-a.porthole.test"
    ));

    let ext = find(s, "default", "external-name");
    assert_eq!(ext.external_name.as_deref(), Some("search.porthole.test"));
    assert_eq!(urls(ext), vec!["https://search.porthole.test/"]);
    assert_eq!(ext.endpoints, None);

    let echo = find(s, "default", "echo");
    assert_eq!(echo.endpoints.map(|e| (e.ready, e.not_ready)), Some((1, 0)));
    assert_eq!(echo.ports[0].target_port.as_deref(), Some("8080"));
    let none = find(s, "default", "no-endpoints");
    assert_eq!(none.endpoints.map(|e| (e.ready, e.not_ready)), Some((0, 0)));
    assert!(find(s, "team-a", "db").headless);
    assert_eq!(
        find(s, "kube-system", "kube-dns").cluster_ip.as_deref(),
        Some("10.96.0.10")
    );
    assert!(find(s, "kube-system", "kibana-logging").cluster_service);
    assert!(!find(s, "default", "spa").cluster_service);
    // Sorted by namespace, then name.
    let keys: Vec<(String, String)> = s
        .iter()
        .map(|v| (v.namespace.clone(), v.name.clone()))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
}

#[tokio::test]
async fn namespaces_nodes_and_cluster_info() {
    let discovery = discovery("porthole-admin", 8001).await;
    let namespaces = discovery.namespaces(&[]).await;
    assert!(namespaces.listed && namespaces.degraded.is_none());
    for ns in FIXTURE_NAMESPACES {
        assert!(
            namespaces.namespaces.iter().any(|n| n == ns),
            "{ns}: {namespaces:?}"
        );
    }
    let nodes = discovery.nodes().await.expect("nodes");
    assert_eq!(
        nodes.iter().map(|n| n.name.as_str()).collect::<Vec<_>>(),
        vec!["node-1", "node-2", "node-3"]
    );
    assert_eq!(nodes[0].roles, vec!["control-plane"]);
    assert_eq!(nodes[0].ready, Some(true));
    assert!(nodes[0].urls.apiserver_path == "/api/v1/nodes/node-1/proxy/");

    let info = discovery.cluster_info().await;
    assert!(info.degraded.is_empty(), "{:?}", info.degraded);
    assert_eq!(info.control_plane, cluster().apiserver_url());
    assert_eq!(
        info.control_plane_porthole_url,
        "http://porthole-admin.localhost:8001/"
    );
    let titles: Vec<&str> = info.services.iter().map(|s| s.title.as_str()).collect();
    for builtin in [
        "elasticsearch-logging",
        "kibana-logging",
        "kube-dns",
        "monitoring-grafana",
    ] {
        assert!(titles.contains(&builtin), "{builtin}: {titles:?}");
    }
    let dns = info
        .services
        .iter()
        .find(|s| s.title == "kube-dns")
        .expect("kube-dns");
    assert_eq!(
        dns.urls.as_ref().map(|u| u.porthole_url.as_str()),
        Some("http://dns-tcp.kube-dns.kube-system.porthole-admin.localhost:8001/"),
        "the first TCP port, not UDP 53"
    );
}
