//! The viewer may read services, slices, pods and ingresses in team-a and
//! monitoring only: namespaces and nodes are forbidden, services in all
//! namespaces too. Each degrades on its own; the rest still shows.

use std::time::Duration;

use porthole_core::discovery::{ResourceKind, ServiceListChange, ServiceQuery, ServiceWatch};

use crate::support::*;

const VIEWER: &str = "porthole-viewer";

#[tokio::test]
async fn the_viewer_sees_what_it_may_and_is_told_what_it_may_not() {
    let proxy = ProxyChild::start(VIEWER);
    let discovery = discovery(VIEWER, proxy.port).await;
    assert_eq!(discovery.context_namespace(), "team-a");

    let namespaces = discovery.namespaces(&["monitoring".to_owned()]).await;
    assert!(!namespaces.listed);
    assert_eq!(namespaces.namespaces, vec!["monitoring", "team-a"]);
    assert_eq!(
        namespaces.added,
        vec!["monitoring"],
        "the ones the user may remove"
    );
    let why = namespaces.degraded.expect("why namespaces are not listed");
    assert!(
        why.forbidden && why.resource == ResourceKind::Namespaces,
        "{why:?}"
    );
    assert!(
        why.reason.contains("cannot list resource \"namespaces\""),
        "{why:?}"
    );

    let query = ServiceQuery {
        namespace: None,
        added_namespaces: vec!["monitoring".to_owned()],
    };
    let list = discovery.services(&query).await;
    let namespaces: std::collections::BTreeSet<&str> =
        list.services.iter().map(|s| s.namespace.as_str()).collect();
    assert_eq!(
        namespaces.into_iter().collect::<Vec<_>>(),
        vec!["monitoring", "team-a"]
    );
    let kinds: Vec<(ResourceKind, bool)> = list
        .degraded
        .iter()
        .map(|d| (d.resource, d.forbidden))
        .collect();
    assert!(
        kinds.contains(&(ResourceKind::Services, true)),
        "{:?}",
        list.degraded
    );
    assert!(
        kinds.contains(&(ResourceKind::Nodes, true)),
        "{:?}",
        list.degraded
    );
    let services = list
        .degraded
        .iter()
        .find(|d| d.resource == ResourceKind::Services)
        .expect("services degraded");
    assert!(
        services.reason.ends_with("showing monitoring, team-a"),
        "{services:?}"
    );
    println!(
        "viewer, all namespaces: {} services; degraded:",
        list.services.len()
    );
    for d in &list.degraded {
        println!("  {d}");
    }
    // Endpoint counts are readable in team-a, and the links work.
    let web = list
        .services
        .iter()
        .find(|s| s.namespace == "team-a" && s.name == "echo")
        .expect("team-a/echo");
    assert_eq!(web.endpoints.map(|e| e.ready), Some(1));
    let url = web.first_urls().expect("links").porthole_url.clone();
    assert!(url.contains(".team-a.porthole-viewer.localhost:"), "{url}");
    let answer = get(&format!("{url}healthz")).await;
    assert_eq!((answer.status, answer.body.trim()), (200, "ok"));

    // A namespace the viewer may not read: said so, nothing else breaks.
    let other = discovery.services(&ServiceQuery::namespace("team-b")).await;
    assert!(other.services.is_empty());
    assert!(
        other
            .degraded
            .iter()
            .any(|d| d.resource == ResourceKind::Services
                && d.forbidden
                && d.namespace.as_deref() == Some("team-b")),
        "{:?}",
        other.degraded
    );
    // cluster-info: kube-system is not readable.
    let info = discovery.cluster_info().await;
    assert!(info.services.is_empty());
    assert!(
        info.degraded.iter().all(|d| d.forbidden),
        "{:?}",
        info.degraded
    );
}

#[tokio::test]
async fn the_viewers_live_list_falls_back_to_its_namespaces() {
    let _one = WATCHES.lock().await;
    let discovery = discovery(VIEWER, 8001).await;
    let mut watch = ServiceWatch::start(
        discovery,
        ServiceQuery {
            namespace: None,
            added_namespaces: vec!["monitoring".to_owned()],
        },
    );
    let update = next(&mut watch, Duration::from_secs(30)).await;
    let ServiceListChange::Reset {
        services,
        degraded,
        took_ms,
    } = update.change
    else {
        panic!("first a reset: {update:?}");
    };
    println!(
        "viewer live list: {} services in {took_ms} ms",
        services.len()
    );
    assert!(
        services
            .iter()
            .all(|s| s.namespace == "team-a" || s.namespace == "monitoring")
    );
    assert!(
        services
            .iter()
            .any(|s| s.namespace == "monitoring" && s.name == "grafana")
    );
    assert!(
        services
            .iter()
            .any(|s| s.namespace == "team-a" && s.name == "web")
    );
    let kinds: Vec<ResourceKind> = degraded.iter().map(|d| d.resource).collect();
    assert!(kinds.contains(&ResourceKind::Services), "{degraded:?}");
    assert!(kinds.contains(&ResourceKind::Nodes), "{degraded:?}");
    assert!(watch.snapshot().complete);
}
