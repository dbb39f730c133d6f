//! `portholectl`: Porthole's engine without a window, one module per verb.
//! Its own crate, so clap and the CLI code are not linked into the GUI
//! binary; it uses only porthole-core's public API, so it carries no GUI
//! library either.

mod client_env;
mod cluster_info;
mod config_view;
mod context;
mod contexts;
mod duration;
mod forward;
mod open;
mod output;
mod proxy;
mod services;
mod shutdown;
mod status;
mod url;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use porthole_core::kubeconfig::KubeconfigSources;

use crate::output::Output;

#[derive(Debug, Parser)]
#[command(
    name = "portholectl",
    version,
    about = "Porthole without a window: your kubeconfig's clusters from the command line"
)]
pub struct Cli {
    /// Path to the kubeconfig file to use (instead of $KUBECONFIG or ~/.kube/config).
    #[arg(long, global = true, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the contexts of the merged kubeconfig (like `kubectl config get-contexts`).
    Contexts {
        /// Output format.
        #[arg(short = 'o', long = "output", value_enum, default_value_t = Output::Table)]
        output: Output,
    },
    /// Probe every context's cluster (or the ones named): version and user,
    /// or what is wrong and what to do. Exits 1 when any is unreachable.
    Status(status::StatusArgs),
    /// Run a proxy to the Kubernetes API server (like `kubectl proxy`), with
    /// a host name per context and per service under .localhost.
    Proxy(Box<proxy::ProxyArgs>),
    /// The control plane URL and the cluster's builtin services (like
    /// `kubectl cluster-info`), each with its Porthole URL.
    ClusterInfo(cluster_info::ClusterInfoArgs),
    /// List services with their ports, ready endpoints and Porthole URLs.
    Services(services::ServicesArgs),
    /// Print the Porthole URL of a service port: NAMESPACE/SERVICE[:PORT].
    Url(url::UrlArgs),
    // Its help (about, long about, examples) is on `ForwardArgs`: a doc
    // comment here would replace it.
    Forward(Box<forward::ForwardArgs>),
    /// Open a service port in the browser through Porthole's proxy,
    /// starting `portholectl proxy` in the background when none runs.
    Open(open::OpenArgs),
    /// Kubeconfig commands (like `kubectl config`).
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the merged kubeconfig like `kubectl config view`, secrets masked.
    View(config_view::ConfigViewArgs),
}

impl Cli {
    fn sources(&self) -> KubeconfigSources {
        match &self.kubeconfig {
            Some(path) => KubeconfigSources::explicit(path),
            None => KubeconfigSources::from_env(),
        }
    }
}

/// Runs one command; the exit code says whether the user has something to fix.
pub async fn run(cli: Cli) -> ExitCode {
    let sources = cli.sources();
    match cli.command {
        Command::Contexts { output } => contexts::run(&sources, output).await,
        Command::Status(args) => status::run(&sources, args).await,
        Command::Proxy(args) => proxy::run(&sources, *args).await,
        Command::ClusterInfo(args) => cluster_info::run(&sources, args).await,
        Command::Services(args) => services::run(&sources, args).await,
        Command::Url(args) => url::run(&sources, args).await,
        Command::Forward(args) => forward::run(&sources, *args).await,
        Command::Open(args) => open::run(&sources, cli.kubeconfig.as_ref(), args).await,
        Command::Config {
            command: ConfigCommand::View(args),
        } => config_view::run(&sources, args).await,
    }
}

/// Logs go to stderr, filtered by `PORTHOLE_LOG` (default: `default`),
/// coloured only on a terminal.
pub fn init_logging(default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("PORTHOLE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    // A second init (tests) is harmless, so its error is ignored.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

/// Warnings; `forward` prints its forwards' failures itself, in kubectl's
/// words, so the engine's own warnings about them would say it twice.
fn default_log_filter(command: &Command) -> &'static str {
    match command {
        Command::Forward(_) => "warn,porthole_core::forward=error",
        _ => "warn",
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(default_log_filter(&cli.command));
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(run(cli))
}
