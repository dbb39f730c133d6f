//! No token, key, password, refresh token or exec output reaches anything
//! the app shows or writes: statuses, context lists, config views, error
//! messages, `Debug` output or logs (captured at TRACE, every crate). The
//! workspace runs over every auth method of the test cluster, plus
//! contexts that fail with a secret in hand (a wrong token, a plugin that
//! prints its token to stderr).

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use porthole_core::cluster::ContextStatus;
use porthole_core::kubeconfig::KubeconfigSources;
use porthole_core::workspace::{Workspace, WorkspaceOptions};
use porthole_testkit::cluster;
use serde_json::{Value, json};

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut b) = self.0.lock() {
            b.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Every secret-looking value in a kubeconfig document.
fn secrets_in(value: &Value, key: Option<&str>, out: &mut Vec<String>) {
    const SECRET_KEYS: &[&str] = &[
        "token",
        "client-key-data",
        "password",
        "client-secret",
        "refresh-token",
        "id-token",
    ];
    match value {
        Value::String(s) if key.is_some_and(|k| SECRET_KEYS.contains(&k)) && s.len() >= 8 => {
            out.push(s.clone());
        }
        Value::Object(map) => map.iter().for_each(|(k, v)| secrets_in(v, Some(k), out)),
        Value::Array(items) => items.iter().for_each(|v| secrets_in(v, key, out)),
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_statuses_views_errors_debug_or_logs() {
    let capture = Capture::default();
    let writer = capture.clone();
    tracing_subscriber::fmt()
        .with_env_filter("trace")
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .init();

    let c = cluster();
    let text = std::fs::read_to_string(c.kubeconfig()).expect("kubeconfig");
    let mut doc: Value = serde_saphyr::from_str(&text).expect("yaml");
    let mut secrets = Vec::new();
    secrets_in(&doc, None, &mut secrets);
    for user in &c.state.users {
        secrets.extend(user.token.clone());
    }
    if let Some(oidc) = &c.state.oidc {
        secrets.push(oidc.client_secret.clone());
        secrets.push(oidc.refresh_token.clone());
    }
    if let Some(basic) = &c.state.basic_auth {
        secrets.push(basic.password.clone());
    }

    // Failing contexts that hold secrets: a wrong token, and a plugin that
    // leaks its token on stderr and fails.
    let dir = c.scratch_dir("secret-scan").expect("scratch");
    let leaky = dir.join("leaky-plugin");
    std::fs::write(
        &leaky,
        "#!/bin/sh\necho 'refresh failed, token=porthole-leaky-token-0123456789abcdef' >&2\necho 'porthole-stdout-secret-9876543210fedcba'\nexit 2\n",
    )
    .expect("plugin");
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&leaky, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    secrets.push("porthole-leaky-token-0123456789abcdef".into());
    secrets.push("porthole-stdout-secret-9876543210fedcba".into());
    secrets.push("porthole-wrong-token-4242424242".into());
    let users = doc["users"].as_array_mut().expect("users");
    users.push(json!({ "name": "wrong", "user": { "token": "porthole-wrong-token-4242424242" } }));
    users.push(json!({ "name": "leaky", "user": { "exec": {
        "apiVersion": "client.authentication.k8s.io/v1", "command": leaky.display().to_string(),
        "interactiveMode": "Never" } } }));
    let contexts = doc["contexts"].as_array_mut().expect("contexts");
    contexts
        .push(json!({ "name": "wrong", "context": { "cluster": "porthole", "user": "wrong" } }));
    contexts
        .push(json!({ "name": "leaky", "context": { "cluster": "porthole", "user": "leaky" } }));
    let path = dir.join("all.json");
    std::fs::write(&path, serde_json::to_vec(&doc).expect("json")).expect("write");
    assert!(
        secrets.len() >= 10,
        "the scan needs secrets to look for: {}",
        secrets.len()
    );

    let ws = Workspace::start(WorkspaceOptions {
        sources: Some(KubeconfigSources::explicit(&path)),
        settings_path: Some(dir.join("settings.json")),
        reprobe_every: None,
        login_shell_path: false,
        proxy_autostart: false,
        ..WorkspaceOptions::default()
    })
    .await;
    let started = Instant::now();
    while ws
        .statuses()
        .iter()
        .any(|u| matches!(u.status, ContextStatus::Checking))
    {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{:?}",
            ws.statuses()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let reachable = ws
        .statuses()
        .iter()
        .filter(|u| matches!(u.status, ContextStatus::Reachable { .. }))
        .count();
    assert!(reachable >= 8, "most contexts answer: {:?}", ws.statuses());

    let mut shown = String::new();
    shown += &serde_json::to_string(&ws.contexts()).expect("json");
    shown += &serde_json::to_string(&ws.statuses()).expect("json");
    for update in ws.statuses() {
        if let ContextStatus::Failed { problem } = &update.status {
            shown += &problem.to_string();
        }
        shown += &ws.config_view_yaml(&update.context).await.expect("view");
        if let Some(client) = ws.client(&update.context) {
            shown += &format!("{client:?}");
        }
    }
    shown += &format!("{:?}", ws.snapshot());
    let logs = String::from_utf8_lossy(&capture.0.lock().expect("logs")).into_owned();
    assert!(
        logs.len() > 1000,
        "logs were captured ({} bytes)",
        logs.len()
    );

    let mut hits = Vec::new();
    for secret in &secrets {
        if shown.contains(secret.as_str()) {
            hits.push(format!("shown: {}…", &secret[..6]));
        }
        if logs.contains(secret.as_str()) {
            hits.push(format!("logs: {}…", &secret[..6]));
        }
    }
    println!(
        "secret scan: {} secrets, {} bytes shown, {} bytes of TRACE logs, {} hits",
        secrets.len(),
        shown.len(),
        logs.len(),
        hits.len()
    );
    assert!(hits.is_empty(), "secrets leaked: {hits:?}");
}
