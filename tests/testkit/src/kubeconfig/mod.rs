//! Kubeconfig files for the test users: one per user and one with a context
//! per user (current = admin), plus an admin context that reaches the
//! apiserver only through `tls-server-name`, plus contexts that are not a
//! user as is ([`Extra`]: impersonation, OIDC). [`Builder`] writes the odd
//! kubeconfigs tests compose.

mod builder;

pub use builder::{Builder, ClusterEntry};

use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde_json::{Value, json};

use crate::error::Result;
use crate::exec_credential::PluginArgs;
use crate::fsutil;
use crate::users::{Credential, User};
use crate::yaml;

/// Cluster entry names in the generated files.
pub const CLUSTER: &str = "porthole";
pub const SNI_CLUSTER: &str = "porthole-sni";
/// Context: admin through the SNI-only server name.
pub const SNI_CONTEXT: &str = "porthole-admin-sni";

/// Where the apiserver is and how to trust it.
#[derive(Debug, Clone)]
pub struct Server {
    /// `https://127.0.0.1:PORT`
    pub url: String,
    pub ca_pem: String,
    /// Name to verify the serving certificate against (kubeconfig
    /// `tls-server-name`) when it is not the host in `url`.
    pub sni_name: String,
}

pub(crate) fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s.as_bytes())
}

fn cluster_entry(name: &str, server: &Server, sni: bool) -> Value {
    let mut cluster = json!({
        "server": server.url,
        "certificate-authority-data": b64(&server.ca_pem),
    });
    if sni {
        cluster["tls-server-name"] = json!(server.sni_name);
    }
    json!({ "name": name, "cluster": cluster })
}

/// The `user` map of a kubeconfig `users[]` entry. `plugin` is the
/// `porthole-cluster` binary (the exec credential plugin).
pub fn user_body(user: &User, plugin: &Path) -> Value {
    match &user.credential {
        Credential::Cert { cert, .. } => json!({
            "client-certificate-data": b64(&cert.cert_pem),
            "client-key-data": b64(&cert.key_pem),
        }),
        Credential::Token(token) => json!({ "token": token }),
        Credential::TokenFile { file, .. } => json!({ "tokenFile": file.display().to_string() }),
        Credential::Exec {
            token_file,
            counter_file,
            ttl_secs,
            api_version,
            ..
        } => PluginArgs::new(plugin, counter_file)
            .token_file(token_file)
            .ttl_secs(*ttl_secs)
            .api_version(*api_version)
            .user(),
        Credential::ExecCert {
            files,
            counter_file,
        } => PluginArgs::new(plugin, counter_file)
            .client_cert(&files.cert, &files.key)
            .user(),
    }
}

fn user_entry(user: &User, plugin: &Path) -> Value {
    json!({ "name": user.spec.name, "user": user_body(user, plugin) })
}

/// A context whose user entry is not one of the harness users as is:
/// an impersonating user, OIDC. `user` is the kubeconfig `user` map.
#[derive(Debug, Clone)]
pub struct Extra {
    pub context: String,
    /// Name of its `users[]` entry.
    pub user_name: String,
    pub user: Value,
    pub namespace: Option<String>,
}

impl Extra {
    /// A kubeconfig with only this context.
    pub fn document(&self, server: &Server) -> Value {
        document(
            vec![cluster_entry(CLUSTER, server, false)],
            vec![json!({ "name": self.user_name, "user": self.user })],
            vec![context_entry(
                &self.context,
                CLUSTER,
                &self.user_name,
                self.namespace.as_deref(),
            )],
            &self.context,
        )
    }
}

fn context_entry(name: &str, cluster: &str, user: &str, namespace: Option<&str>) -> Value {
    let mut context = json!({ "cluster": cluster, "user": user });
    if let Some(ns) = namespace {
        context["namespace"] = json!(ns);
    }
    json!({ "name": name, "context": context })
}

fn document(clusters: Vec<Value>, users: Vec<Value>, contexts: Vec<Value>, current: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": clusters,
        "users": users,
        "contexts": contexts,
        "current-context": current,
    })
}

/// Default namespace of a user's context: the viewer cannot list
/// namespaces, so its context points at one it may read.
fn default_namespace(user: &User) -> Option<&'static str> {
    (user.spec.name == crate::users::VIEWER).then_some("team-a")
}

/// A kubeconfig with just `user`.
pub fn for_user(server: &Server, user: &User, plugin: &Path) -> Value {
    document(
        vec![cluster_entry(CLUSTER, server, false)],
        vec![user_entry(user, plugin)],
        vec![context_entry(
            &user.spec.context,
            CLUSTER,
            &user.spec.name,
            default_namespace(user),
        )],
        &user.spec.context,
    )
}

/// All users, a context each, current = the first user (admin), plus an
/// admin context through the SNI-only name and the `extras`.
pub fn combined(server: &Server, users: &[User], extras: &[Extra], plugin: &Path) -> Value {
    let mut contexts: Vec<Value> = users
        .iter()
        .map(|u| context_entry(&u.spec.context, CLUSTER, &u.spec.name, default_namespace(u)))
        .collect();
    if let Some(first) = users.first() {
        contexts.push(context_entry(
            SNI_CONTEXT,
            SNI_CLUSTER,
            &first.spec.name,
            None,
        ));
    }
    let mut user_entries: Vec<Value> = users.iter().map(|u| user_entry(u, plugin)).collect();
    for x in extras {
        contexts.push(context_entry(
            &x.context,
            CLUSTER,
            &x.user_name,
            x.namespace.as_deref(),
        ));
        user_entries.push(json!({ "name": x.user_name, "user": x.user }));
    }
    let current = users.first().map(|u| u.spec.context.as_str()).unwrap_or("");
    document(
        vec![
            cluster_entry(CLUSTER, server, false),
            cluster_entry(SNI_CLUSTER, server, true),
        ],
        user_entries,
        contexts,
        current,
    )
}

/// Writes a kubeconfig as YAML, owner-only (it holds keys and tokens).
pub fn write(path: &Path, doc: &Value) -> Result<PathBuf> {
    fsutil::write_private(path, yaml::to_string(doc).as_bytes())?;
    Ok(path.to_owned())
}
