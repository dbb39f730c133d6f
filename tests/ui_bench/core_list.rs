//! The core half: from selecting a context (a workspace whose client is
//! ready) to the complete service list in porthole-core, twice.

use std::path::Path;
use std::time::{Duration, Instant};

use porthole_core::discovery::{ServiceListChange, ServiceQuery};
use porthole_core::kubeconfig::KubeconfigSources;
use porthole_core::workspace::{Workspace, WorkspaceOptions};

/// (time to the complete list, services in it) per round.
pub fn complete_list_times(
    kubeconfig: &Path,
    context: &str,
    rounds: usize,
) -> Vec<(Duration, usize)> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a Tokio runtime");
    runtime.block_on(async {
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
        while workspace.client(context).is_none() {
            assert!(
                Instant::now() < deadline,
                "no client for {context} after 30 s"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let mut out = Vec::new();
        for _ in 0..rounds {
            let selected = Instant::now();
            let mut watch = workspace.watch_services(context, ServiceQuery::all());
            let update = tokio::time::timeout(Duration::from_secs(120), watch.recv())
                .await
                .expect("the complete list within 120 s")
                .expect("the watch ended before its first list");
            let took = selected.elapsed();
            match update.change {
                ServiceListChange::Reset {
                    services, degraded, ..
                } => {
                    assert!(degraded.is_empty(), "degraded: {degraded:?}");
                    out.push((took, services.len()));
                }
                other => panic!("a reset comes first, got {other:?}"),
            }
        }
        out
    })
}
