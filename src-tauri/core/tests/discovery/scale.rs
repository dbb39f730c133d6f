//! 10,000 services in 100 namespaces: the time from selecting the context
//! (a workspace whose client is ready) to the complete list in core,
//! printed, never asserted tightly. `make test`'s cluster has no scale set,
//! so unless the attached cluster has one (`PORTHOLE_SCALE_SERVICES=10000`
//! / `porthole-cluster up --scale 10000`) this test starts its own with
//! the scale set, and stops it at the end.

use std::time::{Duration, Instant};

use porthole_core::discovery::{ServiceListChange, ServiceQuery};
use porthole_core::kubeconfig::KubeconfigSources;
use porthole_core::workspace::{Workspace, WorkspaceOptions};
use porthole_testkit::cluster::{Launch, launch};

use crate::support::*;

const SCALE: usize = 10_000;

#[test]
fn ten_thousand_services_complete_in_core() {
    // Alone among the watch tests: creating 10,000 services loads both
    // cores, which would distort their latencies (and this figure).
    let _one = WATCHES.blocking_lock();
    let attached = std::env::var_os("PORTHOLE_CLUSTER_DIR").is_some()
        && cluster()
            .state
            .fixtures
            .as_ref()
            .is_some_and(|f| f.scale_services >= SCALE);
    let (kubeconfig, mut owned) = if attached {
        (cluster().kubeconfig().to_path_buf(), None)
    } else {
        let started = Instant::now();
        let launched = launch(&Launch::owned(SCALE).expect("launch options"))
            .expect("a control plane with the scale set");
        println!(
            "started a private control plane with {SCALE} scale services in {:?}",
            started.elapsed()
        );
        (launched.state.kubeconfig.clone(), Some(launched))
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(measure(&kubeconfig));
    if let Some(launched) = owned.as_mut() {
        drop(launched.stdin.take());
        let _ = launched.child.wait();
    }
}

async fn measure(kubeconfig: &std::path::Path) {
    let dir = tempfile::tempdir().expect("temp dir");
    let workspace = Workspace::start(WorkspaceOptions {
        sources: Some(KubeconfigSources::explicit(kubeconfig)),
        settings_path: Some(dir.path().join("settings.json")),
        probe_timeout: Duration::from_secs(10),
        reprobe_every: None,
        login_shell_path: false,
        login_shell: None,
        proxy_autostart: false,
    })
    .await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while workspace.client("porthole-admin").is_none() {
        assert!(Instant::now() < deadline, "no client for porthole-admin");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut figures = Vec::new();
    for round in ["first", "second"] {
        let selected = Instant::now();
        let mut watch = workspace.watch_services("porthole-admin", ServiceQuery::all());
        // The first rows come early, as partial lists; then the reset.
        let mut first_rows = None;
        let update = loop {
            let update = next(&mut watch, Duration::from_secs(120)).await;
            match &update.change {
                ServiceListChange::Partial { services } => {
                    assert!(!services.is_empty(), "a partial list has rows");
                    assert!(
                        services.iter().all(|s| s.endpoints.is_none()),
                        "endpoint counts are not known in a partial list"
                    );
                    first_rows.get_or_insert((selected.elapsed(), services.len()));
                }
                _ => break update,
            }
        };
        let took = selected.elapsed();
        let ServiceListChange::Reset {
            services,
            degraded,
            took_ms,
        } = update.change
        else {
            panic!("partial lists, then a reset: {update:?}");
        };
        let (first_took, first_count) =
            first_rows.expect("a partial list before 10,000 services are complete");
        println!(
            "{round} watch: select context → first {first_count} rows in core: {first_took:?}"
        );
        assert!(degraded.is_empty(), "{degraded:?}");
        assert!(services.len() > SCALE, "{} services", services.len());
        let namespaces: std::collections::BTreeSet<&str> =
            services.iter().map(|s| s.namespace.as_str()).collect();
        println!(
            "{round} watch: select context → complete list in core: {took:?} ({} services in {} namespaces; watch says {took_ms} ms)",
            services.len(),
            namespaces.len()
        );
        figures.push(took);
        if round == "second" {
            // A change at this scale still shows fast.
            let t = Instant::now();
            let out = std::process::Command::new("kubectl")
                .arg("--kubeconfig")
                .arg(kubeconfig)
                .args([
                    "create",
                    "service",
                    "clusterip",
                    "scale-extra",
                    "--tcp=80:8080",
                    "-n",
                    "scale-000",
                ])
                .output()
                .expect("kubectl");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let returned = t.elapsed();
            let wait = Instant::now();
            loop {
                let u = next(&mut watch, Duration::from_secs(10)).await;
                if matches!(&u.change, ServiceListChange::Changed { upserted, .. } if upserted.iter().any(|s| s.name == "scale-extra"))
                {
                    break;
                }
            }
            println!(
                "at {SCALE} services: a created service showed {:?} after kubectl returned (kubectl took {returned:?})",
                wait.elapsed()
            );
            let _ = std::process::Command::new("kubectl")
                .arg("--kubeconfig")
                .arg(kubeconfig)
                .args([
                    "delete",
                    "service",
                    "scale-extra",
                    "-n",
                    "scale-000",
                    "--wait=false",
                ])
                .output();
        }
    }
    // For comparison, in the same run: the one-shot read and kubectl.
    let discovery = workspace.discovery("porthole-admin").expect("discovery");
    let t = Instant::now();
    let list = discovery.services(&ServiceQuery::all()).await;
    println!(
        "one-shot Discovery::services (all): {:?} for {} services",
        t.elapsed(),
        list.services.len()
    );
    let t = Instant::now();
    let out = std::process::Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(["get", "services", "-A", "-o", "json"])
        .output()
        .expect("kubectl");
    assert!(out.status.success());
    println!("kubectl get services -A -o json: {:?}", t.elapsed());
    assert!(
        figures.iter().all(|f| *f < Duration::from_secs(60)),
        "{figures:?}"
    );
}
