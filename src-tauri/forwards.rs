//! Port-forwards: thin commands over porthole-core's workspace (which
//! starts, saves and restores them). Live changes of the set and of a
//! state arrive as `forwards-changed` events; byte counts by asking
//! `list_forwards` again while the Forwards view is shown.

use std::sync::Arc;

use porthole_core::workspace::{ForwardTarget, ForwardView, Workspace};
use tauri::State;

use crate::ipc::{Answer, answer};

type Ws<'a> = State<'a, Arc<Workspace>>;

/// Every forward, saved and running, across contexts, as of now.
#[tauri::command]
pub fn list_forwards(ws: Ws<'_>) -> Answer<Vec<ForwardView>> {
    answer!({ Ok(ws.forwards()) })
}

/// Starts a forward to `target` ("Forward" on a service port) and saves
/// it; a forward that cannot start comes back failed, saying why.
#[tauri::command]
pub async fn start_forward(ws: Ws<'_>, target: ForwardTarget) -> Answer<ForwardView> {
    answer!(async { Ok(ws.start_forward(&target).await?) })
}

/// Starts the saved forward `id`.
#[tauri::command]
pub async fn resume_forward(ws: Ws<'_>, id: String) -> Answer<ForwardView> {
    answer!(async { Ok(ws.start_saved_forward(&id).await?) })
}

#[tauri::command]
pub fn stop_forward(ws: Ws<'_>, id: String) -> Answer<ForwardView> {
    answer!({ Ok(ws.stop_forward(&id)?) })
}

#[tauri::command]
pub async fn restart_forward(ws: Ws<'_>, id: String) -> Answer<ForwardView> {
    answer!(async { Ok(ws.restart_forward(&id).await?) })
}

/// Stops `id` and forgets it.
#[tauri::command]
pub async fn remove_forward(ws: Ws<'_>, id: String) -> Answer<()> {
    answer!(async { Ok(ws.remove_forward(&id).await?) })
}

/// Sets the local port of `id`; a running forward moves to it.
#[tauri::command]
pub async fn set_forward_local_port(ws: Ws<'_>, id: String, port: u16) -> Answer<ForwardView> {
    answer!(async { Ok(ws.set_forward_local_port(&id, port).await?) })
}

/// Whether `id` starts when Porthole starts.
#[tauri::command]
pub async fn set_forward_restore(ws: Ws<'_>, id: String, restore: bool) -> Answer<ForwardView> {
    answer!(async { Ok(ws.set_forward_restore(&id, restore).await?) })
}

/// "Start all": every saved forward that is not running.
#[tauri::command]
pub async fn start_saved_forwards(ws: Ws<'_>) -> Answer<Vec<ForwardView>> {
    answer!(async { Ok(ws.start_all_forwards().await) })
}
