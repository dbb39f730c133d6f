//! The GUI shell: wires porthole-core to the window, the tray and IPC.
//! Nothing here decides anything about Kubernetes; see `porthole-core`.

mod commands;
mod tray;

use tauri::Manager;

/// Starts the desktop app; returns when the user quits.
pub fn run() {
    init_logging();
    let result = tauri::Builder::default()
        // First plugin on purpose: a second launch must hand over before
        // anything else starts, and then focus the running window.
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            show_main_window(app);
        }))
        .invoke_handler(tauri::generate_handler![commands::list_contexts])
        .setup(|app| {
            tray::install(app.handle())?;
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
