// Declares the app's own commands so Tauri generates a permission for each
// (`allow-<command>`); capabilities/ then grants exactly the ones the UI uses.
// The names come from the one list in command_list.rs.

include!("command_list.rs");

const COMMANDS: &[&str] = command_list!(command_names);

fn main() {
    println!("cargo:rerun-if-changed=src-tauri/command_list.rs");
    let manifest = tauri_build::AppManifest::new().commands(COMMANDS);
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(manifest))
        .expect("tauri-build failed: see the message above");
}
