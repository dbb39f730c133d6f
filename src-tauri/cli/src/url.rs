//! `portholectl url NS/SVC[:PORT]`: the Porthole URL of a service port
//! (or its apiserver URL, a curl command, or all of it as JSON). Also the
//! context and target plumbing shared by the discovery verbs.

use std::io::Write as _;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use serde::Serialize;

use porthole_core::discovery::Discovery;
use porthole_core::kubeconfig::KubeconfigSources;
use porthole_core::urls::{self, DEFAULT_PROXY_PORT, PortSpec, ServiceUrls};

/// The flags every discovery verb takes.
#[derive(Debug, Clone, Args)]
pub struct ContextArgs {
    /// The kubeconfig context to use (default: the current context).
    #[arg(long)]
    pub context: Option<String>,
    /// Seconds each request to the apiserver may take.
    #[arg(long, default_value_t = 20, value_name = "SECS")]
    pub timeout: u64,
    /// The port Porthole's proxy listens on (`portholectl proxy`, the app),
    /// for Porthole URLs.
    #[arg(long, default_value_t = DEFAULT_PROXY_PORT, value_name = "PORT")]
    pub proxy_port: u16,
}

/// The context's discovery, or a message saying what is wrong.
pub(super) async fn discovery(
    sources: &KubeconfigSources,
    args: &ContextArgs,
) -> Result<Discovery, String> {
    let timeout = Duration::from_secs(args.timeout.max(1));
    let context = crate::context::connect(sources, args.context.as_deref(), timeout).await?;
    Ok(Discovery::new(
        &context.client,
        context.namespace.as_deref(),
        args.proxy_port,
    )
    .with_timeout(timeout))
}

/// `NS/SVC[:PORT]` (or `SVC[:PORT]` in the context's namespace).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceRef {
    pub namespace: Option<String>,
    pub service: String,
    pub port: Option<String>,
}

impl std::str::FromStr for ServiceRef {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (namespace, rest) = match s.split_once('/') {
            Some((ns, rest)) => (Some(ns.to_owned()), rest),
            None => (None, s),
        };
        let (service, port) = match rest.split_once(':') {
            Some((svc, port)) => (svc, Some(port.to_owned())),
            None => (rest, None),
        };
        let label = |x: &str| {
            !x.is_empty()
                && x.len() <= 253
                && x.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        };
        if namespace.as_deref().is_some_and(|n| !label(n)) || !label(service) {
            return Err(format!(
                "{s:?} is not NAMESPACE/SERVICE[:PORT] (lowercase names, e.g. kube-system/kibana-logging:http)"
            ));
        }
        if port.as_deref().is_some_and(str::is_empty) {
            return Err(format!("{s:?}: the port after ':' is empty"));
        }
        Ok(Self {
            namespace,
            service: service.to_owned(),
            port,
        })
    }
}

/// The links of the port `target` names (or of its first TCP port).
pub(super) async fn resolve(
    discovery: &Discovery,
    target: &ServiceRef,
) -> Result<ServiceUrls, String> {
    let namespace = target
        .namespace
        .clone()
        .unwrap_or_else(|| discovery.context_namespace().to_owned());
    let service = discovery
        .service(&namespace, &target.service)
        .await
        .map_err(|d| d.reason)?;
    let port = urls::choose_port(&service, target.port.as_deref()).map_err(|e| e.to_string())?;
    match urls::port_access(discovery.base(), &service, port) {
        urls::PortAccess::Proxy { urls } => Ok(urls),
        urls::PortAccess::NotProxyable { why } => Err(format!(
            "{namespace}/{}:{}: {why}",
            target.service,
            PortSpec::from(port).reference()
        )),
    }
}

#[derive(Debug, Args)]
pub struct UrlArgs {
    /// NAMESPACE/SERVICE[:PORT] — PORT is a port name or number (default:
    /// the service's first TCP port); without NAMESPACE/, the context's
    /// namespace.
    pub target: ServiceRef,
    #[command(flatten)]
    pub context: ContextArgs,
    /// Print the apiserver URL instead (needs your credentials: kubectl, scripts).
    #[arg(long, conflicts_with_all = ["curl", "json"])]
    pub apiserver: bool,
    /// Print a ready curl command instead.
    #[arg(long, conflicts_with = "json")]
    pub curl: bool,
    /// Print every link as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UrlJson<'a> {
    context: &'a str,
    #[serde(flatten)]
    urls: &'a ServiceUrls,
}

pub(super) async fn run(sources: &KubeconfigSources, args: UrlArgs) -> ExitCode {
    let result = async {
        let discovery = discovery(sources, &args.context).await?;
        let urls = resolve(&discovery, &args.target).await?;
        let text = if args.json {
            serde_json::to_string_pretty(&UrlJson {
                context: &discovery.base().context,
                urls: &urls,
            })
            .map_err(|e| format!("cannot encode JSON: {e}"))?
        } else if args.apiserver {
            urls.apiserver_url.clone()
        } else if args.curl {
            urls.curl.clone()
        } else {
            urls.porthole_url.clone()
        };
        Ok::<_, String>(text)
    }
    .await;
    match result {
        Ok(text) => print_out(&format!("{text}\n")),
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Writes to stdout; a closed pipe is not worth a message.
pub(super) fn print_out(text: &str) -> ExitCode {
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: cannot write output: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_refs_parse() {
        let r: ServiceRef = "kube-system/elasticsearch-logging".parse().expect("ref");
        assert_eq!(r.namespace.as_deref(), Some("kube-system"));
        assert_eq!(r.service, "elasticsearch-logging");
        assert_eq!(r.port, None);
        let r: ServiceRef = "team-a/api:grpc".parse().expect("ref");
        assert_eq!(r.port.as_deref(), Some("grpc"));
        let r: ServiceRef = "web:8080".parse().expect("ref");
        assert_eq!((r.namespace, r.port.as_deref()), (None, Some("8080")));
        for bad in ["", "/x", "ns/", "NS/x", "ns/x:", "ns/a b", "ns/x/y"] {
            assert!(bad.parse::<ServiceRef>().is_err(), "{bad}");
        }
    }
}
