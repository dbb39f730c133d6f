//! The state directory of one control plane and `state.json` inside it: what
//! runs where, which files belong to it, how long the start took. Written
//! by the supervisor at every step (so `down` can clean up even a half-started
//! cluster), read by `cluster()`, `status` and `down`.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::fsutil;
use crate::users::Auth;

pub const STATE_FILE: &str = "state.json";
/// Environment variable naming the state directory of a running cluster.
pub const DIR_ENV: &str = "PORTHOLE_CLUSTER_DIR";
/// Prefix of every state directory (and of the `up` default directory).
pub const DIR_PREFIX: &str = "porthole-cluster";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    Starting,
    Ready,
    Stopping,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct State {
    pub id: String,
    pub dir: PathBuf,
    pub phase: Phase,
    pub supervisor_pid: u32,
    /// The combined kubeconfig (a context per user, current = admin).
    pub kubeconfig: PathBuf,
    #[serde(default)]
    pub users: Vec<UserInfo>,
    #[serde(default)]
    pub etcd: Option<EtcdInfo>,
    #[serde(default)]
    pub apiserver: Option<ApiserverInfo>,
    #[serde(default)]
    pub netns: Option<NetnsInfo>,
    #[serde(default)]
    pub backends: Option<BackendsInfo>,
    #[serde(default)]
    pub fixtures: Option<FixtureSummary>,
    #[serde(default)]
    pub timings_ms: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UserInfo {
    pub name: String,
    pub context: String,
    pub groups: Vec<String>,
    pub auth: Auth,
    /// A kubeconfig with only this user.
    pub kubeconfig: PathBuf,
    /// Bearer token (token and exec users), for tests that build requests.
    #[serde(default)]
    pub token: Option<String>,
    /// Exec users: file holding the number of plugin runs.
    #[serde(default)]
    pub exec_counter: Option<PathBuf>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EtcdInfo {
    pub pid: u32,
    pub client_url: String,
    pub data_dir: PathBuf,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApiserverInfo {
    pub pid: u32,
    /// `https://127.0.0.1:PORT`
    pub url: String,
    pub port: u16,
    pub ca_file: PathBuf,
    /// The serving certificate's name that only `tls-server-name` reaches.
    pub sni_name: String,
    pub version: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NetnsInfo {
    pub name: String,
    pub host_interface: String,
    /// e.g. `10.213.7.0/24`
    pub subnet: String,
    pub host_ip: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BackendsInfo {
    pub pid: u32,
    pub instances: Vec<BackendInstance>,
}

/// One backend "pod": an address in the namespace and what listens there.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BackendInstance {
    pub name: String,
    pub ip: String,
    /// (mode, port)
    pub listeners: Vec<(String, u16)>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct FixtureSummary {
    pub namespaces: usize,
    pub services: usize,
    pub scale_services: usize,
    pub scale_ms: u64,
}

impl State {
    pub fn new(id: &str, dir: &Path) -> State {
        State {
            id: id.to_owned(),
            dir: dir.to_owned(),
            phase: Phase::Starting,
            supervisor_pid: std::process::id(),
            kubeconfig: dir.join("kubeconfig"),
            users: Vec::new(),
            etcd: None,
            apiserver: None,
            netns: None,
            backends: None,
            fixtures: None,
            timings_ms: BTreeMap::new(),
        }
    }

    pub fn path(dir: &Path) -> PathBuf {
        dir.join(STATE_FILE)
    }

    pub fn load(dir: &Path) -> Result<State> {
        let path = Self::path(dir);
        let text = fs::read_to_string(&path).map_err(|e| Error::State {
            path: path.clone(),
            detail: format!("cannot read it: {e}"),
        })?;
        serde_json::from_str(&text).map_err(|e| Error::State {
            path,
            detail: format!("not a valid state file: {e}"),
        })
    }

    pub fn save(&self) -> Result<()> {
        let json = serde_json::to_vec_pretty(self)
            .map_err(|e| Error::json("serialising cluster state", e))?;
        fsutil::write_atomic(&Self::path(&self.dir), &json)
    }

    pub fn user(&self, name: &str) -> Option<&UserInfo> {
        self.users.iter().find(|u| u.name == name)
    }

    pub fn backend(&self, name: &str) -> Option<&BackendInstance> {
        self.backends
            .as_ref()
            .and_then(|b| b.instances.iter().find(|i| i.name == name))
    }

    /// Whether the supervisor that owns this state is still alive.
    pub fn supervisor_alive(&self) -> bool {
        crate::process::alive_as(self.supervisor_pid, "supervise")
    }

    /// Pids of the components, with the binary name each must show.
    pub fn component_pids(&self) -> Vec<(&'static str, u32)> {
        let mut pids = Vec::new();
        if let Some(b) = &self.backends {
            pids.push(("porthole-backends", b.pid));
        }
        if let Some(a) = &self.apiserver {
            pids.push(("kube-apiserver", a.pid));
        }
        if let Some(e) = &self.etcd {
            pids.push(("etcd", e.pid));
        }
        pids
    }
}

/// Where state directories go: `$XDG_RUNTIME_DIR` when set, else the temp dir.
pub fn base_dir() -> PathBuf {
    std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .filter(|p| p.is_dir())
        .unwrap_or_else(std::env::temp_dir)
}

/// The directory `porthole-cluster up` uses unless told otherwise.
pub fn default_up_dir() -> PathBuf {
    std::env::var_os(DIR_ENV)
        .map(PathBuf::from)
        .unwrap_or_else(|| base_dir().join(DIR_PREFIX))
}

/// A fresh directory for a control plane owned by a test process.
pub fn test_run_dir(id: &str) -> PathBuf {
    base_dir().join(format!("{DIR_PREFIX}-{id}"))
}
