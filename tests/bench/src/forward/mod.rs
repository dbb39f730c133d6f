//! The forward table: `portholectl forward` against `kubectl port-forward`
//! and against the Pod's own address (no forward: the limit), in one run,
//! on the same Pod port (`pod/download-0 :8080`, the download backend) and
//! the same kubeconfig: download throughput, connection set-up latency,
//! peak memory; then heal time on a test workload (kubectl's forward dies).
//!
//! - [`process`]: the two forwards as child processes.
//! - [`probe`]: one timed HTTP exchange on a fresh connection.
//! - [`heal`]: the heal rounds.

mod heal;
mod probe;
mod process;

use std::net::SocketAddr;
use std::time::Duration;

use porthole_testkit::Cluster;

use crate::Args;
use crate::conn::{Endpoint, Get};
use crate::download;
use crate::error::{Error, Result};
use crate::proxies;
use crate::report::{FORWARD_COLUMNS, Row, render};
use crate::stats::{Samples, median, millis};

use heal::{Heal, Outcome};
use process::{Forwarder, Programs, Tool};

const NAMESPACE: &str = "default";
const POD: &str = "pod/download-0";
const POD_PORT: &str = "8080";
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections before the measured ones (the first stream of a forward
/// is set up lazily by kubectl; not what a steady client sees).
const WARMUP_CONNECTIONS: usize = 5;
/// The set-up cell fails when more than this share of connections failed.
const MAX_ERROR_SHARE: f64 = 0.05;

fn progress(text: &str) {
    eprintln!("porthole-bench: {text}");
}

/// The three ways to the Pod port: its address, then each forward's.
struct Ways {
    addrs: [SocketAddr; 3],
}

const NAMES: [&str; 3] = ["direct", "kubectl port-forward", "portholectl forward"];

/// Runs every forward cell and returns the table.
pub async fn table(cluster: &Cluster, args: &Args) -> Result<String> {
    let missing = |e: porthole_testkit::Error| Error::Cluster(e.to_string());
    let admin = cluster
        .state
        .user("admin")
        .ok_or_else(|| Error::Cluster("no user admin in the cluster state".into()))?;
    let programs = Programs {
        kubectl: args.kubectl.clone(),
        portholectl: proxies::portholectl(args.portholectl.clone())?,
        kubeconfig: admin.kubeconfig.clone(),
        logs: cluster.scratch_dir("bench").map_err(missing)?,
    };
    let direct: SocketAddr = cluster
        .backend_addr("download", "download")
        .and_then(|a| a.parse().ok())
        .ok_or_else(|| Error::Cluster("the download backend's address is not recorded".into()))?;

    let kubectl = Forwarder::start(
        Tool::Kubectl,
        &programs,
        NAMESPACE,
        POD,
        POD_PORT,
        "kubectl-port-forward",
    )
    .await?;
    let porthole = Forwarder::start(
        Tool::Porthole,
        &programs,
        NAMESPACE,
        POD,
        POD_PORT,
        "portholectl-forward",
    )
    .await?;
    progress(&format!(
        "forward {NAMESPACE}/{POD}:{POD_PORT}: direct {direct}, kubectl port-forward on {}, portholectl forward on {}",
        kubectl.addr, porthole.addr
    ));
    let ways = Ways {
        addrs: [direct, kubectl.addr, porthole.addr],
    };
    for (addr, name) in ways.addrs.iter().zip(NAMES) {
        let answer = probe::get(*addr, "/healthz", PROBE_TIMEOUT)
            .await
            .map_err(|e| Error::request(format!("GET /healthz through {name}"), e))?;
        if answer.status != 200 {
            return Err(Error::request(
                format!("GET /healthz through {name}"),
                format!("status {}", answer.status),
            ));
        }
    }

    let mut rows = Vec::new();
    let bytes = args.download_mib * 1024 * 1024;
    let mut speeds = [None; 3];
    for ((addr, name), speed) in ways.addrs.iter().zip(NAMES).zip(speeds.iter_mut()) {
        progress(&format!(
            "forward download: {} MiB through {name}",
            args.download_mib
        ));
        let get = Get {
            host: addr.to_string(),
            path: format!("/download?bytes={bytes}"),
        };
        let runs = download::speeds(&Endpoint::Plain(*addr), &get, bytes, name).await?;
        progress(&format!("  MiB/s: {runs:.0?}"));
        *speed = median(&runs);
    }
    rows.push(Row::new(
        format!(
            "forward download {} MiB, MiB/s (median of {})",
            args.download_mib,
            download::RUNS
        ),
        speeds,
    ));

    let n = args.forward_connections;
    progress(&format!(
        "forward set-up: {n} sequential connections per way (GET /healthz, connect → first byte)"
    ));
    let samples = setup_latency(&ways, n).await?;
    let at =
        |p: f64| -> [Option<f64>; 3] { samples.each_ref().map(|s| s.percentile(p).map(millis)) };
    rows.push(Row::new(
        format!("forward set-up p50 ms (connect → first byte, ×{n})"),
        at(50.0),
    ));
    rows.push(Row::new("forward set-up p95 ms", at(95.0)));

    let mib = |kib: Option<u64>| kib.map(|k| k as f64 / 1024.0);
    rows.push(Row::new(
        "forward peak RSS MiB (VmHWM)",
        [
            None,
            mib(kubectl.peak_rss_kib()),
            mib(porthole.peak_rss_kib()),
        ],
    ));
    drop((kubectl, porthole));

    progress(&format!(
        "heal: svc/db of a test workload, {} rounds: the forwarded Pod deleted with another ready",
        args.heal_rounds
    ));
    let heal = heal::measure(cluster, &programs, args.heal_rounds).await?;
    rows.push(heal_row(&heal, args.heal_rounds));
    Ok(render(FORWARD_COLUMNS, &rows))
}

/// `n` sequential connections per way, the ways taking turns (so load
/// from elsewhere on the machine falls on all three alike).
async fn setup_latency(ways: &Ways, n: usize) -> Result<[Samples; 3]> {
    for _ in 0..WARMUP_CONNECTIONS {
        for addr in ways.addrs {
            let _ = probe::get(addr, "/healthz", PROBE_TIMEOUT).await;
        }
    }
    let mut samples: [Samples; 3] = Default::default();
    let mut errors = [0usize; 3];
    let mut last_error: [Option<String>; 3] = Default::default();
    for _ in 0..n {
        for i in 0..3 {
            match probe::get(ways.addrs[i], "/healthz", PROBE_TIMEOUT).await {
                Ok(a) if a.status == 200 => samples[i].push(a.first_byte),
                Ok(a) => {
                    errors[i] += 1;
                    last_error[i] = Some(format!("status {}", a.status));
                }
                Err(e) => {
                    errors[i] += 1;
                    last_error[i] = Some(e);
                }
            }
        }
    }
    for i in 0..3 {
        progress(&format!(
            "  {}: {} connections, {} failed",
            NAMES[i],
            samples[i].len(),
            errors[i]
        ));
        if samples[i].is_empty() || errors[i] as f64 > MAX_ERROR_SHARE * n as f64 {
            return Err(Error::request(
                format!("{n} connections through {}", NAMES[i]),
                format!(
                    "{} failed; the last: {}",
                    errors[i],
                    last_error[i].as_deref().unwrap_or("none")
                ),
            ));
        }
    }
    Ok(samples)
}

fn heal_row(heal: &Heal, rounds: usize) -> Row {
    let ms: Vec<f64> = heal.porthole.iter().map(|d| millis(*d)).collect();
    let row = Row::new(
        format!("heal ms: pod deleted → next good connection (median of {rounds})"),
        [None, None, median(&ms)],
    );
    match &heal.kubectl {
        Outcome::Died { status, .. } => match status.code() {
            Some(code) => row.kubectl_note(format!("dies (exit {code})")),
            None => row.kubectl_note("dies"),
        },
        Outcome::Stuck { .. } => row.kubectl_note("fails, stays up"),
        // Not expected of kubectl; shown as measured if it happens.
        Outcome::Healed(took) => Row {
            kubectl: Some(millis(*took)),
            ..row
        },
    }
}
