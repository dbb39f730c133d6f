//! `portholectl proxy`: a drop-in for `kubectl proxy` — the same flags,
//! defaults, filter and "Starting to serve on" line — with Porthole's
//! cluster client (every auth method, refresh) and its per-service hosts.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;

use porthole_core::cluster::client_for_context;
use porthole_core::kubeconfig::{InClusterSource, KubeconfigSources, load_snapshot};
use porthole_core::proxy::filter::{
    DEFAULT_ACCEPT_HOSTS, DEFAULT_ACCEPT_PATHS, DEFAULT_REJECT_METHODS, DEFAULT_REJECT_PATHS,
};
use porthole_core::proxy::names::context_label;
use porthole_core::proxy::www::Www;
use porthole_core::proxy::{Filter, HandlerOptions, Listen, ProxyServer, Upstream, Upstreams};
use porthole_core::settings::{LoopbackError, parse_loopback};

/// How long requests in flight get at Ctrl-C.
const STOP_GRACE: Duration = Duration::from_secs(5);

#[derive(Debug, Args)]
pub struct ProxyArgs {
    /// The port on which to run the proxy. Set to 0 to pick a random port.
    #[arg(short = 'p', long, default_value_t = 8001)]
    pub port: u16,
    /// The IP address on which to serve on.
    #[arg(long, default_value = "127.0.0.1")]
    pub address: String,
    /// Regular expression for hosts that the proxy should accept.
    #[arg(long, default_value = DEFAULT_ACCEPT_HOSTS)]
    pub accept_hosts: String,
    /// Regular expression for paths that the proxy should accept.
    #[arg(long, default_value = DEFAULT_ACCEPT_PATHS)]
    pub accept_paths: String,
    /// Regular expression for paths that the proxy should reject. Paths
    /// specified here will be rejected even accepted by --accept-paths.
    #[arg(long, default_value = DEFAULT_REJECT_PATHS)]
    pub reject_paths: String,
    /// Regular expression for HTTP methods that the proxy should reject
    /// (example --reject-methods='POST,PUT,PATCH').
    #[arg(long, default_value = DEFAULT_REJECT_METHODS)]
    pub reject_methods: String,
    /// Prefix to serve the proxied API under.
    #[arg(long, default_value = "/")]
    pub api_prefix: String,
    /// Also serve static files from the given directory under the specified prefix.
    #[arg(short = 'w', long)]
    pub www: Option<PathBuf>,
    /// Prefix to serve static files under, if static file directory is specified.
    #[arg(short = 'P', long, default_value = "/static/")]
    pub www_prefix: String,
    /// Unix socket on which to run the proxy (created with mode 0600).
    #[arg(short = 'u', long)]
    pub unix_socket: Option<PathBuf>,
    /// If true, disable request filtering in the proxy. This is dangerous,
    /// and can leave you vulnerable to XSRF attacks, when used with an
    /// accessible port.
    #[arg(long)]
    pub disable_filter: bool,
    /// Accepted for compatibility with `kubectl proxy` and ignored (a
    /// warning says so): kubectl sets TCP keep-alive probes on its upstream
    /// dials; Porthole pools upstream connections and closes them after
    /// 90 s idle, and every request has a timeout.
    #[arg(long, default_value = "0", value_parser = crate::duration::parse_go_duration)]
    pub keepalive: Duration,
    /// If true, enables automatic path appending of the kube context server
    /// path to each request.
    #[arg(long)]
    pub append_server_path: bool,
    /// The kubeconfig context to use (default: the current context).
    #[arg(long)]
    pub context: Option<String>,
    /// Use the pod's service account (a sidecar) instead of a kubeconfig.
    #[arg(long)]
    pub in_cluster: bool,
    /// Porthole: only GET, HEAD and OPTIONS (and watches) pass.
    #[arg(long)]
    pub read_only: bool,
    /// Porthole: no `*.localhost` hosts per context and service.
    #[arg(long)]
    pub no_service_hosts: bool,
    /// Seconds to wait for connecting and for response headers.
    #[arg(long, default_value_t = 30, value_name = "SECS")]
    pub timeout: u64,
}

/// The one context `portholectl proxy` serves.
struct Single(Upstream);

impl Upstreams for Single {
    fn active(&self) -> Option<Upstream> {
        Some(self.0.clone())
    }

    fn by_label(&self, label: &str) -> Option<Upstream> {
        (context_label(&self.0.context) == label).then(|| self.0.clone())
    }
}

pub(super) async fn run(sources: &KubeconfigSources, args: ProxyArgs) -> ExitCode {
    match serve(sources, args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(sources: &KubeconfigSources, args: ProxyArgs) -> Result<(), String> {
    let sources = if args.in_cluster {
        let source = InClusterSource::from_env().ok_or(
            "--in-cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set or the service account token is missing",
        )?;
        KubeconfigSources::in_cluster_only(source)
    } else {
        sources.clone()
    };
    let snapshot = load_snapshot(&sources).await;
    for problem in snapshot.list.problems() {
        eprintln!("warning: {}: {:?}", problem.path, problem.state);
    }
    let context = match (&args.context, args.in_cluster) {
        (Some(name), _) => name.clone(),
        (None, true) => "in-cluster".to_owned(),
        (None, false) => snapshot
            .list
            .current_context
            .clone()
            .ok_or("the kubeconfig has no current context: pass --context")?,
    };
    let timeout = Duration::from_secs(args.timeout.max(1));
    let env = super::client_env::client_env(timeout, &[]).await;
    let client = client_for_context(&snapshot.merged, &context, &env)
        .await
        .map_err(|problem| format!("context {context:?}: {problem}"))?;
    let filter = if args.disable_filter {
        eprintln!(
            "warning: request filter disabled, your proxy is vulnerable to XSRF attacks, please be cautious"
        );
        None
    } else {
        Some(Filter::from_flags(
            &args.accept_hosts,
            &args.accept_paths,
            &args.reject_paths,
            &args.reject_methods,
        )?)
    };
    let listen = match &args.unix_socket {
        Some(path) => Listen::Unix(path.clone()),
        None => {
            // Unlike the app's, this proxy may serve other machines, as
            // kubectl proxy may: with a warning.
            let ip = match parse_loopback(&args.address) {
                Ok(ip) => ip,
                Err(LoopbackError::NotLoopback { ip }) => {
                    eprintln!(
                        "warning: serving on {ip}: the proxy holds your cluster credentials and is reachable from other machines"
                    );
                    ip
                }
                Err(LoopbackError::NotAnIp { .. }) => {
                    return Err(format!("--address {:?} is not an IP address", args.address));
                }
            };
            Listen::Tcp(SocketAddr::new(ip, args.port))
        }
    };
    if !args.keepalive.is_zero() {
        eprintln!(
            "warning: --keepalive={:?} is ignored: Porthole pools upstream connections (closed after 90 s idle) and times out every request instead",
            args.keepalive
        );
    }
    let options = HandlerOptions {
        filter,
        api_prefix: args.api_prefix.clone(),
        www: args.www.clone().map(|dir| Www::new(dir, &args.www_prefix)),
        append_server_path: args.append_server_path,
        read_only: args.read_only,
        service_hosts: !args.no_service_hosts,
    };
    let upstream = Upstream { context, client };
    let server = ProxyServer::start(listen, options, Arc::new(Single(upstream)))
        .await
        .map_err(|e| e.to_string())?;
    println!("Starting to serve on {}", server.listening());
    let stop = crate::shutdown::signal();
    tokio::select! {
        () = stop => {
            server.stop(STOP_GRACE).await;
        }
    }
    Ok(())
}
