//! The app against the real test control plane (tests/testkit: kube-apiserver
//! and etcd, users for every auth method). Every context of the cluster's
//! combined kubeconfig is probed for real: the reachable ones show their dot
//! and the server version, a viewer is told who the apiserver says it is,
//! the impersonation the apiserver refuses says 403 in words. A context
//! added to the file while the app runs appears, reachable, without a
//! reload. Nothing secret of the cluster's kubeconfig or its users reaches
//! the IPC record, the page or the log.
//!
//! `make test` runs the suite inside `porthole-cluster run`, which exports
//! PORTHOLE_CLUSTER_DIR; without it `cluster()` starts a private control
//! plane, and says what is missing when it cannot.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use porthole_testkit::Cluster;
use serde_json::Value;

use crate::driver::{Launch, Session, artifacts_dir};
use crate::setup::{WAIT, hermetic_env, without_plugins};
use crate::status_and_secrets::{
    PROBED, option, problem_title, select, status_panel_text, switch_language,
};

/// The context appended while the app runs.
const LIVE: &str = "porthole-live-added";
/// How long the live edit may take to show, dot included.
const LIVE_WITHIN: Duration = Duration::from_secs(10);

/// What the test needs to know about the cluster, all from its state.
pub(crate) struct Expected {
    version: String,
    contexts: Vec<String>,
    /// Contexts the apiserver refuses (impersonation not allowed).
    denied: BTreeSet<String>,
    pub(crate) secrets: Vec<String>,
}

impl Expected {
    pub(crate) fn of(cluster: &Cluster) -> Expected {
        let version = cluster
            .state
            .apiserver
            .as_ref()
            .map(|a| a.version.clone())
            .filter(|v| !v.is_empty())
            .expect("the cluster's state names the apiserver version");
        let config = kubeconfig_json(cluster.kubeconfig());
        let contexts: Vec<String> = config["contexts"]
            .as_array()
            .expect("contexts in the cluster's kubeconfig")
            .iter()
            .filter_map(|c| c["name"].as_str().map(str::to_owned))
            .collect();
        let denied: BTreeSet<String> = cluster
            .state
            .impersonation
            .iter()
            .filter(|i| !i.allowed)
            .map(|i| i.context.clone())
            .collect();
        assert!(
            denied.contains("porthole-impersonate-denied"),
            "the cluster has a denied impersonation context: {denied:?}"
        );
        let mut secrets = Vec::new();
        collect_secrets(&config, &mut secrets);
        for user in &cluster.state.users {
            secrets.extend(user.token.clone());
            for key in user.client_key.iter() {
                secrets.extend(pem_body(key));
            }
        }
        if let Some(oidc) = &cluster.state.oidc {
            secrets.push(oidc.client_secret.clone());
            secrets.push(oidc.refresh_token.clone());
        }
        if let Some(basic) = &cluster.state.basic_auth {
            secrets.push(basic.password.clone());
        }
        secrets.retain(|s| s.len() >= 8);
        secrets.sort();
        secrets.dedup();
        Expected {
            version,
            contexts,
            denied,
            secrets,
        }
    }

    fn reachable(&self) -> Vec<&str> {
        self.contexts
            .iter()
            .filter(|c| !self.denied.contains(*c))
            .map(String::as_str)
            .collect()
    }
}

/// The kubeconfig as JSON, as kubectl reads it (secrets included: `--raw`).
pub(crate) fn kubeconfig_json(path: &Path) -> Value {
    let out = Command::new("kubectl")
        .args(["config", "view", "--raw", "-o", "json", "--kubeconfig"])
        .arg(path)
        .output()
        .expect("kubectl (the tests' reference client) on PATH");
    assert!(
        out.status.success(),
        "kubectl config view {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("kubectl prints JSON")
}

/// Every value under a key that holds a credential: tokens, keys, client
/// secrets, refresh and id tokens, passwords.
pub(crate) fn collect_secrets(value: &Value, out: &mut Vec<String>) {
    const SECRET_KEYS: &[&str] = &[
        "token",
        "client-key-data",
        "client-secret",
        "refresh-token",
        "id-token",
        "password",
    ];
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match v.as_str() {
                    Some(text) if SECRET_KEYS.contains(&key.as_str()) => out.push(text.to_owned()),
                    _ => collect_secrets(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_secrets(v, out)),
        _ => {}
    }
}

/// A private key file's base64 body, line by line (any one line leaking is a leak).
fn pem_body(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("read the key file {}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.starts_with("-----") && l.len() >= 16)
        .map(str::to_owned)
        .collect()
}

/// Fails when a secret of the cluster, or anything shaped like a JWT (the
/// id tokens the app refreshed itself are not known to the test), is in `text`.
pub(crate) fn assert_no_cluster_secret(text: &str, secrets: &[String], place: &str) {
    for secret in secrets {
        assert!(
            !text.contains(secret.as_str()),
            "a secret of the test cluster ({}…) reached {place}",
            &secret[..6]
        );
    }
    let jwt = text.match_indices("eyJ").any(|(at, _)| {
        let rest = &text[at..];
        let head = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
            .map_or(rest, |end| &rest[..end]);
        head.len() >= 10 && rest[head.len()..].starts_with(".eyJ")
    });
    assert!(
        !jwt,
        "something shaped like a JWT (an id token) reached {place}"
    );
}

/// The combined kubeconfig copied into the private home (all its paths are
/// absolute), so the test may edit the copy the app reads.
pub(crate) fn copy_kubeconfig(cluster: &Cluster, home: &Path) -> PathBuf {
    let dir = home.join("kube");
    std::fs::create_dir_all(&dir).expect("create kube dir");
    let copy = dir.join("config");
    std::fs::copy(cluster.kubeconfig(), &copy).expect("copy the cluster's kubeconfig");
    copy
}

pub(crate) fn start(home: &Path, kubeconfig: &Path, dark: bool, log_name: &'static str) -> Session {
    let mut env = hermetic_env(home, kubeconfig.display().to_string(), "en");
    // The exec plugin is named by absolute path; the login shell answers
    // nothing, so the machine's profile plays no part.
    without_plugins(home, &mut env);
    env.push((
        "PORTHOLE_IPC_RECORD",
        home.join("ipc.jsonl").display().to_string(),
    ));
    env.push((
        "PORTHOLE_LOG",
        "info,porthole=debug,porthole_app=debug,porthole_core=debug".to_owned(),
    ));
    if dark {
        env.push(("GTK_THEME", "Adwaita:dark".to_owned()));
    }
    Session::start(Launch { env, log_name })
}

/// Per context in the sidebar: (name, dot state, version shown).
fn sidebar(session: &Session) -> Vec<(String, String, String)> {
    let rows = session.execute(
        "return JSON.stringify([...document.querySelectorAll('[data-testid=context-list] [role=option]')].map((o) => { \
           const dot = o.querySelector('[data-testid=status-dot]'); \
           const v = o.querySelector('[data-testid=server-version]'); \
           return [o.dataset.name, dot ? dot.dataset.state : '', v ? v.textContent.trim() : '']; }));",
    );
    serde_json::from_str(&rows).unwrap_or_else(|e| panic!("sidebar rows ({e}): {rows}"))
}

/// Waits until every context of `expected` has its final dot.
fn wait_until_probed(session: &Session, expected: &Expected) {
    let count = expected.contexts.len();
    session.wait_for("[data-testid=context-list] [role=option]", count, WAIT);
    let deadline = Instant::now() + PROBED;
    loop {
        let rows = sidebar(session);
        let settled = rows.len() == count && rows.iter().all(|(_, state, _)| state != "checking");
        if settled {
            return;
        }
        if Instant::now() > deadline {
            let shot = session.screenshot("real-timeout.png");
            panic!(
                "not every context probed within {PROBED:?}: {rows:?}; screenshot {}",
                shot.display()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn text_of(session: &Session, css: &str) -> String {
    let found = session.wait_for(css, 1, WAIT);
    session.text(&found[0]).trim().to_owned()
}

/// Appends a context to `path` the way tools rewrite a kubeconfig: a
/// temporary file beside it, renamed over it.
fn add_context_atomically(path: &Path, name: &str) {
    let yaml = std::fs::read_to_string(path).expect("read the copied kubeconfig");
    let entry =
        format!("contexts:\n- context:\n    cluster: porthole\n    user: admin\n  name: {name}\n");
    assert!(yaml.contains("\ncontexts:\n"), "a contexts list: {yaml}");
    let yaml = yaml.replacen("\ncontexts:\n", &format!("\n{entry}"), 1);
    let temp = path.with_extension("tmp-porthole-e2e");
    std::fs::write(&temp, yaml).expect("write the temporary kubeconfig");
    std::fs::rename(&temp, path).expect("rename it over the kubeconfig");
}

#[test]
fn real_cluster_statuses_live_edit_and_no_secret_anywhere() {
    let cluster = porthole_testkit::cluster();
    let expected = Expected::of(cluster);
    assert!(
        expected.secrets.len() >= 8,
        "the secret scan knows the cluster's credentials: {} found",
        expected.secrets.len()
    );
    let home = tempfile::tempdir().expect("tempdir");
    let kubeconfig = copy_kubeconfig(cluster, home.path());
    let session = start(home.path(), &kubeconfig, false, "real-cluster.log");
    session.set_window_size(1280, 800);
    let started = Instant::now();
    wait_until_probed(&session, &expected);
    eprintln!(
        "{} contexts probed in {:?}",
        expected.contexts.len(),
        started.elapsed()
    );

    // The sidebar: every reachable context with its dot and the version
    // the apiserver reported; the refused impersonation failed.
    let rows = sidebar(&session);
    for name in expected.reachable() {
        let row = rows
            .iter()
            .find(|(n, _, _)| n == name)
            .unwrap_or_else(|| panic!("{name} is listed: {rows:?}"));
        assert_eq!(
            (row.1.as_str(), row.2.as_str()),
            ("reachable", expected.version.as_str()),
            "{name}: dot and version in the sidebar"
        );
    }
    for name in &expected.denied {
        assert!(
            rows.iter()
                .any(|(n, s, v)| n == name && s == "failed" && v.is_empty()),
            "{name} failed: {rows:?}"
        );
        assert_eq!(problem_title(&session, name), "Access denied");
    }

    // Who the apiserver says the viewer is.
    select(&session, "porthole-viewer");
    assert_eq!(
        text_of(&session, "[data-testid=status-user]"),
        cluster.user("viewer").name
    );
    assert_eq!(
        text_of(&session, "[data-testid=status-version]"),
        expected.version
    );
    session.screenshot("real-light-en-large.png");

    // The exec plugin and the OIDC refresh both signed in.
    select(&session, "porthole-exec");
    assert_eq!(text_of(&session, "[data-testid=status-user]"), "exec-user");
    if let Some(oidc) = &cluster.state.oidc {
        select(&session, &oidc.context);
        assert_eq!(
            text_of(&session, "[data-testid=status-user]"),
            format!("{}{}", oidc.username_prefix, oidc.subject),
            "the user the apiserver sees after the OIDC refresh"
        );
    }

    // The refused impersonation: 403 in words, with what to do.
    select(&session, "porthole-impersonate-denied");
    let text = status_panel_text(&session);
    assert!(text.contains("403 Forbidden"), "{text}");
    assert!(
        text.contains("cannot impersonate"),
        "the apiserver's reason: {text}"
    );
    assert!(
        text.contains("Ask a cluster administrator for access"),
        "{text}"
    );
    session.screenshot("real-denied-light-en-large.png");

    // Everything the UI can show, for the scan: each context's details and
    // its redacted config view, and the settings.
    let mut pages = vec![session.page_source()];
    for name in [
        "porthole-admin",
        "porthole-viewer",
        "porthole-oidc",
        "porthole-exec",
    ] {
        select(&session, name);
        let tab = session.wait_for("[data-testid=tab-config]", 1, WAIT);
        session.click(&tab[0]);
        let config = session.wait_for("[data-testid=config-text]", 1, WAIT);
        assert!(
            session.text(&config[0]).contains(name),
            "config view of {name}"
        );
        pages.push(session.page_source());
        let tab = session.wait_for("[data-testid=tab-overview]", 1, WAIT);
        session.click(&tab[0]);
    }
    let settings = session.wait_for("[data-testid=open-settings]", 1, WAIT);
    session.click(&settings[0]);
    session.wait_for("[data-testid=settings]", 1, WAIT);
    pages.push(session.page_source());
    session.click(&settings[0]);
    // A port-forward (team-a/redis), its card and the Forwards view.
    crate::services_browser::open_services(&session);
    crate::services_browser::filter(&session, "team-a redis");
    let forward = session.wait_for(
        &format!(
            "{} [data-testid=forward-button]",
            crate::services_browser::row_css("team-a/redis")
        ),
        1,
        WAIT,
    );
    session.click(&forward[0]);
    session.wait_for(
        "[data-testid=forward-card] [data-testid=forward-state][data-state=listening]",
        1,
        WAIT,
    );
    pages.push(session.page_source());
    let forwards = session.wait_for("[data-testid=open-forwards]", 1, WAIT);
    session.click(&forwards[0]);
    session.wait_for("[data-testid=forward-row]", 1, WAIT);
    pages.push(session.page_source());
    session.click(&forwards[0]);
    let tab = session.wait_for("[data-testid=tab-overview]", 1, WAIT);
    session.click(&tab[0]);

    // Live: a context appended to the file (temp + rename) shows up with its
    // reachable dot and version, without a reload.
    let edited = Instant::now();
    add_context_atomically(&kubeconfig, LIVE);
    session.wait_for(
        &format!("[role=option][data-name='{LIVE}']"),
        1,
        LIVE_WITHIN,
    );
    session.wait_for(
        &format!(
            "[role=option][data-name='{LIVE}'] [data-testid=status-dot][data-state=reachable]"
        ),
        1,
        LIVE_WITHIN.saturating_sub(edited.elapsed()),
    );
    eprintln!(
        "live context reachable {:?} after the edit",
        edited.elapsed()
    );
    let live = sidebar(&session)
        .into_iter()
        .find(|(n, _, _)| n == LIVE)
        .expect("the live context is listed");
    assert_eq!(live.2, expected.version, "its version in the sidebar");
    select(&session, LIVE);
    pages.push(session.page_source());

    session.set_window_size(560, 400);
    session.wait_for_paint();
    let fits = session
        .execute("return String(document.documentElement.scrollWidth <= window.innerWidth);");
    assert_eq!(fits, "true", "no horizontal scrolling at the minimum size");
    session.screenshot("real-light-en-small.png");
    option(&session, LIVE);

    let log_path = session.log_path.clone();
    drop(session);

    // The scan: the IPC record, every page, the app's log.
    let record = home.path().join("ipc.jsonl");
    let recorded = std::fs::read_to_string(&record)
        .unwrap_or_else(|e| panic!("PORTHOLE_IPC_RECORD={} not written: {e}", record.display()));
    let commands: BTreeSet<String> = recorded
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .filter(|l| l["kind"] == "command")
        .filter_map(|l| l["name"].as_str().map(str::to_owned))
        .collect();
    assert!(
        !commands.contains("reload"),
        "the live edit needed no reload: {commands:?}"
    );
    assert!(commands.contains("config_view"), "{commands:?}");
    for forwards in ["start_forward", "list_forwards"] {
        assert!(commands.contains(forwards), "{forwards}: {commands:?}");
    }
    std::fs::copy(
        &record,
        artifacts_dir().join("ipc-record-real-cluster.jsonl"),
    )
    .expect("keep the record beside the screenshots");
    // Whatever the app may have written back (it must not) counts too.
    let mut secrets = expected.secrets.clone();
    collect_secrets(&kubeconfig_json(&kubeconfig), &mut secrets);
    assert_no_cluster_secret(&recorded, &secrets, "the IPC record");
    for page in &pages {
        assert_no_cluster_secret(page, &secrets, "the page");
    }
    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
    assert!(
        !log.is_empty(),
        "the app's log is empty: {}",
        log_path.display()
    );
    assert_no_cluster_secret(&log, &secrets, "the app's log");
}

#[test]
fn real_cluster_in_dark_and_chinese() {
    let cluster = porthole_testkit::cluster();
    let expected = Expected::of(cluster);
    let home = tempfile::tempdir().expect("tempdir");
    let kubeconfig = copy_kubeconfig(cluster, home.path());
    let session = start(home.path(), &kubeconfig, true, "real-cluster-dark.log");
    session.set_window_size(1280, 800);
    wait_until_probed(&session, &expected);
    select(&session, "porthole-viewer");
    switch_language(&session, "zh-CN");
    session.wait_for("[data-testid=context-status]", 1, WAIT);
    let text = status_panel_text(&session);
    assert!(text.contains("viewer"), "{text}");
    assert!(text.contains(&expected.version), "{text}");
    assert_eq!(
        problem_title(&session, "porthole-impersonate-denied"),
        "访问被拒绝"
    );
    session.screenshot("real-dark-zh-large.png");
    select(&session, "porthole-impersonate-denied");
    session.screenshot("real-denied-dark-zh-large.png");
}
