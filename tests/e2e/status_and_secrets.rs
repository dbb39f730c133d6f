//! Every context gets a status dot, and the fixture contexts (whose servers
//! cannot be reached) say why in words. Then the secret scan: with
//! PORTHOLE_IPC_RECORD set, everything the webview received — command
//! answers and events — plus the page and the app's log hold no fixture
//! secret. Screenshots in light and dark, English and Chinese, at the
//! minimum and a large size land in target/e2e/.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::Value;

use crate::driver::{Launch, Session};
use crate::setup::{
    WAIT, assert_no_secret, copied_kubeconfig, hermetic_env, two_file_kubeconfig, without_plugins,
};

/// WebDriver key codes.
const TAB: &str = "\u{E004}";
const END: &str = "\u{E010}";
/// Names the focused element (test id, `option:NAME`, or `language`) and
/// says whether its focus ring shows.
const FOCUSED: &str = "const e = document.activeElement; \
    const name = e.dataset.testid || (e.dataset.name ? 'option:' + e.dataset.name : '') || (e.tagName === 'SELECT' ? 'language' : e.tagName); \
    const shown = e.matches(':focus-visible') && getComputedStyle(e).outlineStyle !== 'none'; \
    return name + (shown ? ' visible' : ' hidden');";

const EKS: &str = "arn:aws:eks:eu-west-1:123456789012:cluster/prod";
/// Probes time out after a few seconds; DNS and refused connections fail fast.
pub(crate) const PROBED: Duration = Duration::from_secs(60);

pub(crate) fn option(session: &Session, name: &str) -> String {
    session
        .wait_for(&format!("[role=option][data-name='{name}']"), 1, WAIT)
        .remove(0)
}

/// The problem title the sidebar shows under a context. (Read as
/// textContent: WebKitWebDriver's element text is empty for text that
/// `overflow: hidden` may cut, as the sidebar's lines are.)
pub(crate) fn problem_title(session: &Session, name: &str) -> String {
    option(session, name);
    let name = serde_json::to_string(name).expect("a JSON string");
    session.execute(&format!(
        "const o = [...document.querySelectorAll('[role=option]')].find((o) => o.dataset.name === {name}); \
         const p = o && o.querySelector('[data-testid=problem-title]'); \
         return p ? p.textContent.trim() : '';"
    ))
}

pub(crate) fn select(session: &Session, name: &str) {
    let element = option(session, name);
    // WebKitWebDriver does not scroll an element that is partly visible in
    // a nested scroll area (the sidebar's list), and then finds its centre
    // clipped away ("element not interactable"): show it whole first.
    let quoted = serde_json::to_string(name).expect("a JSON string");
    session.execute(&format!(
        "const o = [...document.querySelectorAll('[role=option]')].find((o) => o.dataset.name === {quoted}); \
         if (o) o.scrollIntoView({{block: 'center'}}); return '';"
    ));
    session.click(&element);
    session.wait_for(
        &format!("[data-testid=context-details] h2[title='{name}']"),
        1,
        WAIT,
    );
}

pub(crate) fn status_panel_text(session: &Session) -> String {
    let panel = session.wait_for("[data-testid=context-status]", 1, WAIT);
    session.text(&panel[0])
}

pub(crate) fn switch_language(session: &Session, locale: &str) {
    let choice = session.wait_for(&format!("select option[value='{locale}']"), 1, WAIT);
    session.click(&choice[0]);
}

fn start(home: &std::path::Path, dark: bool, log_name: &'static str) -> Session {
    let mut env = hermetic_env(home, two_file_kubeconfig(), "en");
    without_plugins(home, &mut env);
    if dark {
        env.push(("GTK_THEME", "Adwaita:dark".to_owned()));
    }
    Session::start(Launch { env, log_name })
}

/// Waits until every fixture context has been probed and failed.
fn wait_until_all_failed(session: &Session) {
    wait_until_failed(session, 3);
}

/// Waits until `count` contexts show a dot, and then a failed one.
fn wait_until_failed(session: &Session, count: usize) {
    session.wait_for(
        "[data-testid=context-list] [data-testid=status-dot]",
        count,
        WAIT,
    );
    session.wait_for(
        "[data-testid=context-list] [data-testid=status-dot][data-state=failed]",
        count,
        PROBED,
    );
}

#[test]
fn unreachable_fixture_contexts_show_a_failed_dot_and_say_why() {
    let home = tempfile::tempdir().expect("tempdir");
    let session = start(home.path(), false, "status-light.log");
    session.set_window_size(1280, 800);

    // A dot per context at once (checking until the probe answers).
    let dots = session.wait_for(
        "[data-testid=context-list] [data-testid=status-dot]",
        3,
        WAIT,
    );
    for dot in &dots {
        let label = session.attribute(dot, "aria-label").unwrap_or_default();
        assert!(label.starts_with("Status: "), "dot label: {label}");
    }
    wait_until_all_failed(&session);

    // The exec plugin is nowhere on the search path.
    assert_eq!(problem_title(&session, EKS), "Sign-in helper not found");
    select(&session, EKS);
    let text = status_panel_text(&session);
    assert!(text.contains("“aws”"), "names the plugin: {text}");
    assert!(
        text.contains("Extra PATH directories"),
        "says where to add its folder: {text}"
    );
    // staging.k8s.example.com does not resolve.
    assert_eq!(problem_title(&session, "staging"), "Server name not found");
    select(&session, "staging");
    let text = status_panel_text(&session);
    assert!(text.contains("staging.k8s.example.com"), "{text}");
    assert!(text.contains("What to do:"), "{text}");
    // kind-porthole: its fixture certificates are placeholders, not PEM (a
    // kubeconfig problem, with file and line); were they accepted, nothing
    // listens on 127.0.0.1:40443.
    let kind = problem_title(&session, "kind-porthole");
    select(&session, "kind-porthole");
    let text = status_panel_text(&session);
    match kind.as_str() {
        "Kubeconfig entry not usable" => {
            assert!(text.contains("kind-porthole"), "names the entry: {text}");
            assert!(
                text.contains("work.yaml, line "),
                "names file and line: {text}"
            );
            assert!(text.contains("Fix this entry in the file"), "{text}");
        }
        "Connection refused" => assert!(text.contains("127.0.0.1:40443"), "{text}"),
        other => panic!("kind-porthole: unexpected problem {other:?}: {text}"),
    }
    session.screenshot("status-light-en-large.png");

    // By keyboard alone: Tab reaches every control with a visible focus ring,
    // and End on the tabs opens the Config tab (the last one).
    session.execute("document.activeElement.blur(); return '';");
    let mut reached = Vec::new();
    for _ in 0..9 {
        session.press_keys(&[TAB]);
        let focused = session.execute(FOCUSED);
        assert!(
            focused.ends_with(" visible"),
            "focus is not visible: {focused}"
        );
        reached.push(focused);
        if reached
            .last()
            .is_some_and(|f| f.starts_with("tab-overview"))
        {
            break;
        }
    }
    let reached: Vec<&str> = reached
        .iter()
        .map(|f| f.split(' ').next().unwrap_or_default())
        .collect();
    assert_eq!(
        reached,
        [
            "reload",
            "open-forwards",
            "open-settings",
            "language",
            "option:kind-porthole",
            "add-kubeconfig",
            "tab-overview"
        ],
        "Tab order"
    );
    session.press_keys(&[END]);
    let config = session.wait_for("[data-testid=config-text]", 1, WAIT);
    let yaml = session.text(&config[0]);
    assert!(yaml.contains("kind-porthole"), "config view: {yaml}");
    session.press_keys(&[TAB, TAB]);
    assert_eq!(
        session.execute(FOCUSED),
        "config-text visible",
        "the view scrolls by keyboard"
    );
    session.screenshot("config-light-en-large.png");

    // Chinese wording for the same problems.
    select(&session, EKS);
    switch_language(&session, "zh-CN");
    session.wait_for("[data-testid=tab-overview]", 1, WAIT);
    let overview = session.find_all("[data-testid=tab-overview]");
    session.click(&overview[0]);
    assert_eq!(problem_title(&session, EKS), "找不到登录插件");
    assert_eq!(problem_title(&session, "staging"), "找不到服务器名称");
    let text = status_panel_text(&session);
    assert!(text.contains("额外的 PATH 目录"), "{text}");
    session.screenshot("status-light-zh-large.png");

    session.set_window_size(560, 400);
    session.wait_for_paint();
    let fits = session
        .execute("return String(document.documentElement.scrollWidth <= window.innerWidth);");
    assert_eq!(fits, "true", "no horizontal scrolling at the minimum size");
    session.screenshot("status-light-zh-small.png");
}

#[test]
fn dark_theme_at_both_sizes_in_both_languages() {
    let home = tempfile::tempdir().expect("tempdir");
    let session = start(home.path(), true, "status-dark.log");
    session.set_window_size(560, 400);
    wait_until_all_failed(&session);
    let background =
        session.execute("return getComputedStyle(document.documentElement).backgroundColor;");
    assert_eq!(background, "rgb(20, 24, 31)", "dark theme background");
    session.screenshot("status-dark-en-small.png");

    let settings = session.wait_for("[data-testid=open-settings]", 1, WAIT);
    session.click(&settings[0]);
    session.wait_for("[data-testid=settings]", 1, WAIT);
    session.screenshot("settings-dark-en-small.png");
    session.click(&settings[0]);

    session.set_window_size(1280, 800);
    select(&session, "staging");
    session.screenshot("status-dark-en-large.png");
    switch_language(&session, "zh-CN");
    session.wait_for("[data-testid=context-status]", 1, WAIT);
    session.screenshot("status-dark-zh-large.png");
    let tab = session.wait_for("[data-testid=tab-config]", 1, WAIT);
    session.click(&tab[0]);
    session.wait_for("[data-testid=config-text]", 1, WAIT);
    session.screenshot("config-dark-zh-large.png");
    session.set_window_size(560, 400);
    session.screenshot("config-dark-zh-small.png");
}

#[test]
fn no_fixture_secret_crosses_ipc_or_reaches_the_page_or_the_log() {
    let home = tempfile::tempdir().expect("tempdir");
    let record = home.path().join("ipc.jsonl");
    let (kubeconfig, work_yaml) = copied_kubeconfig(home.path());
    let mut env = hermetic_env(home.path(), kubeconfig, "en");
    without_plugins(home.path(), &mut env);
    env.push(("PORTHOLE_IPC_RECORD", record.display().to_string()));
    // As much logging as Porthole does, so the log scan means something.
    env.push((
        "PORTHOLE_LOG",
        "info,porthole=debug,porthole_app=debug,porthole_core=debug".to_owned(),
    ));
    let session = Session::start(Launch {
        env,
        log_name: "secret-scan.log",
    });
    session.set_window_size(1280, 800);
    wait_until_all_failed(&session);

    // Ask for everything the UI can show: each context's details and its
    // redacted config, the settings, and a reload (which sends events).
    let mut pages = vec![session.page_source()];
    for name in [EKS, "kind-porthole", "staging"] {
        select(&session, name);
        let tab = session.wait_for("[data-testid=tab-config]", 1, WAIT);
        session.click(&tab[0]);
        session.wait_for("[data-testid=config-text]", 1, WAIT);
        pages.push(session.page_source());
        let tab = session.wait_for("[data-testid=tab-overview]", 1, WAIT);
        session.click(&tab[0]);
        pages.push(session.page_source());
    }
    let settings = session.wait_for("[data-testid=open-settings]", 1, WAIT);
    session.click(&settings[0]);
    session.wait_for("[data-testid=settings]", 1, WAIT);
    pages.push(session.page_source());
    session.click(&settings[0]);
    // The Forwards view (none here: the fixture clusters cannot be reached).
    let forwards = session.wait_for("[data-testid=open-forwards]", 1, WAIT);
    session.click(&forwards[0]);
    session.wait_for("[data-testid=forwards-empty]", 1, WAIT);
    pages.push(session.page_source());
    session.click(&forwards[0]);
    let reload = session.wait_for("[data-testid=reload]", 1, WAIT);
    session.click(&reload[0]);
    wait_until_all_failed(&session);
    pages.push(session.page_source());

    // Live: a context added to a file shows up without a reload (and its
    // status arrives the same way).
    let mut yaml = std::fs::read_to_string(&work_yaml).expect("read the copied work.yaml");
    yaml.push_str("- name: added-live\n  context:\n    cluster: staging\n    user: sre\n");
    std::fs::write(&work_yaml, yaml).expect("edit the copied work.yaml");
    session.wait_for("[role=option][data-name='added-live']", 1, WAIT);
    wait_until_failed(&session, 4);
    select(&session, "added-live");
    pages.push(session.page_source());

    let log_path = session.log_path.clone();
    drop(session);

    let recorded = std::fs::read_to_string(&record).unwrap_or_else(|e| {
        panic!(
            "PORTHOLE_IPC_RECORD={} was not written: {e}",
            record.display()
        )
    });
    let lines: Vec<Value> = recorded
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let names = |kind: &str| -> BTreeSet<String> {
        lines
            .iter()
            .filter(|l| l["kind"] == kind)
            .filter_map(|l| l["name"].as_str().map(str::to_owned))
            .collect()
    };
    let commands = names("command");
    let events = names("event");
    for expected in [
        "list_contexts",
        "context_statuses",
        "get_settings",
        "config_view",
        "reload",
        "list_forwards",
    ] {
        assert!(
            commands.contains(expected),
            "{expected} answers recorded: {commands:?}"
        );
    }
    for expected in ["contexts-changed", "context-status"] {
        assert!(
            events.contains(expected),
            "{expected} events recorded: {events:?}"
        );
    }
    // The redacted views were among what crossed IPC.
    let views = lines
        .iter()
        .filter(|l| l["name"] == "config_view" && l["ok"] == true)
        .count();
    assert!(views >= 3, "three config views recorded, got {views}");
    std::fs::copy(
        &record,
        crate::driver::artifacts_dir().join("ipc-record.jsonl"),
    )
    .expect("keep the record beside the screenshots");

    assert_no_secret(&recorded, "the IPC record");
    for page in &pages {
        assert_no_secret(page, "the page");
    }
    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
    assert!(
        !log.is_empty(),
        "the app's log is empty: {}",
        log_path.display()
    );
    assert_no_secret(&log, "the app's log");
}
