//! Hostile requests (#5 item 4): each is refused by Porthole and never
//! reaches a service (checked with the echo backend's request log, the
//! path carrying a marker of its own); kubectl proxy's answer to the same
//! bytes is recorded beside it, and asserted only where it is kubectl's
//! fixed behaviour (its host allow-list and exec/attach filter).

use crate::support::{
    Kind, Proxy, Raw, Req, TestNamespace, cluster, kubectl_admin, open, print_table, raw,
    reached_backend, read_until, send,
};

const CONTEXT: &str = "porthole-admin";
const ECHO_HOST: &str = "80.echo.default.porthole-admin.localhost";
const ECHO_API: &str = "/api/v1/namespaces/default/services/echo/proxy";

/// A request written by hand: `Connection: close`, headers as given.
fn request(
    method: &str,
    path: &str,
    host: &str,
    headers: &[(&str, String)],
    body: &str,
) -> Vec<u8> {
    let mut text = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\n");
    for (k, v) in headers {
        text.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty()
        && !headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-length"))
    {
        text.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    text.push_str("Connection: close\r\n\r\n");
    text.push_str(body);
    text.into_bytes()
}

/// Where a hostile request goes: Porthole's address and port, and the
/// marker its path carries.
struct Target<'a> {
    addr: &'a str,
    port: u16,
    kind: Kind,
    marker: String,
}

struct Hostile {
    name: &'static str,
    /// The bytes, for a target.
    build: fn(&Target) -> Vec<u8>,
    /// Porthole's answer.
    porthole: u16,
    /// Whether the marker must be absent (refused) or present (allowed).
    must_reach: bool,
    /// kubectl's answer where it is fixed kubectl behaviour.
    kubectl: Option<u16>,
}

fn echo_path(t: &Target) -> String {
    format!("{ECHO_API}/{}", t.marker)
}

fn local(t: &Target) -> String {
    format!("127.0.0.1:{}", t.port)
}

fn hostile_list() -> Vec<Hostile> {
    let host = |name: &'static str, value: &'static str, kubectl: Option<u16>| Hostile {
        name,
        build: match value {
            "evil.example" => |t| request("GET", &echo_path(t), "evil.example", &[], ""),
            "localhost.evil.com" => {
                |t| request("GET", &echo_path(t), "localhost.evil.com", &[], "")
            }
            "127.1" => |t| request("GET", &echo_path(t), "127.1", &[], ""),
            "2130706433" => |t| request("GET", &echo_path(t), "2130706433", &[], ""),
            "0x7f.0.0.1" => |t| request("GET", &echo_path(t), "0x7f.0.0.1", &[], ""),
            _ => |t| {
                request(
                    "GET",
                    &echo_path(t),
                    "80.echo.default.porthole-admin.localhost.evil.example",
                    &[],
                    "",
                )
            },
        },
        porthole: 403,
        must_reach: false,
        kubectl,
    };
    vec![
        host(
            "Host: evil.example (DNS rebinding)",
            "evil.example",
            Some(403),
        ),
        host("Host: localhost.evil.com", "localhost.evil.com", Some(403)),
        host("Host: 127.1", "127.1", Some(403)),
        host("Host: 2130706433", "2130706433", Some(403)),
        host("Host: 0x7f.0.0.1", "0x7f.0.0.1", Some(403)),
        host(
            "Host: 80.echo.default.porthole-admin.localhost.evil.example",
            "service-lookalike",
            Some(403),
        ),
        Hostile {
            name: "Host: [::1]:PORT (accepted; kubectl's bug not copied)",
            build: |t| request("GET", &echo_path(t), &format!("[::1]:{}", t.port), &[], ""),
            porthole: 200,
            must_reach: true,
            kubectl: None,
        },
        Hostile {
            name: "POST pods/echo-0/exec",
            build: |t| {
                request(
                    "POST",
                    "/api/v1/namespaces/default/pods/echo-0/exec?command=id&stdout=true",
                    &local(t),
                    &[],
                    "",
                )
            },
            porthole: 403,
            must_reach: false,
            kubectl: Some(403),
        },
        Hostile {
            name: "GET pods/echo-0/attach",
            build: |t| {
                request(
                    "GET",
                    "/api/v1/namespaces/default/pods/echo-0/attach?stdout=true",
                    &local(t),
                    &[],
                    "",
                )
            },
            porthole: 403,
            must_reach: false,
            kubectl: Some(403),
        },
        Hostile {
            name: "API host, Origin: http://evil.example",
            build: |t| {
                request(
                    "GET",
                    &echo_path(t),
                    &local(t),
                    &[("Origin", "http://evil.example".into())],
                    "",
                )
            },
            porthole: 403,
            must_reach: false,
            kubectl: None,
        },
        Hostile {
            name: "API host, Sec-Fetch-Site: cross-site",
            build: |t| {
                request(
                    "GET",
                    &echo_path(t),
                    &local(t),
                    &[("Sec-Fetch-Site", "cross-site".into())],
                    "",
                )
            },
            porthole: 403,
            must_reach: false,
            kubectl: None,
        },
        Hostile {
            name: "context host, Origin: http://evil.example",
            build: |t| {
                request(
                    "GET",
                    &echo_path(t),
                    &format!("porthole-admin.localhost:{}", t.port),
                    &[("Origin", "http://evil.example".into())],
                    "",
                )
            },
            porthole: 403,
            must_reach: false,
            kubectl: None,
        },
        Hostile {
            name: "service host, cross-site top-level navigation (GET)",
            build: |t| service_request(t, "GET", navigation()),
            porthole: 200,
            must_reach: true,
            kubectl: None,
        },
        Hostile {
            name: "service host, cross-site fetch (cors)",
            build: |t| {
                service_request(
                    t,
                    "GET",
                    vec![
                        ("Origin", "http://evil.example".into()),
                        ("Sec-Fetch-Site", "cross-site".into()),
                        ("Sec-Fetch-Mode", "cors".into()),
                        ("Sec-Fetch-Dest", "empty".into()),
                    ],
                )
            },
            porthole: 403,
            must_reach: false,
            kubectl: None,
        },
        Hostile {
            name: "service host, cross-site form POST (navigate)",
            build: |t| {
                let mut h = navigation();
                h.push(("Origin", "http://evil.example".into()));
                service_request(t, "POST", h)
            },
            porthole: 403,
            must_reach: false,
            kubectl: None,
        },
        Hostile {
            name: "oversized header (70 KiB)",
            build: |t| {
                request(
                    "GET",
                    &echo_path(t),
                    &local(t),
                    &[("X-Big", "a".repeat(70 * 1024))],
                    "",
                )
            },
            porthole: 431,
            must_reach: false,
            kubectl: None,
        },
        Hostile {
            name: "oversized header (100 KiB)",
            build: |t| {
                request(
                    "GET",
                    &echo_path(t),
                    &local(t),
                    &[("X-Big", "a".repeat(100 * 1024))],
                    "",
                )
            },
            porthole: 431,
            must_reach: false,
            kubectl: None,
        },
        Hostile {
            name: "Content-Length + Transfer-Encoding (CL first)",
            build: |t| {
                request(
                    "POST",
                    &echo_path(t),
                    &local(t),
                    &[
                        ("Content-Length", "4".into()),
                        ("Transfer-Encoding", "chunked".into()),
                    ],
                    "5\r\nhello\r\n0\r\n\r\n",
                )
            },
            porthole: 400,
            must_reach: false,
            kubectl: None,
        },
        Hostile {
            name: "Transfer-Encoding + Content-Length (TE first)",
            build: |t| {
                request(
                    "POST",
                    &echo_path(t),
                    &local(t),
                    &[
                        ("Transfer-Encoding", "chunked".into()),
                        ("Content-Length", "4".into()),
                    ],
                    "5\r\nhello\r\n0\r\n\r\n",
                )
            },
            porthole: 400,
            must_reach: false,
            kubectl: None,
        },
        Hostile {
            name: "CL + TE on a service host",
            build: |t| {
                let path = format!("/{}", t.marker);
                let host = match t.kind {
                    Kind::Porthole => format!("{ECHO_HOST}:{}", t.port),
                    Kind::Kubectl => local(t),
                };
                let path = match t.kind {
                    Kind::Porthole => path,
                    Kind::Kubectl => echo_path(t),
                };
                request(
                    "POST",
                    &path,
                    &host,
                    &[
                        ("Content-Length", "4".into()),
                        ("Transfer-Encoding", "chunked".into()),
                    ],
                    "5\r\nhello\r\n0\r\n\r\n",
                )
            },
            porthole: 400,
            must_reach: false,
            kubectl: None,
        },
        Hostile {
            name: "path with ..",
            build: |t| {
                request(
                    "GET",
                    &format!("{ECHO_API}/x/../{}", t.marker),
                    &local(t),
                    &[],
                    "",
                )
            },
            porthole: 400,
            must_reach: false,
            kubectl: None,
        },
        Hostile {
            name: "path with %2e%2e",
            build: |t| {
                request(
                    "GET",
                    &format!("{ECHO_API}/x/%2e%2e/{}", t.marker),
                    &local(t),
                    &[],
                    "",
                )
            },
            porthole: 400,
            must_reach: false,
            kubectl: None,
        },
        Hostile {
            name: "path with %2F",
            build: |t| {
                request(
                    "GET",
                    &format!("{ECHO_API}/x%2F{}", t.marker),
                    &local(t),
                    &[],
                    "",
                )
            },
            porthole: 400,
            must_reach: false,
            kubectl: None,
        },
        Hostile {
            name: "service host, path with ..",
            build: |t| {
                let (host, path) = match t.kind {
                    Kind::Porthole => (
                        format!("{ECHO_HOST}:{}", t.port),
                        format!("/x/../{}", t.marker),
                    ),
                    Kind::Kubectl => (local(t), format!("{ECHO_API}/x/../{}", t.marker)),
                };
                request("GET", &path, &host, &[], "")
            },
            porthole: 400,
            must_reach: false,
            kubectl: None,
        },
    ]
}

fn navigation() -> Vec<(&'static str, String)> {
    vec![
        ("Sec-Fetch-Site", "cross-site".into()),
        ("Sec-Fetch-Mode", "navigate".into()),
        ("Sec-Fetch-Dest", "document".into()),
        ("Sec-Fetch-User", "?1".into()),
    ]
}

/// The echo service: on its Porthole host, or (kubectl, which has none)
/// on its apiserver proxy path.
fn service_request(t: &Target, method: &str, headers: Vec<(&'static str, String)>) -> Vec<u8> {
    match t.kind {
        Kind::Porthole => request(
            method,
            &format!("/{}", t.marker),
            &format!("{ECHO_HOST}:{}", t.port),
            &headers,
            "",
        ),
        Kind::Kubectl => request(method, &echo_path(t), &local(t), &headers, ""),
    }
}

fn summary(raw: &Raw) -> String {
    let first = raw
        .body
        .iter()
        .take(40)
        .map(|b| char::from(*b))
        .collect::<String>();
    format!(
        "{} {}",
        raw.status_text(),
        first.replace(['\n', '\r'], " ").trim()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_requests_are_refused_before_they_reach_upstream() {
    let _ = cluster();
    let porthole = Proxy::porthole(CONTEXT, &[]).await;
    let kubectl = Proxy::kubectl(CONTEXT, &[]).await;
    let mut rows = Vec::new();
    let mut failures = Vec::new();
    for (i, item) in hostile_list().iter().enumerate() {
        let mut results = Vec::new();
        for proxy in [&porthole, &kubectl] {
            let target = Target {
                addr: &proxy.addr,
                port: proxy.port,
                kind: proxy.kind,
                marker: format!("hostile-{}-{i}-{}", std::process::id(), proxy.kind.name()),
            };
            let answer = raw(target.addr, (item.build)(&target)).await;
            let reached = reached_backend(&target.marker).await;
            results.push((answer, reached));
        }
        let ((p, p_reached), (k, k_reached)) = (&results[0], &results[1]);
        let mut wrong = Vec::new();
        if p.status != Some(item.porthole) {
            wrong.push(format!(
                "porthole answered {} (expected {})\n{}",
                p.status_text(),
                item.porthole,
                p.head
            ));
        }
        if *p_reached != item.must_reach {
            wrong.push(format!(
                "the request {} the echo backend through porthole",
                if *p_reached {
                    "reached"
                } else {
                    "did not reach"
                }
            ));
        }
        if let Some(expected) = item.kubectl
            && k.status != Some(expected)
        {
            wrong.push(format!(
                "kubectl proxy answered {} (expected {expected}: its fixed behaviour)",
                k.status_text()
            ));
        }
        rows.push(vec![
            item.name.to_owned(),
            item.porthole.to_string(),
            summary(p),
            if *p_reached { "reached" } else { "no" }.to_owned(),
            format!(
                "{}{}",
                summary(k),
                if *k_reached { " (reached echo)" } else { "" }
            ),
            if wrong.is_empty() { "ok" } else { "FAIL" }.to_owned(),
        ]);
        if !wrong.is_empty() {
            failures.push(format!("{}: {}", item.name, wrong.join("; ")));
        }
    }
    print_table(
        "Hostile requests: portholectl proxy (asserted) and kubectl proxy (recorded)",
        &[
            "request",
            "expected",
            "porthole",
            "upstream",
            "kubectl proxy",
            "result",
        ],
        &rows,
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_host_reaches_only_its_own_service() {
    let porthole = Proxy::porthole(CONTEXT, &[]).await;
    let host = format!("{ECHO_HOST}:{}", porthole.port);
    // The Kubernetes API's paths on a service host go to the service.
    for path in [
        "/api/v1/namespaces".to_owned(),
        "/api/v1/namespaces/kube-system/secrets".to_owned(),
        // Another service's apiserver-proxy path: still this service.
        "/api/v1/namespaces/team-a/services/web:80/proxy/".to_owned(),
        "/api/v1/namespaces/team-b/services/backend:http/proxy/x".to_owned(),
    ] {
        let resp = send(&porthole.addr, &Req::get(path.clone()).host(host.clone())).await;
        assert_eq!(resp.status, 200, "{path}: {}", resp.text());
        let echo = resp.json();
        assert_eq!(
            echo["path"], path,
            "{path} on the echo service's host must reach the echo backend, as that path: {echo}"
        );
        assert!(
            echo["headers"]["x-forwarded-uri"][0].as_str().is_some_and(
                |u| u.starts_with("/api/v1/namespaces/default/services/echo:80/proxy/")
            ),
            "{path}: forwarded through the echo service's own proxy path: {echo}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_mode_refuses_writes_and_lets_reads_and_watches_through() {
    let ns = TestNamespace::create("proxy-read-only");
    let porthole = Proxy::porthole(CONTEXT, &["--read-only"]).await;
    let configmaps = format!("/api/v1/namespaces/{}/configmaps", ns.0);
    let created = send(
        &porthole.addr,
        &Req::new("POST", configmaps.clone()).json(
            "application/json",
            &serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "refused"}}),
        ),
    )
    .await;
    assert_eq!(
        created.status,
        403,
        "POST in read-only mode: {}",
        created.text()
    );
    assert_eq!(
        created.json()["kind"],
        "Status",
        "a Status: {}",
        created.text()
    );
    for method in ["PUT", "PATCH", "DELETE"] {
        let resp = send(&porthole.addr, &Req::new(method, format!("{configmaps}/x"))).await;
        assert_eq!(
            resp.status,
            403,
            "{method} in read-only mode: {}",
            resp.text()
        );
    }
    let marker = format!("read-only-{}", std::process::id());
    let service_post = send(
        &porthole.addr,
        &Req::new("POST", format!("/{marker}")).host(format!("{ECHO_HOST}:{}", porthole.port)),
    )
    .await;
    assert_eq!(
        service_post.status, 403,
        "POST to a service host in read-only mode"
    );
    assert!(
        !reached_backend(&marker).await,
        "a refused POST reached the echo backend"
    );

    let list = send(&porthole.addr, &Req::get(configmaps.clone())).await;
    assert_eq!(list.status, 200, "GET in read-only mode: {}", list.text());
    assert!(
        list.json()["items"].as_array().is_some_and(Vec::is_empty),
        "the refused POST created nothing: {}",
        list.text()
    );
    let rv = list.json()["metadata"]["resourceVersion"]
        .as_str()
        .expect("resourceVersion")
        .to_owned();
    let watch = open(
        &porthole.addr,
        &Req::get(format!(
            "{configmaps}?watch=true&resourceVersion={rv}&timeoutSeconds=60"
        )),
    )
    .await;
    assert_eq!(watch.status(), 200, "a watch in read-only mode");
    let mut body = watch.into_body();
    kubectl_admin(&["-n", &ns.0, "create", "configmap", "allowed"]);
    let mut buf = Vec::new();
    read_until(&mut body, &mut buf, |b| b.contains(&b'\n'))
        .await
        .expect("the watch's first event before it ends");
    let event: serde_json::Value =
        serde_json::from_slice(buf.split(|b| *b == b'\n').next().unwrap_or_default())
            .expect("a JSON watch event");
    assert_eq!(event["type"], "ADDED", "{event}");
    assert_eq!(event["object"]["metadata"]["name"], "allowed", "{event}");
}
