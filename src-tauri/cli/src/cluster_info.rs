//! `portholectl cluster-info`: `kubectl cluster-info`, with each builtin's
//! Porthole URL next to its apiserver URL.

use std::fmt::Write as _;
use std::process::ExitCode;

use clap::Args;

use crate::output::Output;
use crate::url::{ContextArgs, discovery, print_out};
use porthole_core::discovery::ClusterInfoView;
use porthole_core::kubeconfig::KubeconfigSources;

#[derive(Debug, Args)]
pub struct ClusterInfoArgs {
    #[command(flatten)]
    pub context: ContextArgs,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = Output::Table)]
    pub output: Output,
}

pub(super) async fn run(sources: &KubeconfigSources, args: ClusterInfoArgs) -> ExitCode {
    let discovery = match discovery(sources, &args.context).await {
        Ok(d) => d,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::FAILURE;
        }
    };
    let info = discovery.cluster_info().await;
    for d in &info.degraded {
        eprintln!("warning: {d}");
    }
    let text = match args.output {
        Output::Json => match serde_json::to_string_pretty(&info) {
            Ok(json) => json + "\n",
            Err(e) => {
                eprintln!("error: cannot encode JSON: {e}");
                return ExitCode::FAILURE;
            }
        },
        Output::Table => text(&info),
    };
    let code = print_out(&text);
    if info
        .degraded
        .iter()
        .any(|d| d.resource == porthole_core::discovery::ResourceKind::Services)
    {
        return ExitCode::FAILURE;
    }
    code
}

/// kubectl's lines, each followed by its Porthole URL.
fn text(info: &ClusterInfoView) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Kubernetes control plane is running at {}",
        info.control_plane
    );
    let _ = writeln!(
        out,
        "    through Porthole: {}",
        info.control_plane_porthole_url
    );
    for s in &info.services {
        match &s.urls {
            Some(urls) => {
                let _ = writeln!(out, "{} is running at {}", s.title, urls.apiserver_url);
                let _ = writeln!(out, "    through Porthole: {}", urls.porthole_url);
            }
            None => {
                let why = s
                    .service
                    .not_proxyable
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_else(|| "no TCP port to proxy to".to_owned());
                let _ = writeln!(out, "{} cannot be proxied: {why}", s.title);
            }
        }
    }
    out.push_str(
        "\nThe Porthole URLs work while the proxy runs (`portholectl proxy`, or the app).\n",
    );
    out
}
