//! Which links Porthole opens, and what opening one takes first.
//!
//! The page may only ask Porthole to open links Porthole built: its own
//! hosts on the proxy's port, or an external address discovery reported
//! and a view currently shows ([`super::offered::OfferedLinks`]). Anything
//! else — another port, `file:`, a URL with credentials, an arbitrary API
//! path on a context's host — is refused with the reason.

use url::Url;

use super::OpenError;
use crate::proxy::names::{HostName, parse_host};

/// The two kinds of link Porthole opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    /// One of Porthole's own hosts on the proxy's port.
    Porthole,
    /// An external URL discovery reported (load balancer, ingress, …).
    External,
}

/// What opening a link takes first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Hand it to the browser now.
    Open,
    /// Start the proxy, then open.
    StartThenOpen,
    /// Nothing yet: the user is asked whether to start the proxy.
    Ask,
}

/// Which of the two kinds of link `url` is, or why Porthole will not open
/// it. `offered` says whether a view currently shows `url` as an external
/// address.
pub fn classify(
    url: &str,
    proxy_port: u16,
    offered: impl Fn(&str) -> bool,
) -> Result<LinkKind, OpenError> {
    let parsed = Url::parse(url.trim()).map_err(|e| OpenError::NotAUrl {
        url: url.to_owned(),
        reason: e.to_string(),
    })?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(OpenError::Scheme(parsed.scheme().to_owned()));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(OpenError::Credentials);
    }
    let host = parsed.host_str().unwrap_or_default().to_ascii_lowercase();
    if parsed.scheme() == "http" && parsed.port_or_known_default() == Some(proxy_port) {
        match parse_host(&host) {
            Ok(HostName::Service { .. }) => return Ok(LinkKind::Porthole),
            // A context's host serves its whole API: only the links Porthole
            // offers there (the API root, pod and node proxies) are opened.
            Ok(HostName::Context { .. }) if api_link(parsed.path()) => {
                return Ok(LinkKind::Porthole);
            }
            _ => {}
        }
    }
    if offered(url.trim()) {
        return Ok(LinkKind::External);
    }
    Err(OpenError::NotOffered {
        url: url.to_owned(),
        proxy_port,
    })
}

/// `/`, `/api/v1/namespaces/NS/pods/POD/proxy/…` or `/api/v1/nodes/NODE/proxy/…`:
/// the links Porthole shows on a context's host.
pub fn api_link(path: &str) -> bool {
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match parts.as_slice() {
        [""] => true,
        ["api", "v1", "namespaces", ns, "pods", pod, "proxy", ..] => {
            !ns.is_empty() && !pod.is_empty()
        }
        ["api", "v1", "nodes", node, "proxy", ..] => !node.is_empty(),
        _ => false,
    }
}

/// External links open as they are; Porthole links need the proxy, which
/// starts without asking unless the settings say to ask (and the user has
/// not agreed yet).
pub fn step(kind: LinkKind, proxy_running: bool, ask_before_starting: bool, consent: bool) -> Step {
    match kind {
        LinkKind::External => Step::Open,
        LinkKind::Porthole if proxy_running => Step::Open,
        LinkKind::Porthole if ask_before_starting && !consent => Step::Ask,
        LinkKind::Porthole => Step::StartThenOpen,
    }
}

/// What a Porthole link opens, for the question: `namespace/service:port`,
/// else the link.
pub fn target_of(url: &str) -> String {
    let host = Url::parse(url.trim())
        .ok()
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase));
    match host.as_deref().map(parse_host) {
        Some(Ok(HostName::Service { target, .. })) => {
            format!("{}/{}:{}", target.namespace, target.service, target.port)
        }
        _ => url.trim().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_porthole_link_starts_the_proxy_or_asks_per_the_setting() {
        let p = LinkKind::Porthole;
        // (running, ask before starting, the user agreed) → step
        assert_eq!(step(p, true, false, false), Step::Open);
        assert_eq!(
            step(p, true, true, false),
            Step::Open,
            "running: no question"
        );
        assert_eq!(
            step(p, false, false, false),
            Step::StartThenOpen,
            "the default"
        );
        assert_eq!(step(p, false, true, false), Step::Ask);
        assert_eq!(step(p, false, true, true), Step::StartThenOpen, "agreed");
        for (running, ask, consent) in [
            (false, true, false),
            (false, false, true),
            (true, true, true),
        ] {
            assert_eq!(
                step(LinkKind::External, running, ask, consent),
                Step::Open,
                "external links never need the proxy"
            );
        }
    }

    #[test]
    fn the_question_names_the_service() {
        assert_eq!(target_of(SPA), "kube-system/kibana-logging:5601");
        assert_eq!(
            target_of("http://https--https.secure.default.porthole-admin.localhost:8001/"),
            "default/secure:https"
        );
        let pod = "http://porthole-admin.localhost:8001/api/v1/namespaces/a/pods/p/proxy/";
        assert_eq!(target_of(pod), pod);
    }

    const SPA: &str = "http://5601.kibana-logging.kube-system.porthole-admin.localhost:8001/";

    #[test]
    fn porthole_links_on_the_proxy_port_are_opened() {
        assert_eq!(classify(SPA, 8001, |_| false), Ok(LinkKind::Porthole));
        assert_eq!(
            classify(
                "http://porthole-admin.localhost:8001/api/v1/namespaces/a/pods/p/proxy/",
                8001,
                |_| false
            ),
            Ok(LinkKind::Porthole)
        );
        assert_eq!(
            classify("http://porthole-admin.localhost:8001/", 8001, |_| false),
            Ok(LinkKind::Porthole)
        );
    }

    #[test]
    fn anything_else_from_the_page_is_refused() {
        for url in [
            "http://5601.kibana-logging.kube-system.porthole-admin.localhost:9999/",
            "https://evil.example/",
            "file:///etc/passwd",
            "javascript:alert(1)",
            "http://localhost:8001/api/",
            "http://user:pw@porthole-admin.localhost:8001/",
            "http://porthole-admin.localhost:8001/api/v1/namespaces/a/secrets",
            "http://porthole-admin.localhost:8001/api/v1/namespaces/a/pods/p/exec",
        ] {
            assert!(classify(url, 8001, |_| false).is_err(), "{url}");
        }
        let err = classify("https://evil.example/", 8001, |_| false).expect_err("refused");
        assert!(err.to_string().contains("not opened"), "{err}");
    }

    #[test]
    fn external_urls_discovery_reported_are_opened() {
        let lb = "http://lb.porthole.test/";
        assert_eq!(classify(lb, 8001, |u| u == lb), Ok(LinkKind::External));
        assert!(classify("ftp://lb.porthole.test/", 8001, |_| true).is_err());
    }
}
