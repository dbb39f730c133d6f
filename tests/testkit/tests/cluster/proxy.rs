//! The apiserver's service and pod proxy, through `kubectl proxy` (the
//! handbook's way) and directly. What these tests assert about link
//! rewriting and forwarded headers is recorded in tests/testkit/FINDINGS.md.

use porthole_testkit::users::{ADMIN, VIEWER};

use crate::support::{KubectlProxy, block_on, cluster, get, kubectl, ok};

const ES_HEALTH: &str = "/api/v1/namespaces/kube-system/services/elasticsearch-logging/proxy/_cluster/health?pretty=true";
const KIBANA: &str = "/api/v1/namespaces/kube-system/services/kibana-logging/proxy";

#[test]
fn kubectl_proxy_serves_the_api_and_the_elasticsearch_handbook_health() {
    let proxy = KubectlProxy::start(cluster().user_kubeconfig(ADMIN));

    let api = get(&proxy.url("/api/"), &[]);
    assert_eq!(api.status, 200, "{}", api.body);
    let v: serde_json::Value = serde_json::from_str(&api.body).expect("/api/ is JSON");
    assert_eq!(v["kind"], "APIVersions");
    assert_eq!(v["versions"], serde_json::json!(["v1"]));

    let health = get(&proxy.url(ES_HEALTH), &[]);
    assert_eq!(health.status, 200, "{}", health.body);
    assert!(
        health
            .body
            .contains(r#""cluster_name" : "kubernetes_logging""#),
        "{}",
        health.body
    );
    assert!(
        health.body.contains(r#""status" : "yellow""#),
        "{}",
        health.body
    );

    let search = get(&proxy.url("/api/v1/namespaces/kube-system/services/elasticsearch-logging/proxy/_search?q=porthole"), &[]);
    assert_eq!(search.status, 200, "{}", search.body);
    assert!(search.body.contains("porthole"), "{}", search.body);
}

/// Pulls `attr="value"` pairs out of HTML, in order.
fn attributes(html: &str, attr: &str) -> Vec<String> {
    let needle = format!("{attr}=\"");
    html.match_indices(&needle)
        .filter_map(|(i, _)| {
            let rest = &html[i + needle.len()..];
            rest.find('"').map(|end| rest[..end].to_owned())
        })
        .collect()
}

#[test]
fn the_apiserver_rewrites_root_relative_links_in_html_only() {
    let c = cluster();
    let spa = c.backend_addr("spa", "spa").expect("spa backend");
    let proxy = KubectlProxy::start(c.user_kubeconfig(ADMIN));
    let prefix = KIBANA;

    // Without the trailing slash: a redirect to it.
    let bare = get(&proxy.url(prefix), &[]);
    assert_eq!(bare.status, 301, "{:?}", bare.headers);
    assert_eq!(bare.header("location"), Some(format!("{prefix}/").as_str()));

    let original = get(&format!("http://{spa}/"), &[]);
    let proxied = get(&proxy.url(&format!("{prefix}/")), &[]);
    assert_eq!(proxied.status, 200);
    let mut record = vec![format!(
        "GET {prefix}/ (kubectl proxy -> apiserver -> spa backend)"
    )];
    for attr in ["href", "src", "action"] {
        let before = attributes(&original.body, attr);
        let after = attributes(&proxied.body, attr);
        assert_eq!(before.len(), after.len(), "{attr}: {before:?} vs {after:?}");
        assert!(!before.is_empty(), "the SPA has {attr} attributes");
        for (b, a) in before.iter().zip(&after) {
            record.push(format!("  {attr}=\"{b}\"  ->  {attr}=\"{a}\""));
            assert!(b.starts_with('/'), "fixture links are root-relative");
            assert_eq!(
                a,
                &format!("{prefix}{b}"),
                "{attr} rewritten to the proxy path"
            );
        }
    }
    // The HTML is re-serialised: a bare boolean attribute gains ="".
    assert!(original.body.contains(" defer>"));
    assert!(proxied.body.contains(" defer=\"\""), "{}", proxied.body);
    record.push("  <script ... defer>  ->  <script ... defer=\"\"> (HTML re-serialised)".into());

    // Scripts and stylesheets pass untouched: the script's fetch("/api/data")
    // stays root-relative, so it misses the service behind a path prefix.
    let js_direct = get(&format!("http://{spa}/assets/app.js"), &[]);
    let js = get(&proxy.url(&format!("{prefix}/assets/app.js")), &[]);
    assert_eq!(js.body, js_direct.body);
    assert!(js.body.contains("fetch(\"/api/data\""));
    let css_direct = get(&format!("http://{spa}/assets/app.css"), &[]);
    let css = get(&proxy.url(&format!("{prefix}/assets/app.css")), &[]);
    assert_eq!(css.body, css_direct.body);
    record.push("  assets/app.js, assets/app.css: byte-identical (not rewritten); fetch(\"/api/data\") stays root-relative".into());
    println!("{}", record.join("\n"));
}

#[test]
fn no_caller_credential_reaches_the_service() {
    let c = cluster();
    let viewer_token = c.user(VIEWER).token.clone().expect("viewer has a token");

    // 1. A token user through kubectl proxy: kubectl adds the bearer token.
    let proxy = KubectlProxy::start(c.user_kubeconfig(VIEWER));
    let echo = get(
        &proxy.url("/api/v1/namespaces/team-a/services/echo:http/proxy/inspect?x=1"),
        &[
            ("Cookie", "session=from-the-browser"),
            ("X-Remote-User", "mallory"),
        ],
    );
    assert_eq!(echo.status, 200, "{}", echo.body);
    let seen: serde_json::Value = serde_json::from_str(&echo.body).expect("echo JSON");
    let headers = seen["headers"].as_object().expect("headers map").clone();
    println!(
        "headers at the service (viewer via kubectl proxy): {:?}",
        headers.keys().collect::<Vec<_>>()
    );
    assert!(!headers.contains_key("authorization"), "{headers:?}");
    assert!(
        !echo.body.contains(&viewer_token),
        "the token must not reach the service"
    );
    assert!(
        !headers.contains_key("x-remote-user"),
        "X-Remote-* is dropped: {headers:?}"
    );
    assert!(headers.contains_key("x-forwarded-for"), "{headers:?}");
    assert_eq!(seen["path"], "/inspect");
    assert_eq!(seen["rawQuery"], "x=1");
    // Cookies of the caller do pass: Porthole must not send browser cookies
    // for one service to another.
    assert!(headers.contains_key("cookie"), "{headers:?}");

    // 2. Client certificate + impersonation, straight to the apiserver.
    let body = block_on(async {
        let client = c
            .client(porthole_testkit::users::ADMIN)
            .await
            .expect("admin client");
        let req =
            http::Request::get("/api/v1/namespaces/team-a/services/echo:http/proxy/impersonated")
                .header("Impersonate-User", VIEWER)
                .header("Impersonate-Group", "porthole:viewers")
                .body(Vec::new())
                .expect("request");
        client
            .request_text(req)
            .await
            .expect("proxied as the impersonated viewer")
    });
    let seen: serde_json::Value = serde_json::from_str(&body).expect("echo JSON");
    let headers = seen["headers"].as_object().expect("headers map");
    println!(
        "headers at the service (admin cert, impersonating viewer): {:?}",
        headers.keys().collect::<Vec<_>>()
    );
    assert!(
        headers.keys().all(|k| !k.starts_with("impersonate-")),
        "{headers:?}"
    );
    assert!(!headers.contains_key("authorization"), "{headers:?}");
    assert!(
        headers
            .keys()
            .all(|k| !k.contains("client-cert") && !k.starts_with("x-remote-")),
        "{headers:?}"
    );
}

#[test]
fn pod_proxy_and_https_service_proxy_reach_backends() {
    let pod = ok(kubectl(
        ADMIN,
        &[
            "get",
            "--raw",
            "/api/v1/namespaces/default/pods/echo-0/proxy/from-pod-proxy",
        ],
    ));
    let v: serde_json::Value = serde_json::from_str(&pod).expect("echo JSON");
    assert_eq!(v["path"], "/from-pod-proxy");

    let tls = ok(kubectl(
        ADMIN,
        &[
            "get",
            "--raw",
            "/api/v1/namespaces/default/services/https:secure:https/proxy/over-tls",
        ],
    ));
    let v: serde_json::Value = serde_json::from_str(&tls).expect("https echo JSON");
    assert_eq!(v["path"], "/over-tls");

    // A numeric port works when the port has no name.
    let es = ok(kubectl(
        ADMIN,
        &[
            "get",
            "--raw",
            "/api/v1/namespaces/default/services/numeric-only:9200/proxy/_cluster/health",
        ],
    ));
    assert!(es.contains("kubernetes_logging"), "{es}");

    // No endpoints: 503 from the apiserver.
    let out = crate::support::run(kubectl(
        ADMIN,
        &[
            "get",
            "--raw",
            "/api/v1/namespaces/default/services/no-endpoints:http/proxy/",
        ],
    ));
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("ServiceUnavailable") || err.contains("no endpoints"),
        "{err}"
    );
}

#[test]
fn streams_and_downloads_pass_the_service_proxy() {
    let proxy = KubectlProxy::start(cluster().user_kubeconfig(ADMIN));
    let events = get(
        &proxy.url(
            "/api/v1/namespaces/default/services/stream:http/proxy/events?count=5&interval_ms=50",
        ),
        &[],
    );
    assert_eq!(events.status, 200, "{}", events.body);
    assert_eq!(events.header("content-type"), Some("text/event-stream"));
    assert_eq!(events.body.matches("data: ").count(), 5, "{}", events.body);

    let mut resp =
        crate::support::agent()
            .get(&proxy.url(
                "/api/v1/namespaces/default/services/download:http/proxy/download?bytes=20971520",
            ))
            .call()
            .expect("download through the proxy");
    assert_eq!(resp.status().as_u16(), 200);
    let mut reader = resp.body_mut().with_config().limit(u64::MAX).reader();
    let n = std::io::copy(&mut reader, &mut std::io::sink()).expect("read the download");
    assert_eq!(n, 20 * 1024 * 1024);
}
