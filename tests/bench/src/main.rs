//! `make bench`: Porthole's proxy against `kubectl proxy` and against
//! direct access (the admin's client certificate, no proxy: the limit), and
//! `portholectl forward` against `kubectl port-forward` and the Pod's own
//! address, on the real test control plane and its backends, in one run;
//! a table each, with the ratios and issue #5's goals (reported, never
//! asserted).
//!
//! Attaches to the cluster named by `PORTHOLE_CLUSTER_DIR` (as under
//! `porthole-cluster run --`), or starts one through porthole-testkit.

mod bench;
mod conn;
mod download;
mod error;
mod fixtures;
mod forward;
mod load;
mod proxies;
mod report;
mod stats;
mod watch;
mod ways;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, ValueEnum};

/// A part of the bench.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Part {
    /// portholectl proxy vs kubectl proxy vs direct.
    Proxy,
    /// portholectl forward vs kubectl port-forward vs the Pod's address.
    Forward,
}

/// Benchmark portholectl proxy against kubectl proxy and direct access.
#[derive(Debug, Clone, Parser)]
#[command(name = "porthole-bench")]
pub struct Args {
    /// Seconds measured per load cell.
    #[arg(long, default_value_t = 5.0)]
    pub seconds: f64,
    /// Seconds of warm-up before each load cell (not measured).
    #[arg(long, default_value_t = 1.0)]
    pub warmup: f64,
    /// Concurrent connections of the "many" cells.
    #[arg(long, default_value_t = 64)]
    pub connections: usize,
    /// Watch events measured.
    #[arg(long, default_value_t = 40)]
    pub watch_events: usize,
    /// Download size in MiB.
    #[arg(long, default_value_t = 100)]
    pub download_mib: u64,
    /// Sequential connections of the forward set-up cell.
    #[arg(long, default_value_t = 200)]
    pub forward_connections: usize,
    /// Heal rounds of portholectl forward.
    #[arg(long, default_value_t = 5)]
    pub heal_rounds: usize,
    /// Run only this part (default: all).
    #[arg(long, value_enum)]
    pub only: Option<Part>,
    /// The portholectl binary (default: next to this one).
    #[arg(long)]
    pub portholectl: Option<PathBuf>,
    /// The kubectl binary.
    #[arg(long, default_value = "kubectl")]
    pub kubectl: PathBuf,
}

impl Args {
    fn duration(secs: f64) -> Duration {
        Duration::try_from_secs_f64(secs.max(0.0)).unwrap_or(Duration::from_secs(1))
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    // Blocking: attach, or start a control plane (a minute when cold).
    let cluster = match porthole_testkit::try_cluster() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("porthole-bench: test control plane: {e}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("porthole-bench: starting the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let wanted = |part| args.only.is_none_or(|only| only == part);
    if wanted(Part::Proxy) {
        let table = runtime.block_on(bench::run(cluster, &args));
        if !print("portholectl proxy vs kubectl proxy vs direct", table) {
            return ExitCode::FAILURE;
        }
    }
    if wanted(Part::Forward) {
        let table = runtime.block_on(forward::table(cluster, &args));
        if !print(
            "portholectl forward vs kubectl port-forward vs direct (the Pod's address)",
            table,
        ) {
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}

/// The table under its title, or the error; whether it was a table.
fn print(title: &str, table: error::Result<String>) -> bool {
    match table {
        Ok(table) => {
            println!("{title}\n\n{table}");
            true
        }
        Err(e) => {
            eprintln!("porthole-bench: {e}");
            false
        }
    }
}
