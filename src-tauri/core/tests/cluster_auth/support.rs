//! Shared helpers: the test control plane, kubeconfigs composed from its
//! combined kubeconfig, clients and identities through porthole-core.

use std::path::{Path, PathBuf};
use std::time::Duration;

use porthole_core::auth::ExecEnv;
use porthole_core::cluster::connect::Timeouts;
use porthole_core::cluster::probe::probe;
use porthole_core::cluster::{ClientEnv, ClusterClient, ContextStatus, client_for_context};
use porthole_core::kubeconfig::{KubeconfigSources, load_merged};
use porthole_core::shell_path::process_search_path;
use serde_json::Value;

pub use porthole_testkit::cluster;

/// The combined kubeconfig of the test cluster as JSON.
pub fn combined() -> Value {
    let text = std::fs::read_to_string(cluster().kubeconfig()).expect("combined kubeconfig");
    serde_saphyr::from_str(&text).expect("combined kubeconfig is YAML")
}

pub fn named<'a>(doc: &'a Value, list: &str, name: &str) -> &'a Value {
    doc[list]
        .as_array()
        .and_then(|l| l.iter().find(|e| e["name"] == name))
        .unwrap_or_else(|| panic!("no {list} entry {name:?} in the test kubeconfig"))
}

/// A kubeconfig with one context `ctx` over `cluster` and `user` entries.
pub fn single(cluster: Value, user: Value) -> Value {
    serde_json::json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{ "name": "c", "cluster": cluster }],
        "users": [{ "name": "u", "user": user }],
        "contexts": [{ "name": "ctx", "context": { "cluster": "c", "user": "u" } }],
        "current-context": "ctx",
    })
}

/// The test cluster's entry (`server`, CA data).
pub fn cluster_entry() -> Value {
    named(&combined(), "clusters", "porthole")["cluster"].clone()
}

/// A user entry from the combined kubeconfig.
pub fn user_entry(name: &str) -> Value {
    named(&combined(), "users", name)["user"].clone()
}

/// A fresh scratch directory for one test.
pub fn scratch(name: &str) -> PathBuf {
    cluster()
        .scratch_dir(&format!("core-{name}-{}", std::process::id()))
        .expect("scratch dir")
}

/// Writes `doc` as JSON (Porthole reads JSON kubeconfigs too).
pub fn write(dir: &Path, doc: &Value) -> PathBuf {
    let path = dir.join("kubeconfig.json");
    std::fs::write(&path, serde_json::to_vec_pretty(doc).expect("json")).expect("write");
    path
}

pub fn env() -> ClientEnv {
    ClientEnv {
        exec: ExecEnv {
            search_path: process_search_path(std::env::var_os("PATH").as_deref(), &[]),
            stdin_is_terminal: false,
            timeout: Duration::from_secs(20),
        },
        timeouts: Timeouts {
            connect: Duration::from_secs(3),
            tls_handshake: Duration::from_secs(3),
        },
        response_timeout: Duration::from_secs(20),
    }
}

pub async fn client_with(path: &Path, context: &str, env: &ClientEnv) -> ClusterClient {
    let merged = load_merged(&KubeconfigSources::explicit(path))
        .await
        .expect("kubeconfig loads");
    client_for_context(&merged, context, env)
        .await
        .unwrap_or_else(|p| panic!("client for {context}: {p}"))
}

pub async fn client(path: &Path, context: &str) -> ClusterClient {
    client_with(path, context, &env()).await
}

pub async fn status(client: &ClusterClient) -> ContextStatus {
    probe(client, Duration::from_secs(15)).await
}

/// The user (and groups) the apiserver saw, failing with the problem.
pub async fn identity(client: &ClusterClient) -> (String, Vec<String>) {
    match status(client).await {
        ContextStatus::Reachable {
            user: Some(user),
            groups,
            ..
        } => (user, groups),
        other => panic!(
            "{}: expected a reachable cluster with a user, got {other:?}",
            client.context()
        ),
    }
}

/// Runs a GET and returns the status code.
pub async fn get_status(client: &ClusterClient, path: &str) -> u16 {
    let request = http::Request::get(path)
        .body(porthole_core::cluster::empty_body())
        .expect("request");
    client
        .send(request)
        .await
        .unwrap_or_else(|e| panic!("GET {path}: {e}"))
        .status()
        .as_u16()
}

/// Writes an executable shell script.
pub fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt as _;
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("write script");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    path
}

pub fn count(path: &Path) -> u64 {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0)
}
