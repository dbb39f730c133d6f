//! The app's workspace against the real apiserver: statuses for every
//! context, kubeconfig edits (in place, temp + rename, broken, fixed, a
//! rotated token file) reflected without a restart, files added and
//! removed through settings, and exec plugins found on the login shell's
//! PATH only thanks to it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use porthole_core::cluster::{ClusterProblem, ContextStatus};
use porthole_core::kubeconfig::{KubeconfigSources, SourceState};
use porthole_core::workspace::{Workspace, WorkspaceOptions};
use serde_json::{Value, json};

use crate::support::*;

const WAIT: Duration = Duration::from_secs(20);

fn options(kubeconfig: &Path, dir: &Path) -> WorkspaceOptions {
    WorkspaceOptions {
        sources: Some(KubeconfigSources::explicit(kubeconfig)),
        settings_path: Some(dir.join("settings.json")),
        probe_timeout: Duration::from_secs(8),
        reprobe_every: None,
        login_shell_path: false,
        login_shell: None,
        proxy_autostart: false,
    }
}

fn doc(contexts: &[(&str, &str)], users: Vec<(&str, Value)>) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{ "name": "c", "cluster": cluster_entry() }],
        "users": users.into_iter().map(|(n, u)| json!({ "name": n, "user": u })).collect::<Vec<_>>(),
        "contexts": contexts.iter().map(|(n, u)| json!({ "name": n, "context": { "cluster": "c", "user": u } })).collect::<Vec<_>>(),
        "current-context": contexts[0].0,
    })
}

/// The harness's exec plugin with its own run counter.
fn exec_with_counter(counter: &Path) -> Value {
    let mut user = user_entry("exec-user");
    if let Some(args) = user["exec"]["args"].as_array_mut()
        && let Some(i) = args.iter().position(|a| a == "--counter")
    {
        args[i + 1] = json!(counter.display().to_string());
    }
    user
}

/// Replaces a file the way editors and `aws eks update-kubeconfig` do.
fn replace(path: &Path, text: &[u8]) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).expect("write temp");
    std::fs::rename(&tmp, path).expect("rename");
}

/// Waits until `check` holds for the workspace's statuses.
async fn until(ws: &Workspace, what: &str, check: impl Fn(&Workspace) -> bool) -> Duration {
    let started = Instant::now();
    while !check(ws) {
        assert!(
            started.elapsed() < WAIT,
            "{what} did not happen within {WAIT:?}; statuses: {:?}",
            ws.statuses()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    started.elapsed()
}

fn status_of(ws: &Workspace, context: &str) -> Option<ContextStatus> {
    ws.statuses()
        .into_iter()
        .find(|u| u.context == context)
        .map(|u| u.status)
}

fn user_of(ws: &Workspace, context: &str) -> Option<String> {
    match status_of(ws, context) {
        Some(ContextStatus::Reachable { user, .. }) => user,
        _ => None,
    }
}

#[tokio::test]
async fn the_workspace_probes_every_context_and_follows_kubeconfig_edits() {
    let dir = scratch("ws-edits");
    std::fs::write(
        dir.join("token"),
        cluster().user("viewer").token.clone().expect("token"),
    )
    .expect("token file");
    let counter = dir.join("exec-runs");
    let users = || {
        vec![
            ("admin", user_entry("admin")),
            ("viewer", user_entry("viewer")),
            ("from-file", json!({ "tokenFile": "token" })),
            ("plugin", exec_with_counter(&counter)),
        ]
    };
    let path = dir.join("config.json");
    let first = doc(
        &[
            ("a", "admin"),
            ("v", "viewer"),
            ("f", "from-file"),
            ("e", "plugin"),
        ],
        users(),
    );
    std::fs::write(&path, serde_json::to_vec(&first).expect("json")).expect("write");

    let ws = Workspace::start(options(&path, &dir)).await;
    assert_eq!(ws.contexts().contexts.len(), 4);
    until(&ws, "first statuses", |ws| {
        user_of(ws, "e").as_deref() == Some("exec-user")
            && user_of(ws, "a").as_deref() == Some("admin")
            && user_of(ws, "v").as_deref() == Some("viewer")
            && user_of(ws, "f").as_deref() == Some("viewer")
    })
    .await;

    // Replaced with a new context: listed and probed without a restart.
    let second = doc(
        &[
            ("a", "admin"),
            ("v", "viewer"),
            ("f", "from-file"),
            ("e", "plugin"),
            ("added", "admin"),
        ],
        users(),
    );
    replace(&path, &serde_json::to_vec(&second).expect("json"));
    let listed = until(&ws, "the new context listed", |ws| {
        ws.contexts().contexts.iter().any(|c| c.name == "added")
    })
    .await;
    let probed = until(&ws, "the new context probed", |ws| {
        user_of(ws, "added").as_deref() == Some("admin")
    })
    .await;
    assert_eq!(
        count(&counter),
        1,
        "an unchanged context keeps its client and cached exec credential"
    );
    println!(
        "kubeconfig replaced (temp + rename): new context listed after {} ms, reachable after {} ms",
        listed.as_millis(),
        (listed + probed).as_millis()
    );

    // The referenced token file rewritten with a token the apiserver does
    // not know: the status follows.
    replace(&dir.join("token"), b"no-such-token\n");
    let seen = until(&ws, "the token-file context turning unauthorized", |ws| {
        matches!(
            status_of(ws, "f"),
            Some(ContextStatus::Failed {
                problem: ClusterProblem::Unauthorized { .. }
            })
        )
    })
    .await;
    println!(
        "token file rewritten: status changed after {} ms",
        seen.as_millis()
    );

    // Broken in place: last good contexts stay, marked stale.
    std::fs::write(&path, b"apiVersion: v1\nclusters: [ this is not yaml").expect("write");
    until(&ws, "the broken file reported", |ws| {
        let list = ws.contexts();
        list.contexts.len() == 5
            && list.contexts.iter().all(|c| c.stale)
            && matches!(list.sources[0].state, SourceState::Malformed { .. })
    })
    .await;
    // Fixed again.
    replace(&path, &serde_json::to_vec(&first).expect("json"));
    until(&ws, "the fixed file", |ws| {
        let list = ws.contexts();
        list.contexts.len() == 4 && list.contexts.iter().all(|c| !c.stale)
    })
    .await;
}

#[tokio::test]
async fn files_added_in_settings_are_merged_and_removed_again() {
    let dir = scratch("ws-added");
    let main = dir.join("main.json");
    std::fs::write(
        &main,
        serde_json::to_vec(&doc(
            &[("main", "admin")],
            vec![("admin", user_entry("admin"))],
        ))
        .expect("json"),
    )
    .expect("write");
    let extra = dir.join("extra.json");
    std::fs::write(
        &extra,
        serde_json::to_vec(&doc(
            &[("extra", "viewer")],
            vec![("viewer", user_entry("viewer"))],
        ))
        .expect("json"),
    )
    .expect("write");

    let ws = Workspace::start(options(&main, &dir)).await;
    let settings = ws
        .add_kubeconfig(&extra.display().to_string())
        .await
        .expect("added");
    assert_eq!(settings.kubeconfigs, vec![extra.display().to_string()]);
    until(&ws, "the added file's context reachable", |ws| {
        user_of(ws, "extra").as_deref() == Some("viewer")
    })
    .await;
    let list = ws.contexts();
    assert!(
        list.sources
            .iter()
            .any(|s| s.added && s.path == extra.display().to_string())
    );
    let saved = std::fs::read_to_string(dir.join("settings.json")).expect("settings saved");
    assert!(saved.contains("extra.json"), "{saved}");

    ws.remove_kubeconfig(&extra.display().to_string())
        .await
        .expect("removed");
    until(&ws, "the removed file's context gone", |ws| {
        ws.contexts().contexts.iter().all(|c| c.name != "extra")
    })
    .await;
    assert!(extra.exists(), "removing never deletes the user's file");

    let err = ws
        .add_kubeconfig(&dir.join("missing.yaml").display().to_string())
        .await
        .expect_err("a missing file is refused");
    assert!(err.to_string().contains("missing.yaml"), "{err}");
}

/// A fake login shell: the real sh with a throwaway HOME whose `.profile`
/// puts `dir` on PATH (what a user's profile does for `~/.local/bin`).
fn login_shell_adding(sandbox: &Path, dir: &Path) -> PathBuf {
    let home = sandbox.join("home");
    std::fs::create_dir_all(&home).expect("mkdir home");
    std::fs::write(
        home.join(".profile"),
        format!("PATH=\"$PATH:{}\"\nexport PATH\n", dir.display()),
    )
    .expect("profile");
    script(
        sandbox,
        "fake-login-shell",
        &format!("HOME='{}' exec /bin/sh \"$@\"", home.display()),
    )
}

#[tokio::test]
async fn an_exec_plugin_on_the_login_shell_path_only_is_found_thanks_to_it() {
    let dir = scratch("ws-login-path");
    let plugin_dir = dir.join("only-in-profile");
    std::fs::create_dir_all(&plugin_dir).expect("mkdir");
    let token = cluster().user("viewer").token.clone().expect("token");
    script(
        &plugin_dir,
        "porthole-profile-only-plugin",
        &format!(
            "printf '{{\"kind\":\"ExecCredential\",\"apiVersion\":\"client.authentication.k8s.io/v1\",\"status\":{{\"token\":\"{token}\"}}}}'"
        ),
    );
    let user = json!({ "exec": { "apiVersion": "client.authentication.k8s.io/v1",
        "command": "porthole-profile-only-plugin", "interactiveMode": "Never" } });
    let path = dir.join("config.json");
    std::fs::write(
        &path,
        serde_json::to_vec(&doc(&[("p", "u")], vec![("u", user)])).expect("json"),
    )
    .expect("write");

    // Without the login shell: not found, and the message lists the PATH.
    let plain = Workspace::start(options(&path, &dir)).await;
    until(&plain, "plugin not found", |ws| {
        matches!(
            status_of(ws, "p"),
            Some(ContextStatus::Failed {
                problem: ClusterProblem::PluginNotFound { .. }
            })
        )
    })
    .await;
    if let Some(ContextStatus::Failed {
        problem: ClusterProblem::PluginNotFound { searched, .. },
    }) = status_of(&plain, "p")
    {
        assert!(
            !searched.contains(&plugin_dir.display().to_string()),
            "{searched:?}"
        );
    }

    // With a login shell whose profile adds the directory: found.
    let mut opts = options(&path, &dir);
    opts.login_shell_path = true;
    opts.login_shell = Some(login_shell_adding(&dir, &plugin_dir));
    opts.settings_path = Some(dir.join("settings-2.json"));
    let ws = Workspace::start(opts).await;
    until(&ws, "plugin found through the login shell's PATH", |ws| {
        user_of(ws, "p").as_deref() == Some("viewer")
    })
    .await;

    // And the extra PATH directories from settings do the same.
    let plain = Arc::new(plain);
    plain
        .set_extra_path_dirs(vec![plugin_dir.display().to_string()])
        .await
        .expect("saved");
    until(
        &plain,
        "plugin found through the extra PATH setting",
        |ws| user_of(ws, "p").as_deref() == Some("viewer"),
    )
    .await;
}
