//! The serde schema of the settings file: what the user set, with its
//! defaults. Reading and writing it is [`super::store`]'s job.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::forward::{RemotePort, TargetKind};
use crate::port_kind::PortKind;

#[cfg(doc)]
use crate::open::command::browser_argv;

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
    /// The local proxy.
    pub proxy: ProxySettings,
    /// The command that opens a service in the browser (`{url}` stands for
    /// the URL, else it is added last); empty: the system's default browser.
    /// Split into words like a shell would (quotes, backslashes), never run
    /// by one: see [`browser_argv`].
    pub browser_command: String,
    /// Per context, namespaces the user added by hand (for users who may
    /// not list namespaces): shown in the selector with the context's own.
    pub added_namespaces: BTreeMap<String, Vec<String>>,
    /// Port-forwards the user started, across contexts, in the order
    /// started: each with its remembered local port and whether it starts
    /// with Porthole.
    pub forwards: Vec<SavedForward>,
}

impl Settings {
    /// The namespaces added by hand for `context` (none: empty).
    pub fn added_namespaces_for(&self, context: &str) -> &[String] {
        self.added_namespaces
            .get(context)
            .map_or(&[], Vec::as_slice)
    }
}

/// A port-forward the user started, remembered so it comes back with the
/// same local port (and, when `restore` says so, when Porthole starts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct SavedForward {
    pub context: String,
    pub namespace: String,
    pub kind: TargetKind,
    pub name: String,
    /// The service's (or Pod's) port: a number or a port name.
    pub remote: RemotePort,
    /// The local port it listens on, kept across restarts; 0: not chosen
    /// yet (the next start picks one and remembers it).
    #[serde(default)]
    pub local_port: u16,
    /// Start it when Porthole starts.
    #[serde(default = "yes")]
    pub restore: bool,
    /// What the port speaks (its client commands), as last seen.
    #[serde(default)]
    pub port_kind: PortKind,
}

fn yes() -> bool {
    true
}

impl SavedForward {
    /// The forward's stable id: `CONTEXT/NAMESPACE/KIND/NAME:PORT`. Unique
    /// because only the context may hold a `/` (namespaces, names and
    /// port names are DNS labels or IANA names), so the last three `/`
    /// split it one way only.
    pub fn id(&self) -> String {
        format!(
            "{}/{}/{}/{}:{}",
            self.context,
            self.namespace,
            self.kind.short(),
            self.name,
            self.remote
        )
    }
}

/// The local proxy's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
#[ts(export)]
pub struct ProxySettings {
    /// Start the proxy when Porthole starts.
    pub start_with_app: bool,
    /// Loopback address to listen on (`127.0.0.1` or `::1`).
    pub address: String,
    /// Port (`kubectl proxy`'s 8001 by default).
    pub port: u16,
    /// Only GET, HEAD and OPTIONS (and watches) pass.
    pub read_only: bool,
    /// Let `exec` and `attach` through (refused by default, as kubectl
    /// proxy does).
    pub allow_exec: bool,
    /// Opening a service while the proxy is off asks first instead of
    /// starting the proxy (off: it starts without asking).
    pub ask_before_starting: bool,
}

impl Default for ProxySettings {
    fn default() -> Self {
        Self {
            start_with_app: true,
            address: "127.0.0.1".to_owned(),
            port: 8001,
            read_only: false,
            allow_exec: false,
            ask_before_starting: false,
        }
    }
}

impl ProxySettings {
    /// Whether a running proxy must restart to serve with `other` (the
    /// listener or what it lets through differs; the switches about when it
    /// starts do not count).
    pub fn serves_differently(&self, other: &Self) -> bool {
        self.address != other.address
            || self.port != other.port
            || self.read_only != other.read_only
            || self.allow_exec != other.allow_exec
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_listener_and_its_filters_need_a_restart() {
        let base = ProxySettings::default();
        for quiet in [
            ProxySettings {
                ask_before_starting: true,
                ..base.clone()
            },
            ProxySettings {
                start_with_app: false,
                ..base.clone()
            },
        ] {
            assert!(!base.serves_differently(&quiet), "{quiet:?}");
        }
        for loud in [
            ProxySettings {
                port: 8002,
                ..base.clone()
            },
            ProxySettings {
                address: "::1".into(),
                ..base.clone()
            },
            ProxySettings {
                read_only: true,
                ..base.clone()
            },
            ProxySettings {
                allow_exec: true,
                ..base.clone()
            },
        ] {
            assert!(base.serves_differently(&loud), "{loud:?}");
        }
    }
}
