//! A kubeconfig user entry → how its requests authenticate: its client
//! certificate, the first of exec plugin, `auth-provider`, `token`,
//! `tokenFile` and `username` that it sets, and its `Impersonate-*`
//! headers.

use std::collections::HashMap;
use std::path::Path;

use http::{HeaderName, HeaderValue};
use kube::config::{AuthInfo, ExecInteractiveMode};
use secrecy::{ExposeSecret, SecretString};

use super::field::{At, decode, read, resolve};
use crate::auth::exec::{ClusterInfo, ExecSpec, InteractiveMode, credential};
use crate::auth::{
    CertSlot, ExecAuth, Method, OidcAuth, SecretHeader, TokenFile, certified_key, oidc::OidcConfig,
};
use crate::cluster::client_env::ClientEnv;
use crate::cluster::status::ClusterProblem;

pub(super) async fn client_certificate(
    user: &AuthInfo,
    dir: &Path,
    at: &At<'_>,
) -> Result<CertSlot, ClusterProblem> {
    let cert = match (
        user.client_certificate_data
            .as_deref()
            .filter(|d| !d.is_empty()),
        user.client_certificate.as_deref().filter(|p| !p.is_empty()),
    ) {
        (Some(data), _) => Some((
            decode(data, &at.sub("client-certificate-data"))?,
            "client-certificate-data",
        )),
        (None, Some(path)) => Some((
            read(dir, path, &at.sub("client-certificate")).await?,
            "client-certificate",
        )),
        (None, None) => None,
    };
    let key = match (
        user.client_key_data
            .as_ref()
            .filter(|d| !d.expose_secret().is_empty()),
        user.client_key.as_deref().filter(|p| !p.is_empty()),
    ) {
        (Some(data), _) => Some((
            decode(data.expose_secret(), &at.sub("client-key-data"))?,
            "client-key-data",
        )),
        (None, Some(path)) => Some((read(dir, path, &at.sub("client-key")).await?, "client-key")),
        (None, None) => None,
    };
    match (cert, key) {
        (None, None) => Ok(CertSlot::default()),
        (Some((_, field)), None) => Err(at
            .sub(field)
            .problem("a client certificate needs a client key (client-key or client-key-data)")),
        (None, Some((_, field))) => Err(at.sub(field).problem(
            "a client key needs a client certificate (client-certificate or client-certificate-data)",
        )),
        (Some((cert, field)), Some((key, _))) => certified_key(&cert, &key)
            .map(CertSlot::with)
            .map_err(|r| at.sub(field).problem(r)),
    }
}

pub(super) async fn auth_method(
    user: &AuthInfo,
    dir: &Path,
    at: &At<'_>,
    cluster_info: ClusterInfo,
    env: &ClientEnv,
) -> Result<Method, ClusterProblem> {
    if let Some(exec) = &user.exec {
        let at = at.sub("exec");
        let command = exec
            .command
            .clone()
            .filter(|c| !c.is_empty())
            .ok_or_else(|| at.sub("command").problem("no command"))?;
        // client-go: relative to the kubeconfig only with a separator in it.
        let command = if command.contains(std::path::MAIN_SEPARATOR) {
            resolve(dir, &command).display().to_string()
        } else {
            command
        };
        let api_version = exec
            .api_version
            .clone()
            .filter(|v| !v.is_empty())
            .ok_or_else(|| at.sub("apiVersion").problem("no apiVersion"))?;
        if api_version != credential::V1 && api_version != credential::V1BETA1 {
            return Err(at.sub("apiVersion").problem(format!(
                "{api_version:?} is not supported (use {} or {})",
                credential::V1,
                credential::V1BETA1
            )));
        }
        let interactive_mode = match exec.interactive_mode {
            Some(ExecInteractiveMode::Never) => InteractiveMode::Never,
            Some(ExecInteractiveMode::IfAvailable) => InteractiveMode::IfAvailable,
            Some(ExecInteractiveMode::Always) => InteractiveMode::Always,
            None if api_version == credential::V1 => {
                return Err(at
                    .sub("interactiveMode")
                    .problem("must be set for client.authentication.k8s.io/v1 (Never, IfAvailable or Always)"));
            }
            None => InteractiveMode::IfAvailable,
        };
        let mut vars = Vec::new();
        for (i, entry) in exec.env.iter().flatten().enumerate() {
            let name = entry
                .get("name")
                .filter(|n| !n.is_empty())
                .ok_or_else(|| at.sub(&format!("env[{i}].name")).problem("missing"))?;
            vars.push((
                name.clone(),
                entry.get("value").cloned().unwrap_or_default(),
            ));
        }
        let spec = ExecSpec {
            command,
            args: exec.args.clone().unwrap_or_default(),
            env: vars,
            api_version,
            interactive_mode,
            cluster: exec.provide_cluster_info.then_some(cluster_info),
            install_hint: exec.install_hint.clone().filter(|h| !h.is_empty()),
        };
        return Ok(Method::Exec(ExecAuth::new(spec, env.exec.clone())));
    }
    if let Some(provider) = &user.auth_provider {
        let at = at.sub("auth-provider");
        return match provider.name.as_str() {
            "oidc" => {
                let read_ca = |path: &str| {
                    let full = resolve(dir, path);
                    std::fs::read(&full).map_err(|e| {
                        format!("cannot read idp-certificate-authority {}: {e}", full.display())
                    })
                };
                let config = OidcConfig::from_map(&provider.config, read_ca)
                    .map_err(|r| at.sub("config").problem(r))?;
                OidcAuth::new(config)
                    .map(|o| Method::Oidc(Box::new(o)))
                    .map_err(|r| at.sub("config").problem(r))
            }
            "gcp" => Err(at.sub("name").problem(
                "the gcp auth-provider was removed from kubectl in 1.26: install gke-gcloud-auth-plugin and run `gcloud container clusters get-credentials` again",
            )),
            "azure" => Err(at.sub("name").problem(
                "the azure auth-provider was removed from kubectl in 1.26: install kubelogin and run `kubelogin convert-kubeconfig`",
            )),
            other => Err(at
                .sub("name")
                .problem(format!("auth-provider {other:?} is not supported (only oidc)"))),
        };
    }
    if let Some(token) = user
        .token
        .as_ref()
        .filter(|t| !t.expose_secret().is_empty())
    {
        return SecretHeader::bearer(token)
            .map(Method::Static)
            .ok_or_else(|| {
                at.sub("token")
                    .problem("holds characters a token cannot have")
            });
    }
    if let Some(path) = user.token_file.as_deref().filter(|p| !p.is_empty()) {
        return Ok(Method::TokenFile(TokenFile::new(resolve(dir, path))));
    }
    if let Some(name) = user.username.as_deref().filter(|u| !u.is_empty()) {
        let password = user
            .password
            .clone()
            .unwrap_or_else(|| SecretString::from(String::new()));
        return SecretHeader::basic(name, &password)
            .map(Method::Static)
            .ok_or_else(|| {
                at.sub("username")
                    .problem("holds characters a header cannot have")
            });
    }
    Ok(Method::None)
}

pub(super) fn impersonation_headers(
    user: &AuthInfo,
    at: &At<'_>,
) -> Result<Vec<(HeaderName, HeaderValue)>, ClusterProblem> {
    let mut headers = Vec::new();
    let mut push = |name: HeaderName, value: &str, field: &str| {
        HeaderValue::from_str(value)
            .map(|v| headers.push((name, v)))
            .map_err(|_| {
                at.sub(field)
                    .problem("holds characters a header cannot have")
            })
    };
    if let Some(who) = user.impersonate.as_deref().filter(|s| !s.is_empty()) {
        push(HeaderName::from_static("impersonate-user"), who, "as")?;
    }
    for group in user.impersonate_groups.iter().flatten() {
        push(
            HeaderName::from_static("impersonate-group"),
            group,
            "as-groups",
        )?;
    }
    if let Some(uid) = user.impersonate_uid.as_deref().filter(|s| !s.is_empty()) {
        push(HeaderName::from_static("impersonate-uid"), uid, "as-uid")?;
    }
    let extra: HashMap<String, Vec<String>> =
        user.impersonate_user_extra.clone().unwrap_or_default();
    for (key, values) in &extra {
        let encoded: String = form_urlencoded::byte_serialize(key.as_bytes()).collect();
        let name = HeaderName::from_bytes(format!("impersonate-extra-{encoded}").as_bytes())
            .map_err(|_| {
                at.sub("as-user-extra")
                    .problem(format!("{key:?} cannot be a header name"))
            })?;
        for value in values {
            push(name.clone(), value, "as-user-extra")?;
        }
    }
    Ok(headers)
}
