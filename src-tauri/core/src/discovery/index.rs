//! The objects a service list is made of — services, the EndpointSlices
//! that count their endpoints, the Ingress paths that route to them, the
//! nodes their NodePorts are reached at — and the one join that turns them
//! into [`ServiceView`]s.
//!
//! The live list ([`super::watch`]) keeps an index up to date object by
//! object and learns from it which services each change touched; the
//! one-shot reads ([`super::fetch`]) fill one from their lists. Pure: no
//! I/O.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use k8s_openapi::api::core::v1::{Node, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::networking::v1::Ingress;
use kube::ResourceExt as _;

use super::convert::{self, Aux, IngressRoute, SliceSummary};
use super::views::{ResourceKind, ServiceKey, ServiceView};
use crate::urls::UrlBase;

/// One object of a kind the index keeps.
pub(crate) enum Object {
    Service(Box<Service>),
    Slice(Box<EndpointSlice>),
    Ingress(Box<Ingress>),
    Node(Box<Node>),
}

/// An object's namespace and name.
type ObjectId = (String, String);

/// The objects of a service list, joined per service; see the module
/// documentation.
#[derive(Debug, Default)]
pub(crate) struct ServiceIndex {
    services: HashMap<ServiceKey, Service>,
    slices: HashMap<ObjectId, SliceSummary>,
    slices_by_service: HashMap<ServiceKey, BTreeSet<String>>,
    /// Each Ingress's routes, and the routes per service they add up to.
    ingresses: HashMap<ObjectId, Vec<IngressRoute>>,
    routes: HashMap<ServiceKey, Vec<IngressRoute>>,
    /// Node name → the address its NodePorts are reached at.
    nodes: BTreeMap<String, String>,
    node_list: Vec<(String, String)>,
    /// Services whose view may have changed since the last
    /// [`ServiceIndex::take_touched`].
    touched: HashSet<ServiceKey>,
}

impl ServiceIndex {
    /// An index of lists read once.
    pub fn from_lists(
        services: impl IntoIterator<Item = Service>,
        slices: &[EndpointSlice],
        ingresses: &[Ingress],
        nodes: &[Node],
    ) -> Self {
        let mut index = Self {
            nodes: nodes.iter().filter_map(convert::node_address).collect(),
            ..Self::default()
        };
        index.node_list = index.node_list();
        for s in services {
            index.upsert_service(s);
        }
        for s in slices {
            index.upsert_slice(s);
        }
        let mut touched = BTreeSet::new();
        for i in ingresses {
            let routes = convert::ingress_routes(i);
            let namespace = i.namespace().unwrap_or_default();
            touched.extend(
                routes
                    .iter()
                    .map(|r| (namespace.clone(), r.service.clone())),
            );
            index.ingresses.insert((namespace, i.name_any()), routes);
        }
        for (namespace, service) in touched {
            index.rebuild_routes(&namespace, &service);
        }
        index.touched.clear();
        index
    }

    /// The view of one service; `endpoints_known`: its namespace's slices
    /// have been read (else its endpoint counts are unknown, not zero).
    pub fn view(
        &self,
        base: &UrlBase,
        key: &ServiceKey,
        endpoints_known: bool,
    ) -> Option<ServiceView> {
        let service = self.services.get(key)?;
        let endpoints = endpoints_known.then(|| {
            let names = self.slices_by_service.get(key);
            convert::endpoint_counts(
                names
                    .into_iter()
                    .flatten()
                    .filter_map(|slice| self.slices.get(&(key.namespace.clone(), slice.clone()))),
            )
        });
        let aux = Aux {
            endpoints,
            routes: self.routes.get(key).map(Vec::as_slice).unwrap_or_default(),
            nodes: &self.node_list,
        };
        Some(convert::service_view(base, service, aux))
    }

    /// Every service's view, in (namespace, name) order;
    /// `endpoints_known(namespace)` as for [`ServiceIndex::view`].
    pub fn views(
        &self,
        base: &UrlBase,
        endpoints_known: impl Fn(&str) -> bool,
    ) -> BTreeMap<ServiceKey, ServiceView> {
        self.services
            .keys()
            .filter_map(|key| {
                let view = self.view(base, key, endpoints_known(&key.namespace))?;
                Some((key.clone(), view))
            })
            .collect()
    }

    /// A service not joined with anything but the nodes known so far (no
    /// endpoint counts, no Ingress paths): a first row, early.
    pub fn unjoined_view(&self, base: &UrlBase, service: &Service) -> ServiceView {
        let aux = Aux {
            endpoints: None,
            routes: &[],
            nodes: &self.node_list,
        };
        convert::service_view(base, service, aux)
    }

    /// The services kept, in no particular order.
    pub fn services(&self) -> impl Iterator<Item = &Service> {
        self.services.values()
    }

    /// The services whose view may have changed since the last call.
    pub fn take_touched(&mut self) -> HashSet<ServiceKey> {
        std::mem::take(&mut self.touched)
    }

    /// Marks every service in `scope` (`None`: all namespaces) touched:
    /// its endpoint counts became known.
    pub fn touch_services_in(&mut self, scope: Option<&str>) {
        let keys: Vec<ServiceKey> = self
            .services
            .keys()
            .filter(|k| scope.is_none_or(|n| n == k.namespace))
            .cloned()
            .collect();
        self.touched.extend(keys);
    }

    /// A new complete list of `kind` in `scope` (`None`: all namespaces):
    /// the objects of the kind kept in that scope are replaced.
    pub fn relist(&mut self, kind: ResourceKind, scope: Option<&str>, objects: Vec<Object>) {
        let in_scope = |ns: &str| scope.is_none_or(|s| s == ns);
        match kind {
            ResourceKind::Services => {
                let old: Vec<ServiceKey> = self
                    .services
                    .keys()
                    .filter(|k| in_scope(&k.namespace))
                    .cloned()
                    .collect();
                for k in old {
                    self.services.remove(&k);
                    self.touched.insert(k);
                }
            }
            ResourceKind::EndpointSlices => {
                let old: Vec<ObjectId> = self
                    .slices
                    .keys()
                    .filter(|(ns, _)| in_scope(ns))
                    .cloned()
                    .collect();
                for k in old {
                    self.remove_slice(&k);
                }
            }
            ResourceKind::Ingresses => {
                let old: Vec<ObjectId> = self
                    .ingresses
                    .keys()
                    .filter(|(ns, _)| in_scope(ns))
                    .cloned()
                    .collect();
                for k in old {
                    self.remove_ingress(&k);
                }
            }
            ResourceKind::Nodes => {
                self.nodes.clear();
                self.nodes_changed();
            }
            ResourceKind::Namespaces | ResourceKind::Pods => {}
        }
        for o in objects {
            self.upsert(o);
        }
    }

    /// An object was added or changed.
    pub fn upsert(&mut self, object: Object) {
        match object {
            Object::Service(s) => self.upsert_service(*s),
            Object::Slice(s) => self.upsert_slice(&s),
            Object::Ingress(i) => {
                let id = (i.namespace().unwrap_or_default(), i.name_any());
                self.remove_ingress(&id);
                let routes = convert::ingress_routes(&i);
                let touched: BTreeSet<String> = routes.iter().map(|r| r.service.clone()).collect();
                self.ingresses.insert(id.clone(), routes);
                for service in touched {
                    self.rebuild_routes(&id.0, &service);
                }
            }
            Object::Node(n) => {
                let name = n.name_any();
                match convert::node_address(&n) {
                    Some((_, address)) => {
                        if self.nodes.get(&name) != Some(&address) {
                            self.nodes.insert(name, address);
                            self.nodes_changed();
                        }
                    }
                    None => {
                        if self.nodes.remove(&name).is_some() {
                            self.nodes_changed();
                        }
                    }
                }
            }
        }
    }

    /// An object was deleted.
    pub fn remove(&mut self, object: &Object) {
        match object {
            Object::Service(s) => {
                let key = key_of(s);
                self.services.remove(&key);
                self.touched.insert(key);
            }
            Object::Slice(s) => {
                self.remove_slice(&(s.namespace().unwrap_or_default(), s.name_any()));
            }
            Object::Ingress(i) => {
                self.remove_ingress(&(i.namespace().unwrap_or_default(), i.name_any()));
            }
            Object::Node(n) => {
                if self.nodes.remove(&n.name_any()).is_some() {
                    self.nodes_changed();
                }
            }
        }
    }

    fn upsert_service(&mut self, service: Service) {
        let key = key_of(&service);
        self.services.insert(key.clone(), service);
        self.touched.insert(key);
    }

    fn upsert_slice(&mut self, slice: &EndpointSlice) {
        let id = (slice.namespace().unwrap_or_default(), slice.name_any());
        self.remove_slice(&id);
        if let Some(summary) = convert::slice_summary(slice) {
            let key = ServiceKey {
                namespace: id.0.clone(),
                name: summary.service.clone(),
            };
            self.slices_by_service
                .entry(key.clone())
                .or_default()
                .insert(id.1.clone());
            self.slices.insert(id, summary);
            self.touched.insert(key);
        }
    }

    fn remove_slice(&mut self, id: &ObjectId) {
        if let Some(old) = self.slices.remove(id) {
            let key = ServiceKey {
                namespace: id.0.clone(),
                name: old.service,
            };
            if let Some(set) = self.slices_by_service.get_mut(&key) {
                set.remove(&id.1);
                if set.is_empty() {
                    self.slices_by_service.remove(&key);
                }
            }
            self.touched.insert(key);
        }
    }

    fn remove_ingress(&mut self, id: &ObjectId) {
        if let Some(old) = self.ingresses.remove(id) {
            let touched: BTreeSet<String> = old.into_iter().map(|r| r.service).collect();
            for service in touched {
                self.rebuild_routes(&id.0, &service);
            }
        }
    }

    /// A service's routes from every Ingress of its namespace, ordered by
    /// Ingress, host and path (whatever order the Ingresses came in).
    fn rebuild_routes(&mut self, namespace: &str, service: &str) {
        let mut routes: Vec<IngressRoute> = self
            .ingresses
            .iter()
            .filter(|((ns, _), _)| ns == namespace)
            .flat_map(|(_, rs)| rs.iter().filter(|r| r.service == service).cloned())
            .collect();
        routes.sort_by(|a, b| (&a.ingress, &a.host, &a.path).cmp(&(&b.ingress, &b.host, &b.path)));
        let key = ServiceKey {
            namespace: namespace.to_owned(),
            name: service.to_owned(),
        };
        if routes.is_empty() {
            self.routes.remove(&key);
        } else {
            self.routes.insert(key.clone(), routes);
        }
        self.touched.insert(key);
    }

    fn node_list(&self) -> Vec<(String, String)> {
        self.nodes
            .iter()
            .map(|(n, a)| (n.clone(), a.clone()))
            .collect()
    }

    /// Only NodePort and LoadBalancer services show node addresses.
    fn nodes_changed(&mut self) {
        self.node_list = self.node_list();
        let keys: Vec<ServiceKey> = self
            .services
            .iter()
            .filter(|(_, s)| {
                matches!(
                    s.spec.as_ref().and_then(|s| s.type_.as_deref()),
                    Some("NodePort" | "LoadBalancer")
                )
            })
            .map(|(k, _)| k.clone())
            .collect();
        self.touched.extend(keys);
    }
}

fn key_of(s: &Service) -> ServiceKey {
    ServiceKey {
        namespace: s.namespace().unwrap_or_default(),
        name: s.name_any(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discovery::convert::SERVICE_NAME_LABEL;
    use crate::discovery::convert::tests::{base, from};
    use crate::discovery::views::{EndpointCounts, ExternalEndpoint};
    use serde_json::json;

    fn key(ns: &str, name: &str) -> ServiceKey {
        ServiceKey {
            namespace: ns.into(),
            name: name.into(),
        }
    }

    fn service(ns: &str, name: &str, type_: &str) -> Service {
        from(json!({
            "metadata": { "name": name, "namespace": ns },
            "spec": {
                "type": type_,
                "clusterIP": "10.0.0.1",
                "ports": [{ "port": 80, "nodePort": 30080 }],
            },
        }))
    }

    fn slice(ns: &str, name: &str, service: &str, ready: usize) -> EndpointSlice {
        from(json!({
            "metadata": { "name": name, "namespace": ns, "labels": { SERVICE_NAME_LABEL: service } },
            "addressType": "IPv4",
            "endpoints": (0..ready).map(|_| json!({ "addresses": ["10.1.0.1"] })).collect::<Vec<_>>(),
        }))
    }

    /// An Ingress with one path per (host, service).
    fn ingress(ns: &str, name: &str, rules: &[(&str, &str)]) -> Ingress {
        from(json!({
            "metadata": { "name": name, "namespace": ns },
            "spec": { "rules": rules.iter().map(|(host, svc)| json!({
                "host": host,
                "http": { "paths": [{ "path": "/", "pathType": "Prefix",
                    "backend": { "service": { "name": svc, "port": { "number": 80 } } } }] },
            })).collect::<Vec<_>>() },
        }))
    }

    fn node(name: &str, address: &str) -> Node {
        from(json!({
            "metadata": { "name": name },
            "status": { "addresses": [{ "type": "InternalIP", "address": address }] },
        }))
    }

    fn ready(index: &ServiceIndex, key: &ServiceKey) -> Option<u32> {
        index
            .view(&base(), key, true)
            .and_then(|v| v.endpoints)
            .map(|e| e.ready)
    }

    /// (ingress, host) of a view's Ingress entries, in order.
    fn ingress_hosts(view: &ServiceView) -> Vec<(String, String)> {
        view.external
            .iter()
            .filter_map(|e| match e {
                ExternalEndpoint::Ingress { ingress, host, .. } => {
                    Some((ingress.clone(), host.clone().unwrap_or_default()))
                }
                _ => None,
            })
            .collect()
    }

    fn node_ports(view: &ServiceView) -> Vec<String> {
        view.external
            .iter()
            .filter_map(|e| match e {
                ExternalEndpoint::NodePort { node, .. } => Some(node.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_view_joins_the_service_with_its_slices_routes_and_nodes() {
        let index = ServiceIndex::from_lists(
            [
                service("a", "web", "NodePort"),
                service("b", "web", "ClusterIP"),
            ],
            &[
                slice("a", "web-1", "web", 2),
                slice("a", "web-2", "web", 1),
                slice("b", "web-1", "web", 5),
            ],
            &[ingress("a", "front", &[("web.example", "web")])],
            &[node("n1", "192.0.2.1")],
        );
        let web = index.view(&base(), &key("a", "web"), true).expect("view");
        assert_eq!(
            web.endpoints,
            Some(EndpointCounts {
                ready: 3,
                not_ready: 0
            })
        );
        assert_eq!(
            ingress_hosts(&web),
            [("front".to_owned(), "web.example".to_owned())]
        );
        assert_eq!(node_ports(&web), ["n1"]);
        let other = index.view(&base(), &key("b", "web"), true).expect("view");
        assert_eq!(other.endpoints.map(|e| e.ready), Some(5));
        assert!(other.external.is_empty(), "{other:?}");
        assert!(index.view(&base(), &key("a", "nope"), true).is_none());
    }

    #[test]
    fn counts_are_unknown_not_zero_until_the_slices_are_read() {
        let index = ServiceIndex::from_lists([service("a", "web", "ClusterIP")], &[], &[], &[]);
        let v = index.view(&base(), &key("a", "web"), false).expect("view");
        assert_eq!(v.endpoints, None);
        assert_eq!(ready(&index, &key("a", "web")), Some(0));
        let views = index.views(&base(), |ns| ns != "a");
        assert_eq!(views[&key("a", "web")].endpoints, None);
    }

    #[test]
    fn views_come_in_namespace_then_name_order() {
        let index = ServiceIndex::from_lists(
            [
                service("b", "a", "ClusterIP"),
                service("a", "z", "ClusterIP"),
                service("a", "b", "ClusterIP"),
            ],
            &[],
            &[],
            &[],
        );
        let keys: Vec<String> = index
            .views(&base(), |_| true)
            .keys()
            .map(ToString::to_string)
            .collect();
        assert_eq!(keys, ["a/b", "a/z", "b/a"]);
    }

    #[test]
    fn changes_touch_the_services_whose_view_they_change() {
        let mut index = ServiceIndex::default();
        index.upsert(Object::Service(Box::new(service("a", "web", "NodePort"))));
        index.upsert(Object::Service(Box::new(service("a", "db", "ClusterIP"))));
        assert_eq!(index.take_touched().len(), 2);
        assert!(index.take_touched().is_empty(), "taken");

        index.upsert(Object::Slice(Box::new(slice("a", "web-1", "web", 1))));
        assert_eq!(index.take_touched(), HashSet::from([key("a", "web")]));
        assert_eq!(ready(&index, &key("a", "web")), Some(1));

        // A slice that moves to another service touches both.
        index.upsert(Object::Slice(Box::new(slice("a", "web-1", "db", 4))));
        assert_eq!(
            index.take_touched(),
            HashSet::from([key("a", "web"), key("a", "db")])
        );
        assert_eq!(ready(&index, &key("a", "web")), Some(0));
        assert_eq!(ready(&index, &key("a", "db")), Some(4));

        // Nodes matter to NodePort and LoadBalancer services only.
        index.upsert(Object::Node(Box::new(node("n1", "192.0.2.1"))));
        assert_eq!(index.take_touched(), HashSet::from([key("a", "web")]));
        index.upsert(Object::Node(Box::new(node("n1", "192.0.2.1"))));
        assert!(index.take_touched().is_empty(), "same address");

        index.upsert(Object::Ingress(Box::new(ingress(
            "a",
            "front",
            &[("db.example", "db")],
        ))));
        assert_eq!(index.take_touched(), HashSet::from([key("a", "db")]));
        index.remove(&Object::Ingress(Box::new(ingress("a", "front", &[]))));
        assert_eq!(index.take_touched(), HashSet::from([key("a", "db")]));
        let db = index.view(&base(), &key("a", "db"), true).expect("view");
        assert!(ingress_hosts(&db).is_empty());

        index.remove(&Object::Service(Box::new(service("a", "web", "NodePort"))));
        assert_eq!(index.take_touched(), HashSet::from([key("a", "web")]));
        assert!(index.view(&base(), &key("a", "web"), true).is_none());
    }

    #[test]
    fn a_relist_replaces_the_kind_in_its_scope_only() {
        let mut index = ServiceIndex::from_lists(
            [
                service("a", "old", "ClusterIP"),
                service("b", "kept", "ClusterIP"),
            ],
            &[slice("a", "s", "old", 1), slice("b", "s", "kept", 1)],
            &[],
            &[],
        );
        index.relist(
            ResourceKind::Services,
            Some("a"),
            vec![Object::Service(Box::new(service("a", "new", "ClusterIP")))],
        );
        assert_eq!(
            index.take_touched(),
            HashSet::from([key("a", "old"), key("a", "new")])
        );
        let keys: Vec<String> = index
            .views(&base(), |_| true)
            .keys()
            .map(ToString::to_string)
            .collect();
        assert_eq!(keys, ["a/new", "b/kept"]);

        index.relist(ResourceKind::EndpointSlices, Some("b"), Vec::new());
        assert_eq!(index.take_touched(), HashSet::from([key("b", "kept")]));
        assert_eq!(ready(&index, &key("b", "kept")), Some(0));

        index.touch_services_in(Some("b"));
        assert_eq!(index.take_touched(), HashSet::from([key("b", "kept")]));
        index.touch_services_in(None);
        assert_eq!(index.take_touched().len(), 2);
    }

    #[test]
    fn routes_are_ordered_by_ingress_and_host_whatever_order_they_came_in() {
        let ingresses = [
            ingress("a", "zz", &[("b.example", "web")]),
            ingress("a", "aa", &[("z.example", "web"), ("a.example", "web")]),
        ];
        let listed =
            ServiceIndex::from_lists([service("a", "web", "ClusterIP")], &[], &ingresses, &[]);
        let mut live = ServiceIndex::default();
        for i in ingresses.iter().rev() {
            live.upsert(Object::Ingress(Box::new(i.clone())));
        }
        live.upsert(Object::Service(Box::new(service("a", "web", "ClusterIP"))));
        let expected = [
            ("aa".to_owned(), "a.example".to_owned()),
            ("aa".to_owned(), "z.example".to_owned()),
            ("zz".to_owned(), "b.example".to_owned()),
        ];
        for index in [listed, live] {
            let view = index.view(&base(), &key("a", "web"), true).expect("view");
            assert_eq!(ingress_hosts(&view), expected);
        }
    }

    #[test]
    fn a_first_row_is_not_joined_but_shows_the_nodes_known() {
        let index = ServiceIndex::from_lists(
            [],
            &[],
            &[],
            &[node("n2", "192.0.2.2"), node("n1", "192.0.2.1")],
        );
        let web = service("a", "web", "NodePort");
        let view = index.unjoined_view(&base(), &web);
        assert_eq!(view.endpoints, None);
        assert_eq!(node_ports(&view), ["n1", "n2"]);
    }
}
