// The one list of the app's Tauri commands, `module::function`. Included by
// lib.rs (the invoke handler and `COMMANDS`) and by build.rs (the app
// manifest, which makes an `allow-<command>` permission for each). The
// agreement test in lib.rs checks capabilities/main-window.json and the
// UI's `invoke("…")` names against it.

/// Calls `$then!` with every command's path.
macro_rules! command_list {
    ($then:ident) => {
        $then![
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
            forwards::list_forwards,
            forwards::start_forward,
            forwards::resume_forward,
            forwards::stop_forward,
            forwards::restart_forward,
            forwards::remove_forward,
            forwards::set_forward_local_port,
            forwards::set_forward_restore,
            forwards::start_saved_forwards,
        ]
    };
}

/// The commands' IPC names (their function names).
macro_rules! command_names {
    ($($module:ident :: $name:ident),* $(,)?) => {
        &[$(stringify!($name)),*]
    };
}
