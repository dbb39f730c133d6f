//! The test PKI, generated fresh for every control plane: a CA, the
//! apiserver's serving certificate, client certificates and the
//! service-account signing key pair. ECDSA P-256 keys (fast to generate).

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use time::{Duration, OffsetDateTime};

use crate::error::{Error, Result};

/// The name in the serving certificate that resolves nowhere: a client only
/// reaches the apiserver under it with kubeconfig `tls-server-name`.
pub const SNI_ONLY_NAME: &str = "apiserver.porthole.test";

/// A PEM certificate and its PEM (PKCS#8) private key.
#[derive(Debug, Clone)]
pub struct CertKey {
    pub cert_pem: String,
    pub key_pem: String,
}

pub struct Pki {
    pub ca_cert_pem: String,
    ca: Issuer<'static, KeyPair>,
    /// Serving certificate of kube-apiserver.
    pub serving: CertKey,
    /// Service-account token signing key (private, PKCS#8 PEM).
    pub sa_private_pem: String,
    /// Its public half (SPKI PEM), what `--service-account-key-file` wants.
    pub sa_public_pem: String,
}

fn pki_err(what: &str) -> impl FnOnce(rcgen::Error) -> Error + '_ {
    move |source| Error::Pki {
        what: what.to_owned(),
        source,
    }
}

fn validity(params: &mut CertificateParams) {
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::hours(1);
    params.not_after = now + Duration::days(365);
}

impl Pki {
    /// A new CA and everything the apiserver needs. `service_ip` is the
    /// first address of the service range (the `kubernetes` service).
    pub fn generate(service_ip: &str) -> Result<Pki> {
        let ca_key = KeyPair::generate().map_err(pki_err("CA key"))?;
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(pki_err("CA"))?;
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "porthole-test-ca");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        validity(&mut ca_params);
        let ca_cert = ca_params
            .self_signed(&ca_key)
            .map_err(pki_err("CA certificate"))?;
        let ca = Issuer::new(ca_params, ca_key);

        let sa = KeyPair::generate().map_err(pki_err("service-account key"))?;

        let mut pki = Pki {
            ca_cert_pem: ca_cert.pem(),
            ca,
            serving: CertKey {
                cert_pem: String::new(),
                key_pem: String::new(),
            },
            sa_private_pem: sa.serialize_pem(),
            sa_public_pem: sa.public_key_pem(),
        };
        let names: Vec<String> = [
            "localhost",
            "127.0.0.1",
            "::1",
            SNI_ONLY_NAME,
            "kubernetes",
            "kubernetes.default",
            "kubernetes.default.svc",
            "kubernetes.default.svc.cluster.local",
            service_ip,
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        pki.serving = pki.server_cert("kube-apiserver", &names)?;
        Ok(pki)
    }

    /// A serving certificate for `names` (DNS names or IP addresses).
    pub fn server_cert(&self, common_name: &str, names: &[String]) -> Result<CertKey> {
        let mut params = CertificateParams::new(names.to_vec()).map_err(pki_err(common_name))?;
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        validity(&mut params);
        self.sign(params, common_name)
    }

    /// A client certificate: CN is the Kubernetes user name, each O a group.
    pub fn client_cert(&self, user: &str, groups: &[String]) -> Result<CertKey> {
        let mut params = CertificateParams::new(Vec::<String>::new()).map_err(pki_err(user))?;
        params.distinguished_name.push(DnType::CommonName, user);
        for g in groups {
            params
                .distinguished_name
                .push(DnType::OrganizationName, g.as_str());
        }
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.use_authority_key_identifier_extension = true;
        validity(&mut params);
        self.sign(params, user)
    }

    fn sign(&self, params: CertificateParams, what: &str) -> Result<CertKey> {
        let key = KeyPair::generate().map_err(pki_err(what))?;
        let cert = params.signed_by(&key, &self.ca).map_err(pki_err(what))?;
        Ok(CertKey {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_pem_material() {
        let pki = Pki::generate("10.96.0.1").expect("pki");
        assert!(pki.ca_cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(pki.serving.key_pem.contains("PRIVATE KEY"));
        assert!(pki.sa_public_pem.contains("PUBLIC KEY"));
        let client = pki
            .client_cert("admin", &["system:masters".to_owned()])
            .expect("client cert");
        assert!(client.cert_pem.contains("CERTIFICATE"));
    }
}
