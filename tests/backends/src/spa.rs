//! `spa`: a single-page app whose HTML, CSS and JavaScript all use
//! root-relative URLs (`/assets/...`, `/api/data`). The script writes
//! `PORTHOLE-SPA-OK` into `#status` only if the stylesheet applied, the
//! script ran and `/api/data` answered; behind a path-prefix proxy that does
//! not map root-relative URLs it writes `PORTHOLE-SPA-FAILED: <what>`.
//!
//! `/assets/api-probe.js` runs only when the page is opened with
//! `?probe-api=BASE[&probe-context=BASE]`: it tries to fetch
//! `/api/v1/namespaces` same-origin and on those (cross-origin) API bases
//! and writes each outcome into `#api-probe` (see the script's header).

use hyper::body::Incoming;
use hyper::header;
use hyper::{Request, Response, StatusCode};
use serde::Serialize;

use crate::http::{self, Body};

const INDEX_HTML: &str = include_str!("../assets/index.html");
const PAGE2_HTML: &str = include_str!("../assets/page2.html");
const SUBMIT_HTML: &str = include_str!("../assets/submit.html");
const APP_JS: &str = include_str!("../assets/app.js");
const API_PROBE_JS: &str = include_str!("../assets/api-probe.js");
const APP_CSS: &str = include_str!("../assets/app.css");
const LOGO_SVG: &str = include_str!("../assets/logo.svg");

/// Same-origin only, no inline script or style: the page must work under it.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
                   img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'";

/// What `/api/data` answers; `app.js` checks `source`.
#[derive(Serialize)]
struct ApiData {
    source: &'static str,
    message: &'static str,
    items: [u32; 3],
}

pub fn handle(req: Request<Incoming>) -> Response<Body> {
    if !http::is_get(req.method()) {
        return http::method_not_allowed("GET, HEAD");
    }
    match req.uri().path() {
        "/" | "/index.html" => html(INDEX_HTML),
        "/page2" => html(PAGE2_HTML),
        "/submit" => html(SUBMIT_HTML),
        "/assets/app.js" => asset("text/javascript; charset=utf-8", APP_JS),
        "/assets/api-probe.js" => asset("text/javascript; charset=utf-8", API_PROBE_JS),
        "/assets/app.css" => asset("text/css; charset=utf-8", APP_CSS),
        "/assets/logo.svg" => asset("image/svg+xml", LOGO_SVG),
        "/api/data" => {
            let mut response = http::json(
                StatusCode::OK,
                &ApiData {
                    source: "porthole-test-spa",
                    message: "hello from the Porthole test SPA",
                    items: [1, 2, 3],
                },
            );
            no_store(&mut response);
            response
        }
        _ => http::not_found(),
    }
}

fn html(page: &'static str) -> Response<Body> {
    let mut response = asset("text/html; charset=utf-8", page);
    http::set_static(&mut response, header::CONTENT_SECURITY_POLICY, CSP);
    response
}

fn asset(content_type: &'static str, body: &'static str) -> Response<Body> {
    let mut response = http::response(StatusCode::OK, content_type, http::full(body));
    no_store(&mut response);
    http::set_static(&mut response, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    response
}

fn no_store(response: &mut Response<Body>) {
    http::set_static(response, header::CACHE_CONTROL, "no-store");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_api_probe_is_loaded_but_runs_only_when_asked() {
        assert!(INDEX_HTML.contains(r#"<script src="/assets/api-probe.js" defer></script>"#));
        assert!(INDEX_HTML.contains(r#"<pre id="api-probe" hidden></pre>"#));
        assert!(API_PROBE_JS.contains(r#"params.get("probe-api")"#));
        assert!(API_PROBE_JS.contains("if (api === null) {\n    return;\n  }"));
        assert!(API_PROBE_JS.contains(r#"fetch(url, "#));
        assert!(API_PROBE_JS.contains("API-PROBE-DONE"));
    }
}
