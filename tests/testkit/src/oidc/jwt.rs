//! ES256 (ECDSA P-256, SHA-256) JWTs with ring: the signing key, its JWK,
//! and signed id tokens.

use base64::Engine as _;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use serde_json::{Value, json};

use crate::error::{Error, Result};

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn err(what: &str) -> Error {
    Error::Oidc(format!("{what} failed"))
}

/// A signing key and its key id.
pub struct Signer {
    key: EcdsaKeyPair,
    pub key_id: String,
    rng: SystemRandom,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

/// A new P-256 key as PKCS#8 DER.
pub fn generate_pkcs8() -> Result<Vec<u8>> {
    EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
        .map(|d| d.as_ref().to_vec())
        .map_err(|_| err("generating the OIDC signing key"))
}

impl Signer {
    pub fn from_pkcs8(der: &[u8]) -> Result<Signer> {
        let rng = SystemRandom::new();
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der, &rng)
            .map_err(|_| err("reading the OIDC signing key (PKCS#8 P-256)"))?;
        let digest = ring::digest::digest(&ring::digest::SHA256, key.public_key().as_ref());
        let key_id = b64url(&digest.as_ref()[..12]);
        Ok(Signer { key, key_id, rng })
    }

    /// The public key as a JWK (`kty: EC`, `crv: P-256`, `x`, `y`).
    pub fn jwk(&self) -> Value {
        // Uncompressed point: 0x04 || x (32 bytes) || y (32 bytes).
        let point = self.key.public_key().as_ref();
        let x = point.get(1..33).unwrap_or_default();
        let y = point.get(33..65).unwrap_or_default();
        json!({
            "kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig",
            "kid": self.key_id, "x": b64url(x), "y": b64url(y),
        })
    }

    /// A compact JWS of `claims` (header `alg: ES256`, `kid`).
    pub fn sign(&self, claims: &Value) -> Result<String> {
        let header = json!({ "alg": "ES256", "typ": "JWT", "kid": self.key_id });
        let input = format!(
            "{}.{}",
            b64url(header.to_string().as_bytes()),
            b64url(claims.to_string().as_bytes())
        );
        // FIXED signing: r || s, 64 bytes — exactly JWS ES256.
        let sig = self
            .key
            .sign(&self.rng, input.as_bytes())
            .map_err(|_| err("signing an id token"))?;
        Ok(format!("{input}.{}", b64url(sig.as_ref())))
    }
}

/// The claims of a token (not verified): for tests that inspect one.
pub fn claims(token: &str) -> Option<Value> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};

    #[test]
    fn signs_verifiable_es256() {
        let der = generate_pkcs8().expect("key");
        let s = Signer::from_pkcs8(&der).expect("signer");
        let token = s.sign(&json!({ "sub": "x" })).expect("sign");
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(parts[2])
            .expect("b64");
        assert_eq!(sig.len(), 64);
        let jwk = s.jwk();
        let b = |k: &str| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(jwk[k].as_str().expect("str"))
                .expect("b64")
        };
        let mut point = vec![4u8];
        point.extend(b("x"));
        point.extend(b("y"));
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &point)
            .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &sig)
            .expect("verifies with the JWK");
        assert_eq!(claims(&token).expect("claims")["sub"], "x");
    }
}
