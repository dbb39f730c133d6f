//! The checks that keep a loopback proxy holding the user's credentials
//! from being used by someone else: other web pages (cross-site requests,
//! DNS rebinding is handled by the host allow-list in `route`), odd paths
//! that could climb out of a service's proxy prefix, and headers a client
//! must not choose.

use http::{HeaderMap, HeaderName, Method, header};

/// Why a request was refused, for the answer and the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// `..`, encoded slashes or dots, backslashes, NUL: could escape a
    /// prefix or be read differently upstream.
    OddPath,
    /// Sent by another web page (Origin / `Sec-Fetch-Site`).
    CrossSite,
    /// A write in read-only mode.
    ReadOnly,
}

impl Refusal {
    pub fn message(&self) -> &'static str {
        match self {
            Self::OddPath => {
                "the path has '..', an encoded '/', '.' or '\\\\', or a NUL; Porthole does not forward such paths"
            }
            Self::CrossSite => {
                "this request came from another web site; Porthole only forwards requests from its own pages, tools and direct visits"
            }
            Self::ReadOnly => {
                "Porthole's proxy is in read-only mode: only GET, HEAD and OPTIONS pass"
            }
        }
    }
}

/// Refuses paths that could mean something else upstream.
pub fn check_path(raw_path: &str) -> Result<(), Refusal> {
    let lower = raw_path.to_ascii_lowercase();
    let odd = lower.contains("%2f")
        || lower.contains("%5c")
        || lower.contains("%2e")
        || lower.contains("%00")
        || raw_path.contains('\\')
        || raw_path
            .split('/')
            .any(|segment| segment == ".." || segment == ".");
    if odd { Err(Refusal::OddPath) } else { Ok(()) }
}

/// Who sent a request, from the headers browsers add.
fn cross_site(headers: &HeaderMap, own_origin: &str) -> bool {
    let site = headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .map(str::to_ascii_lowercase);
    if let Some(site) = site.as_deref()
        && site != "same-origin"
        && site != "none"
    {
        return true;
    }
    headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|origin| !origin.eq_ignore_ascii_case(own_origin))
}

/// API hosts: only their own pages, tools (no browser headers) and what
/// the user typed into the address bar.
pub fn check_api_request(headers: &HeaderMap, own_origin: &str) -> Result<(), Refusal> {
    if cross_site(headers, own_origin) {
        Err(Refusal::CrossSite)
    } else {
        Ok(())
    }
}

/// Service hosts: like API hosts, plus top-level GET/HEAD navigations from
/// anywhere, so links and bookmarks into a service open.
pub fn check_service_request(
    method: &Method,
    headers: &HeaderMap,
    own_origin: &str,
) -> Result<(), Refusal> {
    if !cross_site(headers, own_origin) {
        return Ok(());
    }
    let value = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_ascii_lowercase)
    };
    let navigation = value("sec-fetch-mode").as_deref() == Some("navigate")
        && value("sec-fetch-dest").is_none_or(|d| d == "document");
    if navigation && (method == Method::GET || method == Method::HEAD) {
        Ok(())
    } else {
        Err(Refusal::CrossSite)
    }
}

/// Read-only mode lets reads (and watches, which are GETs) through.
pub fn check_read_only(method: &Method) -> Result<(), Refusal> {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        Ok(())
    } else {
        Err(Refusal::ReadOnly)
    }
}

/// Headers that belong to one hop and never pass a proxy.
pub const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Removes hop-by-hop headers (and those `Connection` names).
pub fn strip_hop_by_hop(headers: &mut HeaderMap, keep_upgrade: bool) {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .collect();
    for name in named {
        if !(keep_upgrade && name == header::UPGRADE) {
            headers.remove(name);
        }
    }
    for name in HOP_BY_HOP {
        if keep_upgrade && (*name == "connection" || *name == "upgrade") {
            continue;
        }
        headers.remove(*name);
    }
}

/// What a client may not choose: Porthole always authenticates as the
/// user with the kubeconfig's credentials, so a client's own
/// `Authorization` and `Impersonate-*` headers are dropped (a page or a
/// local process must not borrow the proxy's client certificate with a
/// token of its own, or act as someone the user may impersonate).
pub fn strip_client_credentials(headers: &mut HeaderMap) {
    headers.remove(header::AUTHORIZATION);
    let impersonation: Vec<HeaderName> = headers
        .keys()
        .filter(|name| name.as_str().starts_with("impersonate-"))
        .cloned()
        .collect();
    for name in impersonation {
        headers.remove(name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn odd_paths_are_refused() {
        for bad in [
            "/api/../x",
            "/a/./b",
            "/api/v1/namespaces/a%2Fb",
            "/%2e%2e/x",
            "/a\\b",
            "/a%00",
            "/..",
        ] {
            assert_eq!(check_path(bad), Err(Refusal::OddPath), "{bad}");
        }
        for good in [
            "/",
            "/api/v1/namespaces",
            "/_cluster/health",
            "/a..b/c",
            "/x%20y",
        ] {
            assert_eq!(check_path(good), Ok(()), "{good}");
        }
    }

    #[test]
    fn cross_site_requests_are_refused_except_navigations_into_services() {
        let own = "http://80.web.ns.ctx.localhost:8001";
        assert!(check_api_request(&headers(&[]), "http://localhost:8001").is_ok());
        assert!(check_api_request(&headers(&[("sec-fetch-site", "none")]), own).is_ok());
        assert!(check_api_request(&headers(&[("origin", "http://evil.example")]), own).is_err());
        assert!(check_api_request(&headers(&[("sec-fetch-site", "same-site")]), own).is_err());
        let nav = headers(&[
            ("sec-fetch-site", "cross-site"),
            ("sec-fetch-mode", "navigate"),
            ("sec-fetch-dest", "document"),
        ]);
        assert!(check_service_request(&Method::GET, &nav, own).is_ok());
        assert!(check_service_request(&Method::POST, &nav, own).is_err());
        let iframe = headers(&[
            ("sec-fetch-site", "cross-site"),
            ("sec-fetch-mode", "navigate"),
            ("sec-fetch-dest", "iframe"),
        ]);
        assert!(check_service_request(&Method::GET, &iframe, own).is_err());
        let fetch = headers(&[("sec-fetch-site", "same-site"), ("sec-fetch-mode", "cors")]);
        assert!(check_service_request(&Method::GET, &fetch, own).is_err());
        let same = headers(&[
            ("sec-fetch-site", "same-origin"),
            ("origin", "http://80.web.ns.ctx.localhost:8001"),
        ]);
        assert!(check_service_request(&Method::POST, &same, own).is_ok());
    }

    #[test]
    fn client_credentials_and_hop_by_hop_headers_are_dropped() {
        let mut h = headers(&[
            ("authorization", "Bearer theirs"),
            ("impersonate-user", "root"),
            ("impersonate-group", "system:masters"),
            ("connection", "keep-alive, x-private"),
            ("x-private", "1"),
            ("accept", "application/json"),
        ]);
        strip_client_credentials(&mut h);
        strip_hop_by_hop(&mut h, false);
        assert_eq!(h.len(), 1, "{h:?}");
        assert!(h.contains_key("accept"));
    }
}
