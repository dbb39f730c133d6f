//! The exec plugin protocol (`client.authentication.k8s.io` v1 and
//! v1beta1): what Porthole tells the plugin in `KUBERNETES_EXEC_INFO`, and
//! the `ExecCredential` it prints.

use std::time::{Duration, Instant};

use secrecy::SecretString;
use serde::Deserialize;
use serde_json::{Value, json};

pub const V1: &str = "client.authentication.k8s.io/v1";
pub const V1BETA1: &str = "client.authentication.k8s.io/v1beta1";

/// What the plugin handed out. `Debug` shows the kind and expiry only.
pub enum Credential {
    Token(SecretString),
    ClientCert {
        cert_pem: Vec<u8>,
        key_pem: SecretString,
    },
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Token(_) => "Token(REDACTED)",
            Self::ClientCert { .. } => "ClientCert(REDACTED)",
        })
    }
}

/// A parsed `ExecCredential` and until when it may be used.
#[derive(Debug)]
pub struct ExecCredential {
    pub credential: Credential,
    /// When to run the plugin again: a little before the expiry it gave,
    /// or never (until a 401) when it gave none.
    pub refresh_at: Option<Instant>,
}

impl ExecCredential {
    pub fn is_fresh(&self, now: Instant) -> bool {
        self.refresh_at.is_none_or(|at| now < at)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Wire {
    api_version: Option<String>,
    kind: Option<String>,
    status: Option<WireStatus>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireStatus {
    token: Option<String>,
    client_certificate_data: Option<String>,
    client_key_data: Option<String>,
    expiration_timestamp: Option<String>,
}

/// Parses the plugin's stdout. Errors say what is wrong, never the values.
pub fn parse(stdout: &[u8], api_version: &str, now: Instant) -> Result<ExecCredential, String> {
    let wire: Wire = serde_json::from_slice(stdout)
        .map_err(|e| format!("its output is not an ExecCredential JSON object ({e})"))?;
    if wire.kind.as_deref() != Some("ExecCredential") {
        return Err(format!(
            "its output has kind {:?}, expected \"ExecCredential\"",
            wire.kind.unwrap_or_default()
        ));
    }
    if wire.api_version.as_deref() != Some(api_version) {
        return Err(format!(
            "its output has apiVersion {:?}, but the kubeconfig asks for {api_version:?}",
            wire.api_version.unwrap_or_default()
        ));
    }
    let status = wire
        .status
        .ok_or_else(|| "its output has no status".to_owned())?;
    let credential = match (
        status.token.filter(|t| !t.is_empty()),
        status.client_certificate_data.filter(|c| !c.is_empty()),
        status.client_key_data.filter(|k| !k.is_empty()),
    ) {
        (Some(token), _, _) => Credential::Token(SecretString::from(token)),
        (None, Some(cert), Some(key)) => Credential::ClientCert {
            cert_pem: cert.into_bytes(),
            key_pem: SecretString::from(key),
        },
        (None, Some(_), None) | (None, None, Some(_)) => {
            return Err(
                "its output has only one of clientCertificateData and clientKeyData".to_owned(),
            );
        }
        (None, None, None) => {
            return Err("its output has neither a token nor a client certificate".to_owned());
        }
    };
    let refresh_at = match status.expiration_timestamp {
        None => None,
        Some(ts) => {
            let expiry: jiff::Timestamp = ts
                .parse()
                .map_err(|_| format!("its expirationTimestamp {ts:?} is not RFC 3339"))?;
            Some(refresh_instant(expiry, jiff::Timestamp::now(), now))
        }
    };
    Ok(ExecCredential {
        credential,
        refresh_at,
    })
}

/// When to refresh a credential that expires at `expiry`: a tenth of its
/// lifetime early, at most 30 s early, so requests never carry a token the
/// apiserver is about to refuse.
fn refresh_instant(expiry: jiff::Timestamp, wall_now: jiff::Timestamp, now: Instant) -> Instant {
    let left = expiry.duration_since(wall_now);
    let left = Duration::try_from(left).unwrap_or(Duration::ZERO);
    let margin = (left / 10).min(Duration::from_secs(30));
    now + left.saturating_sub(margin)
}

/// The cluster as the plugin sees it with `provideClusterInfo: true`.
#[derive(Debug, Clone, Default)]
pub struct ClusterInfo {
    pub server: String,
    pub tls_server_name: Option<String>,
    pub insecure_skip_tls_verify: bool,
    /// The CA bundle (PEM), sent base64-encoded as client-go does.
    pub certificate_authority_data: Option<Vec<u8>>,
    pub proxy_url: Option<String>,
    pub disable_compression: bool,
    /// The cluster's `client.authentication.k8s.io/exec` extension.
    pub config: Option<Value>,
}

/// `KUBERNETES_EXEC_INFO` for a run.
pub fn exec_info(api_version: &str, interactive: bool, cluster: Option<&ClusterInfo>) -> String {
    let mut spec = json!({ "interactive": interactive });
    if let Some(c) = cluster {
        use base64::Engine as _;
        let mut cluster = json!({ "server": c.server });
        if let Some(name) = &c.tls_server_name {
            cluster["tls-server-name"] = json!(name);
        }
        if c.insecure_skip_tls_verify {
            cluster["insecure-skip-tls-verify"] = json!(true);
        }
        if let Some(ca) = &c.certificate_authority_data {
            cluster["certificate-authority-data"] =
                json!(base64::engine::general_purpose::STANDARD.encode(ca));
        }
        if let Some(proxy) = &c.proxy_url {
            cluster["proxy-url"] = json!(proxy);
        }
        if c.disable_compression {
            cluster["disable-compression"] = json!(true);
        }
        if let Some(config) = &c.config {
            cluster["config"] = config.clone();
        }
        spec["cluster"] = cluster;
    }
    json!({ "kind": "ExecCredential", "apiVersion": api_version, "spec": spec }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_with_an_expiry_is_refreshed_a_little_early() {
        let now = Instant::now();
        let wall = jiff::Timestamp::now();
        let expiry = wall + jiff::SignedDuration::from_secs(100);
        let at = refresh_instant(expiry, wall, now);
        let early = (now + Duration::from_secs(100)).duration_since(at);
        assert_eq!(early.as_secs(), 10);
        let long = wall + jiff::SignedDuration::from_secs(3600);
        let at = refresh_instant(long, wall, now);
        assert_eq!(
            (now + Duration::from_secs(3600))
                .duration_since(at)
                .as_secs(),
            30
        );
        let past = wall - jiff::SignedDuration::from_secs(5);
        assert!(refresh_instant(past, wall, now) <= now);
    }

    #[test]
    fn parses_tokens_and_certificates_and_names_what_is_wrong() {
        let now = Instant::now();
        let ok = br#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","status":{"token":"abc"}}"#;
        let c = parse(ok, V1, now).expect("parses");
        assert!(matches!(c.credential, Credential::Token(_)));
        assert!(c.refresh_at.is_none());
        let err = parse(ok, V1BETA1, now).expect_err("version mismatch");
        assert!(err.contains("v1beta1"), "{err}");
        let cert = br#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","status":{"clientCertificateData":"C","clientKeyData":"K","expirationTimestamp":"2099-01-01T00:00:00Z"}}"#;
        let c = parse(cert, V1, now).expect("parses");
        assert!(matches!(c.credential, Credential::ClientCert { .. }));
        assert!(c.refresh_at.is_some());
        let err = parse(b"token: abc", V1, now).expect_err("not json");
        assert!(!err.contains("abc"), "{err}");
        let secretive = br#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","status":{"token":"tok-123","expirationTimestamp":"soon"}}"#;
        let err = parse(secretive, V1, now).expect_err("bad timestamp");
        assert!(!err.contains("tok-123"), "{err}");
    }

    #[test]
    fn exec_info_carries_the_cluster_only_when_asked() {
        let bare = exec_info(V1, false, None);
        assert!(!bare.contains("cluster"), "{bare}");
        let info = ClusterInfo {
            server: "https://k".into(),
            certificate_authority_data: Some(b"PEM".to_vec()),
            ..ClusterInfo::default()
        };
        let v: Value = serde_json::from_str(&exec_info(V1, true, Some(&info))).expect("json");
        assert_eq!(v["spec"]["interactive"], true);
        assert_eq!(v["spec"]["cluster"]["server"], "https://k");
        assert_eq!(v["spec"]["cluster"]["certificate-authority-data"], "UEVN");
    }
}
