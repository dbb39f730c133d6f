//! Parity with the reference (#5 item 5): one list of requests sent through
//! `kubectl proxy` and through `portholectl proxy`, same kubeconfig, same
//! context, same apiserver; status, key headers and bodies compared.

use serde_json::{Value, json};

use crate::support::{
    Kind, Proxy, Req, Resp, TestNamespace, cluster, kubectl_admin, open, print_table, read_until,
    send, websocket_echo,
};

/// How two answers are compared.
#[derive(Debug, Clone, Copy)]
enum Body {
    /// JSON, minus what legitimately differs (resourceVersion, uid,
    /// timestamps, managedFields).
    Json,
    /// Byte for byte.
    Exact,
    /// The echo backend's description minus its `headers` (user agent and
    /// X-Forwarded-For name the proxy).
    Echo,
    /// No body (HEAD).
    Empty,
}

struct Case {
    name: String,
    /// `porthole-admin` or `porthole-viewer`
    viewer: bool,
    req: Req,
    body: Body,
}

/// Headers whose values must match.
const SAME_HEADERS: &[&str] = &[
    "content-type",
    "cache-control",
    "location",
    "content-encoding",
    "content-disposition",
    "x-content-type-options",
];
/// Headers that must be present on both or neither (values differ).
const PRESENT_HEADERS: &[&str] = &["audit-id"];

fn cases(ns: &str, who: &str) -> Vec<Case> {
    let cm = format!("/api/v1/namespaces/{ns}/configmaps");
    let es = "/api/v1/namespaces/kube-system/services/elasticsearch-logging/proxy";
    let case = |name: &str, req: Req, body: Body| Case {
        name: name.to_owned(),
        viewer: false,
        req,
        body,
    };
    let mut list = vec![
        case("GET /api/", Req::get("/api/"), Body::Json),
        case("GET /apis", Req::get("/apis"), Body::Json),
        case("GET /version", Req::get("/version"), Body::Json),
        case(
            "GET namespaced list team-a/services",
            Req::get("/api/v1/namespaces/team-a/services"),
            Body::Json,
        ),
        case(
            "GET list with query (labelSelector, limit)",
            Req::get("/api/v1/namespaces/team-a/services?labelSelector=app%3Dweb&limit=1"),
            Body::Json,
        ),
        case(
            "GET one object team-a/services/echo",
            Req::get("/api/v1/namespaces/team-a/services/echo"),
            Body::Json,
        ),
        case(
            "GET 404 (missing object)",
            Req::get("/api/v1/namespaces/team-a/services/no-such-service"),
            Body::Json,
        ),
        case(
            "GET 404 (unknown path)",
            Req::get("/no-such-path"),
            Body::Exact,
        ),
        case(
            "HEAD one object",
            Req::new("HEAD", "/api/v1/namespaces/team-a/services/echo"),
            Body::Empty,
        ),
        case(
            "HEAD service proxy page",
            Req::new(
                "HEAD",
                "/api/v1/namespaces/kube-system/services/elasticsearch-logging/proxy/_cluster/health",
            ),
            Body::Empty,
        ),
        case(
            "POST configmap",
            Req::new("POST", cm.clone()).json(
                "application/json",
                &json!({"apiVersion": "v1", "kind": "ConfigMap",
                        "metadata": {"name": format!("cm-{who}")}, "data": {"a": "1"}}),
            ),
            Body::Json,
        ),
        case(
            "POST configmap again (409 AlreadyExists)",
            Req::new("POST", cm.clone()).json(
                "application/json",
                &json!({"apiVersion": "v1", "kind": "ConfigMap",
                        "metadata": {"name": format!("cm-{who}")}}),
            ),
            Body::Json,
        ),
        case(
            "PUT configmap",
            Req::new("PUT", format!("{cm}/cm-{who}")).json(
                "application/json",
                &json!({"apiVersion": "v1", "kind": "ConfigMap",
                        "metadata": {"name": format!("cm-{who}")}, "data": {"a": "2"}}),
            ),
            Body::Json,
        ),
        case(
            "PATCH configmap (merge patch)",
            Req::new("PATCH", format!("{cm}/cm-{who}"))
                .json("application/merge-patch+json", &json!({"data": {"b": "3"}})),
            Body::Json,
        ),
        case(
            "GET configmap after the writes",
            Req::get(format!("{cm}/cm-{who}")),
            Body::Json,
        ),
        case(
            "DELETE configmap",
            Req::new("DELETE", format!("{cm}/cm-{who}")),
            Body::Json,
        ),
        case(
            "GET deleted configmap (404)",
            Req::get(format!("{cm}/cm-{who}")),
            Body::Json,
        ),
        case(
            "service proxy _search?q=user:kimchy",
            Req::get(format!("{es}/_search?q=user:kimchy")),
            Body::Exact,
        ),
        case(
            "service proxy _cluster/health?pretty=true",
            Req::get(format!("{es}/_cluster/health?pretty=true")),
            Body::Exact,
        ),
        case(
            "service proxy POST _search with a body",
            Req::new("POST", format!("{es}/_search?q=user:kimchy"))
                .json("application/json", &json!({"query": {"match_all": {}}})),
            Body::Exact,
        ),
        case(
            "service proxy HTML (links rewritten)",
            Req::get("/api/v1/namespaces/kube-system/services/kibana-logging/proxy/"),
            Body::Exact,
        ),
        case(
            "service proxy without slash (301)",
            Req::get("/api/v1/namespaces/kube-system/services/kibana-logging/proxy"),
            Body::Exact,
        ),
        case(
            "service proxy echo with query and header",
            Req::get("/api/v1/namespaces/team-a/services/echo:http/proxy/parity?x=1&y=a%20b")
                .header("X-Parity", "yes"),
            Body::Echo,
        ),
        case(
            "service proxy, no endpoints (503)",
            Req::get("/api/v1/namespaces/default/services/no-endpoints:http/proxy/"),
            Body::Json,
        ),
    ];
    list.push(Case {
        name: "viewer: GET team-a/services".to_owned(),
        viewer: true,
        req: Req::get("/api/v1/namespaces/team-a/services"),
        body: Body::Json,
    });
    list.push(Case {
        name: "viewer: GET /api/v1/namespaces (403)".to_owned(),
        viewer: true,
        req: Req::get("/api/v1/namespaces"),
        body: Body::Json,
    });
    list.push(Case {
        name: "viewer: POST configmap in team-a (403)".to_owned(),
        viewer: true,
        req: Req::new("POST", "/api/v1/namespaces/team-a/configmaps").json(
            "application/json",
            &json!({"apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": {"name": format!("cm-{who}")}}),
        ),
        body: Body::Json,
    });
    list
}

/// Drops what legitimately differs between two runs of the same request.
fn normalize(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for key in [
                "resourceVersion",
                "uid",
                "creationTimestamp",
                "managedFields",
                "continue",
            ] {
                map.remove(key);
            }
            map.values_mut().for_each(normalize);
        }
        Value::Array(items) => items.iter_mut().for_each(normalize),
        _ => {}
    }
}

/// The body as compared: the proxy's own name (`cm-kubectl`/`cm-porthole`)
/// replaced, then parsed and normalised per `kind`.
fn comparable(resp: &Resp, kind: Body) -> String {
    let text = resp
        .text()
        .replace("cm-kubectl", "cm-WHO")
        .replace("cm-porthole", "cm-WHO")
        .replace("watch-kubectl", "watch-WHO")
        .replace("watch-porthole", "watch-WHO");
    match kind {
        Body::Exact => text,
        Body::Empty => format!("{} bytes", resp.body.len()),
        Body::Json | Body::Echo => {
            let Ok(mut value) = serde_json::from_str::<Value>(&text) else {
                return format!("not JSON: {text}");
            };
            normalize(&mut value);
            if matches!(kind, Body::Echo)
                && let Some(map) = value.as_object_mut()
            {
                map.remove("headers");
            }
            value.to_string()
        }
    }
}

fn headers_of(resp: &Resp) -> Vec<String> {
    let mut out: Vec<String> = SAME_HEADERS
        .iter()
        .filter_map(|h| resp.header(h).map(|v| format!("{h}: {v}")))
        .collect();
    out.extend(
        PRESENT_HEADERS
            .iter()
            .filter(|h| resp.headers.contains_key(**h))
            .map(|h| format!("{h}: (present)")),
    );
    out
}

fn short(text: &str) -> String {
    let one_line = text.replace('\n', " ");
    if one_line.chars().count() > 60 {
        format!("{}…", one_line.chars().take(60).collect::<String>())
    } else {
        one_line
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_proxy_and_portholectl_proxy_answer_the_same_requests_alike() {
    let _ = cluster();
    let ns = TestNamespace::create("proxy-parity");
    let admin = [
        Proxy::kubectl("porthole-admin", &[]).await,
        Proxy::porthole("porthole-admin", &[]).await,
    ];
    let viewer = [
        Proxy::kubectl("porthole-viewer", &[]).await,
        Proxy::porthole("porthole-viewer", &[]).await,
    ];
    let mut rows = Vec::new();
    let mut differences = Vec::new();
    let per_proxy: Vec<Vec<Case>> = admin.iter().map(|p| cases(&ns.0, p.kind.name())).collect();
    for i in 0..per_proxy[0].len() {
        let mut answers = Vec::new();
        for (p, list) in per_proxy.iter().enumerate() {
            let case = &list[i];
            let proxy = if case.viewer { &viewer[p] } else { &admin[p] };
            answers.push(send(&proxy.addr, &case.req).await);
        }
        let case = &per_proxy[0][i];
        let (k, p) = (&answers[0], &answers[1]);
        let mut what = vec![];
        if k.status != p.status {
            what.push(format!("status {} vs {}", k.status, p.status));
        }
        let (kh, ph) = (headers_of(k), headers_of(p));
        if kh != ph {
            what.push(format!("headers {kh:?} vs {ph:?}"));
        }
        let (kb, pb) = (comparable(k, case.body), comparable(p, case.body));
        if kb != pb {
            what.push(format!("body\n  kubectl:  {kb}\n  porthole: {pb}"));
        }
        rows.push(vec![
            case.name.clone(),
            format!("{} {}", k.status, k.header("content-type").unwrap_or("-")),
            format!("{} {}", p.status, p.header("content-type").unwrap_or("-")),
            format!("{:?}: {}", case.body, short(&pb)),
            if what.is_empty() { "same" } else { "DIFFERENT" }.to_owned(),
        ]);
        if !what.is_empty() {
            differences.push(format!("{}: {}", case.name, what.join("; ")));
        }
    }

    // A watch: events arrive as the apiserver sends them, through both.
    for (proxy, name) in admin
        .iter()
        .map(|p| (p, format!("watch-{}", p.kind.name())))
    {
        let list = send(
            &proxy.addr,
            &Req::get(format!("/api/v1/namespaces/{}/configmaps", ns.0)),
        )
        .await
        .json();
        let rv = list["metadata"]["resourceVersion"]
            .as_str()
            .expect("a list has a resourceVersion")
            .to_owned();
        let watch = Req::get(format!(
            "/api/v1/namespaces/{}/configmaps?watch=true&resourceVersion={rv}&timeoutSeconds=60",
            ns.0
        ));
        let response = open(&proxy.addr, &watch).await;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-")
            .to_owned();
        let mut body = response.into_body();
        kubectl_admin(&["-n", &ns.0, "create", "configmap", &name]);
        let mut buf = Vec::new();
        let got = read_until(&mut body, &mut buf, |b| b.contains(&b'\n')).await;
        let line = String::from_utf8_lossy(&buf).into_owned();
        let event: Value = serde_json::from_str(line.lines().next().unwrap_or_default())
            .unwrap_or_else(|e| {
                panic!(
                    "{} watch: not a JSON event ({e}): {line:?}",
                    proxy.kind.name()
                )
            });
        assert!(
            got.is_some(),
            "{}: the watch ended before its first event",
            proxy.kind.name()
        );
        rows.push(vec![
            format!("watch configmaps ({})", proxy.kind.name()),
            if proxy.kind == Kind::Kubectl {
                format!("{status} {content_type}")
            } else {
                "-".into()
            },
            if proxy.kind == Kind::Porthole {
                format!("{status} {content_type}")
            } else {
                "-".into()
            },
            format!(
                "first event: {} {}",
                event["type"].as_str().unwrap_or("?"),
                event["object"]["metadata"]["name"].as_str().unwrap_or("?")
            ),
            if status == 200
                && event["type"] == "ADDED"
                && event["object"]["metadata"]["name"] == name.as_str()
            {
                "ok"
            } else {
                "DIFFERENT"
            }
            .to_owned(),
        ]);
        if status != 200
            || event["type"] != "ADDED"
            || event["object"]["metadata"]["name"] != name.as_str()
        {
            differences.push(format!(
                "watch through {}: {status}, first event {event}",
                proxy.kind.name()
            ));
        }
    }

    // An upgrade: WebSocket to the websocket backend through the service proxy.
    let ws_path = "/api/v1/namespaces/default/services/websocket:http/proxy/ws";
    let mut ws = Vec::new();
    for proxy in &admin {
        ws.push(websocket_echo(&proxy.addr, &proxy.addr, ws_path, "hello-parity").await);
    }
    let accept = |head: &str| {
        head.lines()
            .find(|l| l.to_ascii_lowercase().starts_with("sec-websocket-accept:"))
            .map(|l| l.to_ascii_lowercase())
    };
    let same_ws = ws[0].0.status == ws[1].0.status
        && accept(&ws[0].0.head) == accept(&ws[1].0.head)
        && ws[0].1 == ws[1].1
        && ws[1].0.status == Some(101)
        && ws[1].1 == "hello-parity";
    rows.push(vec![
        "WebSocket upgrade + echo (service proxy)".into(),
        format!("{} {:?}", ws[0].0.status_text(), ws[0].1),
        format!("{} {:?}", ws[1].0.status_text(), ws[1].1),
        "status, Sec-WebSocket-Accept, echoed text".into(),
        if same_ws { "same" } else { "DIFFERENT" }.into(),
    ]);
    if !same_ws {
        differences.push(format!(
            "WebSocket: kubectl {:?} / porthole {:?}",
            ws[0], ws[1]
        ));
    }

    print_table(
        "Parity: kubectl proxy vs portholectl proxy (same kubeconfig, context, apiserver)",
        &["request", "kubectl", "porthole", "compared", "result"],
        &rows,
    );
    assert!(
        differences.is_empty(),
        "portholectl proxy differs from kubectl proxy:\n{}",
        differences.join("\n")
    );
}
