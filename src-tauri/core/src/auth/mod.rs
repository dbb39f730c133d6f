//! Authentication to an apiserver, for every kind a kubeconfig user can
//! have: client certificates (files or data), `token`, `tokenFile`, basic
//! auth, exec plugins (v1, v1beta1), `auth-provider: oidc`, and
//! impersonation on top of any of them.
//!
//! Secrets stay in types that redact themselves ([`SecretHeader`],
//! `SecretString`); errors name files, fields and plugins, never values.

pub mod client_cert;
pub mod exec;
pub mod oidc;
mod secret;
mod token_file;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use http::{HeaderName, HeaderValue};

pub use client_cert::{CertSlot, certified_key};
pub use exec::{ExecAuth, ExecEnv, ExecError};
pub use oidc::{OidcAuth, OidcError};
pub use secret::SecretHeader;
pub use token_file::{TokenFile, TokenFileError};

/// Where the `Authorization` header comes from.
pub enum Method {
    /// Nothing (a client certificate alone, or anonymous).
    None,
    /// `token` or `username`/`password`: fixed for the client's life.
    Static(SecretHeader),
    TokenFile(TokenFile),
    Exec(ExecAuth),
    Oidc(Box<OidcAuth>),
}

/// Why a request could not be authenticated.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AuthError {
    #[error("tokenFile: {0}")]
    TokenFile(String),
    #[error(transparent)]
    Exec(#[from] ExecError),
    #[error(transparent)]
    Oidc(#[from] OidcError),
    #[error("the exec plugin's client certificate cannot be used: {0}")]
    PluginCertificate(String),
}

/// What [`Authenticator::apply`] decided for one request.
pub struct Applied {
    pub authorization: Option<SecretHeader>,
    /// The credential generation used, when a 401 can be cured by
    /// refreshing (exec, OIDC).
    refreshable: Option<u64>,
}

impl Applied {
    pub fn can_refresh(&self) -> bool {
        self.refreshable.is_some()
    }
}

/// A user's authentication, ready for requests.
pub struct Authenticator {
    method: Method,
    impersonation: Vec<(HeaderName, HeaderValue)>,
    cert_slot: Arc<CertSlot>,
    /// Generation of the exec certificate in the slot.
    slot_generation: AtomicU64,
}

impl Authenticator {
    pub fn new(
        method: Method,
        impersonation: Vec<(HeaderName, HeaderValue)>,
        cert_slot: Arc<CertSlot>,
    ) -> Self {
        Self {
            method,
            impersonation,
            cert_slot,
            slot_generation: AtomicU64::new(u64::MAX),
        }
    }

    /// The slot the TLS config reads the client certificate from.
    pub fn cert_slot(&self) -> Arc<CertSlot> {
        self.cert_slot.clone()
    }

    /// `Impersonate-*` headers (`as`, `as-groups`, `as-uid`, `as-user-extra`).
    pub fn impersonation(&self) -> &[(HeaderName, HeaderValue)] {
        &self.impersonation
    }

    pub fn exec(&self) -> Option<&ExecAuth> {
        match &self.method {
            Method::Exec(exec) => Some(exec),
            _ => None,
        }
    }

    pub fn oidc(&self) -> Option<&OidcAuth> {
        match &self.method {
            Method::Oidc(oidc) => Some(oidc),
            _ => None,
        }
    }

    /// Gets the credential for one request: may read the token file, run
    /// the exec plugin (once for all concurrent callers) or refresh the OIDC
    /// token. An exec client certificate is put in the TLS slot.
    pub async fn apply(&self) -> Result<Applied, AuthError> {
        match &self.method {
            Method::None => Ok(Applied {
                authorization: None,
                refreshable: None,
            }),
            Method::Static(header) => Ok(Applied {
                authorization: Some(header.clone()),
                refreshable: None,
            }),
            Method::TokenFile(file) => Ok(Applied {
                authorization: Some(
                    file.header()
                        .await
                        .map_err(|e| AuthError::TokenFile(e.to_string()))?,
                ),
                refreshable: None,
            }),
            Method::Exec(exec) => {
                let (credential, generation) = exec.credential().await?;
                let authorization = match &credential.credential {
                    exec::Credential::Token(token) => {
                        Some(SecretHeader::bearer(token).ok_or_else(|| {
                            AuthError::Exec(ExecError::Failed {
                                command: exec.command().to_owned(),
                                exit_code: Some(0),
                                stderr: Vec::new(),
                                reason: Some(
                                    "its token holds characters a token cannot have".into(),
                                ),
                            })
                        })?)
                    }
                    exec::Credential::ClientCert { cert_pem, key_pem } => {
                        if self.slot_generation.swap(generation, Ordering::AcqRel) != generation {
                            use secrecy::ExposeSecret as _;
                            let key = certified_key(cert_pem, key_pem.expose_secret().as_bytes())
                                .map_err(|reason| {
                                // Try again with the next credential.
                                self.slot_generation.store(u64::MAX, Ordering::Release);
                                AuthError::PluginCertificate(reason)
                            })?;
                            self.cert_slot.set(Arc::new(key));
                        }
                        None
                    }
                };
                Ok(Applied {
                    authorization,
                    refreshable: Some(generation),
                })
            }
            Method::Oidc(oidc) => {
                let (header, generation) = oidc.header().await?;
                Ok(Applied {
                    authorization: Some(header),
                    refreshable: Some(generation),
                })
            }
        }
    }

    /// The apiserver answered 401 to a request made with `applied`: drop the
    /// credential so the next request gets a new one.
    pub async fn rejected(&self, applied: &Applied) {
        let Some(generation) = applied.refreshable else {
            return;
        };
        match &self.method {
            Method::Exec(exec) => exec.rejected(generation),
            Method::Oidc(oidc) => oidc.rejected(generation).await,
            _ => {}
        }
    }
}
