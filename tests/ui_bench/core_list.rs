//! The core half: from selecting a context (a workspace whose client is
//! ready) to the complete service list in porthole-core, twice.

use std::path::Path;
use std::time::{Duration, Instant};

use porthole_core::discovery::{ServiceListChange, ServiceQuery};
use porthole_core::kubeconfig::KubeconfigSources;
use porthole_core::workspace::{Workspace, WorkspaceOptions};

/// One round: select → the first rows (a partial list: when, how many),
/// and → the complete list.
#[derive(Debug, Clone, Copy)]
pub struct CoreList {
    pub first_rows: Option<(Duration, usize)>,
    pub complete: Duration,
    pub services: usize,
}

pub fn complete_list_times(kubeconfig: &Path, context: &str, rounds: usize) -> Vec<CoreList> {
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
            let mut first_rows = None;
            loop {
                let update = tokio::time::timeout(Duration::from_secs(120), watch.recv())
                    .await
                    .expect("the complete list within 120 s")
                    .expect("the watch ended before its first list");
                match update.change {
                    ServiceListChange::Partial { services } => {
                        first_rows.get_or_insert((selected.elapsed(), services.len()));
                    }
                    ServiceListChange::Reset {
                        services, degraded, ..
                    } => {
                        assert!(degraded.is_empty(), "degraded: {degraded:?}");
                        out.push(CoreList {
                            first_rows,
                            complete: selected.elapsed(),
                            services: services.len(),
                        });
                        break;
                    }
                    other => panic!("partial lists then a reset come first, got {other:?}"),
                }
            }
        }
        out
    })
}
