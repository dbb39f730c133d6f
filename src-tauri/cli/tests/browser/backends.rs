//! Other backends through their service hosts in Chromium: the TLS backend
//! (`https--PORT…`, the apiserver talks https to the pod) and the
//! Kubernetes handbook's Elasticsearch health URL.

use crate::chromium;
use crate::support::{Proxy, artifacts_dir, record};

#[test]
fn https_backend_loads_from_its_service_url() {
    chromium::chromium();
    let proxy = Proxy::start();
    // default/secure, port "https" (443) → the TLS echo backend.
    let origin = proxy.service_origin("default", "secure", "https", true);
    assert!(
        origin.starts_with("http://https--https.secure.default.porthole-admin.localhost:"),
        "{origin}"
    );
    let url = format!("{origin}/hello?from=chromium");
    let dom = chromium::dump_dom(&url);
    let text = crate::spa::element_text(&dom, "<pre").unwrap_or_default();
    record("https", &format!("GET {url}\n{text}"));
    for expected in [
        r#""path":"/hello""#,
        r#""rawQuery":"from=chromium""#,
        r#""tls":true"#,
        "HeadlessChrome",
    ] {
        assert!(
            text.contains(expected),
            "the TLS backend's echo should show {expected}; page text:\n{text}\nDOM:\n{dom}"
        );
    }
    assert!(
        !text.to_ascii_lowercase().contains("\"authorization\""),
        "no Authorization header may reach the backend:\n{text}"
    );
    let png = artifacts_dir().join("https.png");
    chromium::screenshot(&url, &png);
    record("https", &format!("screenshot: {}", png.display()));
}

#[test]
fn elasticsearch_health_loads_from_its_service_url() {
    chromium::chromium();
    let proxy = Proxy::start();
    // kube-system/elasticsearch-logging:9200, as in the handbook's
    // `.../services/elasticsearch-logging/proxy/_cluster/health?pretty=true`.
    let origin = proxy.service_origin("kube-system", "elasticsearch-logging", "9200", false);
    let url = format!("{origin}/_cluster/health?pretty=true");
    let dom = chromium::dump_dom(&url);
    let text = crate::spa::element_text(&dom, "<pre").unwrap_or_default();
    record("elasticsearch", &format!("GET {url}\n{text}"));
    for expected in [
        r#""cluster_name" : "kubernetes_logging","#,
        r#""status" : "yellow","#,
        r#""number_of_nodes" : 1,"#,
    ] {
        assert!(
            text.contains(expected),
            "the health page should show {expected} (pretty-printed); page text:\n{text}\nDOM:\n{dom}"
        );
    }
    let png = artifacts_dir().join("elasticsearch-health.png");
    chromium::screenshot(&url, &png);
    record("elasticsearch", &format!("screenshot: {}", png.display()));
}
