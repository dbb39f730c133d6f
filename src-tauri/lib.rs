//! The GUI shell: wires porthole-core to the window, the tray and IPC.
//! Nothing here decides anything about Kubernetes; see `porthole-core`.

mod commands;
mod ipc;
mod memory;
mod services;
mod tray;

use std::sync::Arc;

use porthole_core::workspace::{Workspace, WorkspaceEvent, WorkspaceOptions};
use tauri::{AppHandle, Manager};
use tokio::sync::broadcast::error::RecvError;

/// Event names the webview listens to (see `ui/src/lib/api.ts`).
const CONTEXTS_CHANGED: &str = "contexts-changed";
const CONTEXT_STATUS: &str = "context-status";
const PROXY_STATUS: &str = "proxy-status";

/// Starts the desktop app; returns when the user quits.
pub fn run() {
    memory::limit_arenas();
    init_logging();
    ipc::init_recording();
    let result = tauri::Builder::default()
        // First plugin on purpose: a second launch must hand over before
        // anything else starts, and then focus the running window.
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            show_main_window(app);
        }))
        // Used from Rust only (the "Add kubeconfig…" picker): the webview is
        // granted none of its commands.
        .plugin(tauri_plugin_dialog::init())
        .invoke_handler(tauri::generate_handler![
            commands::list_contexts,
            commands::context_statuses,
            commands::reload,
            commands::config_view,
            commands::get_settings,
            commands::settings_problem,
            commands::add_kubeconfig,
            commands::remove_kubeconfig,
            commands::set_extra_path_dirs,
            commands::set_browser_command,
            commands::proxy_status,
            commands::start_proxy,
            commands::stop_proxy,
            commands::set_proxy_settings,
            services::list_namespaces,
            services::add_namespace,
            services::remove_namespace,
            services::watch_services,
            services::unwatch_services,
            services::service_rows,
            services::service_details,
            services::cluster_info,
            services::open_url,
        ])
        // Closing the window keeps Porthole (and its proxy) running in the
        // tray; "Open Porthole" or a second launch shows it again, and
        // "Quit" in the tray ends it.
        .on_window_event(|window, event| {
            if let tauri::WindowEvent::CloseRequested { api, .. } = event
                && window.label() == "main"
            {
                api.prevent_close();
                if let Err(e) = window.hide() {
                    tracing::warn!("cannot hide the window: {e}");
                }
                tracing::info!("window closed: Porthole keeps running in the tray");
            }
        })
        .setup(|app| {
            let workspace =
                tauri::async_runtime::block_on(Workspace::start(WorkspaceOptions::default()));
            app.manage(Arc::clone(&workspace));
            app.manage(services::Services::default());
            // Before the events flow, so none finds the tray missing; the
            // start-up status was sent before anyone listened: read it.
            tray::install(app.handle(), &workspace.proxy_status())?;
            forward_events(app.handle().clone(), workspace);
            Ok(())
        })
        .run(tauri::generate_context!());
    if let Err(e) = result {
        tracing::error!("Porthole stopped: {e}");
        std::process::exit(1);
    }
}

/// Brings the main window to the front (restoring it if minimised or hidden).
pub(crate) fn show_main_window(app: &tauri::AppHandle) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}

/// Passes the workspace's events on to the webview until the app ends. A
/// receiver that fell behind lost events: it sends the whole state again.
fn forward_events(app: AppHandle, workspace: Arc<Workspace>) {
    let mut events = workspace.subscribe();
    tauri::async_runtime::spawn(async move {
        loop {
            match events.recv().await {
                Ok(WorkspaceEvent::ContextsChanged(list)) => {
                    ipc::emit(&app, CONTEXTS_CHANGED, &list);
                }
                Ok(WorkspaceEvent::Status(update)) => ipc::emit(&app, CONTEXT_STATUS, &update),
                Ok(WorkspaceEvent::Proxy(status)) => {
                    tray::show_proxy(&app, &status);
                    ipc::emit(&app, PROXY_STATUS, &status);
                }
                Err(RecvError::Lagged(missed)) => {
                    tracing::warn!("{missed} workspace events missed: sending the full state");
                    ipc::emit(&app, CONTEXTS_CHANGED, &workspace.contexts());
                    for update in workspace.statuses() {
                        ipc::emit(&app, CONTEXT_STATUS, &update);
                    }
                    let proxy = workspace.proxy_status();
                    tray::show_proxy(&app, &proxy);
                    ipc::emit(&app, PROXY_STATUS, &proxy);
                }
                Err(RecvError::Closed) => break,
            }
        }
    });
}

/// Logs to stderr; `PORTHOLE_LOG` filters (default: info for Porthole, warn for the rest).
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("PORTHOLE_LOG").unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(
            "warn,porthole=info,porthole_app=info,porthole_core=info",
        )
    });
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
