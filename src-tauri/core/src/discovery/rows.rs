//! The rows of a live service list the table shows: filtered, sorted, and
//! one window of them at a time. The list stays in the backend; the page
//! asks for the rows in view (and a few more) whenever it scrolls, filters,
//! sorts or hears that the list changed, so ten thousand services cost the
//! webview a few dozen objects instead of ten thousand.
//!
//! The order is the one people expect of names: case-insensitive, numbers
//! by value (`web-2` before `web-10`), ties by namespace then name. The
//! filter keeps services where every word of the query occurs in the name,
//! namespace, `namespace/name`, type, cluster IP, external name or a
//! port's name and number.

use std::cmp::Ordering;
use std::sync::{Arc, Mutex, PoisonError};

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::views::{Degraded, ServiceKey, ServiceView};

/// Most rows one request returns.
pub const MAX_ROWS: u32 = 500;

/// The column the rows are sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum SortKey {
    #[default]
    Name,
    Namespace,
    Type,
    ClusterIp,
    /// The first port's number.
    Ports,
    /// Ready endpoints.
    Endpoints,
}

/// Which rows the table wants.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
#[ts(export)]
pub struct RowQuery {
    /// Words that must all occur (case-insensitive); empty: every service.
    pub filter: String,
    pub sort: SortKey,
    pub descending: bool,
    /// The first row wanted, in the filtered and sorted list.
    pub offset: u32,
    /// How many rows (at most [`MAX_ROWS`]).
    pub limit: u32,
}

/// One window of rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Rows {
    /// Services in the list.
    pub total: u32,
    /// Services the filter keeps.
    pub matched: u32,
    /// Where `rows` start among the matched (the query's, or less when
    /// the list got shorter).
    pub offset: u32,
    pub rows: Vec<ServiceView>,
    /// The whole list has arrived (not only its first rows).
    pub complete: bool,
    pub degraded: Vec<Degraded>,
}

/// The list as a watch last published it.
#[derive(Debug, Default)]
pub(crate) struct Published {
    pub views: std::collections::BTreeMap<ServiceKey, ServiceView>,
    pub degraded: Vec<Degraded>,
    pub complete: bool,
    /// Bumped on every change, so a cached order knows it is stale.
    pub version: u64,
}

impl Published {
    /// A new list (complete, or the first rows of one under way).
    pub fn replace(
        &mut self,
        views: std::collections::BTreeMap<ServiceKey, ServiceView>,
        complete: bool,
    ) {
        self.views = views;
        self.complete = complete;
        self.version += 1;
    }

    pub fn set_degraded(&mut self, degraded: Vec<Degraded>) {
        self.degraded = degraded;
        self.version += 1;
    }
}

/// The whole list in one sort's order, each service with the text the
/// filter searches, kept until the list or the sort changes (so a
/// keystroke or a scroll neither sorts nor lower-cases 10,000 services).
#[derive(Debug)]
struct Ordered {
    version: u64,
    sort: SortKey,
    descending: bool,
    entries: Vec<(ServiceKey, String)>,
}

/// A handle on a watch's list that answers [`RowQuery`]s; cheap to clone,
/// and it may outlive the watch (it then answers with the last list).
#[derive(Debug, Clone)]
pub struct ServiceRows {
    published: Arc<Mutex<Published>>,
    ordered: Arc<Mutex<Option<Ordered>>>,
}

impl ServiceRows {
    pub(crate) fn new(published: Arc<Mutex<Published>>) -> Self {
        Self {
            published,
            ordered: Arc::new(Mutex::new(None)),
        }
    }

    /// The rows `query` asks for.
    pub fn rows(&self, query: &RowQuery) -> Rows {
        let p = self
            .published
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut cache = self.ordered.lock().unwrap_or_else(PoisonError::into_inner);
        let fresh = cache.as_ref().is_some_and(|c| {
            c.version == p.version && c.sort == query.sort && c.descending == query.descending
        });
        if !fresh {
            let mut views: Vec<&ServiceView> = p.views.values().collect();
            views.sort_by(|a, b| compare(a, b, query.sort, query.descending));
            *cache = Some(Ordered {
                version: p.version,
                sort: query.sort,
                descending: query.descending,
                entries: views.into_iter().map(|v| (v.key(), haystack(v))).collect(),
            });
        }
        let entries = cache
            .as_ref()
            .map(|c| c.entries.as_slice())
            .unwrap_or_default();
        let words = words(&query.filter);
        let matched: Vec<&ServiceKey> = entries
            .iter()
            .filter(|(_, hay)| words.iter().all(|w| hay.contains(w.as_str())))
            .map(|(key, _)| key)
            .collect();
        let limit = query.limit.min(MAX_ROWS) as usize;
        let count = matched.len();
        // A list that got shorter than the window: the last rows.
        let offset = (query.offset as usize).min(count.saturating_sub(limit.max(1)));
        let rows = matched
            .iter()
            .skip(offset)
            .take(limit)
            .filter_map(|key| p.views.get(*key).cloned())
            .collect();
        Rows {
            total: u32::try_from(p.views.len()).unwrap_or(u32::MAX),
            matched: u32::try_from(count).unwrap_or(u32::MAX),
            offset: u32::try_from(offset).unwrap_or(u32::MAX),
            rows,
            complete: p.complete,
            degraded: p.degraded.clone(),
        }
    }
}

/// The query's words, lower-cased.
fn words(filter: &str) -> Vec<String> {
    filter.split_whitespace().map(str::to_lowercase).collect()
}

/// What the filter searches of `v`, lower-cased.
fn haystack(v: &ServiceView) -> String {
    let mut hay = format!(
        "{} {} {}/{} {} {} {}",
        v.name,
        v.namespace,
        v.namespace,
        v.name,
        v.service_type,
        v.cluster_ip.as_deref().unwrap_or_default(),
        v.external_name.as_deref().unwrap_or_default()
    );
    for p in &v.ports {
        hay.push(' ');
        hay.push_str(p.name.as_deref().unwrap_or_default());
        hay.push(' ');
        hay.push_str(&p.port.to_string());
    }
    hay.to_lowercase()
}

/// The order of two rows under `sort`; ties by namespace, then name.
pub fn compare(a: &ServiceView, b: &ServiceView, sort: SortKey, descending: bool) -> Ordering {
    let primary = match sort {
        SortKey::Name => natural_cmp(&a.name, &b.name),
        SortKey::Namespace => natural_cmp(&a.namespace, &b.namespace),
        SortKey::Type => natural_cmp(&a.service_type, &b.service_type),
        SortKey::ClusterIp => {
            ip_value(a.cluster_ip.as_deref()).cmp(&ip_value(b.cluster_ip.as_deref()))
        }
        SortKey::Ports => first_port(a).cmp(&first_port(b)),
        SortKey::Endpoints => ready(a).cmp(&ready(b)),
    };
    let primary = if descending {
        primary.reverse()
    } else {
        primary
    };
    primary
        .then_with(|| natural_cmp(&a.namespace, &b.namespace))
        .then_with(|| natural_cmp(&a.name, &b.name))
}

fn first_port(v: &ServiceView) -> i64 {
    v.ports.first().map_or(-1, |p| i64::from(p.port))
}

fn ready(v: &ServiceView) -> i64 {
    v.endpoints.as_ref().map_or(-1, |e| i64::from(e.ready))
}

/// IPv4 addresses by value; others after them as text; none last.
fn ip_value(ip: Option<&str>) -> (u8, u32, String) {
    match ip {
        None => (2, 0, String::new()),
        Some(ip) => match ip.parse::<std::net::Ipv4Addr>() {
            Ok(v4) => (0, u32::from(v4), String::new()),
            Err(_) => (1, 0, ip.to_owned()),
        },
    }
}

/// Case-insensitive, with runs of digits compared by value.
///
/// Hand-written on purpose: of the crates for this, `natord` (last
/// released 2015) puts `web-02b` before `web-1` and `alphanumeric-sort`
/// compares case-sensitively (`Web-2` before `db`); neither gives the order
/// the tests below pin (`2nd, db, web-1, Web-2, web-02b, web-10`), and this
/// one allocates nothing per comparison.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut x, mut y) = (a, b);
    loop {
        match (x.is_empty(), y.is_empty()) {
            (true, true) => return a.cmp(b),
            (true, false) => return Ordering::Less,
            (false, true) => return Ordering::Greater,
            _ => {}
        }
        let (xd, yd) = (starts_with_digit(x), starts_with_digit(y));
        let (xr, xrest) = split_run(x, xd);
        let (yr, yrest) = split_run(y, yd);
        let order = match (xd, yd) {
            (true, true) => {
                let (xt, yt) = (xr.trim_start_matches('0'), yr.trim_start_matches('0'));
                xt.len().cmp(&yt.len()).then_with(|| xt.cmp(yt))
            }
            (false, false) => xr
                .chars()
                .flat_map(char::to_lowercase)
                .cmp(yr.chars().flat_map(char::to_lowercase)),
            // Digits sort before letters, as in a collator.
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
        };
        if order != Ordering::Equal {
            return order;
        }
        x = xrest;
        y = yrest;
    }
}

fn starts_with_digit(s: &str) -> bool {
    s.as_bytes().first().is_some_and(u8::is_ascii_digit)
}

/// The leading run of digits (or of non-digits) and the rest.
fn split_run(s: &str, digits: bool) -> (&str, &str) {
    let end = s
        .char_indices()
        .find(|(_, c)| c.is_ascii_digit() != digits)
        .map_or(s.len(), |(i, _)| i);
    s.split_at(end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discovery::views::{EndpointCounts, ServicePortView};
    use crate::urls::{NotProxyable, PortAccess};

    fn view(ns: &str, name: &str) -> ServiceView {
        ServiceView {
            namespace: ns.into(),
            name: name.into(),
            service_type: "ClusterIP".into(),
            headless: false,
            cluster_ip: None,
            external_name: None,
            ports: Vec::new(),
            endpoints: None,
            external: Vec::new(),
            not_proxyable: None,
            cluster_service: false,
            created: None,
        }
    }

    fn port(name: Option<&str>, number: i32) -> ServicePortView {
        ServicePortView {
            name: name.map(str::to_owned),
            port: number,
            target_port: None,
            protocol: "TCP".into(),
            app_protocol: None,
            node_port: None,
            kind: crate::port_kind::PortKind::Http,
            http: true,
            access: PortAccess::NotProxyable {
                why: NotProxyable::NoPorts,
            },
        }
    }

    fn rows_of(views: Vec<ServiceView>) -> ServiceRows {
        let published = Published {
            views: views.into_iter().map(|v| (v.key(), v)).collect(),
            degraded: Vec::new(),
            complete: true,
            version: 1,
        };
        ServiceRows::new(Arc::new(Mutex::new(published)))
    }

    fn names(rows: &Rows) -> Vec<String> {
        rows.rows
            .iter()
            .map(|v| format!("{}/{}", v.namespace, v.name))
            .collect()
    }

    fn query(filter: &str, sort: SortKey, descending: bool) -> RowQuery {
        RowQuery {
            filter: filter.into(),
            sort,
            descending,
            offset: 0,
            limit: 100,
        }
    }

    #[test]
    fn names_sort_as_people_read_them() {
        let mut list = vec!["web-10", "Web-2", "db", "web-1", "web-02b", "2nd"];
        list.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(list, ["2nd", "db", "web-1", "Web-2", "web-02b", "web-10"]);
    }

    #[test]
    fn the_filter_keeps_the_sorted_order_and_needs_every_word() {
        let mut a = view("a", "web-10");
        a.ports = vec![port(Some("http"), 8080)];
        let rows = rows_of(vec![
            view("b", "web-2"),
            a,
            view("a", "db"),
            view("a", "web-1"),
        ]);
        let all = rows.rows(&query("", SortKey::Name, false));
        assert_eq!(names(&all), ["a/db", "a/web-1", "b/web-2", "a/web-10"]);
        assert_eq!((all.total, all.matched), (4, 4));
        let web = rows.rows(&query("WEB", SortKey::Name, false));
        assert_eq!(names(&web), ["a/web-1", "b/web-2", "a/web-10"]);
        let both = rows.rows(&query("a/ web", SortKey::Name, false));
        assert_eq!(names(&both), ["a/web-1", "a/web-10"]);
        let by_port = rows.rows(&query("8080", SortKey::Name, false));
        assert_eq!(names(&by_port), ["a/web-10"]);
        assert_eq!((by_port.total, by_port.matched), (4, 1));
    }

    #[test]
    fn every_column_sorts_both_ways_with_ties_by_namespace_and_name() {
        let mut x = view("b", "x");
        x.cluster_ip = Some("10.0.0.10".into());
        x.endpoints = Some(EndpointCounts {
            ready: 3,
            not_ready: 0,
        });
        x.ports = vec![port(None, 443)];
        let mut y = view("a", "y");
        y.cluster_ip = Some("10.0.0.9".into());
        y.endpoints = Some(EndpointCounts {
            ready: 1,
            not_ready: 2,
        });
        y.ports = vec![port(None, 80)];
        let mut z = view("a", "z");
        z.service_type = "ExternalName".into();
        let rows = rows_of(vec![x, y, z]);
        let order = |sort, descending| names(&rows.rows(&query("", sort, descending)));
        assert_eq!(order(SortKey::ClusterIp, false), ["a/y", "b/x", "a/z"]);
        // Descending is the same order reversed (the table's second click).
        assert_eq!(order(SortKey::ClusterIp, true), ["a/z", "b/x", "a/y"]);
        assert_eq!(order(SortKey::Ports, false), ["a/z", "a/y", "b/x"]);
        assert_eq!(order(SortKey::Endpoints, true), ["b/x", "a/y", "a/z"]);
        assert_eq!(order(SortKey::Namespace, false), ["a/y", "a/z", "b/x"]);
        assert_eq!(order(SortKey::Type, true), ["a/z", "a/y", "b/x"]);
        assert_eq!(order(SortKey::Name, true), ["a/z", "a/y", "b/x"]);
    }

    #[test]
    fn a_window_of_rows_and_the_last_ones_when_the_list_got_shorter() {
        let rows = rows_of((0..50).map(|i| view("ns", &format!("svc-{i}"))).collect());
        let mut q = query("", SortKey::Name, false);
        q.offset = 10;
        q.limit = 5;
        let window = rows.rows(&q);
        assert_eq!(window.offset, 10);
        assert_eq!(
            names(&window),
            [
                "ns/svc-10",
                "ns/svc-11",
                "ns/svc-12",
                "ns/svc-13",
                "ns/svc-14"
            ]
        );
        q.offset = 48;
        let end = rows.rows(&q);
        assert_eq!(end.offset, 45);
        assert_eq!(end.rows.len(), 5);
        q.limit = 100_000;
        q.offset = 0;
        assert_eq!(
            rows.rows(&q).rows.len(),
            50,
            "at most MAX_ROWS, here all 50"
        );
    }

    #[test]
    fn a_changed_list_is_sorted_again() {
        let rows = rows_of(vec![view("a", "b")]);
        assert_eq!(names(&rows.rows(&query("", SortKey::Name, false))), ["a/b"]);
        {
            let mut p = rows.published.lock().expect("lock");
            let v = view("a", "a");
            p.views.insert(v.key(), v);
            p.version += 1;
        }
        assert_eq!(
            names(&rows.rows(&query("", SortKey::Name, false))),
            ["a/a", "a/b"]
        );
    }
}
