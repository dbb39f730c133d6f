//! The pod's service account as a kubeconfig source: one synthesized
//! context `in-cluster`, like client-go's in-cluster config.
//!
//! The user entry names the token *file* (`tokenFile`), never its content,
//! so a rotated token is picked up without rebuilding anything.

use std::ffi::OsStr;
use std::io;
use std::net::Ipv6Addr;
use std::path::{Path, PathBuf};

use kube::config::Kubeconfig;

use super::read::{FileProblem, hash_of};

/// Where kubelet mounts the service account in every pod.
pub const DEFAULT_SERVICE_ACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";
/// Overrides [`DEFAULT_SERVICE_ACCOUNT_DIR`] (tests, unusual mounts).
pub const SERVICE_ACCOUNT_DIR_VAR: &str = "PORTHOLE_SERVICEACCOUNT_DIR";
/// The name of the synthesized context, cluster and user, and the path the
/// source is reported under.
pub const IN_CLUSTER: &str = "in-cluster";

/// The API server a pod sees (`KUBERNETES_SERVICE_HOST`/`_PORT`) and the
/// directory holding `token`, `ca.crt` and `namespace`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InClusterSource {
    pub host: String,
    pub port: String,
    pub dir: PathBuf,
}

impl InClusterSource {
    /// The source when this process runs in a pod (both service variables
    /// set); whether the token is there is checked when loading.
    pub fn from_env() -> Option<Self> {
        let dir = std::env::var_os(SERVICE_ACCOUNT_DIR_VAR)
            .filter(|d| !d.is_empty())
            .map_or_else(|| PathBuf::from(DEFAULT_SERVICE_ACCOUNT_DIR), PathBuf::from);
        Self::from_parts(
            std::env::var_os("KUBERNETES_SERVICE_HOST").as_deref(),
            std::env::var_os("KUBERNETES_SERVICE_PORT").as_deref(),
            dir,
        )
    }

    /// The same decision as [`Self::from_env`] from explicit inputs.
    pub fn from_parts(
        host: Option<&OsStr>,
        port: Option<&OsStr>,
        dir: impl Into<PathBuf>,
    ) -> Option<Self> {
        let text = |v: Option<&OsStr>| {
            v.and_then(OsStr::to_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        Some(Self {
            host: text(host)?,
            port: text(port)?,
            dir: dir.into(),
        })
    }

    /// `https://HOST:PORT`, an IPv6 host in brackets.
    pub fn server(&self) -> String {
        let host = self.host.trim_start_matches('[').trim_end_matches(']');
        if host.parse::<Ipv6Addr>().is_ok() {
            format!("https://[{host}]:{}", self.port)
        } else {
            format!("https://{host}:{}", self.port)
        }
    }

    pub fn token_path(&self) -> PathBuf {
        self.absolute_dir().join("token")
    }

    pub fn ca_path(&self) -> PathBuf {
        self.absolute_dir().join("ca.crt")
    }

    pub fn namespace_path(&self) -> PathBuf {
        self.absolute_dir().join("namespace")
    }

    /// The files the synthesized config depends on, for the watcher.
    pub fn files(&self) -> [PathBuf; 3] {
        [self.token_path(), self.ca_path(), self.namespace_path()]
    }

    /// Paths in the config must not depend on the working directory.
    fn absolute_dir(&self) -> PathBuf {
        std::path::absolute(&self.dir).unwrap_or_else(|_| self.dir.clone())
    }
}

/// The synthesized kubeconfig, and a fingerprint of what it was built from
/// (the namespace and which files exist; never the token).
pub(crate) async fn synthesize(source: &InClusterSource) -> Result<(Kubeconfig, u64), FileProblem> {
    let token = source.token_path();
    match tokio::fs::metadata(&token).await {
        Ok(meta) if meta.is_file() => {}
        Ok(_) => {
            return Err(FileProblem::Unreadable {
                path: token,
                source: io::Error::other("not a regular file"),
            });
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(FileProblem::NotFound { path: token });
        }
        Err(source) => {
            return Err(FileProblem::Unreadable {
                path: token,
                source,
            });
        }
    }
    let ca = source.ca_path();
    // Like client-go: without ca.crt the system roots are used.
    let has_ca = tokio::fs::try_exists(&ca).await.unwrap_or(false);
    let namespace = match tokio::fs::read_to_string(source.namespace_path()).await {
        Ok(text) => Some(text.trim().to_owned()).filter(|n| !n.is_empty()),
        Err(_) => None,
    };
    let config = build(
        source,
        has_ca.then_some(ca.as_path()),
        namespace.as_deref(),
        &token,
    )
    .map_err(|reason| FileProblem::Malformed {
        path: PathBuf::from(IN_CLUSTER),
        reason,
    })?;
    let fingerprint = hash_of(&(source.server(), has_ca, namespace, &token));
    Ok((config, fingerprint))
}

fn build(
    source: &InClusterSource,
    ca: Option<&Path>,
    namespace: Option<&str>,
    token: &Path,
) -> Result<Kubeconfig, String> {
    let mut cluster = serde_json::json!({ "server": source.server() });
    if let Some(ca) = ca {
        cluster["certificate-authority"] = ca.display().to_string().into();
    }
    let mut context = serde_json::json!({ "cluster": IN_CLUSTER, "user": IN_CLUSTER });
    if let Some(ns) = namespace {
        context["namespace"] = ns.into();
    }
    let doc = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": IN_CLUSTER,
        "clusters": [{ "name": IN_CLUSTER, "cluster": cluster }],
        "users": [{ "name": IN_CLUSTER, "user": { "tokenFile": token.display().to_string() } }],
        "contexts": [{ "name": IN_CLUSTER, "context": context }],
    });
    serde_json::from_value(doc).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(host: &str, dir: &Path) -> InClusterSource {
        InClusterSource::from_parts(
            Some(OsStr::new(host)),
            Some(OsStr::new("443")),
            dir.to_path_buf(),
        )
        .expect("both variables set")
    }

    #[test]
    fn needs_both_service_variables() {
        let dir = Path::new("/sa");
        assert!(InClusterSource::from_parts(None, Some(OsStr::new("443")), dir).is_none());
        assert!(InClusterSource::from_parts(Some(OsStr::new("h")), None, dir).is_none());
        assert!(
            InClusterSource::from_parts(Some(OsStr::new("")), Some(OsStr::new("443")), dir)
                .is_none()
        );
    }

    #[test]
    fn ipv6_hosts_are_bracketed() {
        let dir = Path::new("/sa");
        assert_eq!(source("10.0.0.1", dir).server(), "https://10.0.0.1:443");
        assert_eq!(source("fd00::1", dir).server(), "https://[fd00::1]:443");
        assert_eq!(source("[fd00::1]", dir).server(), "https://[fd00::1]:443");
        assert_eq!(
            source("kubernetes.default.svc", dir).server(),
            "https://kubernetes.default.svc:443"
        );
    }

    #[tokio::test]
    async fn synthesizes_token_file_ca_and_namespace() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("token"), "zoo-secret-sa-token").expect("token");
        std::fs::write(dir.path().join("ca.crt"), "CA").expect("ca");
        std::fs::write(dir.path().join("namespace"), "team-a\n").expect("ns");
        let (config, _) = synthesize(&source("fd00::1", dir.path()))
            .await
            .expect("synthesized");
        assert_eq!(config.current_context.as_deref(), Some(IN_CLUSTER));
        let cluster = config.clusters[0].cluster.as_ref().expect("cluster");
        assert_eq!(cluster.server.as_deref(), Some("https://[fd00::1]:443"));
        let ca = dir.path().join("ca.crt").display().to_string();
        assert_eq!(cluster.certificate_authority.as_deref(), Some(ca.as_str()));
        let user = config.auth_infos[0].auth_info.as_ref().expect("user");
        let token = dir.path().join("token").display().to_string();
        assert_eq!(user.token_file.as_deref(), Some(token.as_str()));
        assert!(
            user.token.is_none(),
            "the token is read by path, not copied"
        );
        let ctx = config.contexts[0].context.as_ref().expect("context");
        assert_eq!(ctx.namespace.as_deref(), Some("team-a"));
    }

    #[tokio::test]
    async fn without_a_token_the_source_is_missing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = synthesize(&source("10.0.0.1", dir.path()))
            .await
            .expect_err("no token");
        assert!(matches!(err, FileProblem::NotFound { .. }), "{err}");
    }
}
