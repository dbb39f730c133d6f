//! From a merged kubeconfig and a context name to a ready [`ClusterClient`]:
//! every field checked, relative paths resolved against the file that names
//! them (an exec `command` only when it contains a path separator, as
//! client-go does), certificate and token files read, the authenticator
//! chosen. A problem comes back as [`ClusterProblem::Kubeconfig`] naming
//! the file and the field.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use http::{HeaderName, HeaderValue, Uri};
use kube::config::{AuthInfo, Cluster, ExecInteractiveMode, Kubeconfig};
use secrecy::{ExposeSecret, SecretString};

use super::client::ClusterClient;
use super::connect::{ProxyTarget, Timeouts};
use super::status::ClusterProblem;
use super::tls::Trust;
use crate::auth::exec::{ClusterInfo, ExecSpec, InteractiveMode, credential};
use crate::auth::{
    Authenticator, CertSlot, ExecAuth, ExecEnv, Method, OidcAuth, SecretHeader, TokenFile,
    certified_key, oidc::OidcConfig,
};
use crate::kubeconfig::MergedKubeconfig;
use crate::kubeconfig::lines::{EntryList, line_in_file};
use crate::redact::url_with_password_redacted;
use crate::shell_path::SearchPath;

/// Everything about the environment a client needs besides the kubeconfig.
#[derive(Debug, Clone)]
pub struct ClientEnv {
    pub exec: ExecEnv,
    pub timeouts: Timeouts,
    /// Longest wait for response headers (not for a streamed body).
    pub response_timeout: Duration,
}

impl ClientEnv {
    /// Plugins found on `search_path`; connecting and the TLS handshake each
    /// get three quarters of `probe_timeout`, so they fail with their own
    /// precise error before a probe with that timeout gives up.
    pub fn new(
        search_path: SearchPath,
        probe_timeout: Duration,
        response_timeout: Duration,
    ) -> Self {
        use std::io::IsTerminal as _;
        Self {
            exec: ExecEnv {
                search_path,
                stdin_is_terminal: std::io::stdin().is_terminal(),
                timeout: crate::auth::exec::DEFAULT_TIMEOUT,
            },
            timeouts: Timeouts {
                connect: probe_timeout.mul_f32(0.75),
                tls_handshake: probe_timeout.mul_f32(0.75),
            },
            response_timeout,
        }
    }
}

/// Where a problem is: the file and field path, for the message.
struct At<'a> {
    file: Option<&'a Path>,
    field: String,
}

impl At<'_> {
    fn problem(&self, reason: impl Into<String>) -> ClusterProblem {
        ClusterProblem::Kubeconfig {
            file: self.file.map(|f| f.display().to_string()),
            line: None,
            field: self.field.clone(),
            reason: reason.into(),
        }
    }

    fn sub(&self, field: &str) -> Self {
        At {
            file: self.file,
            field: format!("{}.{field}", self.field),
        }
    }
}

/// Builds the client for `context`. A kubeconfig problem names the file,
/// the line (when it can be found) and the field.
pub async fn client_for_context(
    merged: &MergedKubeconfig,
    context: &str,
    env: &ClientEnv,
) -> Result<ClusterClient, ClusterProblem> {
    match build(merged, context, env).await {
        Ok(client) => Ok(client),
        Err(problem) => Err(with_line(problem).await),
    }
}

/// Fills in the line of a kubeconfig problem's field, read from its file.
async fn with_line(problem: ClusterProblem) -> ClusterProblem {
    let ClusterProblem::Kubeconfig {
        file: Some(file),
        line: None,
        field,
        reason,
    } = problem
    else {
        return problem;
    };
    let line = match parse_field(&field) {
        Some((list, name, sub)) => line_in_file(Path::new(&file), list, &name, sub.as_deref())
            .await
            .and_then(|l| u32::try_from(l).ok()),
        None => None,
    };
    ClusterProblem::Kubeconfig {
        file: Some(file),
        line,
        field,
        reason,
    }
}

/// `users["dev"].user.client-key` → (Users, "dev", Some("user.client-key")).
fn parse_field(field: &str) -> Option<(EntryList, String, Option<String>)> {
    let (list, rest) = field.split_once('[')?;
    let list = match list {
        "clusters" => EntryList::Clusters,
        "users" => EntryList::Users,
        "contexts" => EntryList::Contexts,
        _ => return None,
    };
    let end = rest.find("\"]")?;
    let name: String = serde_json::from_str(&rest[..=end]).ok()?;
    let sub = rest[end + 2..].strip_prefix('.').map(str::to_owned);
    Some((list, name, sub))
}

async fn build(
    merged: &MergedKubeconfig,
    context: &str,
    env: &ClientEnv,
) -> Result<ClusterClient, ClusterProblem> {
    let config = merged.config();
    let ctx_at = At {
        file: merged.context_origin(context),
        field: format!("contexts[{context:?}]"),
    };
    let ctx = config
        .contexts
        .iter()
        .find(|c| c.name == context)
        .ok_or_else(|| ctx_at.problem("no such context in the kubeconfig"))?
        .context
        .as_ref()
        .ok_or_else(|| ctx_at.sub("context").problem("the context entry is empty"))?;

    let cluster_name = ctx.cluster.as_str();
    let cluster_at = At {
        file: merged.cluster_origin(cluster_name),
        field: format!("clusters[{cluster_name:?}].cluster"),
    };
    let cluster = find_cluster(config, cluster_name).ok_or_else(|| {
        ctx_at
            .sub("context.cluster")
            .problem(if cluster_name.is_empty() {
                "the context names no cluster".to_owned()
            } else {
                format!("names cluster {cluster_name:?}, which no kubeconfig file defines")
            })
    })?;
    let cluster_dir = dir_of(merged.cluster_origin(cluster_name));
    let server = server_uri(cluster, &cluster_at)?;
    let ca_pem = certificate_authority(cluster, &cluster_dir, &cluster_at).await?;
    let trust = Trust {
        ca_pem: ca_pem.clone(),
        insecure_skip_verify: cluster.insecure_skip_tls_verify.unwrap_or(false),
    };
    let proxy = match cluster.proxy_url.as_deref().filter(|p| !p.is_empty()) {
        Some(url) => Some(proxy_target(url).map_err(|r| cluster_at.sub("proxy-url").problem(r))?),
        None => None,
    };

    let user_name = ctx.user.clone().filter(|u| !u.is_empty());
    let (method, impersonation, slot) = match &user_name {
        None => (Method::None, Vec::new(), Arc::new(CertSlot::default())),
        Some(name) => {
            let user_at = At {
                file: merged.user_origin(name),
                field: format!("users[{name:?}].user"),
            };
            let user = config
                .auth_infos
                .iter()
                .find(|u| &u.name == name)
                .ok_or_else(|| {
                    ctx_at.sub("context.user").problem(format!(
                        "names user {name:?}, which no kubeconfig file defines"
                    ))
                })?
                .auth_info
                .clone()
                .unwrap_or_default();
            let user_dir = dir_of(merged.user_origin(name));
            let slot = Arc::new(client_certificate(&user, &user_dir, &user_at).await?);
            let cluster_info = ClusterInfo {
                server: cluster.server.clone().unwrap_or_default(),
                tls_server_name: cluster.tls_server_name.clone(),
                insecure_skip_tls_verify: trust.insecure_skip_verify,
                certificate_authority_data: ca_pem,
                proxy_url: cluster.proxy_url.clone(),
                disable_compression: cluster.disable_compression.unwrap_or(false),
                config: exec_extension(cluster),
            };
            let method = auth_method(&user, &user_dir, &user_at, cluster_info, env).await?;
            let impersonation = impersonation_headers(&user, &user_at)?;
            (method, impersonation, slot)
        }
    };
    let auth = Authenticator::new(method, impersonation, slot);
    ClusterClient::new(
        context,
        user_name,
        server,
        &trust,
        cluster.tls_server_name.clone().filter(|n| !n.is_empty()),
        proxy,
        auth,
        env,
    )
    .map_err(|reason| cluster_at.sub("certificate-authority").problem(reason))
}

fn find_cluster<'a>(config: &'a Kubeconfig, name: &str) -> Option<&'a Cluster> {
    config
        .clusters
        .iter()
        .find(|c| c.name == name)
        .and_then(|c| c.cluster.as_ref())
}

fn dir_of(file: Option<&Path>) -> PathBuf {
    file.and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// A path from the kubeconfig, resolved against the directory of its file.
fn resolve(dir: &Path, path: &str) -> PathBuf {
    let p = Path::new(path);
    if p.is_absolute() || dir.as_os_str().is_empty() {
        p.to_path_buf()
    } else {
        dir.join(p)
    }
}

async fn read(dir: &Path, path: &str, at: &At<'_>) -> Result<Vec<u8>, ClusterProblem> {
    let full = resolve(dir, path);
    tokio::fs::read(&full)
        .await
        .map_err(|e| at.problem(format!("cannot read {}: {e}", full.display())))
}

fn decode(data: &str, at: &At<'_>) -> Result<Vec<u8>, ClusterProblem> {
    base64::engine::general_purpose::STANDARD
        .decode(data.trim())
        .map_err(|_| at.problem("is not valid base64"))
}

fn server_uri(cluster: &Cluster, at: &At<'_>) -> Result<Uri, ClusterProblem> {
    let at = at.sub("server");
    let text = cluster
        .server
        .as_deref()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| at.problem("no server URL"))?;
    let uri: Uri = text
        .parse()
        .map_err(|_| at.problem(format!("{} is not a URL", url_with_password_redacted(text))))?;
    match uri.scheme_str() {
        Some("https" | "http") if uri.host().is_some() => Ok(uri),
        _ => Err(at.problem(format!(
            "{} must be an http:// or https:// URL with a host",
            url_with_password_redacted(text)
        ))),
    }
}

async fn certificate_authority(
    cluster: &Cluster,
    dir: &Path,
    at: &At<'_>,
) -> Result<Option<Vec<u8>>, ClusterProblem> {
    if let Some(data) = cluster
        .certificate_authority_data
        .as_deref()
        .filter(|d| !d.is_empty())
    {
        return decode(data, &at.sub("certificate-authority-data")).map(Some);
    }
    match cluster
        .certificate_authority
        .as_deref()
        .filter(|p| !p.is_empty())
    {
        Some(path) => read(dir, path, &at.sub("certificate-authority"))
            .await
            .map(Some),
        None => Ok(None),
    }
}

fn exec_extension(cluster: &Cluster) -> Option<serde_json::Value> {
    cluster
        .extensions
        .as_ref()?
        .iter()
        .find(|e| e.name == "client.authentication.k8s.io/exec")
        .map(|e| e.extension.clone())
}

fn proxy_target(url: &str) -> Result<ProxyTarget, String> {
    let shown = url_with_password_redacted(url);
    let uri: Uri = url.parse().map_err(|_| format!("{shown} is not a URL"))?;
    let host = uri
        .host()
        .ok_or_else(|| format!("{shown} has no host"))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let userinfo = uri
        .authority()
        .and_then(|a| a.as_str().rsplit_once('@').map(|(u, _)| u.to_owned()));
    let credentials = userinfo.map(|u| {
        let (user, password) = u.split_once(':').unwrap_or((u.as_str(), ""));
        let decode = |s: &str| percent_decode(s);
        (decode(user), SecretString::from(decode(password)))
    });
    match uri.scheme_str() {
        Some("http") => Ok(ProxyTarget::HttpConnect {
            port: uri.port_u16().unwrap_or(80),
            auth: credentials
                .as_ref()
                .and_then(|(u, p)| SecretHeader::basic(u, p)),
            host,
            shown,
        }),
        Some("socks5" | "socks5h") => Ok(ProxyTarget::Socks5 {
            port: uri.port_u16().unwrap_or(1080),
            credentials,
            host,
            shown,
        }),
        Some(other) => Err(format!(
            "{shown}: proxy scheme {other:?} is not supported (use http:// or socks5://)"
        )),
        None => Err(format!("{shown} has no scheme (use http:// or socks5://)")),
    }
}

fn percent_decode(s: &str) -> String {
    form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

async fn client_certificate(
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

async fn auth_method(
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

fn impersonation_headers(
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_paths_are_split_into_list_name_and_field() {
        let (list, name, sub) = parse_field(r#"users["dev.ops"].user.client-key"#).expect("parses");
        assert_eq!(list, EntryList::Users);
        assert_eq!(name, "dev.ops");
        assert_eq!(sub.as_deref(), Some("user.client-key"));
        let (list, name, sub) = parse_field(r#"contexts["a"]"#).expect("parses");
        assert_eq!((list, name.as_str(), sub), (EntryList::Contexts, "a", None));
        assert!(parse_field("tokenFile").is_none());
    }
}
