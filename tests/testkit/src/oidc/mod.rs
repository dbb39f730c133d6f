//! An OIDC identity provider the apiserver trusts, run by the supervisor
//! for the cluster's lifetime (started before the apiserver): discovery,
//! JWKS and a refresh-token grant over TLS on 127.0.0.1, ES256 id tokens.
//! Context `porthole-oidc` uses kubeconfig `auth-provider: oidc` with an id
//! token that is already expired, so any client must refresh first.
//!
//! Tests mint their own tokens with [`mint`] (the signing key is in the
//! state directory) and change the lifetime of refreshed tokens with
//! [`set_token_ttl`]; [`refresh_count`] says how many refreshes happened.

pub mod issuer;
pub mod jwt;

use std::path::Path;

use serde_json::{Value, json};

use crate::error::{IoContext, Result};
use crate::fsutil;
use crate::kubeconfig::{Extra, b64};
use crate::pki::Pki;
use crate::state::{OidcInfo, State};

pub use issuer::Issuer;
pub use jwt::claims as unverified_claims;

pub const CLIENT_ID: &str = "porthole";
pub const SUBJECT: &str = "oidc-user";
pub const GROUP: &str = "porthole-oidc-users";
pub const USERNAME_PREFIX: &str = "oidc:";
pub const GROUPS_PREFIX: &str = "oidc:";
pub const CONTEXT: &str = "porthole-oidc";
pub const DEFAULT_TTL_SECS: i64 = 300;

/// The Kubernetes user name of `subject`.
pub fn username(subject: &str) -> String {
    format!("{USERNAME_PREFIX}{subject}")
}

/// The Kubernetes group the OIDC users are in (RBAC binds it).
pub fn kubernetes_group() -> String {
    format!("{GROUPS_PREFIX}{GROUP}")
}

/// id token claims, expiring `ttl_secs` from now (negative: already expired).
pub fn claims(
    issuer: &str,
    audience: &str,
    subject: &str,
    groups: &[String],
    ttl_secs: i64,
) -> Value {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let exp = now + ttl_secs;
    let iat = now.min(exp - 1);
    json!({
        "iss": issuer, "aud": audience, "azp": audience, "sub": subject,
        "iat": iat, "nbf": iat, "exp": exp, "groups": groups,
    })
}

/// Lifetime of refreshed tokens: the file's number, else the default.
fn read_ttl(path: &Path) -> i64 {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(DEFAULT_TTL_SECS)
}

/// Generates the signing key, writes it and the issuer's files under
/// `dir/oidc`, and starts the issuer. The returned info lacks only the
/// kubeconfig path (written once the apiserver runs).
pub fn start(dir: &Path, pki: &Pki, ca_file: &Path) -> Result<(Issuer, OidcInfo)> {
    let odir = dir.join("oidc");
    fsutil::create_private_dir(&odir)?;
    let key = jwt::generate_pkcs8()?;
    let signing_key = odir.join("signing-key.pk8");
    fsutil::write_private(&signing_key, &key)?;
    let signer = jwt::Signer::from_pkcs8(&key)?;
    let key_id = signer.key_id.clone();
    let serving = pki.server_cert(
        "porthole-oidc-issuer",
        &["127.0.0.1".to_owned(), "localhost".to_owned()],
    )?;
    let cfg = issuer::Config {
        client_id: CLIENT_ID.into(),
        client_secret: crate::random::hex(16)?,
        refresh_token: crate::random::hex(24)?,
        subject: SUBJECT.into(),
        groups: vec![GROUP.into()],
        refresh_counter: odir.join("refresh-count"),
        ttl_file: odir.join("id-token-ttl-secs"),
    };
    fsutil::write_atomic(&cfg.refresh_counter, b"0\n")?;
    fsutil::write_atomic(&cfg.ttl_file, format!("{DEFAULT_TTL_SECS}\n").as_bytes())?;
    let issuer = issuer::start(cfg.clone(), signer, &serving)?;
    let info = OidcInfo {
        issuer_url: issuer.url.clone(),
        token_endpoint: format!("{}{}", issuer.url, issuer::TOKEN_PATH),
        client_id: cfg.client_id,
        client_secret: cfg.client_secret,
        refresh_token: cfg.refresh_token,
        ca_file: ca_file.to_owned(),
        signing_key,
        key_id,
        refresh_counter: cfg.refresh_counter,
        token_ttl_file: cfg.ttl_file,
        subject: cfg.subject,
        username_prefix: USERNAME_PREFIX.into(),
        group: GROUP.into(),
        groups_prefix: GROUPS_PREFIX.into(),
        context: CONTEXT.into(),
        kubeconfig: dir.join(format!("{CONTEXT}.kubeconfig")),
    };
    Ok((issuer, info))
}

/// kube-apiserver flags trusting the issuer.
pub fn apiserver_args(info: &OidcInfo) -> Vec<String> {
    vec![
        format!("--oidc-issuer-url={}", info.issuer_url),
        format!("--oidc-client-id={}", info.client_id),
        format!("--oidc-ca-file={}", info.ca_file.display()),
        "--oidc-username-claim=sub".into(),
        format!("--oidc-username-prefix={}", info.username_prefix),
        "--oidc-groups-claim=groups".into(),
        format!("--oidc-groups-prefix={}", info.groups_prefix),
        "--oidc-signing-algs=ES256".into(),
    ]
}

fn signer(info: &OidcInfo) -> Result<jwt::Signer> {
    let der = std::fs::read(&info.signing_key).ctx(|| {
        format!(
            "reading the OIDC signing key {}",
            info.signing_key.display()
        )
    })?;
    jwt::Signer::from_pkcs8(&der)
}

fn mint_from(info: &OidcInfo, subject: &str, groups: &[String], ttl_secs: i64) -> Result<String> {
    signer(info)?.sign(&claims(
        &info.issuer_url,
        &info.client_id,
        subject,
        groups,
        ttl_secs,
    ))
}

/// The `porthole-oidc` context: auth-provider oidc with every field, the
/// id token expired a minute ago.
pub fn kubeconfig_extra(info: &OidcInfo, ca_pem: &str) -> Result<Extra> {
    let expired = mint_from(info, &info.subject, std::slice::from_ref(&info.group), -60)?;
    Ok(Extra {
        context: info.context.clone(),
        user_name: SUBJECT.into(),
        user: json!({
            "auth-provider": {
                "name": "oidc",
                "config": {
                    "idp-issuer-url": info.issuer_url,
                    "client-id": info.client_id,
                    "client-secret": info.client_secret,
                    "refresh-token": info.refresh_token,
                    "idp-certificate-authority-data": b64(ca_pem),
                    "id-token": expired,
                }
            }
        }),
        namespace: None,
    })
}

/// A signed id token for `subject` (group `porthole-oidc-users`), valid
/// for `ttl_secs` from now; negative = already expired.
pub fn mint(state: &State, subject: &str, ttl_secs: i64) -> Result<String> {
    let info = state.oidc()?;
    mint_from(info, subject, std::slice::from_ref(&info.group), ttl_secs)
}

/// Like [`mint`] with the `groups` claim given (before the `oidc:` prefix).
pub fn mint_with_groups(
    state: &State,
    subject: &str,
    groups: &[&str],
    ttl_secs: i64,
) -> Result<String> {
    let groups: Vec<String> = groups.iter().map(|g| (*g).to_owned()).collect();
    mint_from(state.oidc()?, subject, &groups, ttl_secs)
}

/// Lifetime of the id tokens the token endpoint issues from now on
/// (shared by every test of the cluster: restore it).
pub fn set_token_ttl(state: &State, ttl_secs: i64) -> Result<()> {
    fsutil::write_atomic(
        &state.oidc()?.token_ttl_file,
        format!("{ttl_secs}\n").as_bytes(),
    )
}

/// Refresh grants answered so far.
pub fn refresh_count(state: &State) -> Result<u64> {
    crate::exec_credential::read_count(&state.oidc()?.refresh_counter)
}
