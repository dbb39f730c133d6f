//! Tauri commands: thin adapters from IPC to porthole-core. Each one parses
//! its input, calls the core, and maps errors to text the user can act on.
//! Payload types are porthole-core's, exported to TypeScript by ts-rs.

use porthole_core::kubeconfig::{ContextList, KubeconfigSources, load_contexts};

/// The merged kubeconfig's contexts and, per file, what became of it.
/// Never fails as a whole: a broken file is reported inside the list.
#[tauri::command]
pub async fn list_contexts() -> ContextList {
    load_contexts(&KubeconfigSources::from_env()).await
}
