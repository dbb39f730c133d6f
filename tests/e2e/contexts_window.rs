//! The window lists the kubeconfig's contexts and marks the current one;
//! with no kubeconfig it says where it looked. Nothing secret reaches it.

use crate::driver::{Launch, Session};
use crate::setup::{FIXTURE_SECRETS, WAIT, hermetic_env, two_file_kubeconfig};

#[test]
fn window_lists_three_contexts_from_two_files_and_marks_the_current_one() {
    let home = tempfile::tempdir().expect("tempdir");
    let kubeconfig = two_file_kubeconfig();
    let session = Session::start(Launch {
        env: hermetic_env(home.path(), kubeconfig, "en"),
        log_name: "contexts-window.log",
    });

    let options = session.wait_for("[data-testid=context-list] [role=option]", 3, WAIT);
    let names: Vec<String> = options
        .iter()
        .map(|o| session.attribute(o, "data-name").unwrap_or_default())
        .collect();
    assert_eq!(
        names,
        [
            "arn:aws:eks:eu-west-1:123456789012:cluster/prod",
            "kind-porthole",
            "staging"
        ]
    );

    // Exactly one marked current, with a visible badge, and it is work.yaml's choice.
    let current: Vec<&String> = options
        .iter()
        .zip(&names)
        .filter(|(o, _)| session.attribute(o, "data-current").as_deref() == Some("true"))
        .map(|(_, n)| n)
        .collect();
    assert_eq!(current, ["staging"]);
    let staging = &options[2];
    let badges = session.find_within(staging, "[data-testid=current-badge]");
    assert_eq!(badges.len(), 1, "the current context shows a badge");
    assert_eq!(session.text(&badges[0]).to_lowercase(), "current");
    assert_eq!(
        session.attribute(staging, "aria-selected").as_deref(),
        Some("true"),
        "the current context is selected at start"
    );

    // The details pane shows the first file's definition of the shared name.
    let details = session.wait_for("[data-testid=context-details]", 1, WAIT);
    let text = session.text(&details[0]);
    assert!(text.contains("monitoring"), "details: {text}");
    assert!(text.contains("work.yaml"), "details: {text}");

    let shot = session.screenshot("contexts-window.png");
    eprintln!("screenshot: {}", shot.display());

    let page = session.page_source();
    for secret in FIXTURE_SECRETS {
        assert!(!page.contains(secret), "a fixture secret reached the page");
    }
    let log_path = session.log_path.clone();
    drop(session);
    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
    for secret in FIXTURE_SECRETS {
        assert!(
            !log.contains(secret),
            "a fixture secret reached the app's log"
        );
    }
}

#[test]
fn window_without_kubeconfig_says_where_it_looked_and_switches_to_chinese() {
    let home = tempfile::tempdir().expect("tempdir");
    // No $KUBECONFIG: the app looks where kubectl does, ~/.kube/config.
    let mut env = hermetic_env(home.path(), String::new(), "en");
    env.retain(|(k, _)| *k != "KUBECONFIG");
    env.push(("KUBECONFIG", String::new()));
    let session = Session::start(Launch {
        env,
        log_name: "empty-window.log",
    });

    let empty = session.wait_for("[data-testid=empty-state]", 1, WAIT);
    let text = session.text(&empty[0]);
    let expected_path = home.path().join(".kube/config").display().to_string();
    assert!(
        text.contains(&expected_path),
        "names the path it looked at: {text}"
    );
    assert!(text.contains("No kubeconfig found"), "{text}");
    session.screenshot("empty-window-en.png");

    // The language picker switches the whole window to Simplified Chinese.
    let chinese = session.wait_for("select option[value='zh-CN']", 1, WAIT);
    session.click(&chinese[0]);
    let empty = session.wait_for("[data-testid=empty-state]", 1, WAIT);
    let text = session.text(&empty[0]);
    assert!(text.contains("未找到 kubeconfig"), "speaks Chinese: {text}");
    assert!(text.contains(&expected_path), "{text}");
    session.screenshot("empty-window-zh.png");
}

#[test]
fn window_stays_usable_at_its_minimum_size_in_dark_mode() {
    let home = tempfile::tempdir().expect("tempdir");
    let kubeconfig = two_file_kubeconfig();
    let mut env = hermetic_env(home.path(), kubeconfig, "en");
    // WebKitGTK maps a dark GTK theme to prefers-color-scheme: dark.
    env.push(("GTK_THEME", "Adwaita:dark".to_owned()));
    let session = Session::start(Launch {
        env,
        log_name: "small-dark-window.log",
    });
    session.set_window_size(560, 400);
    let options = session.wait_for("[data-testid=context-list] [role=option]", 3, WAIT);
    session.wait_for("[data-testid=context-details]", 1, WAIT);
    let background =
        session.execute("return getComputedStyle(document.documentElement).backgroundColor;");
    assert_eq!(background, "rgb(20, 24, 31)", "dark theme background");
    let width = session
        .execute("return String(document.documentElement.scrollWidth <= window.innerWidth);");
    assert_eq!(width, "true", "no horizontal scrolling at the minimum size");
    assert_eq!(options.len(), 3);
    let list_height = session.execute(
        "return String(document.querySelector('[data-testid=context-list]').parentElement.clientHeight);",
    );
    let list_height: u32 = list_height.parse().expect("a number");
    assert!(
        list_height >= 100,
        "the context list keeps room: {list_height}px"
    );
    session.screenshot("small-dark-window.png");
}
