//! What the workspace tells the UI.

use super::forward_view::ForwardView;
use crate::cluster::StatusUpdate;
use crate::kubeconfig::ContextList;
use crate::proxy::ProxyStatus;

/// What changed, for the UI.
#[derive(Debug, Clone)]
pub enum WorkspaceEvent {
    /// The merged contexts changed (a file was edited, added, removed).
    ContextsChanged(ContextList),
    /// One context's status changed.
    Status(StatusUpdate),
    /// The proxy started, stopped, failed, or counted more requests.
    Proxy(ProxyStatus),
    /// A port-forward was added, removed, started or stopped, or its state
    /// moved on (listening, healing, waiting for a Pod, failed): all of
    /// them, as of now. Byte counts alone send none.
    Forwards(Vec<ForwardView>),
}
