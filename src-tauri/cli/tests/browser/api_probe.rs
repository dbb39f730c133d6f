//! A service page must not be able to use the user's credentials on the
//! Kubernetes API. The SPA's probe (`/assets/api-probe.js`, run by
//! `?probe-api=…&probe-context=…`) tries `/api/v1/namespaces` same-origin and
//! on both API hosts from inside Chromium; then the same cross-site requests
//! are sent directly, with the headers Chromium puts on a page's `fetch`, to
//! show that Porthole refuses them on its own (in the browser the SPA's CSP,
//! `connect-src 'self'`, already stops them before they leave).

use std::collections::BTreeMap;

use crate::chromium;
use crate::http;
use crate::spa::{NAMESPACE, PORT, SERVICE, element_text, status_line};
use crate::support::{Proxy, artifacts_dir, record};

const NAMESPACES: &str = "/api/v1/namespaces";

#[test]
fn spa_page_cannot_read_the_namespace_list_with_the_users_credentials() {
    chromium::chromium();
    let proxy = Proxy::start();
    let origin = proxy.service_origin(NAMESPACE, SERVICE, PORT, false);
    let url = format!(
        "{origin}/?probe-api={}&probe-context={}",
        proxy.api_origin(),
        proxy.context_origin()
    );

    // 1. In the browser.
    let dom = chromium::dump_dom(&url);
    let probe = element_text(&dom, "id=\"api-probe\"").unwrap_or_default();
    record(
        "api_probe",
        &format!(
            "GET {url}\n#status: {}\n#api-probe:\n{probe}",
            status_line(&dom)
        ),
    );
    assert!(
        probe.contains("API-PROBE-DONE"),
        "the probe did not finish; #api-probe: {probe:?}\nDOM:\n{dom}"
    );
    assert!(
        !probe.contains("NamespaceList read"),
        "the service page read the namespace list:\n{probe}"
    );
    let outcomes: BTreeMap<&str, &str> = probe
        .lines()
        .filter_map(|line| line.split_once(": "))
        .collect();
    for name in ["same-origin", "other-service"] {
        // Same-origin paths go to the service: the SPA's own 404.
        assert_eq!(
            outcomes.get(name).copied(),
            Some("status 404, no NamespaceList, body: not found"),
            "{name}: a same-origin /api/... path must reach the SPA's backend, not the API\n{probe}"
        );
    }
    for name in ["api-host", "context-host"] {
        let outcome = outcomes.get(name).copied().unwrap_or("(missing)");
        assert!(
            outcome.starts_with("blocked (TypeError"),
            "{name}: the cross-origin fetch must fail in the page, got {outcome:?}\n{probe}"
        );
    }
    assert!(
        dom.contains("PORTHOLE-SPA-OK"),
        "the SPA itself still works with the probe on:\n{dom}"
    );
    let png = artifacts_dir().join("spa-api-probe.png");
    chromium::screenshot(&url, &png);
    record("api_probe", &format!("screenshot: {}", png.display()));

    // 2. Without the browser: Porthole's own answer to those requests.
    let port = proxy.port;
    let spa_host = origin.trim_start_matches("http://").to_owned();
    let api_host = format!("localhost:{port}");
    let context_host = proxy
        .context_origin()
        .trim_start_matches("http://")
        .to_owned();
    let referer = format!("{origin}/");

    // A tool (no browser headers) does get the list: the refusals below are
    // the cross-site guard, not missing credentials.
    let tool = http::get(
        port,
        &api_host,
        NAMESPACES,
        &[("accept", "application/json")],
    );
    record(
        "api_probe",
        &format!("tool GET {api_host}{NAMESPACES}: {}", tool.summary()),
    );
    assert!(
        tool.status == 200 && tool.has_namespace_list(),
        "a tool's GET {NAMESPACES} on {api_host} should list namespaces: {}",
        tool.summary()
    );

    let chromium_ua = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) \
                       HeadlessChrome/156.0.0.0 Safari/537.36";
    for host in [&api_host, &context_host] {
        for (what, headers) in [
            (
                "fetch, cors, same-site",
                vec![
                    ("origin", origin.as_str()),
                    ("sec-fetch-site", "same-site"),
                    ("sec-fetch-mode", "cors"),
                    ("sec-fetch-dest", "empty"),
                ],
            ),
            (
                "fetch, cors, cross-site",
                vec![
                    ("origin", origin.as_str()),
                    ("sec-fetch-site", "cross-site"),
                    ("sec-fetch-mode", "cors"),
                    ("sec-fetch-dest", "empty"),
                ],
            ),
            (
                "fetch, no-cors (no Origin on a GET)",
                vec![
                    ("sec-fetch-site", "cross-site"),
                    ("sec-fetch-mode", "no-cors"),
                    ("sec-fetch-dest", "empty"),
                ],
            ),
            (
                "Origin only (a browser without Sec-Fetch-*)",
                vec![("origin", origin.as_str())],
            ),
        ] {
            let mut all = headers.clone();
            all.extend([
                ("accept", "*/*"),
                ("referer", referer.as_str()),
                ("user-agent", chromium_ua),
            ]);
            let answer = http::get(port, host, NAMESPACES, &all);
            record(
                "api_probe",
                &format!(
                    "{what} from {origin} to {host}{NAMESPACES}: {}",
                    answer.summary()
                ),
            );
            assert_eq!(
                answer.status,
                403,
                "{what} from {origin} to {host}{NAMESPACES} must be refused by Porthole: {}",
                answer.summary()
            );
            assert!(
                !answer.has_namespace_list(),
                "{what} to {host}: the refusal carries the namespace list: {}",
                answer.summary()
            );
            assert!(
                !answer.headers.contains_key("access-control-allow-origin"),
                "{what} to {host}: a refusal must not allow CORS: {:?}",
                answer.headers
            );
        }
    }

    // The page's same-origin request: the service, not the API.
    let same = http::get(
        port,
        &spa_host,
        NAMESPACES,
        &[
            ("origin", origin.as_str()),
            ("sec-fetch-site", "same-origin"),
            ("sec-fetch-mode", "cors"),
            ("sec-fetch-dest", "empty"),
            ("referer", referer.as_str()),
        ],
    );
    record(
        "api_probe",
        &format!(
            "same-origin fetch to {spa_host}{NAMESPACES}: {}",
            same.summary()
        ),
    );
    assert!(
        same.status == 404 && !same.has_namespace_list() && same.body.trim() == "not found",
        "{spa_host}{NAMESPACES} must be the SPA's own 404: {}",
        same.summary()
    );
}
