//! One Tauri window with an empty page and nothing else: no commands, no
//! plugins, no tray. `make bench` measures its memory (this process and
//! its WebKit processes) next to Porthole's in the same run.

// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    if let Err(e) = tauri::Builder::default().run(tauri::generate_context!()) {
        eprintln!("porthole-bare-window: {e}");
        std::process::exit(1);
    }
}
