//! The external links the views show right now — the only ones besides
//! Porthole's own that the page may ask to open.
//!
//! Bounded by what is shown, not by what was ever shown: each window's
//! service list is mirrored by service (a reset replaces it, a change
//! replaces or removes the services it names, a new list or the end of
//! the watch clears it), and a window's open details and cluster-info keep
//! only their latest answer.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use crate::discovery::{ExternalEndpoint, ServiceKey, ServiceListChange, ServiceView};
use crate::urls::{NotProxyable, PortAccess};

/// A view that shows links besides the service list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Panel {
    /// One service's details.
    ServiceDetails,
    /// `cluster-info`.
    ClusterInfo,
}

/// The links shown, per window.
#[derive(Debug, Default)]
pub struct OfferedLinks {
    windows: Mutex<HashMap<String, WindowLinks>>,
}

#[derive(Debug, Default)]
struct WindowLinks {
    list: HashMap<ServiceKey, Vec<String>>,
    panels: HashMap<Panel, Vec<String>>,
}

impl OfferedLinks {
    /// The window's service list changed as `change` says.
    pub fn list_changed(&self, window: &str, change: &ServiceListChange) {
        self.with_window(window, |w| match change {
            ServiceListChange::Reset { services, .. } => {
                w.list.clear();
                insert_all(&mut w.list, services);
            }
            ServiceListChange::Partial { services } => insert_all(&mut w.list, services),
            ServiceListChange::Changed { upserted, removed } => {
                for key in removed {
                    w.list.remove(key);
                }
                insert_all(&mut w.list, upserted);
            }
            ServiceListChange::Degraded { .. } => {}
        });
    }

    /// The window no longer shows a service list (it left, or another
    /// context's list replaces it).
    pub fn list_ended(&self, window: &str) {
        self.with_window(window, |w| w.list.clear());
    }

    /// The window's `panel` now shows `services` (replacing what it showed).
    pub fn panel_shown(&self, window: &str, panel: Panel, services: &[ServiceView]) {
        self.with_window(window, |w| {
            let mut urls = Vec::new();
            for s in services {
                external_urls(s, &mut urls);
            }
            w.panels.insert(panel, urls);
        });
    }

    /// Whether any window shows `url` now.
    pub fn contains(&self, url: &str) -> bool {
        let windows = self.windows.lock().unwrap_or_else(PoisonError::into_inner);
        windows.values().any(|w| {
            w.list
                .values()
                .chain(w.panels.values())
                .flatten()
                .any(|u| u == url)
        })
    }

    /// How many links are remembered (tests: it stays bounded).
    #[cfg(test)]
    fn len(&self) -> usize {
        let windows = self.windows.lock().unwrap_or_else(PoisonError::into_inner);
        windows
            .values()
            .map(|w| {
                w.list
                    .values()
                    .chain(w.panels.values())
                    .map(Vec::len)
                    .sum::<usize>()
            })
            .sum()
    }

    /// Whether no link is remembered.
    #[cfg(test)]
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn with_window(&self, window: &str, f: impl FnOnce(&mut WindowLinks)) {
        let mut windows = self.windows.lock().unwrap_or_else(PoisonError::into_inner);
        f(windows.entry(window.to_owned()).or_default());
    }
}

/// Services without external links take no room.
fn insert_all(list: &mut HashMap<ServiceKey, Vec<String>>, services: &[ServiceView]) {
    for s in services {
        let mut urls = Vec::new();
        external_urls(s, &mut urls);
        let key = s.key();
        if urls.is_empty() {
            list.remove(&key);
        } else {
            list.insert(key, urls);
        }
    }
}

/// The URLs of a service that are opened directly (not through the proxy).
fn external_urls(service: &ServiceView, out: &mut Vec<String>) {
    out.extend(
        service
            .external
            .iter()
            .filter_map(ExternalEndpoint::url)
            .map(str::to_owned),
    );
    let refusals = service
        .not_proxyable
        .iter()
        .chain(service.ports.iter().filter_map(|p| match &p.access {
            PortAccess::NotProxyable { why } => Some(why),
            PortAccess::Proxy { .. } => None,
        }));
    for why in refusals {
        if let NotProxyable::ExternalName { url: Some(url), .. } = why {
            out.push(url.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lb(namespace: &str, name: &str, url: &str) -> ServiceView {
        ServiceView {
            namespace: namespace.into(),
            name: name.into(),
            service_type: "LoadBalancer".into(),
            headless: false,
            cluster_ip: Some("10.0.0.1".into()),
            external_name: None,
            ports: Vec::new(),
            endpoints: None,
            external: vec![ExternalEndpoint::LoadBalancer {
                address: "192.0.2.1".into(),
                port: 80,
                service_port: "80".into(),
                url: url.into(),
            }],
            not_proxyable: None,
            cluster_service: false,
            created: None,
        }
    }

    fn key(namespace: &str, name: &str) -> ServiceKey {
        ServiceKey {
            namespace: namespace.into(),
            name: name.into(),
        }
    }

    fn reset(services: Vec<ServiceView>) -> ServiceListChange {
        ServiceListChange::Reset {
            services,
            degraded: Vec::new(),
            took_ms: 0,
        }
    }

    #[test]
    fn a_link_is_offered_while_its_service_is_listed_and_not_after() {
        let offered = OfferedLinks::default();
        offered.list_changed("main", &reset(vec![lb("a", "web", "http://lb-a/")]));
        assert!(offered.contains("http://lb-a/"));
        assert!(!offered.contains("http://elsewhere/"));
        offered.list_changed(
            "main",
            &ServiceListChange::Changed {
                upserted: vec![lb("a", "web", "http://lb-a2/")],
                removed: Vec::new(),
            },
        );
        assert!(
            !offered.contains("http://lb-a/"),
            "the changed service's old link"
        );
        assert!(offered.contains("http://lb-a2/"));
        offered.list_changed(
            "main",
            &ServiceListChange::Changed {
                upserted: Vec::new(),
                removed: vec![key("a", "web")],
            },
        );
        assert!(
            !offered.contains("http://lb-a2/"),
            "a removed service's link"
        );
        assert!(offered.is_empty());
    }

    #[test]
    fn memory_is_bounded_by_what_is_shown_not_by_what_was_ever_shown() {
        let offered = OfferedLinks::default();
        for round in 0..50 {
            let services: Vec<ServiceView> = (0..20)
                .map(|i| lb("ns", &format!("s{i}"), &format!("http://lb-{round}-{i}/")))
                .collect();
            offered.list_changed("main", &reset(services));
            offered.panel_shown(
                "main",
                Panel::ServiceDetails,
                &[lb("ns", "d", &format!("http://details-{round}/"))],
            );
        }
        assert_eq!(offered.len(), 21, "one list of 20 and one details panel");
        assert!(offered.contains("http://lb-49-3/"));
        assert!(!offered.contains("http://lb-48-3/"));
        assert!(!offered.contains("http://details-48/"));
        offered.list_ended("main");
        assert_eq!(offered.len(), 1, "the details panel is still open");
    }

    #[test]
    fn partial_lists_add_up_and_the_reset_replaces_them() {
        let offered = OfferedLinks::default();
        let partial = |s| ServiceListChange::Partial { services: vec![s] };
        offered.list_changed("main", &partial(lb("a", "one", "http://one/")));
        offered.list_changed("main", &partial(lb("a", "two", "http://two/")));
        assert!(offered.contains("http://one/") && offered.contains("http://two/"));
        offered.list_changed("main", &reset(vec![lb("a", "two", "http://two/")]));
        assert!(!offered.contains("http://one/"));
        assert!(offered.contains("http://two/"));
    }

    #[test]
    fn windows_and_panels_are_kept_apart() {
        let offered = OfferedLinks::default();
        offered.panel_shown("main", Panel::ClusterInfo, &[lb("k", "x", "http://x/")]);
        offered.list_changed("other", &reset(vec![lb("a", "y", "http://y/")]));
        offered.list_ended("main");
        assert!(
            offered.contains("http://x/"),
            "ending main's list keeps its cluster-info"
        );
        assert!(
            offered.contains("http://y/"),
            "another window's list is untouched"
        );
    }
}
