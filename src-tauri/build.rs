// Declares the app's own commands so Tauri generates a permission for each
// (`allow-<command>`); capabilities/ then grants exactly the ones the UI uses.
fn main() {
    let manifest = tauri_build::AppManifest::new().commands(&[
        "list_contexts",
        "context_statuses",
        "reload",
        "config_view",
        "get_settings",
        "settings_problem",
        "add_kubeconfig",
        "remove_kubeconfig",
        "set_extra_path_dirs",
        "set_browser_command",
        "proxy_status",
        "start_proxy",
        "stop_proxy",
        "set_proxy_settings",
        "list_namespaces",
        "add_namespace",
        "remove_namespace",
        "watch_services",
        "unwatch_services",
        "service_rows",
        "service_details",
        "cluster_info",
        "open_url",
    ]);
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(manifest))
        .expect("tauri-build failed: see the message above");
}
