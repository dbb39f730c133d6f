//! What every end-to-end test starts from: the fixture kubeconfigs, their
//! secrets (which must never reach the webview or the log), and a private
//! environment for the app.

use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long to wait for the window to show something.
pub const WAIT: Duration = Duration::from_secs(30);

/// Every credential in tests/fixtures/kubeconfig: none may reach the page or the log.
pub const FIXTURE_SECRETS: &[&str] = &[
    "porthole-fixture-token-staging-3f9a1c",
    "porthole-fixture-token-shadowed-77e0b2",
    "cG9ydGhvbGUtZml4dHVyZS1jbGllbnQta2V5LXNlY3JldA==",
    "cG9ydGhvbGUtZml4dHVyZS1jbGllbnQtY2VydA==",
    "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t",
];

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/kubeconfig")
        .join(name)
}

/// `$KUBECONFIG` for the two fixture files: three contexts, `staging` current.
pub fn two_file_kubeconfig() -> String {
    std::env::join_paths([fixture("work.yaml"), fixture("cloud.yaml")])
        .expect("join paths")
        .to_string_lossy()
        .into_owned()
}

/// A private home (and XDG dirs) so the user's own kubeconfig and the
/// webview's stored settings of earlier runs play no part.
pub fn hermetic_env(
    home: &Path,
    kubeconfig: String,
    language: &str,
) -> Vec<(&'static str, String)> {
    let h = |sub: &str| home.join(sub).display().to_string();
    vec![
        ("HOME", home.display().to_string()),
        ("XDG_CONFIG_HOME", h(".config")),
        ("XDG_DATA_HOME", h(".local/share")),
        ("XDG_CACHE_HOME", h(".cache")),
        ("KUBECONFIG", kubeconfig),
        ("LANGUAGE", language.to_owned()),
        ("LANG", "C.UTF-8".to_owned()),
        ("LC_ALL", String::new()),
        ("NO_AT_BRIDGE", "1".to_owned()),
    ]
}

/// Adds to `env` a PATH with nothing on it but the WebDriver (which
/// tauri-driver starts), and a login shell that answers nothing, so the
/// fixture's exec plugin (`aws`) is not found on any machine.
pub fn without_plugins(home: &Path, env: &mut Vec<(&'static str, String)>) {
    let bin = home.join("bin");
    std::fs::create_dir_all(&bin).expect("create private bin");
    let driver = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|dir| dir.join("WebKitWebDriver"))
        .find(|p| p.is_file())
        .expect("WebKitWebDriver on PATH (apt-get install webkit2gtk-driver)");
    // A second launch on the same home links it again.
    let link = bin.join("WebKitWebDriver");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(driver, link).expect("link WebKitWebDriver");
    env.retain(|(k, _)| *k != "PATH" && *k != "SHELL");
    env.push(("PATH", bin.display().to_string()));
    env.push(("SHELL", "/bin/false".to_owned()));
}

/// Fails the test when any fixture secret occurs in `text`.
pub fn assert_no_secret(text: &str, place: &str) {
    for secret in FIXTURE_SECRETS {
        assert!(
            !text.contains(secret),
            "a fixture secret ({}…) reached {place}",
            &secret[..8]
        );
    }
}

/// Copies of the two fixture files under `home` (so a test may edit them),
/// as a `$KUBECONFIG` value; returns it and the path of the copied work.yaml.
pub fn copied_kubeconfig(home: &Path) -> (String, PathBuf) {
    let dir = home.join("kube");
    std::fs::create_dir_all(&dir).expect("create kube dir");
    let copies: Vec<PathBuf> = ["work.yaml", "cloud.yaml"]
        .iter()
        .map(|name| {
            let copy = dir.join(name);
            std::fs::copy(fixture(name), &copy).expect("copy fixture");
            copy
        })
        .collect();
    let joined = std::env::join_paths(&copies).expect("join paths");
    (joined.to_string_lossy().into_owned(), copies[0].clone())
}
