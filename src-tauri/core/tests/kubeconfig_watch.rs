//! Live reload against real files in temp dirs: every kind of change shows
//! up as a new snapshot. The time each one took is printed (run with
//! `--nocapture`); asserts only use a generous timeout.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use porthole_core::kubeconfig::watch::Watcher;
use porthole_core::kubeconfig::{KubeconfigSources, Snapshot, SourceOrigin, SourceState};
use tokio::sync::watch;

const PATIENCE: Duration = Duration::from_secs(5);

fn config(contexts: &[&str]) -> String {
    let mut text = String::from(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://c.example\n    certificate-authority: ca.crt\ncontexts:\n",
    );
    for name in contexts {
        text.push_str(&format!("- name: {name}\n  context: {{cluster: c}}\n"));
    }
    text
}

fn names(snapshot: &Snapshot) -> Vec<&str> {
    snapshot
        .list
        .contexts
        .iter()
        .map(|c| c.name.as_str())
        .collect()
}

fn sources(paths: &[&Path]) -> KubeconfigSources {
    KubeconfigSources::files(
        SourceOrigin::EnvVar,
        paths.iter().map(|p| p.to_path_buf()).collect(),
    )
}

/// Waits for a snapshot that satisfies `ready`, printing how long it took
/// since `since` (the moment of the change).
async fn observe(
    rx: &mut watch::Receiver<Arc<Snapshot>>,
    what: &str,
    since: Instant,
    ready: impl FnMut(&Arc<Snapshot>) -> bool,
) -> Arc<Snapshot> {
    let snapshot = tokio::time::timeout(PATIENCE, rx.wait_for(ready))
        .await
        .unwrap_or_else(|_| panic!("{what}: no matching snapshot within {PATIENCE:?}"))
        .expect("watcher alive")
        .clone();
    let took = since.elapsed();
    println!("reload observed: {what}: {took:?}");
    snapshot
}

async fn start(sources: KubeconfigSources) -> (Watcher, watch::Receiver<Arc<Snapshot>>) {
    Watcher::start(sources).await.expect("watcher starts")
}

#[tokio::test]
async fn an_edit_in_place_is_seen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("config");
    fs::write(&file, config(&["a"])).expect("write");
    let (_watcher, mut rx) = start(sources(&[&file])).await;
    assert_eq!(names(&rx.borrow()), ["a"]);
    let first = rx.borrow().generation;

    let t = Instant::now();
    fs::write(&file, config(&["a", "b"])).expect("rewrite");
    let s = observe(&mut rx, "edit in place", t, |s| names(s) == ["a", "b"]).await;
    assert!(s.generation > first);
}

#[tokio::test]
async fn write_to_temp_and_rename_is_seen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("config");
    fs::write(&file, config(&["a"])).expect("write");
    let (_watcher, mut rx) = start(sources(&[&file])).await;

    // How editors and `aws eks update-kubeconfig` save.
    let t = Instant::now();
    let tmp = dir.path().join(".config.tmp-123");
    fs::write(&tmp, config(&["renamed"])).expect("write temp");
    fs::rename(&tmp, &file).expect("rename");
    observe(&mut rx, "temp + rename", t, |s| names(s) == ["renamed"]).await;
}

#[tokio::test]
async fn a_created_file_and_a_deleted_file_are_seen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("config");
    let (_watcher, mut rx) = start(sources(&[&file])).await;
    assert_eq!(rx.borrow().list.sources[0].state, SourceState::Missing);

    let t = Instant::now();
    fs::write(&file, config(&["new"])).expect("create");
    observe(&mut rx, "create", t, |s| names(s) == ["new"]).await;

    let t = Instant::now();
    fs::remove_file(&file).expect("delete");
    let s = observe(&mut rx, "delete", t, |s| s.list.contexts.is_empty()).await;
    assert_eq!(s.list.sources[0].state, SourceState::Missing);
}

#[tokio::test]
async fn a_file_in_a_directory_that_does_not_exist_yet_is_seen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("later/.kube/config");
    let (_watcher, mut rx) = start(sources(&[&file])).await;

    let t = Instant::now();
    fs::create_dir_all(file.parent().expect("parent")).expect("mkdir");
    fs::write(&file, config(&["late"])).expect("create");
    observe(&mut rx, "create in a new directory", t, |s| {
        names(s) == ["late"]
    })
    .await;
}

#[tokio::test]
async fn a_changed_certificate_bumps_the_generation_with_the_same_contexts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("config");
    fs::write(&file, config(&["a"])).expect("write");
    fs::write(dir.path().join("ca.crt"), "first CA").expect("ca");
    let (_watcher, mut rx) = start(sources(&[&file])).await;
    let before = rx.borrow().generation;

    let t = Instant::now();
    fs::write(dir.path().join("ca.crt"), "rotated CA").expect("rotate ca");
    let s = observe(&mut rx, "referenced file (ca.crt) rewritten", t, |s| {
        s.generation > before
    })
    .await;
    assert_eq!(names(&s), ["a"]);
}

#[tokio::test]
async fn a_certificate_in_another_directory_is_watched_too() {
    let dir = tempfile::tempdir().expect("tempdir");
    let certs = dir.path().join("certs");
    fs::create_dir(&certs).expect("mkdir");
    let file = dir.path().join("kube/config");
    fs::create_dir(dir.path().join("kube")).expect("mkdir");
    // Relative to the kubeconfig's own directory, as client-go reads it.
    fs::write(
        &file,
        "users:\n- name: u\n  user: {client-certificate: ../certs/u.crt, client-key: ../certs/u.key}\ncontexts:\n- name: a\n  context: {cluster: c, user: u}\n",
    )
    .expect("write");
    fs::write(certs.join("u.crt"), "cert 1").expect("cert");
    fs::write(certs.join("u.key"), "key 1").expect("key");
    let (_watcher, mut rx) = start(sources(&[&file])).await;
    let before = rx.borrow().generation;

    let t = Instant::now();
    fs::write(certs.join("u.key.tmp"), "key 2").expect("temp key");
    fs::rename(certs.join("u.key.tmp"), certs.join("u.key")).expect("rename key");
    observe(
        &mut rx,
        "client key replaced in another directory",
        t,
        |s| s.generation > before,
    )
    .await;
}

#[tokio::test]
async fn an_unrelated_file_in_the_directory_publishes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("config");
    fs::write(&file, config(&["a"])).expect("write");
    let (_watcher, mut rx) = start(sources(&[&file])).await;
    let before = rx.borrow().generation;
    rx.mark_unchanged();

    fs::write(dir.path().join("notes.txt"), "hello").expect("write other");
    fs::write(dir.path().join("config.swp"), "vim").expect("write swap");
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(!rx.has_changed().expect("alive"), "no new snapshot");
    assert_eq!(rx.borrow().generation, before);
}

#[tokio::test]
async fn a_broken_file_keeps_its_last_good_contexts_marked_stale_until_fixed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("config");
    let other = dir.path().join("other");
    fs::write(&file, config(&["a"])).expect("write");
    fs::write(&other, config(&["o"])).expect("write");
    let (_watcher, mut rx) = start(sources(&[&file, &other])).await;

    let t = Instant::now();
    fs::write(&file, "contexts: [\n  - name: half-saved\n").expect("break");
    let s = observe(&mut rx, "file turned malformed", t, |s| {
        matches!(s.list.sources[0].state, SourceState::Malformed { .. })
    })
    .await;
    assert_eq!(names(&s), ["a", "o"], "last good content stays merged");
    let stale: Vec<(&str, bool)> = s
        .list
        .contexts
        .iter()
        .map(|c| (c.name.as_str(), c.stale))
        .collect();
    assert_eq!(stale, [("a", true), ("o", false)]);
    let SourceState::Malformed { reason } = &s.list.sources[0].state else {
        unreachable!()
    };
    assert!(!reason.is_empty());

    let t = Instant::now();
    fs::write(&file, config(&["a", "fixed"])).expect("fix");
    let s = observe(&mut rx, "file fixed", t, |s| {
        names(s) == ["a", "fixed", "o"]
    })
    .await;
    assert!(s.list.contexts.iter().all(|c| !c.stale));
    assert_eq!(s.list.sources[0].state, SourceState::Loaded { contexts: 2 });

    // Broken, then deleted: the last good content goes with the file.
    fs::write(&file, "contexts: [\n").expect("break again");
    let t = Instant::now();
    fs::remove_file(&file).expect("delete");
    observe(&mut rx, "broken file deleted", t, |s| names(s) == ["o"]).await;
}

#[tokio::test]
async fn sources_can_change_at_runtime() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("config");
    let added_dir = dir.path().join("added");
    fs::create_dir(&added_dir).expect("mkdir");
    let added = added_dir.join("team.yaml");
    fs::write(&file, config(&["a"])).expect("write");
    fs::write(&added, config(&["team"])).expect("write");
    let (watcher, mut rx) = start(sources(&[&file])).await;

    let t = Instant::now();
    watcher.set_sources(sources(&[&file]).with_added([added.clone()]));
    let s = observe(&mut rx, "file added in settings", t, |s| {
        names(s) == ["a", "team"]
    })
    .await;
    assert!(s.list.sources[1].added);

    // The added file's directory is watched from now on (the pause lets the
    // reload that follows a new watch finish, so inotify is what is tested).
    tokio::time::sleep(Duration::from_millis(300)).await;
    let t = Instant::now();
    fs::write(&added, config(&["team", "team2"])).expect("edit added");
    observe(&mut rx, "edit of the added file", t, |s| {
        names(s) == ["a", "team", "team2"]
    })
    .await;

    let t = Instant::now();
    watcher.set_sources(sources(&[&file]));
    observe(&mut rx, "file removed in settings", t, |s| {
        names(s) == ["a"]
    })
    .await;
}

/// Kubernetes' atomic writer: files are symlinks into `..data`, itself a
/// symlink swapped by rename. A rotated token must bump the generation.
#[cfg(unix)]
#[tokio::test]
async fn a_rotated_service_account_token_bumps_the_generation() {
    use porthole_core::kubeconfig::InClusterSource;
    use std::os::unix::fs::symlink;

    let dir = tempfile::tempdir().expect("tempdir");
    let sa = dir.path().to_path_buf();
    let write_version = |name: &str, token: &str| -> PathBuf {
        let version = sa.join(name);
        fs::create_dir(&version).expect("mkdir version");
        fs::write(version.join("token"), token).expect("token");
        fs::write(version.join("ca.crt"), "CA").expect("ca");
        fs::write(version.join("namespace"), "team-a").expect("ns");
        version
    };
    write_version("..2026_01", "zoo-secret-token-1");
    symlink("..2026_01", sa.join("..data")).expect("..data");
    for f in ["token", "ca.crt", "namespace"] {
        symlink(format!("..data/{f}"), sa.join(f)).expect("file link");
    }
    let source =
        InClusterSource::from_parts(Some("10.96.0.1".as_ref()), Some("443".as_ref()), sa.clone())
            .expect("in a pod");
    let (_watcher, mut rx) = start(KubeconfigSources::in_cluster_only(source)).await;
    assert_eq!(names(&rx.borrow()), ["in-cluster"]);
    let before = rx.borrow().generation;

    let t = Instant::now();
    write_version("..2026_02", "zoo-secret-token-2");
    symlink("..2026_02", sa.join("..data_tmp")).expect("tmp link");
    fs::rename(sa.join("..data_tmp"), sa.join("..data")).expect("swap");
    let s = observe(&mut rx, "service-account token rotated", t, |s| {
        s.generation > before
    })
    .await;
    assert_eq!(names(&s), ["in-cluster"]);
    assert!(
        !format!("{s:?}").contains("zoo-secret"),
        "no token in Debug"
    );
}
