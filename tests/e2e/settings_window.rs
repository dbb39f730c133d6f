//! Files added in Porthole can be removed there (and only those), and the
//! extra PATH directories are edited in the settings; both are saved to
//! Porthole's own settings file, never to a kubeconfig.

use crate::driver::{Launch, Session};
use crate::setup::{WAIT, hermetic_env, two_file_kubeconfig, without_plugins};

const LAB: &str = "apiVersion: v1
kind: Config
clusters:
- name: lab
  cluster:
    server: https://127.0.0.1:9
users:
- name: lab
  user: {}
contexts:
- name: lab
  context:
    cluster: lab
    user: lab
";

#[test]
fn files_added_in_porthole_can_be_removed_and_extra_path_dirs_edited() {
    let home = tempfile::tempdir().expect("tempdir");
    let lab = home.path().join("clusters/lab.yaml");
    std::fs::create_dir_all(lab.parent().expect("a parent")).expect("create clusters dir");
    std::fs::write(&lab, LAB).expect("write lab.yaml");
    let settings_dir = home.path().join(".config/porthole");
    std::fs::create_dir_all(&settings_dir).expect("create settings dir");
    let settings_file = settings_dir.join("settings.json");
    let settings = serde_json::json!({
        "kubeconfigs": [lab.display().to_string()],
        "extraPathDirs": ["/opt/e2e/bin"],
    });
    std::fs::write(&settings_file, settings.to_string()).expect("write settings.json");

    let mut env = hermetic_env(home.path(), two_file_kubeconfig(), "en");
    without_plugins(home.path(), &mut env);
    let session = Session::start(Launch {
        env,
        log_name: "settings-window.log",
    });
    session.set_window_size(1280, 800);
    session.wait_for("[role=option][data-name='lab']", 1, WAIT);

    // Remove is offered for the added file only, not for $KUBECONFIG's.
    let files = session.wait_for("[data-testid=source-files] li", 3, WAIT);
    assert_eq!(
        files.len(),
        3,
        "work.yaml, cloud.yaml and the added lab.yaml"
    );
    let removable = session.find_all("[data-testid=remove-kubeconfig]");
    assert_eq!(removable.len(), 1, "only the added file can be removed");
    let label = session
        .attribute(&removable[0], "aria-label")
        .unwrap_or_default();
    assert!(label.contains("lab.yaml"), "{label}");

    // The extra PATH directories: listed, one added by keyboard.
    let open = session.wait_for("[data-testid=open-settings]", 1, WAIT);
    session.click(&open[0]);
    let list = session.wait_for("[data-testid=extra-path-list]", 1, WAIT);
    assert!(session.text(&list[0]).contains("/opt/e2e/bin"));
    let input = session.wait_for("[data-testid=extra-path-input]", 1, WAIT);
    session.send_keys(&input[0], "/srv/tools/bin\u{E007}");
    session.wait_for("[data-testid=extra-path-list] li", 2, WAIT);
    session.screenshot("settings-light-en-large.png");
    let saved = std::fs::read_to_string(&settings_file).expect("read settings.json");
    assert!(saved.contains("/srv/tools/bin"), "saved: {saved}");
    session.click(&open[0]);

    // Removing the file takes its contexts away; the file itself stays.
    session.click(&removable[0]);
    let deadline = std::time::Instant::now() + WAIT;
    // Counted in the page: the list is re-rendered meanwhile, and WebKitWebDriver
    // answers a search that races with that as "stale element".
    let count = |css: &str| {
        session.execute(&format!(
            "return String(document.querySelectorAll({}).length);",
            serde_json::to_string(css).expect("a JSON string")
        ))
    };
    while count("[role=option][data-name='lab']") != "0" {
        assert!(
            std::time::Instant::now() < deadline,
            "lab is still listed after Remove"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(count("[data-testid=remove-kubeconfig]"), "0");
    assert!(lab.is_file(), "Remove never deletes the file");
    let saved = std::fs::read_to_string(&settings_file).expect("read settings.json");
    assert!(!saved.contains("lab.yaml"), "saved: {saved}");
}

#[test]
fn a_broken_settings_file_is_named_in_a_banner_and_kept() {
    let home = tempfile::tempdir().expect("tempdir");
    let settings_dir = home.path().join(".config/porthole");
    std::fs::create_dir_all(&settings_dir).expect("create settings dir");
    let settings_file = settings_dir.join("settings.json");
    let broken = "{\n  \"kubeconfigs\": [\"/opt/a.yaml\",,]\n}\n";
    std::fs::write(&settings_file, broken).expect("write settings.json");

    let mut env = hermetic_env(home.path(), two_file_kubeconfig(), "en");
    without_plugins(home.path(), &mut env);
    let session = Session::start(Launch {
        env,
        log_name: "settings-problem.log",
    });
    session.set_window_size(1280, 800);
    let banner = session.wait_for("[data-testid=settings-problem]", 1, WAIT);
    let text = session.text(&banner[0]);
    assert!(
        text.contains(&settings_file.display().to_string()),
        "names the file: {text}"
    );
    assert!(
        text.contains("default settings are in use until it is fixed"),
        "{text}"
    );
    assert!(text.contains("The file is kept as it is"), "{text}");
    // The contexts are there all the same.
    session.wait_for("[data-testid=context-list] [role=option]", 3, WAIT);
    session.screenshot("settings-problem-light-en-large.png");
    let chinese = session.wait_for("select option[value='zh-CN']", 1, WAIT);
    session.click(&chinese[0]);
    let banner = session.wait_for("[data-testid=settings-problem]", 1, WAIT);
    let text = session.text(&banner[0]);
    assert!(text.contains("修正之前使用默认设置"), "{text}");
    assert!(
        text.contains(&settings_file.display().to_string()),
        "{text}"
    );
    session.set_window_size(560, 400);
    session.screenshot("settings-problem-light-zh-small.png");
    drop(session);
    assert_eq!(
        std::fs::read_to_string(&settings_file).expect("read settings.json"),
        broken,
        "the broken file is kept as it is"
    );
}
