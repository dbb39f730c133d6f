//! `portholectl status`: whether each context's cluster answers, probed
//! concurrently — the app's status dots on the command line.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;

use crate::output::Output;
use porthole_core::cluster::probe::probe_all;
use porthole_core::cluster::{ContextStatus, StatusUpdate, client_for_context};
use porthole_core::kubeconfig::{KubeconfigSources, load_snapshot};

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Contexts to probe (default: all).
    pub contexts: Vec<String>,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = Output::Table)]
    pub output: Output,
    /// Seconds one context's probe may take.
    #[arg(long, default_value_t = 8, value_name = "SECS")]
    pub timeout: u64,
    /// Extra directories to search for exec plugins (repeatable).
    #[arg(long = "path-dir", value_name = "DIR")]
    pub path_dirs: Vec<PathBuf>,
}

pub(super) async fn run(sources: &KubeconfigSources, args: StatusArgs) -> ExitCode {
    let snapshot = load_snapshot(sources).await;
    for problem in snapshot.list.problems() {
        eprintln!("warning: {}: {:?}", problem.path, problem.state);
    }
    let wanted: Vec<String> = if args.contexts.is_empty() {
        snapshot
            .list
            .contexts
            .iter()
            .map(|c| c.name.clone())
            .collect()
    } else {
        args.contexts.clone()
    };
    let unknown: Vec<&String> = wanted
        .iter()
        .filter(|w| !snapshot.list.contexts.iter().any(|c| &&c.name == w))
        .collect();
    if !unknown.is_empty() {
        for name in unknown {
            eprintln!("error: no context named {name:?} in the kubeconfig");
        }
        return ExitCode::FAILURE;
    }
    let timeout = Duration::from_secs(args.timeout.max(1));
    let env = super::client_env::client_env(timeout, &args.path_dirs).await;
    let mut clients = Vec::with_capacity(wanted.len());
    for name in &wanted {
        clients.push((
            name.clone(),
            client_for_context(&snapshot.merged, name, &env).await,
        ));
    }
    let mut rx = probe_all(clients, timeout);
    let mut updates: Vec<StatusUpdate> = Vec::with_capacity(wanted.len());
    while let Some(update) = rx.recv().await {
        updates.push(update);
    }
    updates.sort_by(|a, b| a.context.cmp(&b.context));
    let text = match args.output {
        Output::Json => match serde_json::to_string_pretty(&updates) {
            Ok(json) => json + "\n",
            Err(e) => {
                eprintln!("error: cannot encode the statuses as JSON: {e}");
                return ExitCode::FAILURE;
            }
        },
        Output::Table => table(&updates),
    };
    if let Err(e) = std::io::stdout().lock().write_all(text.as_bytes())
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        eprintln!("error: cannot write output: {e}");
        return ExitCode::FAILURE;
    }
    if updates
        .iter()
        .all(|u| matches!(u.status, ContextStatus::Reachable { .. }))
    {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn table(updates: &[StatusUpdate]) -> String {
    let rows: Vec<[String; 4]> = updates
        .iter()
        .map(|u| match &u.status {
            ContextStatus::Reachable {
                version,
                user,
                latency_ms,
                ..
            } => [
                u.context.clone(),
                "ok".into(),
                version.clone(),
                format!(
                    "user {} · {latency_ms} ms",
                    user.as_deref().unwrap_or("(not allowed to ask)")
                ),
            ],
            ContextStatus::Failed { problem } => [
                u.context.clone(),
                "failed".into(),
                String::new(),
                problem.to_string(),
            ],
            ContextStatus::Checking => [
                u.context.clone(),
                "checking".into(),
                String::new(),
                String::new(),
            ],
        })
        .collect();
    let header = ["CONTEXT", "STATUS", "VERSION", "DETAIL"].map(str::to_owned);
    let widths: Vec<usize> = (0..3)
        .map(|i| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([header[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in std::iter::once(&header).chain(rows.iter()) {
        for (i, width) in widths.iter().enumerate() {
            out.push_str(&format!("{:<w$}   ", row[i], w = width));
        }
        out.push_str(&row[3]);
        out.push('\n');
    }
    out
}
