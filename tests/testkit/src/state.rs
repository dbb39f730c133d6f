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
    pub node_agent: Option<NodeAgentInfo>,
    #[serde(default)]
    pub fixtures: Option<FixtureSummary>,
    /// The `porthole-cluster` binary: the exec credential plugin.
    #[serde(default)]
    pub exec_plugin: Option<PathBuf>,
    #[serde(default)]
    pub oidc: Option<OidcInfo>,
    #[serde(default)]
    pub impersonation: Vec<ImpersonationInfo>,
    #[serde(default)]
    pub basic_auth: Option<BasicAuthInfo>,
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
    /// Token-file users: the file the kubeconfig's `tokenFile:` names
    /// (holding [`Self::token`]); a test may rewrite it.
    #[serde(default)]
    pub token_file: Option<PathBuf>,
    /// Client-certificate and exec-cert users: PEM certificate and key.
    #[serde(default)]
    pub client_cert: Option<PathBuf>,
    #[serde(default)]
    pub client_key: Option<PathBuf>,
}

/// The OIDC issuer the apiserver trusts (see `oidc.rs`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OidcInfo {
    /// `https://127.0.0.1:PORT` (also the `iss` claim).
    pub issuer_url: String,
    /// POST, `grant_type=refresh_token`.
    pub token_endpoint: String,
    pub client_id: String,
    pub client_secret: String,
    /// Accepted for the whole life of the cluster (as is every refresh
    /// token the issuer hands out), for [`Self::subject`].
    pub refresh_token: String,
    /// The issuer's serving certificate is signed by the cluster CA.
    pub ca_file: PathBuf,
    /// PKCS#8 DER of the ES256 signing key (read by `oidc::mint`).
    pub signing_key: PathBuf,
    pub key_id: String,
    /// Number of refresh grants answered.
    pub refresh_counter: PathBuf,
    /// Lifetime in seconds of the id tokens the token endpoint issues
    /// (rewrite it to change; `oidc::set_token_ttl`).
    pub token_ttl_file: PathBuf,
    /// `sub` of refreshed tokens; the Kubernetes user is
    /// `username_prefix + sub`.
    pub subject: String,
    pub username_prefix: String,
    /// Value of the `groups` claim; Kubernetes sees `groups_prefix + group`.
    pub group: String,
    pub groups_prefix: String,
    /// Context (auth-provider oidc, id-token already expired) in the
    /// combined kubeconfig; `kubeconfig` holds only it (copy it before
    /// kubectl writes the refreshed token back).
    pub context: String,
    pub kubeconfig: PathBuf,
}

/// A context whose user impersonates another.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImpersonationInfo {
    pub context: String,
    /// The harness user whose credential the context uses.
    pub user: String,
    pub as_user: String,
    pub as_groups: Vec<String>,
    pub as_uid: String,
    /// Whether RBAC lets `user` impersonate.
    pub allowed: bool,
}

/// A kubeconfig `username`/`password` pointed at the echo backend (the
/// apiserver no longer accepts basic auth): the echo answers with the
/// headers it received, `Authorization` among them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BasicAuthInfo {
    /// `http://10.213.X.11:8080` (reachable from the host).
    pub echo_url: String,
    /// `https://10.213.X.13:8443` (self-signed: insecure-skip-tls-verify).
    pub https_echo_url: String,
    pub username: String,
    pub password: String,
    /// `Basic base64(username:password)`: what the echo must report.
    pub expected_authorization: String,
    /// One context (`context`) at `https_echo_url` with that
    /// username/password (client-go sends credentials over TLS only).
    pub kubeconfig: PathBuf,
    pub context: String,
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

/// The node agent (a stand-in for the kubelet) in the network namespace.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NodeAgentInfo {
    pub pid: u32,
    pub port: u16,
    /// The Nodes' InternalIPs it listens on.
    pub addresses: Vec<String>,
    /// The fixture Pods it answers for (IP, container log file).
    pub pods_file: PathBuf,
    /// Per-Pod files it reads at run time (`node_agent::register_pod`);
    /// empty in the state of a cluster started before it had one.
    #[serde(default)]
    pub pods_dir: PathBuf,
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
            node_agent: None,
            fixtures: None,
            exec_plugin: None,
            oidc: None,
            impersonation: Vec::new(),
            basic_auth: None,
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

    fn missing(&self, what: &str) -> Error {
        Error::State {
            path: Self::path(&self.dir),
            detail: format!("{what} is not recorded (is the cluster ready?)"),
        }
    }

    /// `https://127.0.0.1:PORT` of the apiserver.
    pub fn server_url(&self) -> Result<&str> {
        self.apiserver
            .as_ref()
            .map(|a| a.url.as_str())
            .ok_or_else(|| self.missing("the apiserver"))
    }

    /// The cluster CA (PEM file): it signs the apiserver's and the OIDC
    /// issuer's serving certificates and every client certificate.
    pub fn ca_file(&self) -> Result<&Path> {
        self.apiserver
            .as_ref()
            .map(|a| a.ca_file.as_path())
            .ok_or_else(|| self.missing("the apiserver"))
    }

    pub fn ca_pem(&self) -> Result<String> {
        let path = self.ca_file()?;
        fs::read_to_string(path).map_err(|e| Error::State {
            path: path.to_owned(),
            detail: format!("cannot read the CA: {e}"),
        })
    }

    /// (certificate, key) PEM files of a client-certificate user (`admin`).
    pub fn client_cert_files(&self, user: &str) -> Result<(&Path, &Path)> {
        let u = self
            .user(user)
            .ok_or_else(|| self.missing(&format!("user {user}")))?;
        match (&u.client_cert, &u.client_key) {
            (Some(c), Some(k)) => Ok((c, k)),
            _ => Err(self.missing(&format!("a client certificate of {user}"))),
        }
    }

    pub fn oidc(&self) -> Result<&OidcInfo> {
        self.oidc
            .as_ref()
            .ok_or_else(|| self.missing("the OIDC issuer"))
    }

    pub fn exec_plugin(&self) -> Result<&Path> {
        self.exec_plugin
            .as_deref()
            .ok_or_else(|| self.missing("the exec plugin"))
    }

    pub fn backend(&self, name: &str) -> Option<&BackendInstance> {
        self.backends
            .as_ref()
            .and_then(|b| b.instances.iter().find(|i| i.name == name))
    }

    /// The log file the node agent serves for `kubectl logs` of that
    /// container; [`crate::node_agent::append_log_line`] writes to it.
    pub fn pod_log(&self, namespace: &str, pod: &str, container: &str) -> PathBuf {
        crate::node_agent::log_path(&self.dir.join("logs"), namespace, pod, container)
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
        if let Some(n) = &self.node_agent {
            pids.push(("porthole-node-agent", n.pid));
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
