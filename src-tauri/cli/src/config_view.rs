//! `portholectl config view`: what `kubectl config view` prints for the same
//! files and flags, with auth-provider, exec and proxy secrets masked too
//! (see [`porthole_core::kubeconfig::view`] for the rules). Secrets appear only with
//! `--raw`, also with `--flatten`.

use std::io::Write;
use std::process::ExitCode;

use clap::{Args, ValueEnum};

use porthole_core::kubeconfig::{KubeconfigSources, ViewOptions, config_view};

#[derive(Debug, Clone, Args)]
pub struct ConfigViewArgs {
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = ViewFormat::Yaml)]
    pub output: ViewFormat,
    /// Remove everything not used by the current context (or --context).
    #[arg(long)]
    pub minify: bool,
    /// Inline certificate and key files as *-data, for a self-contained file.
    #[arg(long)]
    pub flatten: bool,
    /// Show certificate data and secrets instead of DATA+OMITTED / REDACTED.
    #[arg(long)]
    pub raw: bool,
    /// With --minify: the context to keep instead of the current one.
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ViewFormat {
    Yaml,
    Json,
}

pub(super) async fn run(sources: &KubeconfigSources, args: ConfigViewArgs) -> ExitCode {
    if args.context.is_some() && !args.minify {
        // kubectl silently ignores it; say so instead.
        eprintln!(
            "note: --context only chooses what --minify keeps; without --minify it changes nothing"
        );
    }
    let options = ViewOptions {
        minify: args.minify,
        flatten: args.flatten,
        raw: args.raw,
        context: args.context,
    };
    let view = match config_view(sources, &options).await {
        Ok(view) => view,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let text = match args.output {
        ViewFormat::Yaml => view.to_yaml(),
        ViewFormat::Json => view.to_json(),
    };
    let text = match text {
        Ok(text) => text,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = std::io::stdout().lock().write_all(text.as_bytes()) {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("error: cannot write output: {e}");
        }
        return ExitCode::FAILURE;
    }
    if options.flatten && !options.raw {
        eprintln!(
            "note: secrets and certificate data are masked; add --raw for a kubeconfig that works on its own"
        );
    }
    ExitCode::SUCCESS
}
