//! Which sources are merged, in which order: kubectl's files, then files
//! added in the app, then the pod's service account.

use std::fs;
use std::path::Path;

use porthole_core::kubeconfig::{
    InClusterSource, KubeconfigSources, SourceOrigin, SourceState, load_contexts, load_snapshot,
};

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    fs::write(&path, text).expect("write");
    path
}

fn in_cluster(dir: &Path) -> InClusterSource {
    InClusterSource::from_parts(Some("fd00::1".as_ref()), Some("6443".as_ref()), dir)
        .expect("both variables set")
}

#[tokio::test]
async fn added_files_merge_after_the_env_list_in_the_order_added() {
    let dir = tempfile::tempdir().expect("tempdir");
    let env = write(
        dir.path(),
        "env",
        "contexts:\n- name: shared\n  context: {cluster: from-env}\n",
    );
    let first = write(
        dir.path(),
        "first",
        "current-context: mine\ncontexts:\n- name: shared\n  context: {cluster: from-first}\n- name: mine\n  context: {cluster: from-first}\n",
    );
    let second = write(
        dir.path(),
        "second",
        "current-context: theirs\ncontexts:\n- name: mine\n  context: {cluster: from-second}\n- name: theirs\n  context: {cluster: from-second}\n",
    );
    let sources = KubeconfigSources::files(SourceOrigin::EnvVar, vec![env.clone()]).with_added([
        first.clone(),
        env.clone(),
        second.clone(),
    ]);
    let snap = load_snapshot(&sources).await;

    let order: Vec<(&str, bool)> = snap
        .list
        .sources
        .iter()
        .map(|s| (s.path.as_str(), s.added))
        .collect();
    let shown = |p: &Path| p.display().to_string();
    assert_eq!(
        order,
        [
            (shown(&env).as_str(), false),
            (shown(&first).as_str(), true),
            (shown(&second).as_str(), true)
        ],
        "the env file is not read twice"
    );
    let cluster_of = |name: &str| {
        snap.list
            .contexts
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.cluster.clone())
    };
    assert_eq!(cluster_of("shared").as_deref(), Some("from-env"));
    assert_eq!(cluster_of("mine").as_deref(), Some("from-first"));
    assert_eq!(cluster_of("theirs").as_deref(), Some("from-second"));
    assert_eq!(snap.list.current_context.as_deref(), Some("mine"));
    assert_eq!(snap.merged.context_origin("mine"), Some(first.as_path()));
    assert_eq!(snap.merged.files(), [env, first, second]);
}

#[tokio::test]
async fn a_missing_added_file_is_a_problem_but_a_missing_env_file_is_not() {
    let dir = tempfile::tempdir().expect("tempdir");
    let list = load_contexts(
        &KubeconfigSources::files(SourceOrigin::EnvVar, vec![dir.path().join("gone-env")])
            .with_added([dir.path().join("gone-added")]),
    )
    .await;
    let problems: Vec<&str> = list.problems().map(|s| s.path.as_str()).collect();
    assert_eq!(problems.len(), 1);
    assert!(problems[0].ends_with("gone-added"));
}

#[tokio::test]
async fn the_service_account_becomes_an_in_cluster_context_merged_last() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sa = dir.path().join("sa");
    fs::create_dir(&sa).expect("mkdir");
    fs::write(sa.join("token"), "zoo-secret-sa-token").expect("token");
    fs::write(sa.join("ca.crt"), "CA").expect("ca");
    fs::write(sa.join("namespace"), "team-a\n").expect("ns");
    let file = write(
        dir.path(),
        "config",
        "current-context: laptop\ncontexts:\n- name: laptop\n  context: {cluster: kind}\n",
    );

    let snap = load_snapshot(
        &KubeconfigSources::files(SourceOrigin::EnvVar, vec![file])
            .with_in_cluster(Some(in_cluster(&sa))),
    )
    .await;
    let report = snap.list.sources.last().expect("in-cluster reported");
    assert_eq!(report.path, "in-cluster");
    assert_eq!(report.state, SourceState::Loaded { contexts: 1 });
    assert_eq!(
        snap.list.current_context.as_deref(),
        Some("laptop"),
        "the user's current context wins"
    );
    let ctx = snap
        .list
        .contexts
        .iter()
        .find(|c| c.name == "in-cluster")
        .expect("in-cluster context");
    assert_eq!(ctx.server.as_deref(), Some("https://[fd00::1]:6443"));
    assert_eq!(ctx.namespace.as_deref(), Some("team-a"));
    assert_eq!(ctx.user.as_deref(), Some("in-cluster"));
    let files: Vec<String> = snap
        .referenced_files()
        .iter()
        .map(|r| r.path.display().to_string())
        .collect();
    assert!(files.iter().any(|f| f.ends_with("sa/token")), "{files:?}");
    assert!(files.iter().any(|f| f.ends_with("sa/ca.crt")), "{files:?}");
    assert!(!format!("{snap:?}").contains("zoo-secret"));
}

#[tokio::test]
async fn in_cluster_only_reads_no_kubeconfig_and_a_missing_token_is_a_problem() {
    let dir = tempfile::tempdir().expect("tempdir");
    let only = KubeconfigSources::in_cluster_only(in_cluster(dir.path()));
    assert!(only.paths.is_empty());
    let list = load_contexts(&only).await;
    assert_eq!(list.origin, SourceOrigin::InCluster);
    assert_eq!(list.sources.len(), 1);
    assert_eq!(list.sources[0].state, SourceState::Missing);
    assert_eq!(list.problems().count(), 1, "no token in in-cluster mode");

    fs::write(dir.path().join("token"), "t").expect("token");
    let list = load_contexts(&only).await;
    assert_eq!(list.current_context.as_deref(), Some("in-cluster"));
    assert_eq!(list.problems().count(), 0);
}
