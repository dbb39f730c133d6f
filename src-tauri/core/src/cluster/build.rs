//! From a merged kubeconfig and a context name to a ready [`ClusterClient`]:
//! every field checked, relative paths resolved against the file that names
//! them (an exec `command` only when it contains a path separator, as
//! client-go does), certificate and token files read, the authenticator
//! chosen. A problem comes back as [`ClusterProblem::Kubeconfig`] naming
//! the file and the field.
//!
//! The user entry's part (certificate, credential, impersonation) is in
//! `build/user.rs`; locating and reading fields in `build/field.rs`.

mod field;
mod user;

use std::path::Path;
use std::sync::Arc;

use http::Uri;
use kube::config::{Cluster, Kubeconfig};
use secrecy::SecretString;

use super::client::ClusterClient;
use super::client_env::ClientEnv;
use super::connect::ProxyTarget;
use super::status::ClusterProblem;
use super::tls::Trust;
use crate::auth::exec::ClusterInfo;
use crate::auth::{Authenticator, CertSlot, Method, SecretHeader};
use crate::kubeconfig::MergedKubeconfig;
use crate::kubeconfig::lines::{EntryList, line_in_file};
use crate::redact::url_with_password_redacted;
use field::{At, decode, dir_of, read};
use user::{auth_method, client_certificate, impersonation_headers};

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
