//! The proxy table: the bench objects, both proxies, every cell on every
//! way, the watch and download cells, peak memory, and the rows.

use std::time::Duration;

use porthole_testkit::Cluster;

use crate::Args;
use crate::conn::{Endpoint, Get};
use crate::download;
use crate::error::{Error, Result};
use crate::fixtures::{BenchNamespace, LIST_ITEMS};
use crate::load::{self, Cell};
use crate::proxies::{self, Proxy};
use crate::report::{Goal, PROXY_COLUMNS, Row, render};
use crate::stats::{Samples, Summary, millis};
use crate::watch;
use crate::ways::{Kind, Service, Way};

const SANITY_TIMEOUT: Duration = Duration::from_secs(30);
const API_GET: &str = "/api/v1/namespaces/default";
const ECHO: Service<'static> = Service {
    namespace: "default",
    name: "echo",
    port: "80",
};

fn progress(text: &str) {
    eprintln!("porthole-bench: {text}");
}

/// Runs every proxy cell and returns the table.
pub async fn run(cluster: &Cluster, args: &Args) -> Result<String> {
    let client = cluster
        .client("admin")
        .await
        .map_err(|e| Error::Cluster(e.to_string()))?;
    let ns = BenchNamespace::create(client).await?;
    progress(&format!(
        "namespace {}: creating {LIST_ITEMS} ConfigMaps",
        ns.name
    ));
    let result = async {
        ns.fill().await?;
        measure(cluster, args, &ns).await
    }
    .await;
    let name = ns.name.clone();
    if let Err(e) = ns.remove().await {
        progress(&format!("warning: removing namespace {name}: {e}"));
    }
    Ok(render(PROXY_COLUMNS, &result?))
}

async fn measure(cluster: &Cluster, args: &Args, ns: &BenchNamespace) -> Result<Vec<Row>> {
    let state = &cluster.state;
    let missing = |e: porthole_testkit::Error| Error::Cluster(e.to_string());
    let admin = state
        .user("admin")
        .ok_or_else(|| Error::Cluster("no user admin in the cluster state".into()))?;
    let (cert, key) = state.client_cert_files("admin").map_err(missing)?;
    let api = state
        .apiserver
        .as_ref()
        .ok_or_else(|| Error::Cluster("the apiserver is not recorded in state.json".into()))?;
    let direct = Endpoint::tls_client_cert(
        std::net::SocketAddr::from(([127, 0, 0, 1], api.port)),
        state.ca_file().map_err(missing)?,
        cert,
        key,
    )?;
    let logs = cluster.scratch_dir("bench").map_err(missing)?;
    let kubectl = Proxy::start(
        "kubectl proxy",
        &args.kubectl,
        &admin.kubeconfig,
        &logs.join("kubectl-proxy.log"),
    )
    .await?;
    let portholectl = proxies::portholectl(args.portholectl.clone())?;
    let porthole = Proxy::start(
        "portholectl proxy",
        &portholectl,
        &admin.kubeconfig,
        &logs.join("portholectl-proxy.log"),
    )
    .await?;
    progress(&format!(
        "kubectl proxy on {} (pid {:?}), portholectl proxy on {} (pid {:?}), apiserver {}",
        kubectl.addr,
        kubectl.pid(),
        porthole.addr,
        porthole.pid(),
        api.url
    ));
    let ways = [
        Way::new(Kind::Direct, direct, &admin.context),
        Way::new(Kind::Kubectl, Endpoint::Plain(kubectl.addr), &admin.context),
        Way::new(
            Kind::Porthole,
            Endpoint::Plain(porthole.addr),
            &admin.context,
        ),
    ];
    let list_path = format!("/api/v1/namespaces/{}/configmaps", ns.name);
    for way in &ways {
        sanity(way, &way.api(API_GET)).await?;
        sanity(way, &way.service(ECHO, "/")).await?;
    }

    let warmup = Args::duration(args.warmup);
    let seconds = Args::duration(args.seconds);
    let one = Cell {
        connections: 1,
        warmup,
        measure: seconds,
    };
    let many = Cell {
        connections: args.connections,
        ..one
    };
    let n = args.connections;
    let mut rows = Vec::new();
    let api64 = load_rows(
        &mut rows,
        &ways,
        &format!("API GET ×{n}"),
        |w| w.api(API_GET),
        many,
    )
    .await?;
    load_rows(&mut rows, &ways, "API GET ×1", |w| w.api(API_GET), one).await?;
    load_rows(
        &mut rows,
        &ways,
        &format!("list {LIST_ITEMS} ×1"),
        |w| w.api(&list_path),
        one,
    )
    .await?;
    load_rows(
        &mut rows,
        &ways,
        "service GET ×1",
        |w| w.service(ECHO, "/"),
        one,
    )
    .await?;
    load_rows(
        &mut rows,
        &ways,
        &format!("service GET ×{n}"),
        |w| w.service(ECHO, "/"),
        many,
    )
    .await?;
    // The goals on the 64-connection API GET rows.
    if let Some(row) = rows.get_mut(api64) {
        *row = row.clone().goal(Goal::MinTimesKubectl(1.5));
    }
    if let Some(row) = rows.get_mut(api64 + 2) {
        *row = row.clone().goal(Goal::MaxTimesKubectl(0.7));
    }

    progress(&format!(
        "watch: {} events through each way at once",
        args.watch_events
    ));
    let latencies = watch::measure(&ways, ns, args.watch_events).await?;
    rows.extend(watch_rows(&latencies));

    let bytes = args.download_mib * 1024 * 1024;
    let mut speeds = [None; 3];
    for (way, speed) in ways.iter().zip(speeds.iter_mut()) {
        progress(&format!(
            "download: {} MiB through {}",
            args.download_mib,
            way.kind.name()
        ));
        *speed = Some(download::measure(way, bytes).await?);
    }
    rows.push(
        Row::new(
            format!("download {} MiB, MiB/s (best of 3)", args.download_mib),
            speeds,
        )
        .goal(Goal::MinShareOfDirect(0.9)),
    );

    let mib = |kib: Option<u64>| kib.map(|k| k as f64 / 1024.0);
    rows.push(
        Row::new(
            "peak RSS MiB (VmHWM)",
            [
                None,
                mib(kubectl.peak_rss_kib()),
                mib(porthole.peak_rss_kib()),
            ],
        )
        .goal(Goal::MaxTimesKubectl(0.7)),
    );
    Ok(rows)
}

/// One request per way before measuring: a wrong setup fails here, clearly.
async fn sanity(way: &Way, get: &Get) -> Result<()> {
    let mut sender = way.endpoint.connect().await?;
    let (status, _) = get.fetch(&mut sender, SANITY_TIMEOUT).await?;
    if status.is_success() {
        Ok(())
    } else {
        Err(Error::request(
            format!(
                "GET {} (Host {}) through {}",
                get.path,
                get.host,
                way.kind.name()
            ),
            format!("status {status}"),
        ))
    }
}

/// Runs one cell on every way and adds its three rows (req/s, p50, p99);
/// returns the index of the first.
async fn load_rows(
    rows: &mut Vec<Row>,
    ways: &[Way; 3],
    label: &str,
    get: impl Fn(&Way) -> Get,
    cell: Cell,
) -> Result<usize> {
    let mut summaries: Vec<Summary> = Vec::new();
    for way in ways {
        progress(&format!("{label}: {}", way.kind.name()));
        let summary = load::run(way.endpoint.clone(), get(way), cell).await?;
        progress(&format!(
            "  {} requests, {} failed",
            summary.requests, summary.errors
        ));
        summaries.push(summary);
    }
    let pick = |f: &dyn Fn(&Summary) -> f64| -> [Option<f64>; 3] {
        let mut out = [None; 3];
        for (o, s) in out.iter_mut().zip(&summaries) {
            *o = Some(f(s));
        }
        out
    };
    let first = rows.len();
    rows.push(Row::new(format!("{label} req/s"), pick(&|s| s.rps)));
    rows.push(Row::new(
        format!("{label} p50 ms"),
        pick(&|s| millis(s.p50)),
    ));
    rows.push(Row::new(
        format!("{label} p99 ms"),
        pick(&|s| millis(s.p99)),
    ));
    Ok(first)
}

fn watch_rows(latencies: &[Samples]) -> Vec<Row> {
    let at = |p: f64| -> [Option<f64>; 3] {
        let mut out = [None; 3];
        for (o, s) in out.iter_mut().zip(latencies) {
            *o = s.percentile(p).map(millis);
        }
        out
    };
    let p50 = at(50.0);
    let added = p50.map(|v| match (v, p50[0]) {
        (Some(v), Some(d)) => Some(v - d),
        _ => None,
    });
    vec![
        Row::new("watch event p50 ms (create → event)", p50),
        Row::new("watch event p99 ms", at(99.0)),
        Row::new("watch added latency p50 ms (vs direct)", added),
    ]
}
