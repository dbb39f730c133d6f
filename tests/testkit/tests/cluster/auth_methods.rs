//! Issue #4: every kubeconfig auth method has a real counterpart, proven
//! with kubectl: tokenFile, exec plugin variants, OIDC with refresh,
//! impersonation, and basic auth (against the echo backend).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use porthole_testkit::exec_credential::{ExecApiVersion, PluginArgs, StdinExpectation};
use porthole_testkit::kubeconfig::{Builder, ClusterEntry};
use porthole_testkit::users::{
    EXEC_CERT_USER, EXEC_USER, EXEC_V1BETA1_USER, FILE_USER_1, FILE_USER_2, IMPERSONATOR,
    TOKEN_FILE_CONTEXT,
};
use porthole_testkit::{impersonation, oidc};
use serde_json::{Value, json};

use crate::support::{cluster, ok, run};

/// `status.userInfo` of `kubectl auth whoami -o json`.
fn whoami(mut cmd: Command) -> Value {
    cmd.args(["auth", "whoami", "-o", "json"]);
    let out = ok(cmd);
    let v: Value = serde_json::from_str(&out).expect("whoami JSON");
    v["status"]["userInfo"].clone()
}

fn kubectl_file(kubeconfig: &Path) -> Command {
    let mut cmd = Command::new("kubectl");
    cmd.arg("--kubeconfig").arg(kubeconfig).stdin(Stdio::null());
    cmd
}

fn groups(user: &Value) -> Vec<String> {
    user["groups"]
        .as_array()
        .map(|g| {
            g.iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn scratch(name: &str) -> PathBuf {
    cluster().scratch_dir(name).expect("scratch dir")
}

fn counter_value(path: &Path) -> u64 {
    porthole_testkit::exec_credential::read_count(path).expect("counter")
}

// ---- tokenFile ----

/// Puts the original token back even if the test fails.
struct Restore(PathBuf, String);

impl Drop for Restore {
    fn drop(&mut self) {
        let _ = porthole_testkit::fsutil::write_private(&self.0, self.1.as_bytes());
    }
}

#[test]
fn token_file_user_follows_the_file() {
    let c = cluster();
    let one = c.user(FILE_USER_1);
    let two = c.user(FILE_USER_2);
    let file = one
        .token_file
        .clone()
        .expect("file-user-1 has a token file");
    let token1 = one.token.clone().expect("token 1");
    let token2 = two.token.clone().expect("token 2");
    assert_eq!(
        std::fs::read_to_string(&file).expect("token file").trim(),
        token1
    );
    let u = whoami(c.kubectl_context(TOKEN_FILE_CONTEXT));
    assert_eq!(u["username"], FILE_USER_1, "{u}");
    assert!(groups(&u).contains(&"porthole:file-users".to_owned()));
    ok({
        let mut k = c.kubectl_context(TOKEN_FILE_CONTEXT);
        k.args(["get", "ns", "-o", "name"]);
        k
    });

    let _restore = Restore(file.clone(), token1);
    porthole_testkit::fsutil::write_private(&file, token2.as_bytes()).expect("rewrite");
    let u = whoami(c.kubectl_context(TOKEN_FILE_CONTEXT));
    assert_eq!(u["username"], FILE_USER_2, "identity follows the file: {u}");
}

// ---- exec plugins ----

#[test]
fn exec_v1beta1_and_client_certificate_plugins() {
    let c = cluster();
    let counter = c
        .user(EXEC_V1BETA1_USER)
        .exec_counter
        .clone()
        .expect("counter");
    let before = counter_value(&counter);
    let u = whoami(c.kubectl(EXEC_V1BETA1_USER));
    assert_eq!(u["username"], EXEC_V1BETA1_USER, "{u}");
    assert!(counter_value(&counter) > before);
    let kc = std::fs::read_to_string(c.user_kubeconfig(EXEC_V1BETA1_USER)).expect("kubeconfig");
    assert!(kc.contains("client.authentication.k8s.io/v1beta1"), "{kc}");

    let counter = c
        .user(EXEC_CERT_USER)
        .exec_counter
        .clone()
        .expect("counter");
    let before = counter_value(&counter);
    let u = whoami(c.kubectl_context("porthole-exec-cert"));
    assert_eq!(u["username"], EXEC_CERT_USER, "{u}");
    // A certificate, not a token: the apiserver records its fingerprint.
    assert!(u["extra"].to_string().contains("X509SHA256="), "{u}");
    assert!(counter_value(&counter) > before);
}

/// A kubeconfig at the real apiserver with this exec user.
fn exec_kubeconfig(dir: &Path, plugin: &PluginArgs) -> PathBuf {
    let state = &cluster().state;
    Builder::new(ClusterEntry::for_state(state).expect("cluster entry"))
        .user(plugin.user())
        .write_yaml(&dir.join("kubeconfig"))
        .expect("write kubeconfig")
}

fn plugin(dir: &Path) -> PluginArgs {
    let state = &cluster().state;
    let token_file = dir.join("token");
    let token = cluster().user(EXEC_USER).token.clone().expect("token");
    std::fs::write(&token_file, token).expect("token file");
    PluginArgs::new(state.exec_plugin().expect("plugin"), dir.join("count")).token_file(token_file)
}

#[test]
fn exec_plugin_rerun_after_401_hands_out_the_next_token() {
    let dir = scratch("exec-401");
    let token = cluster().user(EXEC_USER).token.clone().expect("token");
    let tokens = dir.join("tokens");
    std::fs::write(&tokens, format!("not-a-valid-token\n{token}\n")).expect("tokens file");
    let p = PluginArgs::new(
        cluster().state.exec_plugin().expect("plugin"),
        dir.join("count"),
    )
    .tokens_file(&tokens)
    .api_version(ExecApiVersion::V1beta1);
    let kc = exec_kubeconfig(&dir, &p);
    let u = whoami(kubectl_file(&kc));
    assert_eq!(u["username"], EXEC_USER, "{u}");
    // Run 1 gave the bad token (401), kubectl ran the plugin again.
    assert_eq!(counter_value(p.counter()), 2);
}

#[test]
fn exec_plugin_failure_reports_exit_code_and_stderr() {
    let dir = scratch("exec-fail");
    let p = plugin(&dir).fail_with(42).stderr("porthole-plugin-says-no");
    let out = run({
        let mut k = kubectl_file(&exec_kubeconfig(&dir, &p));
        k.args(["get", "--raw", "/version"]);
        k
    });
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("porthole-plugin-says-no"), "{err}");
    assert!(err.contains("exit code 42"), "{err}");
    assert!(counter_value(p.counter()) >= 1, "failing runs count too");
}

#[test]
fn exec_plugin_env_cluster_info_and_stdin_checks() {
    let dir = scratch("exec-checks");
    // All satisfied: env given, cluster info provided, stdin closed (Never).
    let good = plugin(&dir)
        .require_env("PORTHOLE_TEST_ENV", "yes")
        .env("PORTHOLE_TEST_ENV", "yes")
        .expect_cluster_info()
        .check_stdin(StdinExpectation::Closed);
    let u = whoami(kubectl_file(&exec_kubeconfig(&dir, &good)));
    assert_eq!(u["username"], EXEC_USER, "{u}");

    let cases = [
        (
            plugin(&dir).require_env("PORTHOLE_TEST_ENV", "yes"),
            "PORTHOLE_TEST_ENV is not set",
        ),
        (
            plugin(&dir)
                .expect_cluster_info()
                .provide_cluster_info(false),
            "no spec.cluster",
        ),
        (
            plugin(&dir).check_stdin(StdinExpectation::Open),
            "stdin should be open",
        ),
    ];
    for (p, why) in cases {
        let out = run({
            let mut k = kubectl_file(&exec_kubeconfig(&dir, &p));
            k.args(["get", "--raw", "/version"]);
            k
        });
        assert!(!out.status.success(), "must fail: {why}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(why), "expected {why:?} in:\n{err}");
    }
}

#[test]
fn exec_plugin_stdin_open_and_hanging_when_run_directly() {
    let dir = scratch("exec-direct");
    let p = plugin(&dir).check_stdin(StdinExpectation::Open);
    let exe = cluster().state.exec_plugin().expect("plugin").to_owned();
    // A pipe kept open: what interactiveMode IfAvailable/Always hands over.
    let mut child = Command::new(&exe)
        .args(p.args())
        .env(
            "KUBERNETES_EXEC_INFO",
            json!({"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential",
                   "spec": {"interactive": true}})
            .to_string(),
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("plugin");
    let stdin = child.stdin.take();
    let out = child.wait_with_output().expect("plugin output");
    drop(stdin);
    assert!(out.status.success(), "{out:?}");

    let p = plugin(&dir).sleep_secs(30);
    let started = Instant::now();
    let mut child = Command::new(&exe)
        .args(p.args())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .expect("plugin");
    std::thread::sleep(Duration::from_millis(800));
    assert!(
        child.try_wait().expect("try_wait").is_none(),
        "a --sleep-secs plugin hangs"
    );
    child.kill().expect("kill");
    let _ = child.wait();
    assert!(started.elapsed() < Duration::from_secs(30));
}

// ---- OIDC ----

#[test]
fn oidc_auth_provider_refreshes_the_expired_id_token() {
    let c = cluster();
    let info = c.state.oidc().expect("oidc");
    let dir = scratch("oidc-refresh");
    // kubectl writes the refreshed tokens back: give it a copy.
    let kc = dir.join("kubeconfig");
    std::fs::copy(&info.kubeconfig, &kc).expect("copy");
    let original = std::fs::read_to_string(&kc).expect("read");
    let expired = id_token_in(&original);
    let exp = oidc::unverified_claims(&expired).expect("claims")["exp"]
        .as_i64()
        .expect("exp");
    assert!(exp < now(), "the shipped id token is expired");

    let before = oidc::refresh_count(&c.state).expect("count");
    let u = whoami(kubectl_file(&kc));
    assert_eq!(u["username"], oidc::username(oidc::SUBJECT), "{u}");
    assert!(groups(&u).contains(&oidc::kubernetes_group()), "{u}");
    assert!(oidc::refresh_count(&c.state).expect("count") > before);

    let rewritten = std::fs::read_to_string(&kc).expect("read");
    let fresh = id_token_in(&rewritten);
    assert_ne!(fresh, expired, "kubectl persisted the refreshed token");
    let exp = oidc::unverified_claims(&fresh).expect("claims")["exp"]
        .as_i64()
        .expect("exp");
    assert!(exp > now());
    // The context in the combined kubeconfig is the same user.
    let combined = std::fs::read_to_string(c.kubeconfig()).expect("combined");
    assert!(combined.contains("idp-issuer-url") && combined.contains(&info.issuer_url));
}

#[test]
fn minted_oidc_tokens_authenticate_until_they_expire() {
    let c = cluster();
    let dir = scratch("oidc-mint");
    let with_token = |name: &str, token: &str| {
        Builder::new(ClusterEntry::for_state(&c.state).expect("cluster"))
            .user(json!({ "token": token }))
            .write_yaml(&dir.join(name))
            .expect("kubeconfig")
    };
    let good = oidc::mint(&c.state, "minted-user", 300).expect("mint");
    let u = whoami(kubectl_file(&with_token("good", &good)));
    assert_eq!(u["username"], "oidc:minted-user", "{u}");

    let expired = oidc::mint(&c.state, "minted-user", -30).expect("mint");
    let out = run({
        let mut k = kubectl_file(&with_token("expired", &expired));
        k.args(["get", "--raw", "/version"]);
        k
    });
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Unauthorized"), "{err}");
}

fn id_token_in(kubeconfig: &str) -> String {
    kubeconfig
        .lines()
        .find_map(|l| l.trim().strip_prefix("id-token:"))
        .map(|t| t.trim().trim_matches('"').to_owned())
        .expect("an id-token line")
}

fn now() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_secs(),
    )
    .expect("time fits")
}

// ---- impersonation ----

#[test]
fn impersonation_allowed_and_denied() {
    let c = cluster();
    let u = whoami(c.kubectl_context(impersonation::CONTEXT));
    assert_eq!(u["username"], impersonation::ALICE, "{u}");
    assert_eq!(u["uid"], impersonation::ALICE_UID, "{u}");
    assert!(groups(&u).contains(&impersonation::IMPERSONATED_GROUP.to_owned()));
    // alice reads team-b (the context's namespace); the impersonator alone cannot.
    let svc = ok({
        let mut k = c.kubectl_context(impersonation::CONTEXT);
        k.args(["get", "svc", "-o", "name"]);
        k
    });
    assert!(svc.contains("service/"), "{svc}");
    let out = run({
        let mut k = c.kubectl(IMPERSONATOR);
        k.args(["get", "svc", "-n", impersonation::ALICE_NAMESPACE]);
        k
    });
    assert!(!out.status.success(), "impersonator itself reads nothing");

    let out = run({
        let mut k = c.kubectl_context(impersonation::DENIED_CONTEXT);
        k.args(["get", "svc", "-o", "name"]);
        k
    });
    assert!(!out.status.success(), "viewer may not impersonate");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot impersonate") && err.contains("\"viewer\""),
        "{err}"
    );
}

// ---- basic auth ----

#[test]
fn basic_auth_reaches_the_echo_backend_as_an_authorization_header() {
    let c = cluster();
    let b = c.state.basic_auth.as_ref().expect("basic auth info");
    let out = ok({
        let mut k = kubectl_file(&b.kubeconfig);
        k.args(["get", "--raw", "/basic-auth-check"]);
        k
    });
    let echo: Value = serde_json::from_str(&out).expect("echo JSON");
    assert_eq!(echo["path"], "/basic-auth-check");
    assert_eq!(
        echo["headers"]["authorization"][0].as_str(),
        Some(b.expected_authorization.as_str()),
        "the echo saw the kubeconfig's username/password"
    );
}
