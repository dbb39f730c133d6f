//! kube-rs clients for the harness (fixtures, readiness) and for tests.

use std::path::Path;
use std::time::Duration;

use kube::config::{KubeConfigOptions, Kubeconfig};

use crate::error::{Error, Result};

/// Installs rustls' ring provider once (rustls panics when it has to guess).
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

async fn from_kubeconfig(kc: Kubeconfig, what: &Path, timeout: Duration) -> Result<kube::Client> {
    install_crypto_provider();
    let mut config = kube::Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
        .await
        .map_err(|e| Error::Kubeconfig {
            path: what.to_owned(),
            detail: e.to_string(),
        })?;
    config.connect_timeout = Some(Duration::from_secs(5));
    config.read_timeout = Some(timeout);
    config.write_timeout = Some(timeout);
    kube::Client::try_from(config).map_err(|e| Error::kube("creating a client", e))
}

/// A client for the current context of a kubeconfig document held in memory.
pub async fn from_value(doc: &serde_json::Value, timeout: Duration) -> Result<kube::Client> {
    let what = Path::new("(generated kubeconfig)");
    let kc: Kubeconfig = serde_json::from_value(doc.clone()).map_err(|e| Error::Kubeconfig {
        path: what.to_owned(),
        detail: e.to_string(),
    })?;
    from_kubeconfig(kc, what, timeout).await
}

/// A client for the current context of the kubeconfig file at `path`.
pub async fn from_file(path: &Path) -> Result<kube::Client> {
    let kc = Kubeconfig::read_from(path).map_err(|e| Error::Kubeconfig {
        path: path.to_owned(),
        detail: e.to_string(),
    })?;
    from_kubeconfig(kc, path, Duration::from_secs(60)).await
}

/// GET `path` on the apiserver as text (with a timeout).
pub async fn get_text(client: &kube::Client, path: &str, timeout: Duration) -> Result<String> {
    let req = http::Request::get(path)
        .body(Vec::new())
        .map_err(|e| Error::Usage(format!("bad request path {path}: {e}")))?;
    match tokio::time::timeout(timeout, client.request_text(req)).await {
        Ok(r) => r.map_err(|e| Error::kube(format!("GET {path}"), e)),
        Err(_) => Err(Error::Timeout {
            what: format!("GET {path}"),
            secs: timeout.as_secs(),
            detail: "no answer".into(),
        }),
    }
}
