//! The app's entry points: `Workspace::discovery` and
//! `Workspace::watch_services`, which starts over when the context's
//! client is rebuilt (kubeconfig edited) or the proxy port changes.

use std::time::Duration;

use porthole_core::discovery::{ServiceListChange, ServiceListUpdate, ServiceQuery, ServiceWatch};
use porthole_core::kubeconfig::KubeconfigSources;
use porthole_core::workspace::{Workspace, WorkspaceOptions};
use serde_json::json;

use crate::support::*;

async fn reset(watch: &mut ServiceWatch, within: Duration) -> ServiceListUpdate {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let update = next(watch, left).await;
        if matches!(update.change, ServiceListChange::Reset { .. }) {
            return update;
        }
    }
}

fn first_url(update: &ServiceListUpdate) -> String {
    match &update.change {
        ServiceListChange::Reset { services, .. } => services
            .iter()
            .find(|s| s.name == "web")
            .and_then(|s| s.first_urls())
            .map(|u| u.porthole_url.clone())
            .unwrap_or_default(),
        _ => String::new(),
    }
}

#[tokio::test]
async fn the_live_list_follows_kubeconfig_edits_and_the_proxy_port() {
    let _one = WATCHES.lock().await;
    let dir = cluster()
        .scratch_dir(&format!("discovery-workspace-{}", std::process::id()))
        .expect("scratch");
    let text = std::fs::read_to_string(cluster().kubeconfig()).expect("kubeconfig");
    let mut doc: serde_json::Value = serde_saphyr::from_str(&text).expect("YAML");
    let path = dir.join("kubeconfig.json");
    std::fs::write(&path, serde_json::to_vec(&doc).expect("json")).expect("write");
    let workspace = Workspace::start(WorkspaceOptions {
        sources: Some(KubeconfigSources::explicit(&path)),
        settings_path: Some(dir.join("settings.json")),
        probe_timeout: Duration::from_secs(8),
        reprobe_every: None,
        login_shell_path: false,
        login_shell: None,
        proxy_autostart: false,
    })
    .await;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while workspace.discovery("porthole-admin").is_none() {
        assert!(std::time::Instant::now() < deadline, "no client");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(workspace.discovery("no-such-context").is_none());
    let namespaces = workspace
        .discovery("porthole-admin")
        .expect("discovery")
        .namespaces(&[])
        .await;
    assert!(namespaces.listed);

    let mut watch = workspace.watch_services("porthole-admin", ServiceQuery::namespace("team-a"));
    let first = reset(&mut watch, Duration::from_secs(30)).await;
    assert_eq!(first.context, "porthole-admin");
    assert_eq!(
        first_url(&first),
        "http://http.web.team-a.porthole-admin.localhost:8001/"
    );

    // The user's kubeconfig changes (the context gets a namespace): the
    // client is rebuilt and the watch starts over on it.
    if let Some(contexts) = doc["contexts"].as_array_mut() {
        for c in contexts {
            if c["name"] == "porthole-admin" {
                c["context"]["namespace"] = json!("team-a");
            }
        }
    }
    let tmp = dir.join("kubeconfig.tmp");
    std::fs::write(&tmp, serde_json::to_vec(&doc).expect("json")).expect("write");
    std::fs::rename(&tmp, &path).expect("rename");
    let again = reset(&mut watch, Duration::from_secs(20)).await;
    assert_eq!(again.watch_id, first.watch_id);
    assert_eq!(
        workspace
            .discovery("porthole-admin")
            .map(|d| d.context_namespace().to_owned()),
        Some("team-a".to_owned())
    );

    // Another proxy port: the links change with it.
    let mut proxy = workspace.settings().proxy;
    proxy.port = 18_765;
    workspace
        .set_proxy_settings(proxy)
        .await
        .expect("settings saved");
    let moved = reset(&mut watch, Duration::from_secs(20)).await;
    assert_eq!(
        first_url(&moved),
        "http://http.web.team-a.porthole-admin.localhost:18765/"
    );
}
