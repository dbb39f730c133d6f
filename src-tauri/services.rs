//! Services of a context: namespaces, the live list (one watch per
//! window, forwarded on the channel the page passed in), a service's details,
//! cluster-info, and opening a link in the system browser. What may be
//! opened and how is decided in porthole-core's `open` module; here the
//! views report what they show to its [`OfferedLinks`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use porthole_core::discovery::rows::{RowQuery, Rows, ServiceRows};
use porthole_core::discovery::{
    ClusterInfoView, Discovery, NamespaceList, OpenOutcome, ServiceDetails, ServiceListChange,
    ServiceListNotice, ServiceQuery, ServiceView,
};
use porthole_core::open::{OfferedLinks, Panel, open_link};
use porthole_core::workspace::Workspace;
use tauri::async_runtime::JoinHandle;
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, State, WebviewWindow};

use crate::ipc::{self, Answer, answer};

/// After a complete list this long, freed memory goes back to the system.
const TRIM_AFTER: usize = 1000;

/// The name a watch's updates are recorded under (see `ipc::send`).
pub const SERVICES_CHANGED: &str = "services-changed";

/// The shell's discovery state: each window's active watch, and the
/// external links its views show (the only ones besides Porthole's own
/// that `open_url` opens).
#[derive(Default)]
pub struct Services {
    /// Per window: the active watch.
    watches: Mutex<HashMap<String, Watching>>,
    offered: OfferedLinks,
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
            self.offered.list_ended(window);
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
            self.offered.list_ended(window);
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
}

type Ws<'a> = State<'a, Arc<Workspace>>;
type Svc<'a> = State<'a, Services>;

fn discovery(ws: &Workspace, context: &str) -> Result<Discovery, String> {
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
pub async fn list_namespaces(ws: Ws<'_>, context: String) -> Answer<NamespaceList> {
    answer!(async {
        let d = discovery(&ws, &context)?;
        let added = ws.settings().added_namespaces_for(context.trim()).to_vec();
        Ok(d.namespaces(&added).await)
    })
}

/// Remembers a namespace the user added by hand for `context` (a user who
/// may not list namespaces names the ones it may read); returns the
/// context's added namespaces.
#[tauri::command]
pub async fn add_namespace(ws: Ws<'_>, context: String, namespace: String) -> Answer<Vec<String>> {
    answer!(async { Ok(ws.add_namespace(&context, &namespace).await?) })
}

/// Forgets a namespace added for `context`; returns the ones left.
#[tauri::command]
pub async fn remove_namespace(
    ws: Ws<'_>,
    context: String,
    namespace: String,
) -> Answer<Vec<String>> {
    answer!(async { Ok(ws.remove_namespace(&context, &namespace).await?) })
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
    query: ServiceQuery,
    on_update: Channel<ServiceListNotice>,
) -> Answer<u64> {
    answer!(async {
        let context = context.trim().to_owned();
        if context.is_empty() {
            return Err("no context name given".into());
        }
        // The old watch ends before the new one starts.
        services.replace_watch(window.label(), None);
        let mut watch = ws.watch_services(&context, query);
        let id = watch.id();
        let rows = watch.rows();
        let label = window.label().to_owned();
        let task = tauri::async_runtime::spawn(async move {
            while let Some(update) = watch.recv().await {
                if let Some(state) = app.try_state::<Services>() {
                    state.offered.list_changed(&label, &update.change);
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
        Ok(id)
    })
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
) -> Answer<Rows> {
    answer!(async {
        let started = std::time::Instant::now();
        let rows = services
            .rows(window.label(), watch_id)
            .map(|rows| rows.rows(&query))
            .ok_or_else(|| format!("service list {watch_id} is no longer shown"))?;
        tracing::debug!(
            "service_rows: {} of {} matched, {} rows from {} in {:?}",
            rows.matched,
            rows.total,
            rows.rows.len(),
            rows.offset,
            started.elapsed()
        );
        Ok(rows)
    })
}

/// Ends this window's service watch `id` (its services left the screen);
/// a newer watch of the window is kept.
#[tauri::command]
pub async fn unwatch_services(window: WebviewWindow, services: Svc<'_>, id: u64) -> Answer<()> {
    answer!(async {
        services.end_watch(window.label(), id);
        Ok(())
    })
}

/// One service's endpoints, pods (pod proxy links) and ways in.
#[tauri::command]
pub async fn service_details(
    window: WebviewWindow,
    ws: Ws<'_>,
    services: Svc<'_>,
    context: String,
    namespace: String,
    name: String,
) -> Answer<ServiceDetails> {
    answer!(async {
        let details = discovery(&ws, &context)?
            .service_details(namespace.trim(), name.trim())
            .await?;
        services.offered.panel_shown(
            window.label(),
            Panel::ServiceDetails,
            std::slice::from_ref(&details.service),
        );
        Ok(details)
    })
}

/// `kubectl cluster-info`, with links.
#[tauri::command]
pub async fn cluster_info(
    window: WebviewWindow,
    ws: Ws<'_>,
    services: Svc<'_>,
    context: String,
) -> Answer<ClusterInfoView> {
    answer!(async {
        let info = discovery(&ws, &context)?.cluster_info().await;
        let views: Vec<ServiceView> = info.services.iter().map(|s| s.service.clone()).collect();
        services
            .offered
            .panel_shown(window.label(), Panel::ClusterInfo, &views);
        Ok(info)
    })
}

/// Opens a link Porthole built, or an external one a view shows, in the
/// system browser (or the browser command of `PORTHOLE_BROWSER` or the
/// settings); a Porthole link while the proxy is off starts it first or,
/// when the settings say to ask, answers so until `start_proxy` is true.
#[tauri::command]
pub async fn open_url(
    ws: Ws<'_>,
    services: Svc<'_>,
    url: String,
    start_proxy: Option<bool>,
) -> Answer<OpenOutcome> {
    answer!(async {
        Ok(open_link(&ws, &services.offered, &url, start_proxy.unwrap_or(false)).await?)
    })
}
