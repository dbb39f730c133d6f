//! [`Builder`]: one-context kubeconfig files for tests that need a case the
//! harness does not ship (exec with env, relative paths, proxy-url, a CA
//! file instead of data, insecure…). The user entry is any JSON map, so a
//! test can write exactly the field under test.
//!
//! ```no_run
//! # fn t(state: &porthole_testkit::state::State) -> porthole_testkit::Result<()> {
//! use porthole_testkit::kubeconfig::{Builder, ClusterEntry};
//! let path = Builder::new(ClusterEntry::for_state(state)?.proxy_url("socks5://127.0.0.1:1080"))
//!     .user(serde_json::json!({ "token": "…" }))
//!     .write_yaml(&state.dir.join("scratch/my.kubeconfig"))?;
//! # let _ = path; Ok(()) }
//! ```

use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use crate::error::{Error, Result};
use crate::fsutil;
use crate::state::State;

/// A kubeconfig `cluster` map.
#[derive(Debug, Clone)]
pub struct ClusterEntry {
    fields: Map<String, Value>,
}

impl ClusterEntry {
    pub fn new(server: &str) -> ClusterEntry {
        let mut fields = Map::new();
        fields.insert("server".into(), json!(server));
        ClusterEntry { fields }
    }

    /// The test apiserver with its CA as `certificate-authority-data`.
    pub fn for_state(state: &State) -> Result<ClusterEntry> {
        Ok(ClusterEntry::new(state.server_url()?).ca_pem(&state.ca_pem()?))
    }

    /// `certificate-authority-data` (base64 of the PEM).
    pub fn ca_pem(self, pem: &str) -> Self {
        self.field("certificate-authority-data", json!(super::b64(pem)))
    }

    /// `certificate-authority` (absolute or relative to the file).
    pub fn ca_file(self, path: impl AsRef<Path>) -> Self {
        let p = path.as_ref().display().to_string();
        self.without("certificate-authority-data")
            .field("certificate-authority", json!(p))
    }

    pub fn tls_server_name(self, name: &str) -> Self {
        self.field("tls-server-name", json!(name))
    }

    /// `insecure-skip-tls-verify` (drops any CA: kubectl refuses both).
    pub fn insecure_skip_tls_verify(self) -> Self {
        self.without("certificate-authority-data")
            .without("certificate-authority")
            .field("insecure-skip-tls-verify", json!(true))
    }

    /// `proxy-url`: `http://…`, `https://…` or `socks5://…`.
    pub fn proxy_url(self, url: &str) -> Self {
        self.field("proxy-url", json!(url))
    }

    /// Any other field, as is.
    pub fn field(mut self, name: &str, value: Value) -> Self {
        self.fields.insert(name.to_owned(), value);
        self
    }

    pub fn without(mut self, name: &str) -> Self {
        self.fields.remove(name);
        self
    }

    pub fn to_value(&self) -> Value {
        Value::Object(self.fields.clone())
    }
}

/// A kubeconfig with one cluster, one user and one (current) context.
#[derive(Debug, Clone)]
pub struct Builder {
    cluster: ClusterEntry,
    user: Value,
    context: String,
    namespace: Option<String>,
}

impl Builder {
    pub fn new(cluster: ClusterEntry) -> Builder {
        Builder {
            cluster,
            user: json!({}),
            context: "test".into(),
            namespace: None,
        }
    }

    /// The `user` map (e.g. `{"token": …}`, `{"exec": …}`, `{"as": …}`).
    pub fn user(mut self, user: Value) -> Self {
        self.user = user;
        self
    }

    /// Name of the context, cluster and user entries (default `test`).
    pub fn context_name(mut self, name: &str) -> Self {
        name.clone_into(&mut self.context);
        self
    }

    pub fn namespace(mut self, ns: &str) -> Self {
        self.namespace = Some(ns.to_owned());
        self
    }

    pub fn document(&self) -> Value {
        let name = &self.context;
        let mut context = json!({ "cluster": name, "user": name });
        if let Some(ns) = &self.namespace {
            context["namespace"] = json!(ns);
        }
        json!({
            "apiVersion": "v1",
            "kind": "Config",
            "preferences": {},
            "clusters": [{ "name": name, "cluster": self.cluster.to_value() }],
            "users": [{ "name": name, "user": self.user }],
            "contexts": [{ "name": name, "context": context }],
            "current-context": name,
        })
    }

    /// Writes YAML (owner-only) and returns the path.
    pub fn write_yaml(&self, path: &Path) -> Result<PathBuf> {
        super::write(path, &self.document())
    }

    /// Writes JSON (a kubeconfig may be JSON too).
    pub fn write_json(&self, path: &Path) -> Result<PathBuf> {
        let text = serde_json::to_vec_pretty(&self.document())
            .map_err(|e| Error::json("serialising a kubeconfig", e))?;
        fsutil::write_private(path, &text)?;
        Ok(path.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn composes_cluster_and_user() {
        let doc = Builder::new(
            ClusterEntry::new("https://127.0.0.1:1")
                .ca_pem("PEM")
                .ca_file("ca.crt")
                .tls_server_name("x.test")
                .proxy_url("socks5://127.0.0.1:2"),
        )
        .user(json!({ "tokenFile": "t" }))
        .context_name("odd")
        .namespace("team-a")
        .document();
        let c = &doc["clusters"][0]["cluster"];
        assert_eq!(c["certificate-authority"], "ca.crt");
        assert!(c.get("certificate-authority-data").is_none());
        assert_eq!(c["proxy-url"], "socks5://127.0.0.1:2");
        assert_eq!(doc["users"][0]["user"]["tokenFile"], "t");
        assert_eq!(doc["contexts"][0]["context"]["namespace"], "team-a");
        assert_eq!(doc["current-context"], "odd");
        let insecure = ClusterEntry::new("https://x")
            .ca_pem("P")
            .insecure_skip_tls_verify()
            .to_value();
        assert!(insecure.get("certificate-authority-data").is_none());
    }
}
