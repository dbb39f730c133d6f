//! `portholectl contexts -o json` against kubectl, the reference, on the same
//! files: the same context names and the same current context, in both
//! merge orders of two files that share a context name.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/kubeconfig")
}

fn kubeconfig_var(files: &[&str]) -> String {
    let paths: Vec<PathBuf> = files.iter().map(|f| fixtures().join(f)).collect();
    std::env::join_paths(paths)
        .expect("fixture paths join")
        .to_string_lossy()
        .into_owned()
}

/// Runs a command with only `KUBECONFIG` pointing at the fixtures (and a
/// throwaway HOME so no real ~/.kube/config can leak in).
fn run(program: &str, args: &[&str], kubeconfig: &str, home: &Path) -> String {
    let out = Command::new(program)
        .args(args)
        .env("KUBECONFIG", kubeconfig)
        .env("HOME", home)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run `{program}`: {e}. kubectl is the reference and must be installed (apt/snap, or a release binary on PATH)")
        });
    assert!(
        out.status.success(),
        "`{program} {}` failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

fn portholectl_json(kubeconfig: &str, home: &Path) -> Value {
    let text = run(
        env!("CARGO_BIN_EXE_portholectl"),
        &["contexts", "-o", "json"],
        kubeconfig,
        home,
    );
    serde_json::from_str(&text).expect("portholectl prints JSON")
}

fn assert_same_as_kubectl(files: &[&str], expected_current: &str) {
    let home = tempfile::tempdir().expect("tempdir");
    let var = kubeconfig_var(files);
    let ours = portholectl_json(&var, home.path());

    let mut kubectl_names: Vec<String> = run(
        "kubectl",
        &["config", "get-contexts", "-o", "name"],
        &var,
        home.path(),
    )
    .lines()
    .map(str::to_owned)
    .collect();
    kubectl_names.sort();
    let kubectl_current = run("kubectl", &["config", "current-context"], &var, home.path());

    let our_names: Vec<String> = ours["contexts"]
        .as_array()
        .expect("contexts array")
        .iter()
        .map(|c| c["name"].as_str().expect("name").to_owned())
        .collect();
    assert_eq!(our_names, kubectl_names, "context names for {files:?}");
    assert_eq!(our_names.len(), 3);

    let marked: Vec<&str> = ours["contexts"]
        .as_array()
        .expect("contexts array")
        .iter()
        .filter(|c| c["current"] == Value::Bool(true))
        .map(|c| c["name"].as_str().expect("name"))
        .collect();
    assert_eq!(ours["currentContext"], kubectl_current.trim());
    assert_eq!(
        marked,
        [kubectl_current.trim()],
        "exactly one marked current"
    );
    assert_eq!(kubectl_current.trim(), expected_current);
}

#[test]
fn names_and_current_context_match_kubectl_with_work_file_first() {
    assert_same_as_kubectl(&["work.yaml", "cloud.yaml"], "staging");
}

#[test]
fn names_and_current_context_match_kubectl_with_cloud_file_first() {
    assert_same_as_kubectl(
        &["cloud.yaml", "work.yaml"],
        "arn:aws:eks:eu-west-1:123456789012:cluster/prod",
    );
}

#[test]
fn shared_context_name_takes_the_first_files_definition() {
    let home = tempfile::tempdir().expect("tempdir");
    let ours = portholectl_json(&kubeconfig_var(&["work.yaml", "cloud.yaml"]), home.path());
    let staging = ours["contexts"]
        .as_array()
        .expect("contexts array")
        .iter()
        .find(|c| c["name"] == "staging")
        .expect("staging listed");
    assert_eq!(staging["namespace"], "monitoring");
    assert_eq!(staging["server"], "https://staging.k8s.example.com:6443");
    assert!(
        staging["source"]
            .as_str()
            .is_some_and(|s| s.ends_with("work.yaml"))
    );
}

#[test]
fn output_never_contains_a_credential() {
    let home = tempfile::tempdir().expect("tempdir");
    let var = kubeconfig_var(&["work.yaml", "cloud.yaml"]);
    let json = run(
        env!("CARGO_BIN_EXE_portholectl"),
        &["contexts", "-o", "json"],
        &var,
        home.path(),
    );
    let table = run(
        env!("CARGO_BIN_EXE_portholectl"),
        &["contexts"],
        &var,
        home.path(),
    );
    for secret in [
        "porthole-fixture-token",
        "cG9ydGhvbGUtZml4dHVyZS1jbGllbnQta2V5",
        "LS0tLS1CRUdJTiBDRVJU",
        "get-token",
    ] {
        assert!(!json.contains(secret), "{secret} in JSON output");
        assert!(!table.contains(secret), "{secret} in table output");
    }
}

#[test]
fn missing_explicit_kubeconfig_fails_naming_the_file() {
    let home = tempfile::tempdir().expect("tempdir");
    let missing = home.path().join("no-such-config");
    let out = Command::new(env!("CARGO_BIN_EXE_portholectl"))
        .arg("--kubeconfig")
        .arg(&missing)
        .arg("contexts")
        .env("HOME", home.path())
        .output()
        .expect("run portholectl");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&missing.display().to_string()) && stderr.contains("not found"),
        "{stderr}"
    );
}
