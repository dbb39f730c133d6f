//! Client certificates for TLS: parsed from PEM (kubeconfig files or data,
//! or an exec plugin's output) and handed to rustls through a slot that an
//! exec plugin can refill when it hands out a new certificate.

use std::sync::{Arc, PoisonError, RwLock};

use rustls::client::ResolvesClientCert;
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// Parses a certificate chain and its key. Errors say which part is bad,
/// never its content.
pub fn certified_key(cert_pem: &[u8], key_pem: &[u8]) -> Result<CertifiedKey, String> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<_, _>>()
        .map_err(|_| "the client certificate is not valid PEM".to_owned())?;
    if chain.is_empty() {
        return Err("the client certificate holds no CERTIFICATE block".to_owned());
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem)
        .map_err(|_| "the client key is not a PEM private key".to_owned())?;
    let signer = rustls::crypto::ring::sign::any_supported_type(&key)
        .map_err(|_| "the client key is of a kind TLS cannot use".to_owned())?;
    Ok(CertifiedKey::new(chain, signer))
}

/// The client certificate to present, if any; shared between the
/// authenticator (which fills it) and the TLS config (which reads it).
#[derive(Debug, Default)]
pub struct CertSlot {
    current: RwLock<Option<Arc<CertifiedKey>>>,
}

impl CertSlot {
    pub fn with(key: CertifiedKey) -> Self {
        Self {
            current: RwLock::new(Some(Arc::new(key))),
        }
    }

    pub fn set(&self, key: Arc<CertifiedKey>) {
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = Some(key);
    }

    pub fn is_set(&self) -> bool {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some()
    }
}

impl ResolvesClientCert for CertSlot {
    fn resolve(
        &self,
        _root_hint_subjects: &[&[u8]],
        _sigschemes: &[rustls::SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn has_certs(&self) -> bool {
        self.is_set()
    }
}
