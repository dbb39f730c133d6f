//! Services of a context: namespaces, the live list (one watch per
//! window, forwarded on the channel the page passed in), a service's details,
//! cluster-info, and opening a link in the system browser — only links
//! Porthole built itself (its own proxy hosts on the proxy's port, or the
//! external URLs discovery reported), never an arbitrary URL from the page.

use std::collections::{HashMap, HashSet};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError};

use porthole_core::discovery::rows::{RowQuery, Rows, ServiceRows};
use porthole_core::discovery::{
    ClusterInfoView, ExternalEndpoint, NamespaceList, OpenOutcome, ServiceDetails,
    ServiceListChange, ServiceListNotice, ServiceQuery, ServiceView,
};
use porthole_core::proxy::ProxyStatus;
use porthole_core::proxy::names::{HostName, parse_host};
use porthole_core::settings::{BROWSER_ENV, BrowserCommandOrigin, browser_argv};
use porthole_core::urls::{NotProxyable, PortAccess};
use porthole_core::workspace::Workspace;
use tauri::async_runtime::JoinHandle;
use tauri::ipc::Channel;
use tauri::{AppHandle, State, Url, WebviewWindow};

use crate::ipc::{self, reply};

/// After a complete list this long, freed memory goes back to the system.
const TRIM_AFTER: usize = 1000;

/// The name a watch's updates are recorded under (see `ipc::send`).
pub const SERVICES_CHANGED: &str = "services-changed";

/// The shell's discovery state: each window's active watch, and the
/// external URLs discovery has shown (the ones `open_url` may open).
#[derive(Default)]
pub struct Services {
    /// Per window: the active watch.
    watches: Mutex<HashMap<String, Watching>>,
    offered: Mutex<HashSet<String>>,
}

/// A window's active watch: its id, the task that forwards its notices,
/// and its list's rows (what `service_rows` answers from).
struct Watching {
    id: u64,
    task: JoinHandle<()>,
    rows: ServiceRows,
}

impl Services {
    fn replace_watch(&self, window: &str, watching: Option<Watching>) {
        let mut watches = self.watches.lock().unwrap_or_else(PoisonError::into_inner);
        // Aborting the task drops its ServiceWatch: its apiserver watches close.
        if let Some(old) = watches.remove(window) {
            old.task.abort();
        }
        if let Some(watching) = watching {
            watches.insert(window.to_owned(), watching);
        }
    }

    /// Ends the window's watch if it is still `id` (a late "stop" from a
    /// view that left must not end the watch of the view that came next).
    fn end_watch(&self, window: &str, id: u64) {
        let mut watches = self.watches.lock().unwrap_or_else(PoisonError::into_inner);
        if watches.get(window).is_some_and(|w| w.id == id)
            && let Some(old) = watches.remove(window)
        {
            old.task.abort();
        }
    }

    /// The rows of the window's watch `id`, if it is still the active one.
    fn rows(&self, window: &str, id: u64) -> Option<ServiceRows> {
        let watches = self.watches.lock().unwrap_or_else(PoisonError::into_inner);
        watches
            .get(window)
            .filter(|w| w.id == id)
            .map(|w| w.rows.clone())
    }

    fn offer<'a>(&self, urls: impl IntoIterator<Item = &'a str>) {
        let mut offered = self.offered.lock().unwrap_or_else(PoisonError::into_inner);
        offered.extend(urls.into_iter().map(str::to_owned));
    }

    fn offered(&self, url: &str) -> bool {
        self.offered
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(url)
    }

    fn offer_services(&self, services: &[ServiceView]) {
        let mut urls = Vec::new();
        for s in services {
            external_urls(s, &mut urls);
        }
        self.offer(urls.iter().map(String::as_str));
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

type Ws<'a> = State<'a, Arc<Workspace>>;
type Svc<'a> = State<'a, Services>;

fn discovery(ws: &Workspace, context: &str) -> Result<porthole_core::discovery::Discovery, String> {
    let context = context.trim();
    if context.is_empty() {
        return Err("no context name given".into());
    }
    ws.discovery(context).ok_or_else(|| {
        format!("{context:?} has no working connection yet: see its status on the Overview tab")
    })
}

/// The namespaces for the selector, with the ones the user added for the
/// context (the context's namespace and those when listing is refused).
#[tauri::command]
pub async fn list_namespaces(ws: Ws<'_>, context: String) -> Result<NamespaceList, String> {
    let result = match discovery(&ws, &context) {
        Ok(d) => {
            let added = ws.settings().added_namespaces_for(context.trim()).to_vec();
            Ok(d.namespaces(&added).await)
        }
        Err(e) => Err(e),
    };
    reply("list_namespaces", result)
}

/// Remembers a namespace the user added by hand for `context` (a user who
/// may not list namespaces names the ones it may read); returns the
/// context's added namespaces.
#[tauri::command]
pub async fn add_namespace(
    ws: Ws<'_>,
    context: String,
    namespace: String,
) -> Result<Vec<String>, String> {
    let result = ws
        .add_namespace(&context, &namespace)
        .await
        .map_err(|e| e.to_string());
    reply("add_namespace", result)
}

/// Forgets a namespace added for `context`; returns the ones left.
#[tauri::command]
pub async fn remove_namespace(
    ws: Ws<'_>,
    context: String,
    namespace: String,
) -> Result<Vec<String>, String> {
    let result = ws
        .remove_namespace(&context, &namespace)
        .await
        .map_err(|e| e.to_string());
    reply("remove_namespace", result)
}

/// Starts the live service list of `context` for this window, replacing
/// the window's previous watch. `on_update` hears that the list changed
/// (a `reset` first); the page then asks `service_rows` for the rows in
/// view, so a list of 10,000 services never crosses to the webview whole.
/// Returns the watch's id. Async: the watch
/// needs the Tokio runtime (a sync command runs on the main thread).
#[tauri::command]
pub async fn watch_services(
    app: AppHandle,
    window: WebviewWindow,
    ws: Ws<'_>,
    services: Svc<'_>,
    context: String,
    mut query: ServiceQuery,
    on_update: Channel<ServiceListNotice>,
) -> Result<u64, String> {
    let context = context.trim().to_owned();
    if context.is_empty() {
        return reply("watch_services", Err("no context name given"));
    }
    // The namespaces added in settings count even when the page has not
    // read them yet.
    for ns in ws.settings().added_namespaces_for(&context) {
        if !query.added_namespaces.contains(ns) {
            query.added_namespaces.push(ns.clone());
        }
    }
    // The old watch ends before the new one starts.
    services.replace_watch(window.label(), None);
    let mut watch = ws.watch_services(&context, query);
    let id = watch.id();
    let rows = watch.rows();
    let task = tauri::async_runtime::spawn(async move {
        while let Some(update) = watch.recv().await {
            if let Some(state) = tauri::Manager::try_state::<Services>(&app) {
                match &update.change {
                    ServiceListChange::Reset { services, .. }
                    | ServiceListChange::Partial { services } => state.offer_services(services),
                    ServiceListChange::Changed { upserted, .. } => state.offer_services(upserted),
                    ServiceListChange::Degraded { .. } => {}
                }
            }
            let large = matches!(&update.change, ServiceListChange::Reset { services, .. } if services.len() >= TRIM_AFTER);
            let notice = update.notice();
            drop(update);
            if !ipc::send(&on_update, SERVICES_CHANGED, notice) {
                return;
            }
            if large {
                crate::memory::trim();
            }
        }
    });
    services.replace_watch(window.label(), Some(Watching { id, task, rows }));
    tracing::debug!(
        "window {} watches the services of {context} (watch {id})",
        window.label()
    );
    reply("watch_services", Ok::<_, String>(id))
}

/// The rows of this window's watch `watch_id` the table shows: filtered,
/// sorted, one window of them. An old watch's id gets an error the page
/// ignores (its answer would be of a list no longer shown).
#[tauri::command]
pub async fn service_rows(
    window: WebviewWindow,
    services: Svc<'_>,
    watch_id: u64,
    query: RowQuery,
) -> Result<Rows, String> {
    let started = std::time::Instant::now();
    let result = services
        .rows(window.label(), watch_id)
        .map(|rows| rows.rows(&query))
        .ok_or_else(|| format!("service list {watch_id} is no longer shown"));
    if let Ok(rows) = &result {
        tracing::debug!(
            "service_rows: {} of {} matched, {} rows from {} in {:?}",
            rows.matched,
            rows.total,
            rows.rows.len(),
            rows.offset,
            started.elapsed()
        );
    }
    reply("service_rows", result)
}

/// Ends this window's service watch `id` (its services left the screen);
/// a newer watch of the window is kept.
#[tauri::command]
pub async fn unwatch_services(
    window: WebviewWindow,
    services: Svc<'_>,
    id: u64,
) -> Result<(), String> {
    services.end_watch(window.label(), id);
    reply("unwatch_services", Ok::<_, String>(()))
}

/// One service's endpoints, pods (pod proxy links) and ways in.
#[tauri::command]
pub async fn service_details(
    ws: Ws<'_>,
    services: Svc<'_>,
    context: String,
    namespace: String,
    name: String,
) -> Result<ServiceDetails, String> {
    let result = match discovery(&ws, &context) {
        Ok(d) => d
            .service_details(namespace.trim(), name.trim())
            .await
            .map_err(|e| e.to_string()),
        Err(e) => Err(e),
    };
    if let Ok(details) = &result {
        services.offer_services(std::slice::from_ref(&details.service));
    }
    reply("service_details", result)
}

/// `kubectl cluster-info`, with links.
#[tauri::command]
pub async fn cluster_info(
    ws: Ws<'_>,
    services: Svc<'_>,
    context: String,
) -> Result<ClusterInfoView, String> {
    let result = match discovery(&ws, &context) {
        Ok(d) => Ok(d.cluster_info().await),
        Err(e) => Err(e),
    };
    if let Ok(info) = &result {
        let views: Vec<ServiceView> = info.services.iter().map(|s| s.service.clone()).collect();
        services.offer_services(&views);
    }
    reply("cluster_info", result)
}

/// Opens a link Porthole built in the system browser (or the browser
/// command of `PORTHOLE_BROWSER` or the settings). A Porthole link while the
/// proxy is off starts the proxy first — unless the proxy settings say to
/// ask: then nothing happens and the answer says so, and the UI asks again
/// with `start_proxy` once the user agreed.
#[tauri::command]
pub async fn open_url(
    ws: Ws<'_>,
    services: Svc<'_>,
    url: String,
    start_proxy: Option<bool>,
) -> Result<OpenOutcome, String> {
    let result = open(&ws, &services, &url, start_proxy.unwrap_or(false)).await;
    reply("open_url", result)
}

async fn open(
    ws: &Workspace,
    services: &Services,
    url: &str,
    consent: bool,
) -> Result<OpenOutcome, String> {
    let settings = ws.settings();
    let kind = classify(url, settings.proxy.port, |u| services.offered(u))?;
    // A broken browser command is told before anything starts.
    let launcher = launcher(
        std::env::var(BROWSER_ENV).ok(),
        &settings.browser_command,
        url,
    )
    .map_err(|e| format!("{e}; the link was not opened"))?;
    let running = matches!(ws.proxy_status(), ProxyStatus::Running { .. });
    match step(&kind, running, settings.proxy.ask_before_starting, consent) {
        Step::Open => {}
        Step::Ask => {
            tracing::info!("opening {url}: the proxy is off, asking first");
            return Ok(OpenOutcome::ProxyOffAskFirst {
                target: target_of(url),
            });
        }
        Step::StartThenOpen => {
            tracing::info!("opening {url}: starting the proxy first");
            if let ProxyStatus::Failed { message, .. } = ws.start_proxy().await {
                return Err(format!(
                    "the local proxy could not start, so the link would not load: {message}"
                ));
            }
        }
    }
    launch(launcher, url)?;
    Ok(OpenOutcome::Opened)
}

/// What opening a link takes first.
#[derive(Debug, PartialEq, Eq)]
enum Step {
    /// Hand it to the browser now.
    Open,
    /// Start the proxy, then open.
    StartThenOpen,
    /// Nothing yet: the user is asked whether to start the proxy.
    Ask,
}

/// External links open as they are; Porthole links need the proxy, which
/// starts without asking unless the settings say to ask (and the user has
/// not agreed yet).
fn step(kind: &Kind, proxy_running: bool, ask_before_starting: bool, consent: bool) -> Step {
    match kind {
        Kind::External => Step::Open,
        Kind::Porthole if proxy_running => Step::Open,
        Kind::Porthole if ask_before_starting && !consent => Step::Ask,
        Kind::Porthole => Step::StartThenOpen,
    }
}

/// What a Porthole link opens, for the question: `namespace/service:port`,
/// else the link.
fn target_of(url: &str) -> String {
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

#[derive(Debug, PartialEq, Eq)]
enum Kind {
    /// One of Porthole's own hosts on the proxy's port.
    Porthole,
    /// An external URL discovery reported (load balancer, ingress, …).
    External,
}

/// Which of the two kinds of link `url` is, or why Porthole will not open it.
fn classify(url: &str, proxy_port: u16, offered: impl Fn(&str) -> bool) -> Result<Kind, String> {
    let parsed = Url::parse(url.trim()).map_err(|e| format!("not a URL ({e}): {url:?}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!(
            "only http and https links are opened, not {:?}",
            parsed.scheme()
        ));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("links with credentials in them are not opened".into());
    }
    let host = parsed.host_str().unwrap_or_default().to_ascii_lowercase();
    if parsed.scheme() == "http" && parsed.port_or_known_default() == Some(proxy_port) {
        match parse_host(&host) {
            Ok(HostName::Service { .. }) => return Ok(Kind::Porthole),
            // A context's host serves its whole API: only the links Porthole
            // offers there (the API root, pod and node proxies) are opened.
            Ok(HostName::Context { .. }) if api_link(parsed.path()) => return Ok(Kind::Porthole),
            _ => {}
        }
    }
    if offered(url.trim()) {
        return Ok(Kind::External);
    }
    Err(format!(
        "{url} is neither a Porthole link on the proxy's port {proxy_port} nor an address the cluster reported: not opened"
    ))
}

/// `/`, `/api/v1/namespaces/NS/pods/POD/proxy/…` or `/api/v1/nodes/NODE/proxy/…`.
fn api_link(path: &str) -> bool {
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

/// How a link is opened.
#[derive(Debug, PartialEq, Eq)]
enum Launcher {
    /// A browser command's program and arguments (the URL in them).
    Command(Vec<String>),
    /// The system's opener (xdg-open, open, start).
    System,
}

/// `PORTHOLE_BROWSER`'s command (scripts and tests), else the browser
/// command from settings, else the system's opener. A command that does
/// not split into words is an error naming where it came from.
fn launcher(env: Option<String>, setting: &str, url: &str) -> Result<Launcher, String> {
    match chosen_command(env, setting) {
        Some((command, origin)) => browser_argv(&command, url, origin)
            .map(Launcher::Command)
            .map_err(|e| e.to_string()),
        None => Ok(Launcher::System),
    }
}

/// Runs the browser command directly (never through a shell), or the
/// system's opener.
fn launch(launcher: Launcher, url: &str) -> Result<(), String> {
    match launcher {
        Launcher::Command(argv) => {
            let (program, args) = argv.split_first().ok_or("empty browser command")?;
            let mut child = Command::new(program)
                .args(args)
                .stdin(Stdio::null())
                .spawn()
                .map_err(|e| format!("cannot run the browser command {program:?}: {e}"))?;
            // Reaped in the background; the browser may run for long.
            std::thread::spawn(move || child.wait());
            Ok(())
        }
        Launcher::System => open::that_detached(url)
            .map_err(|e| format!("cannot open the system browser: {e}; copy the link instead")),
    }
}

/// `PORTHOLE_BROWSER` wins over the setting; blank means unset.
fn chosen_command(env: Option<String>, setting: &str) -> Option<(String, BrowserCommandOrigin)> {
    env.filter(|c| !c.trim().is_empty())
        .map(|c| (c, BrowserCommandOrigin::Environment))
        .or_else(|| {
            Some(setting.trim().to_owned())
                .filter(|c| !c.is_empty())
                .map(|c| (c, BrowserCommandOrigin::Setting))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environment_beats_the_setting_and_blank_means_the_system_browser() {
        use BrowserCommandOrigin::{Environment, Setting};
        assert_eq!(
            chosen_command(Some("rec {url}".into()), "firefox"),
            Some(("rec {url}".to_owned(), Environment))
        );
        assert_eq!(
            chosen_command(Some("  ".into()), "firefox"),
            Some(("firefox".to_owned(), Setting))
        );
        assert_eq!(chosen_command(None, "  "), None);
        assert_eq!(launcher(None, "", "http://a/"), Ok(Launcher::System));
    }

    #[test]
    fn a_quoted_browser_command_keeps_its_words_and_a_broken_one_names_its_source() {
        assert_eq!(
            launcher(
                None,
                "'/opt/My Browser/browser' --profile \"a b\"",
                "http://a/"
            ),
            Ok(Launcher::Command(vec![
                "/opt/My Browser/browser".into(),
                "--profile".into(),
                "a b".into(),
                "http://a/".into()
            ]))
        );
        let err =
            launcher(None, "'/opt/My Browser/browser {url}", "http://a/").expect_err("open quote");
        assert!(err.starts_with("browserCommand: the ' quote"), "{err}");
        let err =
            launcher(Some("rec \"{url}".into()), "firefox", "http://a/").expect_err("open quote");
        assert!(err.starts_with("$PORTHOLE_BROWSER: the \" quote"), "{err}");
    }

    #[test]
    fn a_porthole_link_starts_the_proxy_or_asks_per_the_setting() {
        let p = &Kind::Porthole;
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
                step(&Kind::External, running, ask, consent),
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
        assert_eq!(classify(SPA, 8001, |_| false), Ok(Kind::Porthole));
        assert_eq!(
            classify(
                "http://porthole-admin.localhost:8001/api/v1/namespaces/a/pods/p/proxy/",
                8001,
                |_| false
            ),
            Ok(Kind::Porthole)
        );
        assert_eq!(
            classify("http://porthole-admin.localhost:8001/", 8001, |_| false),
            Ok(Kind::Porthole)
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
        assert!(err.contains("not opened"), "{err}");
    }

    #[test]
    fn external_urls_discovery_reported_are_opened() {
        let lb = "http://lb.porthole.test/";
        assert_eq!(classify(lb, 8001, |u| u == lb), Ok(Kind::External));
        assert!(classify("ftp://lb.porthole.test/", 8001, |_| true).is_err());
    }
}
