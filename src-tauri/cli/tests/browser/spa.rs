//! The SPA fixture from its Porthole service URL, in Chromium: HTML, CSS,
//! JavaScript and `fetch("/api/data")` all by root-relative URLs, which
//! work only because the service has an origin of its own.

use crate::chromium;
use crate::support::{Proxy, artifacts_dir, record};

/// kube-system/kibana-logging:5601, a cluster-info builtin backed by the SPA.
pub const NAMESPACE: &str = "kube-system";
pub const SERVICE: &str = "kibana-logging";
pub const PORT: &str = "5601";

#[test]
fn spa_loads_completely_from_its_service_url() {
    let browser = chromium::version();
    let proxy = Proxy::start();
    let origin = proxy.service_origin(NAMESPACE, SERVICE, PORT, false);
    assert_eq!(
        origin,
        format!(
            "http://5601.kibana-logging.kube-system.porthole-admin.localhost:{}",
            proxy.port
        ),
        "the documented host name scheme PORT.SERVICE.NAMESPACE.CONTEXT.localhost"
    );
    let url = format!("{origin}/");
    let dom = chromium::dump_dom(&url);
    let status = status_line(&dom);
    // What the links look like after the apiserver's HTML rewriting (they
    // still work: Porthole strips the service's own prefix on the way in).
    let page2 = dom
        .split("id=\"page2-link\" href=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or("(no link)");
    record(
        "spa",
        &format!(
            "{browser}\nGET {url}\n#status: {status}\nPage 2 link in the DOM: {page2}\nproxy stderr: {}",
            proxy.log().trim()
        ),
    );
    assert!(
        dom.contains(r#"<p id="status" data-state="ok">PORTHOLE-SPA-OK</p>"#),
        "the SPA did not finish through Porthole (stylesheet, script and /api/data through \
         {origin}); #status says {status:?}\nDOM:\n{dom}\nproxy stderr:\n{}",
        proxy.log()
    );
    assert!(
        dom.contains(r#"<pre id="api-probe" hidden=""></pre>"#),
        "the API probe must stay idle unless asked:\n{dom}"
    );

    let png = artifacts_dir().join("spa.png");
    chromium::screenshot(&url, &png);
    record("spa", &format!("screenshot: {}", png.display()));
}

/// The text of `#status` in a dumped DOM.
pub fn status_line(dom: &str) -> String {
    element_text(dom, "id=\"status\"").unwrap_or_else(|| "(no #status element)".to_owned())
}

/// The text of the first element whose start tag contains `marker`.
pub fn element_text(dom: &str, marker: &str) -> Option<String> {
    let at = dom.find(marker)?;
    let rest = &dom[at..];
    let start = rest.find('>')? + 1;
    let end = rest[start..].find("</")? + start;
    Some(
        rest[start..end]
            .replace("&amp;", "&")
            .replace("&lt;", "<")
            .replace("&gt;", ">"),
    )
}
