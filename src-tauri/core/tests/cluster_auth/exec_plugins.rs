//! Exec credential plugins: shared runs, caching until expiry, re-run after
//! a 401, timeouts, failures, v1 and v1beta1, env, provideClusterInfo,
//! stdin, relative commands.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use porthole_core::cluster::{ClusterProblem, ContextStatus};
use serde_json::{Value, json};

use crate::support::*;

const V1: &str = "client.authentication.k8s.io/v1";
const V1BETA1: &str = "client.authentication.k8s.io/v1beta1";

fn viewer_token() -> String {
    cluster()
        .user("viewer")
        .token
        .clone()
        .expect("viewer has a token")
}

/// The harness's plugin entry for exec-user, with its run counter moved to
/// `counter` and its token lifetime set to `ttl`.
fn harness_plugin(counter: &Path, ttl: u64) -> Value {
    let mut user = user_entry("exec-user");
    let args = user["exec"]["args"].as_array_mut().expect("plugin args");
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            Some("--counter") => args[i + 1] = json!(counter.display().to_string()),
            Some("--ttl-secs") => args[i + 1] = json!(ttl.to_string()),
            _ => {}
        }
        i += 1;
    }
    user
}

/// A shell plugin printing an ExecCredential with `token`, counting runs.
fn token_script(dir: &Path, api_version: &str, extra: &str) -> std::path::PathBuf {
    script(
        dir,
        "plugin.sh",
        &format!(
            r#"n=$(cat "{dir}/runs" 2>/dev/null || echo 0); echo $((n+1)) > "{dir}/runs"
{extra}
printf '{{"kind":"ExecCredential","apiVersion":"{api_version}","status":{{"token":"%s"}}}}' "${{TOKEN:-{token}}}""#,
            dir = dir.display(),
            token = viewer_token(),
        ),
    )
}

fn exec_user(command: &Path, api_version: &str, more: Value) -> Value {
    let mut exec = json!({
        "apiVersion": api_version,
        "command": command.display().to_string(),
        "interactiveMode": "Never",
    });
    if let (Some(e), Some(m)) = (exec.as_object_mut(), more.as_object()) {
        e.extend(m.clone());
    }
    json!({ "exec": exec })
}

#[tokio::test]
async fn a_hundred_concurrent_requests_share_one_plugin_run() {
    let dir = scratch("exec-concurrent");
    let counter = dir.join("runs");
    let path = write(
        &dir,
        &single(cluster_entry(), harness_plugin(&counter, 300)),
    );
    let c = client(&path, "ctx").await;
    let started = Instant::now();
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let c = c.clone();
            tokio::spawn(async move { get_status(&c, "/api/v1/namespaces/default/services").await })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.expect("task"), 200);
    }
    let runs = count(&counter);
    println!(
        "100 concurrent requests through an exec-plugin context: {runs} plugin run(s), {} ms",
        started.elapsed().as_millis()
    );
    assert_eq!(runs, 1, "plugin runs for 100 concurrent requests");
    assert_eq!(c.authenticator().exec().expect("exec").runs(), 1);
    // Cached: more requests, no more runs.
    assert_eq!(get_status(&c, "/version").await, 200);
    assert_eq!(count(&counter), 1);
}

#[tokio::test]
async fn a_token_past_its_expiry_is_refreshed_not_failed() {
    let dir = scratch("exec-expiry");
    let counter = dir.join("runs");
    let path = write(&dir, &single(cluster_entry(), harness_plugin(&counter, 2)));
    let c = client(&path, "ctx").await;
    assert_eq!(identity(&c).await.0, "exec-user");
    assert_eq!(count(&counter), 1);
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert_eq!(
        identity(&c).await.0,
        "exec-user",
        "the request after expiry succeeds"
    );
    assert_eq!(
        count(&counter),
        2,
        "the expired token was refreshed by a new run"
    );
}

#[tokio::test]
async fn a_401_drops_the_credential_and_the_plugin_runs_again() {
    let dir = scratch("exec-401");
    // First run hands out a token the apiserver does not know.
    let plugin = token_script(
        &dir,
        V1,
        r#"[ "$(cat "$(dirname "$0")/runs")" = 1 ] && TOKEN=bogus-first-token"#,
    );
    let path = write(
        &dir,
        &single(cluster_entry(), exec_user(&plugin, V1, json!({}))),
    );
    let c = client(&path, "ctx").await;
    assert_eq!(
        get_status(&c, "/api/v1/namespaces/team-a/services").await,
        200
    );
    assert_eq!(
        count(&dir.join("runs")),
        2,
        "one bad run, one re-run after the 401"
    );
}

#[tokio::test]
async fn v1beta1_env_and_cluster_info_reach_the_plugin_with_stdin_closed() {
    let dir = scratch("exec-v1beta1");
    let server = cluster_entry()["server"]
        .as_str()
        .expect("server")
        .to_owned();
    let plugin = token_script(
        &dir,
        V1BETA1,
        &format!(
            r#"[ "$PORTHOLE_TEST_ENV" = "from-kubeconfig" ] || {{ echo "env missing" >&2; exit 3; }}
echo "$KUBERNETES_EXEC_INFO" | grep -q '"server":"{server}"' || {{ echo "no cluster info: $KUBERNETES_EXEC_INFO" >&2; exit 4; }}
echo "$KUBERNETES_EXEC_INFO" | grep -q '"certificate-authority-data":"' || {{ echo "no CA" >&2; exit 5; }}
echo "$KUBERNETES_EXEC_INFO" | grep -q '"interactive":false' || {{ echo "interactive?" >&2; exit 6; }}
if read -r line; then echo "stdin is open" >&2; exit 7; fi"#
        ),
    );
    let user = exec_user(
        &plugin,
        V1BETA1,
        json!({
            "env": [{ "name": "PORTHOLE_TEST_ENV", "value": "from-kubeconfig" }],
            "provideClusterInfo": true,
        }),
    );
    let path = write(&dir, &single(cluster_entry(), user));
    let c = client(&path, "ctx").await;
    assert_eq!(identity(&c).await.0, "viewer");
}

#[tokio::test]
async fn a_relative_command_with_a_slash_is_found_next_to_the_kubeconfig() {
    let dir = scratch("exec-relative");
    std::fs::create_dir_all(dir.join("bin")).expect("mkdir");
    token_script(&dir.join("bin"), V1, "");
    let user = json!({ "exec": {
        "apiVersion": V1, "command": "./bin/plugin.sh", "interactiveMode": "Never" } });
    let path = write(&dir, &single(cluster_entry(), user));
    assert_eq!(identity(&client(&path, "ctx").await).await.0, "viewer");
}

#[tokio::test]
async fn a_failing_plugin_reports_its_exit_code_and_scrubbed_stderr() {
    let dir = scratch("exec-fails");
    let plugin = script(
        &dir,
        "plugin.sh",
        "echo 'error: could not refresh: token=abc123supersecretvalue expired' >&2\necho 'second line' >&2\nexit 42",
    );
    let path = write(
        &dir,
        &single(cluster_entry(), exec_user(&plugin, V1, json!({}))),
    );
    match status(&client(&path, "ctx").await).await {
        ContextStatus::Failed {
            problem:
                ClusterProblem::PluginFailed {
                    exit_code, stderr, ..
                },
        } => {
            assert_eq!(exit_code, Some(42));
            assert_eq!(stderr.len(), 2, "{stderr:?}");
            assert!(stderr[0].contains("could not refresh"), "{stderr:?}");
            assert!(
                !stderr.join(" ").contains("abc123supersecretvalue"),
                "{stderr:?}"
            );
        }
        other => panic!("expected a plugin failure, got {other:?}"),
    }
}

#[tokio::test]
async fn a_plugin_not_on_the_path_names_itself_and_the_path_searched() {
    let dir = scratch("exec-missing");
    let user = json!({ "exec": {
        "apiVersion": V1, "command": "porthole-no-such-plugin", "interactiveMode": "Never",
        "installHint": "install it with: apt-get install porthole-no-such-plugin" } });
    let path = write(&dir, &single(cluster_entry(), user));
    match status(&client(&path, "ctx").await).await {
        ContextStatus::Failed {
            problem:
                ClusterProblem::PluginNotFound {
                    command,
                    searched,
                    install_hint,
                },
        } => {
            assert_eq!(command, "porthole-no-such-plugin");
            assert!(!searched.is_empty());
            assert!(install_hint.is_some_and(|h| h.contains("apt-get")));
        }
        other => panic!("expected plugin not found, got {other:?}"),
    }
}

#[tokio::test]
async fn a_hanging_plugin_times_out_and_is_killed() {
    let dir = scratch("exec-hangs");
    let plugin = script(
        &dir,
        "plugin.sh",
        &format!("echo $$ > '{}/pid'\nexec sleep 600", dir.display()),
    );
    let path = write(
        &dir,
        &single(cluster_entry(), exec_user(&plugin, V1, json!({}))),
    );
    let mut env = env();
    env.exec.timeout = Duration::from_secs(2);
    let c = Arc::new(client_with(&path, "ctx", &env).await);
    let started = Instant::now();
    match status(&c).await {
        ContextStatus::Failed {
            problem: ClusterProblem::PluginTimedOut { seconds, .. },
        } => assert_eq!(seconds, 2),
        other => panic!("expected a plugin timeout, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(10));
    let pid = std::fs::read_to_string(dir.join("pid"))
        .expect("pid")
        .trim()
        .to_owned();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "the timed-out plugin (pid {pid}) was killed"
    );
}

#[tokio::test]
async fn interactive_mode_always_without_a_terminal_says_so() {
    let dir = scratch("exec-interactive");
    let plugin = token_script(&dir, V1, "");
    let path = write(
        &dir,
        &single(
            cluster_entry(),
            exec_user(&plugin, V1, json!({ "interactiveMode": "Always" })),
        ),
    );
    match status(&client(&path, "ctx").await).await {
        ContextStatus::Failed {
            problem:
                ClusterProblem::PluginFailed {
                    reason: Some(reason),
                    ..
                },
        } => assert!(reason.contains("interactive terminal"), "{reason}"),
        other => panic!("expected a terminal-needed failure, got {other:?}"),
    }
    assert_eq!(count(&dir.join("runs")), 0, "the plugin was not started");
}
