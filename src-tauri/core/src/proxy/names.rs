//! Porthole's host names under `.localhost` (browsers and curl resolve every
//! `*.localhost` name to loopback): one per context for its API, one per
//! (context, namespace, service, port, scheme) for that service.
//!
//! ```text
//! CONTEXT.localhost                           the context's API at /
//! PORT.SERVICE.NAMESPACE.CONTEXT.localhost    the service's port at /
//! https--PORT.SERVICE.NAMESPACE.CONTEXT.localhost   the same over https to the pod
//! ```
//!
//! - Deterministic: the same service has the same URL after a restart.
//! - Reversible: the labels say namespace, service, port and scheme; the
//!   context label maps back to the context through the current contexts.
//! - Valid DNS labels: namespaces and service names already are (DNS-1123 /
//!   DNS-1035), port names are IANA service names (≤ 15 characters, no
//!   double hyphen, so `https--` cannot be part of one). A context name
//!   that is not a lowercase DNS label (an EKS ARN, `gke_proj_zone_name`)
//!   becomes a readable slug plus a short hash of the real name.

use std::fmt;

use crate::dns_label::DnsLabel;

/// Longest DNS label.
const MAX_LABEL: usize = DnsLabel::MAX_LEN;
/// Hex digits of the hash added to slugged context names.
const HASH_DIGITS: usize = 6;
const HTTPS_PREFIX: &str = "https--";
pub const SUFFIX: &str = "localhost";

/// The label of a context: its name when that is a DNS label already,
/// else a slug of it plus a short hash.
pub fn context_label(context: &str) -> String {
    if is_dns_label(context) {
        return context.to_owned();
    }
    let mut slug = String::with_capacity(context.len());
    for c in context.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    let room = MAX_LABEL - HASH_DIGITS - 1;
    if slug.len() > room {
        // Keep the end: an ARN's cluster name or gke's cluster is there.
        slug = slug[slug.len() - room..].to_owned();
    }
    let slug = slug.trim_matches('-');
    let hash = format!("{:016x}", fnv1a(context.as_bytes()));
    if slug.is_empty() {
        format!("ctx-{}", &hash[..HASH_DIGITS])
    } else {
        format!("{slug}-{}", &hash[..HASH_DIGITS])
    }
}

/// A lowercase DNS label (RFC 1123): what can be used as is.
pub fn is_dns_label(s: &str) -> bool {
    DnsLabel::check(s).is_ok()
}

/// FNV-1a: stable across Rust versions and platforms (std's hasher is not
/// guaranteed to be), so bookmarks survive upgrades.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// A service port as the apiserver proxy names it: `[https:]NAME:PORT`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ServiceTarget {
    pub namespace: String,
    pub service: String,
    /// Port name or number, as the apiserver proxy takes it.
    pub port: String,
    pub https: bool,
}

impl ServiceTarget {
    /// `/api/v1/namespaces/NS/services/[https:]NAME:PORT/proxy`
    pub fn proxy_prefix(&self) -> String {
        format!(
            "/api/v1/namespaces/{}/services/{}{}:{}/proxy",
            self.namespace,
            if self.https { "https:" } else { "" },
            self.service,
            self.port
        )
    }
}

/// What a host name points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostName {
    /// `CONTEXT.localhost`
    Context { label: String },
    /// `[https--]PORT.SERVICE.NAMESPACE.CONTEXT.localhost`
    Service {
        label: String,
        target: ServiceTarget,
    },
}

/// Why a host name is not one of Porthole's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotPorthole;

impl fmt::Display for NotPorthole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not a Porthole host name")
    }
}

/// The host for a context's API.
pub fn context_host(context: &str) -> String {
    format!("{}.{SUFFIX}", context_label(context))
}

/// The host for a service port.
pub fn service_host(context: &str, target: &ServiceTarget) -> String {
    format!(
        "{}{}.{}.{}.{}.{SUFFIX}",
        if target.https { HTTPS_PREFIX } else { "" },
        target.port,
        target.service,
        target.namespace,
        context_label(context)
    )
}

/// Parses a host name (without port, lowercase) into what it points at.
/// Every label is checked, so nothing but Porthole's own names passes.
pub fn parse_host(host: &str) -> Result<HostName, NotPorthole> {
    let rest = host.strip_suffix(SUFFIX).ok_or(NotPorthole)?;
    let rest = rest.strip_suffix('.').ok_or(NotPorthole)?;
    let labels: Vec<&str> = rest.split('.').collect();
    if !labels.iter().all(|l| is_dns_label(l)) {
        return Err(NotPorthole);
    }
    match labels.as_slice() {
        [context] => Ok(HostName::Context {
            label: (*context).to_owned(),
        }),
        [port, service, namespace, context] => {
            let (https, port) = match port.strip_prefix(HTTPS_PREFIX) {
                Some(p) => (true, p),
                None => (false, *port),
            };
            if port.is_empty() || !is_port(port) {
                return Err(NotPorthole);
            }
            Ok(HostName::Service {
                label: (*context).to_owned(),
                target: ServiceTarget {
                    namespace: (*namespace).to_owned(),
                    service: (*service).to_owned(),
                    port: port.to_owned(),
                    https,
                },
            })
        }
        _ => Err(NotPorthole),
    }
}

/// A port number (1–65535) or an IANA service name (≤ 15 characters, a
/// letter somewhere, no double hyphen).
fn is_port(p: &str) -> bool {
    if p.bytes().all(|b| b.is_ascii_digit()) {
        return p.parse::<u16>().is_ok_and(|n| n > 0);
    }
    p.len() <= 15 && !p.contains("--") && p.bytes().any(|b| b.is_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(ns: &str, svc: &str, port: &str, https: bool) -> ServiceTarget {
        ServiceTarget {
            namespace: ns.into(),
            service: svc.into(),
            port: port.into(),
            https,
        }
    }

    #[test]
    fn dns_label_contexts_are_kept_and_others_get_a_slug_and_hash() {
        assert_eq!(context_label("porthole-admin"), "porthole-admin");
        let eks = context_label("arn:aws:eks:eu-west-1:123456789012:cluster/payments");
        assert!(
            eks.starts_with("arn-aws-eks-eu-west-1-123456789012-cluster-payments-"),
            "{eks}"
        );
        assert!(is_dns_label(&eks));
        let gke = context_label("gke_my-proj_europe-west1-b_prod");
        assert!(gke.starts_with("gke-my-proj-europe-west1-b-prod-"), "{gke}");
        assert_ne!(
            context_label("Prod"),
            context_label("prod_"),
            "hash keeps them apart"
        );
        let long = context_label(&"x_".repeat(100));
        assert!(is_dns_label(&long) && long.len() <= 63, "{long}");
        assert!(is_dns_label(&context_label("日本")));
        // Stable: bookmarks survive restarts and upgrades.
        assert_eq!(context_label("Kind_Dev"), context_label("Kind_Dev"));
        assert_eq!(
            context_label("Kind_Dev"),
            "kind-dev-".to_owned() + &format!("{:016x}", fnv1a(b"Kind_Dev"))[..6]
        );
    }

    #[test]
    fn service_hosts_round_trip() {
        for t in [
            target("team-a", "web", "80", false),
            target("kube-system", "kibana-logging", "http", false),
            target("secure", "api", "443", true),
            target("secure", "api", "https-web", true),
        ] {
            let host = service_host("gke_p_z_c", &t);
            match parse_host(&host) {
                Ok(HostName::Service { label, target }) => {
                    assert_eq!(target, t, "{host}");
                    assert_eq!(label, context_label("gke_p_z_c"));
                }
                other => panic!("{host}: {other:?}"),
            }
        }
        assert_eq!(
            service_host("porthole-admin", &target("team-a", "web", "80", false)),
            "80.web.team-a.porthole-admin.localhost"
        );
        assert_eq!(
            target("team-a", "web", "https", true).proxy_prefix(),
            "/api/v1/namespaces/team-a/services/https:web:https/proxy"
        );
    }

    #[test]
    fn anything_else_is_not_a_porthole_name() {
        for host in [
            "localhost",
            "evil.com",
            "localhost.evil.com",
            "porthole-admin.localhost.evil.com",
            "a.b.localhost",
            "0.web.ns.ctx.localhost",
            "99999.web.ns.ctx.localhost",
            "http--x.web.ns.ctx.localhost",
            "80.WEB.ns.ctx.localhost",
            "80.web_1.ns.ctx.localhost",
            ".localhost",
            "-a.localhost",
            "a..localhost",
            "1.2.3.4.5.localhost",
        ] {
            assert_eq!(parse_host(host), Err(NotPorthole), "{host}");
        }
        assert!(matches!(
            parse_host("ctx.localhost"),
            Ok(HostName::Context { .. })
        ));
    }
}
