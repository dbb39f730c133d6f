//! The OIDC issuer server: discovery, JWKS and a token endpoint answering
//! `grant_type=refresh_token` (client id + secret checked, a fresh id token
//! and a new refresh token each time, refreshes counted in a file). TLS
//! with a serving certificate from the cluster CA, on 127.0.0.1.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;

use super::jwt::Signer;
use crate::error::{Error, IoContext, Result};
use crate::pki::CertKey;
use crate::{httpwire, loopback};

/// Upper bound for one whole exchange (handshake, request, answer).
const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(10);
pub const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";
pub const JWKS_PATH: &str = "/keys";
pub const TOKEN_PATH: &str = "/token";

/// What the issuer hands out and checks.
#[derive(Debug, Clone)]
pub struct Config {
    pub client_id: String,
    pub client_secret: String,
    /// Refresh token accepted from the start, for `subject`.
    pub refresh_token: String,
    pub subject: String,
    pub groups: Vec<String>,
    pub refresh_counter: std::path::PathBuf,
    pub ttl_file: std::path::PathBuf,
}

struct Inner {
    cfg: Config,
    url: String,
    signer: Signer,
    tls: TlsAcceptor,
    /// refresh token → subject. Every token handed out stays valid (no
    /// rotation), so copies of the kubeconfig keep working in parallel tests.
    refresh_tokens: Mutex<HashMap<String, String>>,
}

pub struct Issuer {
    _server: loopback::Server,
    pub url: String,
}

fn tls_acceptor(serving: &CertKey) -> Result<TlsAcceptor> {
    let certs = CertificateDer::pem_slice_iter(serving.cert_pem.as_bytes())
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| Error::Oidc(format!("issuer certificate PEM: {e}")))?;
    let key = PrivateKeyDer::from_pem_slice(serving.key_pem.as_bytes())
        .map_err(|e| Error::Oidc(format!("issuer key PEM: {e}")))?;
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| Error::Oidc(format!("issuer TLS config: {e}")))?
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .map_err(|e| Error::Oidc(format!("issuer TLS config: {e}")))?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Starts the issuer on 127.0.0.1:random with `serving` (SANs 127.0.0.1,
/// localhost). It lives as long as the returned handle.
pub fn start(cfg: Config, signer: Signer, serving: &CertKey) -> Result<Issuer> {
    let listener = std::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0))
        .ctx(|| "OIDC issuer: binding 127.0.0.1:0")?;
    let addr = listener.local_addr().ctx(|| "OIDC issuer: its address")?;
    let url = format!("https://{addr}");
    let mut tokens = HashMap::new();
    tokens.insert(cfg.refresh_token.clone(), cfg.subject.clone());
    let inner = Arc::new(Inner {
        cfg,
        url: url.clone(),
        signer,
        tls: tls_acceptor(serving)?,
        refresh_tokens: Mutex::new(tokens),
    });
    let server = loopback::serve_on("oidc-issuer", listener, move |stream, peer| {
        let inner = inner.clone();
        async move {
            match tokio::time::timeout(EXCHANGE_TIMEOUT, exchange(&inner, stream)).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::warn!("oidc issuer: {peer}: {e}"),
                Err(_) => tracing::warn!(
                    "oidc issuer: {peer}: no complete exchange within {EXCHANGE_TIMEOUT:?}"
                ),
            }
        }
    })?;
    tracing::info!("OIDC issuer at {url}");
    Ok(Issuer {
        _server: server,
        url,
    })
}

/// (status, JSON body)
type Answer = (u16, Value);

async fn exchange(inner: &Inner, stream: TcpStream) -> std::result::Result<(), String> {
    let mut tls = inner
        .tls
        .accept(stream)
        .await
        .map_err(|e| format!("TLS handshake: {e}"))?;
    let (head, rest) = httpwire::read_head(&mut tls).await?;
    let body = httpwire::read_body(&mut tls, &head, rest).await?;
    let path = head.target.split('?').next().unwrap_or_default();
    let (status, answer) = match (head.method.as_str(), path) {
        ("GET", DISCOVERY_PATH) => (200, discovery(&inner.url)),
        ("GET", JWKS_PATH) => (200, json!({ "keys": [inner.signer.jwk()] })),
        ("POST", TOKEN_PATH) => token(inner, &head, &body),
        _ => (404, json!({ "error": "not_found" })),
    };
    tracing::info!("oidc issuer: {} {path} -> {status}", head.method);
    httpwire::respond(
        &mut tls,
        status,
        &[("Cache-Control", "no-store")],
        "application/json",
        answer.to_string().as_bytes(),
    )
    .await
    .map_err(|e| format!("writing the answer: {e}"))?;
    let _ = tokio::io::AsyncWriteExt::shutdown(&mut tls).await;
    Ok(())
}

fn discovery(url: &str) -> Value {
    json!({
        "issuer": url,
        "authorization_endpoint": format!("{url}/authorize"),
        "token_endpoint": format!("{url}{TOKEN_PATH}"),
        "jwks_uri": format!("{url}{JWKS_PATH}"),
        "response_types_supported": ["code", "id_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "grant_types_supported": ["refresh_token"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "scopes_supported": ["openid", "groups", "offline_access"],
        "claims_supported": ["iss", "sub", "aud", "exp", "iat", "groups"],
    })
}

fn oauth_error(status: u16, code: &str, description: &str) -> Answer {
    (
        status,
        json!({ "error": code, "error_description": description }),
    )
}

/// Client id and secret from HTTP Basic auth or the form
/// (golang.org/x/oauth2 tries the header first, then the form).
fn client_credentials(
    head: &httpwire::Head,
    form: &HashMap<String, String>,
) -> Option<(String, String)> {
    if let Some(basic) = head
        .header("authorization")
        .and_then(|v| v.strip_prefix("Basic "))
    {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(basic.trim())
            .ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (id, secret) = text.split_once(':')?;
        let unescape = |s: &str| {
            form_urlencoded::parse(format!("v={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        return Some((unescape(id), unescape(secret)));
    }
    Some((
        form.get("client_id")?.clone(),
        form.get("client_secret")?.clone(),
    ))
}

fn token(inner: &Inner, head: &httpwire::Head, body: &[u8]) -> Answer {
    let form: HashMap<String, String> = form_urlencoded::parse(body).into_owned().collect();
    let cfg = &inner.cfg;
    match client_credentials(head, &form) {
        Some((id, secret)) if id == cfg.client_id && secret == cfg.client_secret => {}
        _ => return oauth_error(401, "invalid_client", "unknown client or wrong secret"),
    }
    if form.get("grant_type").map(String::as_str) != Some("refresh_token") {
        return oauth_error(
            400,
            "unsupported_grant_type",
            "only refresh_token is supported",
        );
    }
    let Some(presented) = form.get("refresh_token") else {
        return oauth_error(400, "invalid_request", "refresh_token is missing");
    };
    let subject = match inner.refresh_tokens.lock() {
        Ok(t) => t.get(presented).cloned(),
        Err(_) => None,
    };
    let Some(subject) = subject else {
        return oauth_error(400, "invalid_grant", "unknown refresh token");
    };
    let ttl = super::read_ttl(&cfg.ttl_file);
    let claims = super::claims(&inner.url, &cfg.client_id, &subject, &cfg.groups, ttl);
    let (id_token, refresh) = match (inner.signer.sign(&claims), crate::random::hex(24)) {
        (Ok(t), Ok(r)) => (t, r),
        _ => return oauth_error(500, "server_error", "cannot mint a token"),
    };
    if let Ok(mut t) = inner.refresh_tokens.lock() {
        t.insert(refresh.clone(), subject.clone());
    }
    let n = crate::exec_credential::increment(&cfg.refresh_counter).unwrap_or_default();
    tracing::info!("oidc issuer: refresh #{n} for subject {subject} (id token ttl {ttl} s)");
    (
        200,
        json!({
            "access_token": crate::random::hex(16).unwrap_or_default(),
            "token_type": "Bearer",
            "expires_in": ttl.max(0),
            "refresh_token": refresh,
            "id_token": id_token,
        }),
    )
}
