//! TLS to an apiserver (or an OIDC issuer) as kubectl does it: only the
//! configured CA when one is given, else the system's roots; the
//! `tls-server-name` instead of the URL's host when set; no verification
//! at all with `insecure-skip-tls-verify`; a client certificate from the
//! slot the authenticator fills.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{ResolvesClientCert, WebPkiServerVerifier};
use rustls::crypto::CryptoProvider;
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

/// Protocols to offer: HTTP/2 and 1.1 for API calls, 1.1 only for upgrades.
pub const ALPN_H2_H1: &[&[u8]] = &[b"h2", b"http/1.1"];
pub const ALPN_H1: &[&[u8]] = &[b"http/1.1"];

/// Trust settings of a cluster entry.
#[derive(Debug, Clone, Default)]
pub struct Trust {
    /// The CA bundle (PEM) from `certificate-authority(-data)`.
    pub ca_pem: Option<Vec<u8>>,
    pub insecure_skip_verify: bool,
}

/// Installs ring as rustls's process-wide provider (rustls panics when none
/// or two are chosen). Idempotent.
pub fn provider() -> Arc<CryptoProvider> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()))
}

/// A rustls client config for `trust`, presenting the slot's certificate.
/// The error names what is wrong with the CA bundle, never its content.
pub fn client_config(
    trust: &Trust,
    client_cert: Arc<dyn ResolvesClientCert>,
    alpn: &[&[u8]],
) -> Result<Arc<ClientConfig>, String> {
    let provider = provider();
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS set-up failed: {e}"))?;
    let builder = if trust.insecure_skip_verify {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider)))
    } else {
        let roots = match &trust.ca_pem {
            Some(pem) => roots_from_pem(pem)?,
            None => system_roots(),
        };
        let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .map_err(|e| format!("the certificate authority cannot be used: {e}"))?;
        builder.with_webpki_verifier(verifier)
    };
    let mut config = builder.with_client_cert_resolver(client_cert);
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(Arc::new(config))
}

fn roots_from_pem(pem: &[u8]) -> Result<RootCertStore, String> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<_, _>>()
        .map_err(|_| "the certificate authority is not valid PEM".to_owned())?;
    if certs.is_empty() {
        return Err("the certificate authority holds no CERTIFICATE block".to_owned());
    }
    let mut roots = RootCertStore::empty();
    let (added, _ignored) = roots.add_parsable_certificates(certs);
    if added == 0 {
        return Err("no certificate in the certificate authority could be used".to_owned());
    }
    Ok(roots)
}

fn system_roots() -> RootCertStore {
    let mut roots = RootCertStore::empty();
    let found = rustls_native_certs::load_native_certs();
    for e in &found.errors {
        tracing::debug!(error = %e, "skipping a system certificate");
    }
    roots.add_parsable_certificates(found.certs);
    roots
}

/// The name to check the server certificate against (and send as SNI).
pub fn server_name(
    host: &str,
    tls_server_name: Option<&str>,
) -> Result<ServerName<'static>, String> {
    let name = tls_server_name.unwrap_or(host);
    let bare = name.trim_start_matches('[').trim_end_matches(']');
    ServerName::try_from(bare.to_owned())
        .map_err(|_| format!("{name:?} is not a valid server name"))
}

/// `insecure-skip-tls-verify`: the user asked for no verification.
/// Signatures are still checked so the handshake itself stays sound.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
