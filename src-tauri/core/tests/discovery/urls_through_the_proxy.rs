//! Every fixture shape: the URL builder's links opened through `portholectl
//! proxy` against the real apiserver — the backend answers, or the refusal
//! is the one the builder explains.

use std::collections::BTreeSet;

use porthole_core::discovery::{ServiceQuery, ServiceView};
use porthole_core::proxy::names::context_host;
use porthole_core::urls::{NotProxyable, PortAccess};

use crate::support::*;

const CONTEXT: &str = "porthole-admin";

fn shapes_of(s: &ServiceView) -> Vec<&'static str> {
    let mut shapes = Vec::new();
    let tcp = s.ports.iter().filter(|p| p.protocol == "TCP").count();
    if s.ports.len() == 1 && s.ports[0].name.is_none() {
        shapes.push("single unnamed port (by number)");
    }
    if s.ports
        .iter()
        .any(|p| p.name.is_some() && p.protocol == "TCP")
    {
        shapes.push("named port");
    }
    if tcp > 1 {
        shapes.push("multi-port");
    }
    if s.ports
        .iter()
        .any(|p| p.access.urls().is_some_and(|u| u.https))
    {
        shapes.push("https");
    }
    match s.service_type.as_str() {
        "NodePort" => shapes.push("NodePort"),
        "LoadBalancer" => shapes.push("LoadBalancer"),
        "ExternalName" => shapes.push("ExternalName"),
        _ => {}
    }
    if s.headless {
        shapes.push(if s.endpoints.is_some_and(|e| e.ready > 0) {
            "headless with endpoints"
        } else {
            "headless without endpoints"
        });
    }
    if s.endpoints.is_some_and(|e| e.ready == 0) && s.not_proxyable.is_none() {
        shapes.push("no endpoints");
    }
    if s.ports.iter().any(|p| p.protocol == "UDP") {
        shapes.push("UDP port");
    }
    if s.ports.is_empty() {
        shapes.push("no ports");
    }
    shapes
}

#[tokio::test]
async fn every_fixture_shape_opens_through_the_proxy_or_is_refused_as_explained() {
    let proxy = ProxyChild::start(CONTEXT);
    let discovery = discovery(CONTEXT, proxy.port).await;
    let list = discovery.services(&ServiceQuery::all()).await;
    assert!(list.degraded.is_empty(), "{:?}", list.degraded);
    let api_host = format!("http://{}:{}", context_host(CONTEXT), proxy.port);
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    let mut checked = 0;
    let mut record = Vec::new();
    // Raw TCP echoes (postgres, redis, grpc): not HTTP, for port-forwards.
    let tcp_only = porthole_testkit::fixtures::tcp_echo_services();
    for s in list
        .services
        .iter()
        .filter(|s| FIXTURE_NAMESPACES.contains(&s.namespace.as_str()))
    {
        seen.extend(shapes_of(s));
        let who = format!("{}/{}", s.namespace, s.name);
        if let Some(why) = &s.not_proxyable {
            // The apiserver really refuses it, in every form.
            let NotProxyable::ExternalName { external_name, url } = why else {
                panic!("{who}: unexpected refusal {why:?}");
            };
            assert!(!external_name.is_empty() && url.is_some(), "{who}: {why:?}");
            let mut forms = vec![s.name.clone()];
            forms.extend(s.ports.iter().map(|p| format!("{}:{}", s.name, p.port)));
            forms.extend(
                s.ports
                    .iter()
                    .map(|p| format!("https:{}:{}", s.name, p.port)),
            );
            for form in forms {
                let answer = get(&format!(
                    "{api_host}/api/v1/namespaces/{}/services/{form}/proxy/healthz",
                    s.namespace
                ))
                .await;
                assert_eq!(answer.status, 503, "{who} as {form}: {answer:?}");
                assert!(
                    answer.body.contains("no endpoints available"),
                    "{who} as {form}: {answer:?}"
                );
                record.push(format!(
                    "{who:32} {form:36} 503 refused by the apiserver: {why}"
                ));
            }
            checked += 1;
            continue;
        }
        for port in &s.ports {
            match &port.access {
                PortAccess::NotProxyable { why } => {
                    assert_eq!(port.protocol, "UDP", "{who}: {why:?}");
                    assert!(
                        matches!(why, NotProxyable::NotTcp { tcp_alternative: Some(t), .. } if t == "dns-tcp"),
                        "{who}: {why:?}"
                    );
                    record.push(format!("{who:32} {:36} not proxyable: {why}", port.port));
                }
                PortAccess::Proxy { urls }
                    if tcp_only.contains(&(s.namespace.as_str(), s.name.as_str())) =>
                {
                    // The apiserver reaches the backend, which answers with
                    // no HTTP at all; the app offers "Forward", not "Open".
                    assert!(!port.http, "{who}: classified as {:?}", port.kind);
                    let url = format!("{}healthz", urls.porthole_url);
                    let answer = get(&url).await;
                    assert_eq!(answer.status, 503, "{who}: {url}: {answer:?}");
                    assert!(
                        answer.body.contains("malformed HTTP"),
                        "{who}: {url}: {answer:?}"
                    );
                    record.push(format!(
                        "{who:32} {:36} 503 not HTTP (a raw TCP echo: forward it)",
                        urls.porthole_url.trim_start_matches("http://"),
                    ));
                }
                PortAccess::Proxy { urls } => {
                    let ready = s.endpoints.is_some_and(|e| e.ready > 0);
                    // The Porthole URL (service at the root of its own
                    // origin) and the apiserver path, both through the proxy.
                    for url in [
                        format!("{}healthz", urls.porthole_url),
                        format!("{api_host}{}healthz", urls.apiserver_path),
                    ] {
                        let answer = get(&url).await;
                        if ready {
                            assert_eq!(
                                (answer.status, answer.body.trim()),
                                (200, "ok"),
                                "{who}: {url}"
                            );
                        } else {
                            assert_eq!(answer.status, 503, "{who}: {url}: {answer:?}");
                            assert!(
                                answer.body.contains("No endpoints")
                                    || answer.body.contains("no endpoints available"),
                                "{who}: {url}: {answer:?}"
                            );
                        }
                    }
                    record.push(format!(
                        "{who:32} {:36} {}",
                        urls.porthole_url.trim_start_matches("http://"),
                        if ready {
                            "200 ok"
                        } else {
                            "503 no endpoints (explained)"
                        }
                    ));
                }
            }
            checked += 1;
        }
    }
    println!("{}", record.join("\n"));
    for shape in [
        "single unnamed port (by number)",
        "named port",
        "multi-port",
        "https",
        "NodePort",
        "LoadBalancer",
        "ExternalName",
        "headless with endpoints",
        "headless without endpoints",
        "no endpoints",
        "UDP port",
        "no ports",
    ] {
        assert!(
            seen.contains(shape),
            "no fixture of shape {shape}: {seen:?}"
        );
    }
    assert!(checked >= 40, "only {checked} ports checked");
}

#[tokio::test]
async fn a_pod_link_from_the_details_reaches_the_pod() {
    let proxy = ProxyChild::start(CONTEXT);
    let discovery = discovery(CONTEXT, proxy.port).await;
    // Headless: each request may reach another pod, so pods are offered.
    let details = discovery
        .service_details("default", "headless")
        .await
        .expect("details");
    assert!(details.degraded.is_empty(), "{:?}", details.degraded);
    assert_eq!(details.endpoints.len(), 1, "{details:?}");
    assert_eq!(details.endpoints[0].pod.as_deref(), Some("headless-0"));
    let pod = details.pods.first().expect("the pod behind it");
    assert_eq!(pod.name, "headless-0");
    assert!(pod.ready);
    let link = pod.ports.first().expect("a pod port");
    let answer = get(&format!("{}healthz", link.urls.porthole_url)).await;
    assert_eq!(
        (answer.status, answer.body.trim()),
        (200, "ok"),
        "{}",
        link.urls.porthole_url
    );
}
