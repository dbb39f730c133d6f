//! `https`: `echo` over TLS with a self-signed certificate generated at start
//! (SANs: the listen IP, or 127.0.0.1 and ::1 for an unspecified address,
//! plus `localhost`). rustls uses the `ring` provider only.

use std::net::SocketAddr;
use std::sync::Arc;

use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::TlsAcceptor;

use crate::Error;

/// Installs rustls' `ring` provider as the process default. rustls 0.23
/// panics when it has to pick a default itself and both or neither provider
/// is compiled in; this crate builds only `ring`, and calls this anyway so
/// the choice is explicit. Calling it again is harmless.
pub fn install_crypto_provider() {
    // Err means a provider is already installed: nothing to do.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A generated certificate and the TLS acceptor that presents it.
pub struct TlsIdentity {
    pub acceptor: TlsAcceptor,
    pub cert_pem: String,
    pub cert_der: CertificateDer<'static>,
}

impl TlsIdentity {
    pub fn generate(addr: SocketAddr) -> Result<Self, Error> {
        install_crypto_provider();
        let ip = addr.ip();
        let mut names = vec!["localhost".to_owned()];
        if ip.is_unspecified() {
            names.push("127.0.0.1".to_owned());
            names.push("::1".to_owned());
        } else {
            names.push(ip.to_string());
        }
        let certified = rcgen::generate_simple_self_signed(names)
            .map_err(|err| Error::Tls(format!("cannot generate a certificate: {err}")))?;
        let cert_der = certified.cert.der().clone();
        let cert_pem = certified.cert.pem();
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
            certified.signing_key.serialize_der(),
        ));

        let provider = Arc::new(rustls::crypto::ring::default_provider());
        // No ALPN: every client speaks HTTP/1.1, including the apiserver's
        // upgrade dialer, which must not be talked into h2.
        let config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|err| Error::Tls(err.to_string()))?
            .with_no_client_auth()
            .with_single_cert(vec![cert_der.clone()], key)
            .map_err(|err| Error::Tls(err.to_string()))?;

        Ok(TlsIdentity {
            acceptor: TlsAcceptor::from(Arc::new(config)),
            cert_pem,
            cert_der,
        })
    }
}
