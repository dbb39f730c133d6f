//! The settings file: defaults when absent, atomic private writes, clear
//! errors, and a broken file never silently overwritten.

use std::fs;
use std::path::Path;

use porthole_core::settings::{Settings, SettingsError, SettingsStore};

fn settings_file(dir: &Path) -> std::path::PathBuf {
    dir.join("conf/settings.json")
}

#[tokio::test]
async fn a_missing_file_gives_defaults_and_changes_are_saved_privately() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = settings_file(dir.path());
    let kubeconfig = dir.path().join("team.yaml");
    fs::write(&kubeconfig, "").expect("kubeconfig");

    let mut store = SettingsStore::load(&path).await.expect("loads");
    assert_eq!(store.settings(), &Settings::default());
    assert!(!path.exists(), "loading writes nothing");

    assert!(store.add_kubeconfig(&kubeconfig).await.expect("added"));
    assert!(
        !store.add_kubeconfig(&kubeconfig).await.expect("no-op"),
        "no duplicates"
    );
    store
        .set_extra_path_dirs(vec!["/opt/bin".into(), " ".into()])
        .await
        .expect("saved");

    let reloaded = SettingsStore::load(&path).await.expect("reloads");
    assert_eq!(
        reloaded.settings(),
        &Settings {
            kubeconfigs: vec![kubeconfig.display().to_string()],
            extra_path_dirs: vec!["/opt/bin".into()],
            ..Settings::default()
        }
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let leftovers: Vec<_> = fs::read_dir(path.parent().expect("dir"))
        .expect("list")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(leftovers, ["settings.json"], "no temporary files left");

    assert!(store.remove_kubeconfig(&kubeconfig).await.expect("removed"));
    assert!(!store.remove_kubeconfig(&kubeconfig).await.expect("no-op"));
    let reloaded = SettingsStore::load(&path).await.expect("reloads");
    assert!(reloaded.settings().kubeconfigs.is_empty());
}

#[tokio::test]
async fn relative_paths_are_made_absolute() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = SettingsStore::load(settings_file(dir.path()))
        .await
        .expect("loads");
    // The package directory is the working directory of integration tests.
    store.add_kubeconfig("Cargo.toml").await.expect("added");
    let added = &store.settings().kubeconfigs[0];
    assert!(Path::new(added).is_absolute(), "{added}");
    assert!(added.ends_with("/Cargo.toml"));
}

#[tokio::test]
async fn a_missing_file_or_a_directory_cannot_be_added() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = SettingsStore::load(settings_file(dir.path()))
        .await
        .expect("loads");
    let err = store
        .add_kubeconfig(dir.path().join("nope"))
        .await
        .expect_err("missing");
    assert!(
        matches!(err, SettingsError::KubeconfigNotFound { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("nope: no such file"), "{err}");
    let err = store.add_kubeconfig(dir.path()).await.expect_err("dir");
    assert!(
        matches!(err, SettingsError::KubeconfigIsDirectory { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("is a directory"), "{err}");
    assert!(store.settings().kubeconfigs.is_empty());
}

#[tokio::test]
async fn a_malformed_file_is_reported_kept_and_moved_aside_before_a_save() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = settings_file(dir.path());
    fs::create_dir_all(path.parent().expect("dir")).expect("mkdir");
    let broken = "{\n  \"kubeconfigs\": \"/not/a/list\"\n}\n";
    fs::write(&path, broken).expect("write");

    let err = SettingsStore::load(&path).await.expect_err("malformed");
    let text = err.to_string();
    assert!(
        text.starts_with(&format!("{}:2:", path.display())),
        "names file and line: {text}"
    );
    assert!(text.contains("kubeconfigs"), "names the field: {text}");

    let mut store = SettingsStore::load_or_default(&path).await;
    assert_eq!(store.settings(), &Settings::default());
    assert!(matches!(
        store.load_problem(),
        Some(SettingsError::Malformed { line: 2, .. })
    ));
    assert_eq!(fs::read_to_string(&path).expect("read"), broken, "kept");

    store
        .set_extra_path_dirs(vec!["/x".into()])
        .await
        .expect("saves");
    let kept = store.kept_broken_file().expect("moved aside");
    assert_eq!(fs::read_to_string(kept).expect("read kept"), broken);
    let reloaded = SettingsStore::load(&path).await.expect("now valid");
    assert_eq!(reloaded.settings().extra_path_dirs, ["/x"]);
}
