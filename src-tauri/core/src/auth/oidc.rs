//! `auth-provider: oidc` (client-go's OIDC provider): the `id-token` is the
//! bearer token while it is valid; when it has expired (or the apiserver
//! refused it) the `refresh-token` buys a new one at the issuer's token
//! endpoint, found through its discovery document.
//!
//! kubectl writes refreshed tokens back into the kubeconfig. Porthole never
//! writes a user's kubeconfig: the new tokens live in memory only, so after
//! a restart the refresh starts again from the file's refresh token.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, StatusCode, header};
use http_body_util::{BodyExt as _, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tokio::sync::Mutex;

use super::secret::SecretHeader;
use crate::cluster::connect::{Connector, Timeouts};
use crate::cluster::tls::{self, Trust};

const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
const BODY_LIMIT: usize = 1024 * 1024;
/// An id-token this close to its expiry is refreshed first.
const EXPIRY_MARGIN_SECS: i64 = 10;

/// Why no valid id-token could be had. Never holds a token.
#[derive(Debug, Clone, thiserror::Error)]
#[error("refreshing the OIDC token at {issuer} failed: {reason}")]
pub struct OidcError {
    pub issuer: String,
    pub reason: String,
}

/// The provider's `config` map, parsed.
pub struct OidcConfig {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Option<SecretString>,
    pub id_token: Option<SecretString>,
    pub refresh_token: Option<SecretString>,
    /// `idp-certificate-authority(-data)` (PEM); system roots otherwise.
    pub ca_pem: Option<Vec<u8>>,
    pub extra_scopes: Vec<String>,
}

impl OidcConfig {
    /// From the kubeconfig map; `Err` names the missing key.
    pub fn from_map(
        map: &HashMap<String, String>,
        read_ca_file: impl FnOnce(&str) -> Result<Vec<u8>, String>,
    ) -> Result<Self, String> {
        let get = |k: &str| map.get(k).filter(|v| !v.is_empty()).cloned();
        let issuer = get("idp-issuer-url").ok_or("idp-issuer-url is missing")?;
        let client_id = get("client-id").ok_or("client-id is missing")?;
        let ca_pem = match (
            get("idp-certificate-authority-data"),
            get("idp-certificate-authority"),
        ) {
            (Some(data), _) => {
                use base64::Engine as _;
                Some(
                    base64::engine::general_purpose::STANDARD
                        .decode(data.trim())
                        .map_err(|_| "idp-certificate-authority-data is not base64")?,
                )
            }
            (None, Some(file)) => Some(read_ca_file(&file)?),
            (None, None) => None,
        };
        Ok(Self {
            issuer,
            client_id,
            client_secret: get("client-secret").map(SecretString::from),
            id_token: get("id-token").map(SecretString::from),
            refresh_token: get("refresh-token").map(SecretString::from),
            ca_pem,
            extra_scopes: get("extra-scopes")
                .map(|s| s.split(',').map(str::to_owned).collect())
                .unwrap_or_default(),
        })
    }
}

struct Tokens {
    id_token: Option<SecretString>,
    refresh_token: Option<SecretString>,
    /// Bumped at each refresh; a 401 only invalidates the token it saw.
    generation: u64,
}

/// One user's OIDC tokens.
pub struct OidcAuth {
    issuer: String,
    client_id: String,
    client_secret: Option<SecretString>,
    extra_scopes: Vec<String>,
    http: Client<Connector, Full<Bytes>>,
    tokens: Mutex<Tokens>,
    refreshes: std::sync::atomic::AtomicU64,
}

#[derive(Deserialize)]
struct Discovery {
    token_endpoint: String,
}

#[derive(Deserialize)]
struct TokenResponse {
    id_token: Option<String>,
    refresh_token: Option<String>,
}

#[derive(Deserialize)]
struct OAuthError {
    error: Option<String>,
    error_description: Option<String>,
}

impl OidcAuth {
    pub fn new(config: OidcConfig) -> Result<Self, String> {
        let trust = Trust {
            ca_pem: config.ca_pem,
            insecure_skip_verify: false,
        };
        let tls = tls::client_config(&trust, Arc::new(super::CertSlot::default()), tls::ALPN_H1)?;
        let connector = Connector::new(Some(tls), None, None, Timeouts::default());
        let http = Client::builder(TokioExecutor::new()).build(connector);
        Ok(Self {
            issuer: config.issuer,
            client_id: config.client_id,
            client_secret: config.client_secret,
            extra_scopes: config.extra_scopes,
            http,
            tokens: Mutex::new(Tokens {
                id_token: config.id_token,
                refresh_token: config.refresh_token,
                generation: 0,
            }),
            refreshes: std::sync::atomic::AtomicU64::new(0),
        })
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// How many refreshes were made.
    pub fn refreshes(&self) -> u64 {
        self.refreshes.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// A valid id-token as a header, refreshing it first when it expired.
    /// Concurrent callers share one refresh (they wait on the lock).
    pub async fn header(&self) -> Result<(SecretHeader, u64), OidcError> {
        let mut tokens = self.tokens.lock().await;
        let valid = tokens
            .id_token
            .as_ref()
            .filter(|t| !expired(t.expose_secret(), jiff::Timestamp::now().as_second()));
        if let Some(token) = valid {
            return SecretHeader::bearer(token)
                .map(|h| (h, tokens.generation))
                .ok_or_else(|| self.error("the id-token holds characters a token cannot have"));
        }
        self.refresh(&mut tokens).await?;
        let token = tokens
            .id_token
            .as_ref()
            .ok_or_else(|| self.error("the issuer returned no id_token"))?;
        SecretHeader::bearer(token)
            .map(|h| (h, tokens.generation))
            .ok_or_else(|| self.error("the issuer's id_token holds invalid characters"))
    }

    /// The apiserver refused the token of `generation`: drop it so the next
    /// request refreshes.
    pub async fn rejected(&self, generation: u64) {
        let mut tokens = self.tokens.lock().await;
        if tokens.generation == generation {
            tokens.id_token = None;
        }
    }

    async fn refresh(&self, tokens: &mut Tokens) -> Result<(), OidcError> {
        let Some(refresh_token) = tokens.refresh_token.clone() else {
            return Err(
                self.error("the id-token has expired and there is no refresh-token; log in again")
            );
        };
        self.refreshes
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let discovery_url = format!(
            "{}/.well-known/openid-configuration",
            self.issuer.trim_end_matches('/')
        );
        let (status, body) = self.call(Method::GET, &discovery_url, None).await?;
        if !status.is_success() {
            return Err(self.error(&format!("discovery answered {status}")));
        }
        let discovery: Discovery = serde_json::from_slice(&body)
            .map_err(|_| self.error("the discovery document has no token_endpoint"))?;

        // Built in a block: the serializer is not Send and must not live across an await.
        let form = {
            let mut form = form_urlencoded::Serializer::new(String::new());
            form.append_pair("grant_type", "refresh_token");
            form.append_pair("refresh_token", refresh_token.expose_secret());
            form.append_pair("client_id", &self.client_id);
            if let Some(secret) = &self.client_secret {
                form.append_pair("client_secret", secret.expose_secret());
            }
            if !self.extra_scopes.is_empty() {
                let mut scopes = vec!["openid".to_owned()];
                scopes.extend(self.extra_scopes.iter().cloned());
                form.append_pair("scope", &scopes.join(" "));
            }
            SecretString::from(form.finish())
        };
        let (status, body) = self
            .call(Method::POST, &discovery.token_endpoint, Some(form))
            .await?;
        if !status.is_success() {
            let detail = serde_json::from_slice::<OAuthError>(&body)
                .ok()
                .and_then(|e| match (e.error, e.error_description) {
                    (Some(e), Some(d)) => Some(format!("{e}: {d}")),
                    (Some(e), None) => Some(e),
                    _ => None,
                })
                .map(|d| crate::redact::scrub_secret_words(&d))
                .unwrap_or_default();
            return Err(self.error(format!("the token endpoint answered {status} {detail}").trim()));
        }
        let answer: TokenResponse = serde_json::from_slice(&body)
            .map_err(|_| self.error("the token endpoint's answer is not JSON"))?;
        let id_token = answer
            .id_token
            .filter(|t| !t.is_empty())
            .ok_or_else(|| self.error("the token endpoint returned no id_token"))?;
        tokens.id_token = Some(SecretString::from(id_token));
        if let Some(next) = answer.refresh_token.filter(|t| !t.is_empty()) {
            tokens.refresh_token = Some(SecretString::from(next));
        }
        tokens.generation += 1;
        tracing::info!(issuer = %self.issuer, "OIDC id-token refreshed");
        Ok(())
    }

    async fn call(
        &self,
        method: Method,
        url: &str,
        form: Option<SecretString>,
    ) -> Result<(StatusCode, Bytes), OidcError> {
        let mut builder = Request::builder().method(method).uri(url);
        let body = match form {
            Some(form) => {
                builder = builder.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
                Full::new(Bytes::from(form.expose_secret().to_owned()))
            }
            None => Full::new(Bytes::new()),
        };
        let request = builder
            .header(header::ACCEPT, "application/json")
            .body(body)
            .map_err(|_| self.error(&format!("{url} is not a valid URL")))?;
        let work = async {
            let response = self
                .http
                .request(request)
                .await
                .map_err(|e| self.error(&describe(&e)))?;
            let status = response.status();
            let body = Limited::new(response.into_body(), BODY_LIMIT)
                .collect()
                .await
                .map_err(|_| self.error("reading the issuer's answer failed"))?
                .to_bytes();
            Ok((status, body))
        };
        tokio::time::timeout(REQUEST_TIMEOUT, work)
            .await
            .map_err(|_| {
                self.error(&format!(
                    "no answer from {url} within {} s",
                    REQUEST_TIMEOUT.as_secs()
                ))
            })?
    }

    fn error(&self, reason: &str) -> OidcError {
        OidcError {
            issuer: self.issuer.clone(),
            reason: reason.to_owned(),
        }
    }
}

/// The innermost useful message of a client error (the connect step's).
fn describe(e: &(dyn std::error::Error + 'static)) -> String {
    if let Some(connect) = crate::cluster::connect::ConnectError::find_in(e) {
        return connect.to_string();
    }
    let mut last = e.to_string();
    let mut current = e.source();
    while let Some(err) = current {
        last = err.to_string();
        current = err.source();
    }
    last
}

/// Whether a JWT's `exp` is past (or within the margin). A token whose
/// expiry cannot be read counts as expired, as client-go treats it.
fn expired(jwt: &str, now: i64) -> bool {
    use base64::Engine as _;
    let Some(payload) = jwt.split('.').nth(1) else {
        return true;
    };
    let Ok(bytes) =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload.trim_end_matches('='))
    else {
        return true;
    };
    let Ok(claims) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return true;
    };
    claims["exp"]
        .as_i64()
        .is_none_or(|exp| exp <= now + EXPIRY_MARGIN_SECS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(exp: i64) -> String {
        use base64::Engine as _;
        let enc = |v: serde_json::Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
        };
        format!(
            "{}.{}.sig",
            enc(serde_json::json!({"alg": "ES256"})),
            enc(serde_json::json!({"exp": exp, "sub": "x"}))
        )
    }

    #[test]
    fn expiry_is_read_from_the_token() {
        assert!(!expired(&jwt(1_000), 500));
        assert!(expired(&jwt(1_000), 995), "inside the margin");
        assert!(expired(&jwt(1_000), 2_000));
        assert!(expired("not-a-jwt", 0));
    }

    #[test]
    fn config_names_the_missing_key() {
        let map: HashMap<String, String> = [("client-id".to_owned(), "c".to_owned())].into();
        let err = OidcConfig::from_map(&map, |_| Ok(Vec::new())).err();
        assert_eq!(err.as_deref(), Some("idp-issuer-url is missing"));
    }
}
