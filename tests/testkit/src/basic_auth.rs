//! Basic auth: kube-apiserver dropped `--basic-auth-file`, so kubeconfig
//! `username`/`password` are proven against the echo backend instead,
//! which answers with every request header it received (`Authorization`
//! among them). The kubeconfig points straight at the TLS echo's address
//! in the network namespace (reachable from the host), with
//! `insecure-skip-tls-verify` (its certificate is self-signed): client-go
//! applies a kubeconfig user's credentials only when the transport is TLS
//! (`isConfigTransportTLS`), so kubectl sends nothing to a plain `http://`
//! server. The plain echo's URL is recorded too.

use std::path::Path;

use base64::Engine as _;
use serde_json::json;

use crate::error::{Error, Result};
use crate::kubeconfig::{Builder, ClusterEntry};
use crate::state::{BackendsInfo, BasicAuthInfo};

pub const USERNAME: &str = "porthole-basic";
pub const CONTEXT: &str = "porthole-basic-echo";

fn listener(backends: &BackendsInfo, instance: &str, mode: &str) -> Result<String> {
    backends
        .instances
        .iter()
        .find(|i| i.name == instance)
        .and_then(|i| {
            i.listeners
                .iter()
                .find(|(m, _)| m == mode)
                .map(|(_, p)| format!("{}:{p}", i.ip))
        })
        .ok_or_else(|| Error::Backends(format!("no {mode} listener on backend {instance}")))
}

/// Picks a password, writes `basic-auth.kubeconfig` and says what the echo
/// must report.
pub fn setup(dir: &Path, backends: &BackendsInfo) -> Result<BasicAuthInfo> {
    let password = crate::random::hex(12)?;
    let echo_url = format!("http://{}", listener(backends, "echo", "echo")?);
    let https_echo_url = format!("https://{}", listener(backends, "https", "https")?);
    let kubeconfig = Builder::new(ClusterEntry::new(&https_echo_url).insecure_skip_tls_verify())
        .user(json!({ "username": USERNAME, "password": password }))
        .context_name(CONTEXT)
        .write_yaml(&dir.join("basic-auth.kubeconfig"))?;
    let expected =
        base64::engine::general_purpose::STANDARD.encode(format!("{USERNAME}:{password}"));
    Ok(BasicAuthInfo {
        echo_url,
        https_echo_url,
        username: USERNAME.into(),
        password,
        expected_authorization: format!("Basic {expected}"),
        kubeconfig,
        context: CONTEXT.into(),
    })
}
