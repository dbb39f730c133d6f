//! The GUI shell: wires porthole-core to the window, the tray and IPC.
//! Nothing here decides anything about Kubernetes; see `porthole-core`.

mod commands;
#[macro_use]
mod command_list;
mod forwards;
mod ipc;
mod memory;
mod services;
mod tray;
mod tray_forwards;

use std::sync::Arc;

use porthole_core::workspace::{Workspace, WorkspaceEvent, WorkspaceOptions};
use tauri::{AppHandle, Manager, generate_handler};
use tokio::sync::broadcast::error::RecvError;

/// Event names the webview listens to (see `ui/src/lib/api.ts`).
const CONTEXTS_CHANGED: &str = "contexts-changed";
const CONTEXT_STATUS: &str = "context-status";
const PROXY_STATUS: &str = "proxy-status";
const FORWARDS_CHANGED: &str = "forwards-changed";

/// Every command's IPC name, from the one list (`command_list.rs`).
pub const COMMANDS: &[&str] = command_list!(command_names);

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
        .invoke_handler(command_list!(generate_handler))
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
            tray_forwards::show(app.handle(), &workspace.forwards());
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
                Ok(WorkspaceEvent::Forwards(views)) => {
                    tray_forwards::show(&app, &views);
                    ipc::emit(&app, FORWARDS_CHANGED, &views);
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
                    let forwards = workspace.forwards();
                    tray_forwards::show(&app, &forwards);
                    ipc::emit(&app, FORWARDS_CHANGED, &forwards);
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

#[cfg(test)]
mod command_agreement {
    //! The command list, the capability that grants them and the UI's
    //! `invoke` names must agree: a command the UI calls but the capability
    //! does not allow fails only at run time, in the window.

    use std::collections::BTreeSet;
    use std::path::Path;

    use super::COMMANDS;

    fn root() -> &'static Path {
        Path::new(env!("CARGO_MANIFEST_DIR"))
    }

    fn listed() -> BTreeSet<String> {
        COMMANDS.iter().map(|c| (*c).to_owned()).collect()
    }

    /// `allow-<command>` permissions of the main window's capability, as
    /// command names (`allow-list-contexts` → `list_contexts`).
    fn granted() -> BTreeSet<String> {
        let path = root().join("capabilities/main-window.json");
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let json: serde_json::Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        json["permissions"]
            .as_array()
            .unwrap_or_else(|| panic!("{}: no permissions array", path.display()))
            .iter()
            .filter_map(|p| p.as_str())
            .filter_map(|p| p.strip_prefix("allow-"))
            .map(|p| p.replace('-', "_"))
            .collect()
    }

    /// The names in `invoke<…>("name"` calls under ui/src (tests excluded).
    fn invoked() -> BTreeSet<String> {
        let mut names = BTreeSet::new();
        let mut dirs = vec![root().join("ui/src")];
        while let Some(dir) = dirs.pop() {
            let entries =
                std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
            for entry in entries.flatten() {
                let path = entry.path();
                let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
                if path.is_dir() {
                    if name != "testing" && name != "bindings" {
                        dirs.push(path);
                    }
                    continue;
                }
                if name.contains(".test.") || !(name.ends_with(".ts") || name.ends_with(".svelte"))
                {
                    continue;
                }
                let text = std::fs::read_to_string(&path)
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                names.extend(invoke_names(&text));
            }
        }
        names
    }

    fn invoke_names(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        for (at, _) in text.match_indices("invoke") {
            let rest = &text[at + "invoke".len()..];
            // `invoke<T>("name"` or `invoke("name"`.
            let rest = match rest.strip_prefix('<') {
                Some(generic) => match generic.find(">(") {
                    Some(end) => &generic[end + 1..],
                    None => continue,
                },
                None => rest,
            };
            if let Some(quoted) = rest.strip_prefix("(\"")
                && let Some(end) = quoted.find('"')
            {
                out.push(quoted[..end].to_owned());
            }
        }
        out
    }

    fn differences(
        a_name: &str,
        a: &BTreeSet<String>,
        b_name: &str,
        b: &BTreeSet<String>,
    ) -> Vec<String> {
        let mut out = Vec::new();
        for only in a.difference(b) {
            out.push(format!("{only}: in {a_name}, not in {b_name}"));
        }
        for only in b.difference(a) {
            out.push(format!("{only}: in {b_name}, not in {a_name}"));
        }
        out
    }

    #[test]
    fn the_invoke_names_are_found_in_a_generic_and_a_plain_call() {
        assert_eq!(
            invoke_names(r#"invoke<Rows>("service_rows", {}); invoke("reload"); invoked()"#),
            vec!["service_rows".to_owned(), "reload".to_owned()]
        );
    }

    #[test]
    fn the_command_list_the_capability_and_the_ui_agree() {
        let list = listed();
        assert_eq!(list.len(), COMMANDS.len(), "a command is listed twice");
        let mut problems = differences(
            "src-tauri/command_list.rs",
            &list,
            "capabilities/main-window.json",
            &granted(),
        );
        problems.extend(differences(
            "src-tauri/command_list.rs",
            &list,
            "the UI's invoke calls (ui/src)",
            &invoked(),
        ));
        assert!(
            problems.is_empty(),
            "commands disagree:\n{}",
            problems.join("\n")
        );
    }
}
