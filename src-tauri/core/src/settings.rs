//! Porthole's own settings (never the user's kubeconfig): kubeconfig files
//! the user added in the app and extra directories to search for exec
//! plugins. Stored as JSON in the platform config dir.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// What the user set in Porthole. Unknown fields are kept out; missing
/// fields take their defaults, so an older file still loads.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
#[ts(export)]
pub struct Settings {
    /// Kubeconfig files added in the app, merged after `$KUBECONFIG` /
    /// `~/.kube/config`, in the order added. Paths only: never copied.
    pub kubeconfigs: Vec<String>,
    /// Directories searched for exec plugins after the process and login
    /// shell PATH.
    pub extra_path_dirs: Vec<String>,
}
