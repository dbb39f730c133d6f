//! `portholectl services [-n NS | -A] [-o json]`: services with their
//! ports, ready endpoints and Porthole URLs.

use std::process::ExitCode;

use clap::Args;

use crate::output::Output;
use crate::url::{ContextArgs, discovery, print_out};
use porthole_core::discovery::{ServiceList, ServiceQuery};
use porthole_core::kubeconfig::KubeconfigSources;
use porthole_core::urls::PortAccess;

#[derive(Debug, Args)]
pub struct ServicesArgs {
    /// The namespace (default: the context's namespace).
    #[arg(short = 'n', long, conflicts_with = "all_namespaces")]
    pub namespace: Option<String>,
    /// Services in all namespaces (falls back to the context's namespace
    /// and --add-namespace ones when that is not allowed).
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,
    /// With -A: namespaces to show when listing all is not allowed (repeatable).
    #[arg(long = "add-namespace", value_name = "NS")]
    pub added_namespaces: Vec<String>,
    #[command(flatten)]
    pub context: ContextArgs,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = Output::Table)]
    pub output: Output,
}

pub(super) async fn run(sources: &KubeconfigSources, args: ServicesArgs) -> ExitCode {
    let discovery = match discovery(sources, &args.context).await {
        Ok(d) => d,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::FAILURE;
        }
    };
    let query = ServiceQuery {
        namespace: if args.all_namespaces {
            None
        } else {
            Some(
                args.namespace
                    .clone()
                    .unwrap_or_else(|| discovery.context_namespace().to_owned()),
            )
        },
        added_namespaces: args.added_namespaces.clone(),
    };
    let list = discovery.services(&query).await;
    for d in &list.degraded {
        eprintln!("warning: {d}");
    }
    let text = match args.output {
        Output::Json => match serde_json::to_string_pretty(&list) {
            Ok(json) => json + "\n",
            Err(e) => {
                eprintln!("error: cannot encode JSON: {e}");
                return ExitCode::FAILURE;
            }
        },
        Output::Table => table(&list, args.all_namespaces),
    };
    let code = print_out(&text);
    let services_failed = list.services.is_empty()
        && list
            .degraded
            .iter()
            .any(|d| d.resource == porthole_core::discovery::ResourceKind::Services);
    if services_failed {
        ExitCode::FAILURE
    } else {
        code
    }
}

fn table(list: &ServiceList, all: bool) -> String {
    let header = [
        "NAMESPACE",
        "NAME",
        "TYPE",
        "CLUSTER-IP",
        "READY",
        "PORTS",
        "URL",
    ];
    let rows: Vec<[String; 7]> = list
        .services
        .iter()
        .map(|s| {
            let ports = s
                .ports
                .iter()
                .map(|p| {
                    let mut text = match &p.name {
                        Some(n) => format!("{n}:{}", p.port),
                        None => p.port.to_string(),
                    };
                    if let Some(np) = p.node_port {
                        text.push_str(&format!(":{np}"));
                    }
                    if p.protocol != "TCP" {
                        text.push_str(&format!("/{}", p.protocol));
                    }
                    text
                })
                .collect::<Vec<_>>()
                .join(",");
            let url = match s.ports.iter().find_map(|p| match &p.access {
                PortAccess::Proxy { urls } => Some(urls.porthole_url.clone()),
                PortAccess::NotProxyable { .. } => None,
            }) {
                Some(u) => u,
                None => match &s.not_proxyable {
                    Some(porthole_core::urls::NotProxyable::ExternalName {
                        url: Some(u), ..
                    }) => {
                        format!("(external) {u}")
                    }
                    _ => "-".to_owned(),
                },
            };
            [
                s.namespace.clone(),
                s.name.clone(),
                s.service_type.clone(),
                if s.headless {
                    "None".to_owned()
                } else {
                    s.cluster_ip.clone().unwrap_or_else(|| "-".to_owned())
                },
                s.endpoints
                    .map(|e| format!("{}/{}", e.ready, e.ready + e.not_ready))
                    .unwrap_or_else(|| "?".to_owned()),
                if ports.is_empty() {
                    "<none>".to_owned()
                } else {
                    ports
                },
                url,
            ]
        })
        .collect();
    let first = usize::from(!all);
    let widths: Vec<usize> = (0..6)
        .map(|i| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([header[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    let header: [String; 7] = header.map(str::to_owned);
    for row in std::iter::once(&header).chain(rows.iter()) {
        for i in first..6 {
            out.push_str(&format!("{:<w$}   ", row[i], w = widths[i]));
        }
        out.push_str(&row[6]);
        out.push('\n');
    }
    if list.services.is_empty() {
        out = "No services found.\n".to_owned();
    }
    out
}
