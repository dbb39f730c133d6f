//! The main flow against the real control plane, ending in a real browser:
//! pick a context, see its services, click a port; the app hands the URL
//! to the browser command (the settings' `browserCommand`, here a recorder script), and
//! headless Chromium loads that URL through the app's own proxy (started by
//! the click: it is off at launch). The SPA fixture shows its known text
//! (root-relative assets and fetches work on the service's origin), the
//! HTTPS backend answers over TLS, and the Elasticsearch health URL shows
//! the handbook's JSON. A service created with kubectl appears in the
//! table within a second. Screenshots of the app and of the pages are kept
//! in target/e2e.
//!
//! The viewer, who may not list namespaces, adds one by name (a wrong name
//! is refused first) and it is remembered; with `askBeforeStarting` a port
//! asks before the proxy starts, and Enter starts it and opens.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use porthole_testkit::Cluster;

use crate::chromium;
use crate::driver::{Launch, Session, artifacts_dir, free_port};
use crate::setup::{WAIT, hermetic_env, without_plugins};
use crate::status_and_secrets::{select, switch_language};

const ADMIN: &str = "porthole-admin";
/// May read services in team-a (its namespace) and monitoring only.
const VIEWER: &str = "porthole-viewer";
/// WebDriver's Enter and Escape keys.
const ENTER: &str = "\u{E007}";
const ESCAPE: &str = "\u{E00C}";
/// How long a service created with kubectl may take to show in the table.
const LIVE_WITHIN: Duration = Duration::from_secs(1);

struct App {
    session: Session,
    recorded: PathBuf,
    port: u16,
    settings: PathBuf,
    _home: tempfile::TempDir,
}

fn launch(cluster: &Cluster, dark: bool, log_name: &'static str) -> App {
    launch_with(cluster, dark, log_name, false)
}

/// `ask_first`: the proxy setting `askBeforeStarting`.
fn launch_with(cluster: &Cluster, dark: bool, log_name: &'static str, ask_first: bool) -> App {
    let home = tempfile::tempdir().expect("tempdir");
    let dir = home.path().join("kube");
    std::fs::create_dir_all(&dir).expect("create kube dir");
    let kubeconfig = dir.join("config");
    std::fs::copy(cluster.kubeconfig(), &kubeconfig).expect("copy the cluster's kubeconfig");
    // The proxy on a free port, off at launch: the first click starts it.
    let port = free_port();
    let settings_dir = home.path().join(".config/porthole");
    std::fs::create_dir_all(&settings_dir).expect("create the settings dir");
    // The "browser": a script that writes the URL it is given to a file,
    // set as the browser command in Porthole's settings.
    let recorded = home.path().join("opened-urls.txt");
    let recorder = home.path().join("record-browser.sh");
    let settings = settings_dir.join("settings.json");
    std::fs::write(
        &settings,
        serde_json::json!({
            "proxy": {"port": port, "startWithApp": false, "askBeforeStarting": ask_first},
            "browserCommand": format!("{} {{url}}", recorder.display()),
        })
        .to_string(),
    )
    .expect("write settings.json");
    std::fs::write(
        &recorder,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$1\" >> '{}'\n",
            recorded.display()
        ),
    )
    .expect("write the recorder");
    set_executable(&recorder);

    let mut env = hermetic_env(home.path(), kubeconfig.display().to_string(), "en");
    without_plugins(home.path(), &mut env);
    env.push((
        "PORTHOLE_LOG",
        "info,porthole=debug,porthole_app=debug,porthole_core=debug".to_owned(),
    ));
    if dark {
        env.push(("GTK_THEME", "Adwaita:dark".to_owned()));
    }
    let session = Session::start(Launch { env, log_name });
    session.set_window_size(1280, 800);
    App {
        session,
        recorded,
        port,
        settings,
        _home: home,
    }
}

fn set_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .expect("make the recorder executable");
}

/// Selects the admin context and its Services tab; waits for the table.
pub(crate) fn open_services(session: &Session) {
    select(session, ADMIN);
    let tab = session.wait_for("[data-testid=tab-services]", 1, WAIT);
    session.click(&tab[0]);
    session.wait_for("[data-testid=service-row]", 1, Duration::from_secs(60));
}

pub(crate) fn filter(session: &Session, text: &str) {
    let input = session.wait_for("[data-testid=service-filter]", 1, WAIT);
    // WebDriver's Element Clear fires no input event, so the app would keep
    // its old filter: clear it as a user does, Ctrl+A and Backspace.
    session.send_keys(&input[0], "\u{E009}a\u{E000}\u{E003}");
    if !text.is_empty() {
        session.send_keys(&input[0], text);
    }
}

pub(crate) fn row_css(key: &str) -> String {
    format!("[data-testid=service-row][data-key='{key}']")
}

/// Clicks the first port button of `key` and returns the URL the browser
/// command received.
fn click_port(app: &App, key: &str) -> String {
    let before = recorded_urls(&app.recorded).len();
    click_port_only(app, key);
    recorded_after(app, key, before)
}

fn click_port_only(app: &App, key: &str) {
    let name = key.split('/').nth(1).expect("namespace/name");
    filter(&app.session, name);
    let button = app.session.wait_for(
        &format!("{} [data-testid=port-button]", row_css(key)),
        1,
        WAIT,
    );
    app.session.click(&button[0]);
}

/// The URL the browser command received after `before` ones.
fn recorded_after(app: &App, key: &str, before: usize) -> String {
    let deadline = Instant::now() + WAIT;
    loop {
        let urls = recorded_urls(&app.recorded);
        if urls.len() > before {
            return urls[before].clone();
        }
        if Instant::now() > deadline {
            let notice = app
                .session
                .execute("const n = document.querySelector('[data-testid=services-notice]'); return n ? n.textContent : '';");
            panic!("the browser command got no URL for {key} within {WAIT:?}; app says: {notice}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn recorded_urls(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn kubectl(cluster: &Cluster, args: &[&str]) {
    let out = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(cluster.kubeconfig())
        .args(["--context", ADMIN])
        .args(args)
        .output()
        .expect("kubectl on PATH");
    assert!(
        out.status.success(),
        "kubectl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn click_a_port_and_the_page_loads_in_a_real_browser() {
    let chrome = chromium::chromium();
    eprintln!("browser: {}", chrome.display());
    let cluster = porthole_testkit::cluster();
    let app = launch(cluster, false, "services-browser.log");
    let session = &app.session;
    open_services(session);
    session.screenshot("services-light-en-large.png");

    // The SPA (kube-system/kibana-logging): its port button → the recorder.
    let spa = click_port(&app, "kube-system/kibana-logging");
    assert_eq!(
        spa,
        format!(
            "http://5601.kibana-logging.kube-system.{ADMIN}.localhost:{}/",
            app.port
        ),
        "the Porthole URL of the SPA on the proxy's port"
    );
    // The click started the proxy (it was off).
    session.wait_for("[data-testid=proxy-bar][data-state=running]", 1, WAIT);
    let dom = chromium::dump_dom(&spa);
    assert!(
        dom.contains("PORTHOLE-SPA-OK"),
        "the SPA rendered through its own origin; DOM:\n{dom}"
    );
    chromium::screenshot(&spa, &artifacts_dir().join("browser-spa.png"));

    // The HTTPS backend (default/secure, port https).
    let secure = click_port(&app, "default/secure");
    assert!(
        secure.starts_with(&format!(
            "http://https--https.secure.default.{ADMIN}.localhost:{}/",
            app.port
        )),
        "{secure}"
    );
    let url = format!("{secure}hello?from=porthole-app");
    let dom = chromium::dump_dom(&url);
    for expected in [r#""tls":true"#, r#""path":"/hello""#] {
        assert!(
            dom.contains(expected),
            "the TLS backend's echo shows {expected}; DOM:\n{dom}"
        );
    }
    assert!(
        !dom.to_ascii_lowercase().contains("\"authorization\""),
        "no credential reaches the backend:\n{dom}"
    );
    chromium::screenshot(&url, &artifacts_dir().join("browser-https.png"));

    // The handbook's Elasticsearch health URL, query string and all.
    let es = click_port(&app, "kube-system/elasticsearch-logging");
    let health = format!("{es}_cluster/health?pretty=true");
    let dom = chromium::dump_dom(&health);
    for expected in [
        r#""cluster_name" : "kubernetes_logging","#,
        r#""status" : "yellow","#,
    ] {
        assert!(
            dom.contains(expected),
            "the health JSON shows {expected}; DOM:\n{dom}"
        );
    }
    chromium::screenshot(&health, &artifacts_dir().join("browser-elasticsearch.png"));

    // The details drawer of the SPA, and the cluster-info tab.
    filter(session, "kibana-logging");
    let row = session.wait_for(&row_css("kube-system/kibana-logging"), 1, WAIT);
    session.click(&row[0]);
    session.wait_for(
        "[data-testid=service-drawer] [data-testid=drawer-pod]",
        1,
        WAIT,
    );
    session.screenshot("services-drawer-light-en-large.png");
    let close = session.wait_for("[data-testid=close-drawer]", 1, WAIT);
    session.click(&close[0]);

    // Live: a service created with kubectl shows within a second.
    let live = format!("e2e-live-{}", std::process::id());
    filter(session, &live);
    session.wait_for("[data-testid=services-no-match]", 1, WAIT);
    let created = Instant::now();
    kubectl(
        cluster,
        &[
            "create",
            "service",
            "clusterip",
            &live,
            "--tcp=80:8080",
            "-n",
            "default",
        ],
    );
    session.wait_for(
        &row_css(&format!("default/{live}")),
        1,
        Duration::from_secs(10),
    );
    let took = created.elapsed();
    eprintln!("service created with kubectl appeared in the app after {took:?}");
    kubectl(
        cluster,
        &["delete", "service", &live, "-n", "default", "--wait=false"],
    );
    assert!(
        took <= LIVE_WITHIN,
        "the new service took {took:?} to show (goal ≤ {LIVE_WITHIN:?})"
    );
    filter(session, "");

    let tab = session.wait_for("[data-testid=tab-clusterInfo]", 1, WAIT);
    session.click(&tab[0]);
    let services = session.wait_for("[data-testid=cluster-service]", 4, WAIT);
    assert!(
        services.len() >= 4,
        "the handbook's builtins: {}",
        services.len()
    );
    session.screenshot("cluster-info-light-en-large.png");

    // Small window.
    let tab = session.wait_for("[data-testid=tab-services]", 1, WAIT);
    session.click(&tab[0]);
    session.wait_for("[data-testid=service-row]", 1, WAIT);
    session.set_window_size(560, 400);
    session.wait_for_paint();
    session.screenshot("services-light-en-small.png");
}

#[test]
fn services_in_dark_and_chinese() {
    let cluster = porthole_testkit::cluster();
    // Asks before starting the proxy: the question in dark and Chinese, and
    // Escape leaves the proxy off and opens nothing.
    let app = launch_with(cluster, true, "services-browser-dark.log", true);
    let session = &app.session;
    open_services(session);
    switch_language(session, "zh-CN");
    session.wait_for("[data-testid=sort-name]", 1, WAIT);
    let header = session
        .execute("return document.querySelector('[data-testid=sort-name]').textContent.trim();");
    assert!(header.contains("名称"), "{header}");
    session.screenshot("services-dark-zh-large.png");
    // From the keyboard: the port button focused, Enter.
    filter(session, "secure");
    let port = format!("{} [data-testid=port-button]", row_css("default/secure"));
    session.wait_for(&port, 1, WAIT);
    session.execute(&format!(
        "document.querySelector({}).focus(); return '';",
        serde_json::to_string(&port).expect("a JSON string")
    ));
    session.press_keys(&[ENTER]);
    let dialog = session.wait_for("[data-testid=start-proxy-dialog]", 1, WAIT);
    let question = session.text(&dialog[0]);
    assert!(
        question.contains("本地代理未运行。要启动它并打开 default/secure:https 吗？"),
        "{question}"
    );
    session.wait_for_paint();
    session.screenshot("start-proxy-dialog-dark-zh.png");
    session.press_keys(&[ESCAPE]);
    let deadline = Instant::now() + WAIT;
    while !session
        .find_all("[data-testid=start-proxy-dialog]")
        .is_empty()
    {
        assert!(Instant::now() < deadline, "Escape closes the question");
        std::thread::sleep(Duration::from_millis(50));
    }
    let focused = session.execute(
        "return document.activeElement ? document.activeElement.dataset.testid || '' : '';",
    );
    assert_eq!(focused, "port-button", "the focus is back on the port");
    assert!(recorded_urls(&app.recorded).is_empty(), "nothing opened");
    let state =
        session.execute("return document.querySelector('[data-testid=proxy-bar]').dataset.state;");
    assert_ne!(state, "running", "the proxy stayed off");
    filter(session, "secure");
    let row = session.wait_for(&row_css("default/secure"), 1, WAIT);
    session.click(&row[0]);
    session.wait_for("[data-testid=service-drawer]", 1, WAIT);
    session.screenshot("services-drawer-dark-zh-large.png");
    let close = session.wait_for("[data-testid=close-drawer]", 1, WAIT);
    session.click(&close[0]);
    let tab = session.wait_for("[data-testid=tab-clusterInfo]", 1, WAIT);
    session.click(&tab[0]);
    session.wait_for("[data-testid=cluster-service]", 4, WAIT);
    session.screenshot("cluster-info-dark-zh-large.png");
    session.set_window_size(560, 400);
    let tab = session.wait_for("[data-testid=tab-services]", 1, WAIT);
    session.click(&tab[0]);
    session.wait_for("[data-testid=service-row]", 1, WAIT);
    session.wait_for_paint();
    session.screenshot("services-dark-zh-small.png");
}

#[test]
fn the_viewer_adds_a_namespace_and_is_asked_before_the_proxy_starts() {
    let chrome = chromium::chromium();
    eprintln!("browser: {}", chrome.display());
    let cluster = porthole_testkit::cluster();
    let app = launch_with(cluster, false, "services-viewer.log", true);
    let session = &app.session;
    select(session, VIEWER);
    let tab = session.wait_for("[data-testid=tab-services]", 1, WAIT);
    session.click(&tab[0]);
    let warning = session.wait_for(
        "[data-testid=namespaces-degraded]",
        1,
        Duration::from_secs(60),
    );
    assert!(
        session.text(&warning[0]).contains("showing team-a"),
        "{}",
        session.text(&warning[0])
    );

    // A wrong name is refused with what to fix; Enter submits.
    let input = session.wait_for("[data-testid=namespace-add-input]", 1, WAIT);
    session.send_keys(&input[0], &format!("Monitoring{ENTER}"));
    let problem = session.wait_for("[data-testid=namespace-add-problem]", 1, WAIT);
    let said = session.text(&problem[0]);
    assert!(said.contains("“monitoring”"), "{said}");
    session.clear(&input[0]);
    session.send_keys(&input[0], &format!("monitoring{ENTER}"));
    session.wait_for(
        "[data-testid=namespaces-added] li[data-name=monitoring]",
        1,
        WAIT,
    );
    session.wait_for(&row_css("monitoring/grafana"), 1, WAIT);
    let selected =
        session.execute("return document.querySelector('[data-testid=namespace-select]').value;");
    assert_eq!(selected, "monitoring");
    let saved: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(&app.settings).expect("settings.json written"),
    )
    .expect("settings.json is JSON");
    assert_eq!(
        saved["addedNamespaces"][VIEWER],
        serde_json::json!(["monitoring"]),
        "remembered for the context: {saved}"
    );
    session.wait_for_paint();
    session.screenshot("services-viewer-added-namespace-light-en.png");

    // The proxy is off and the settings say to ask: a port asks first.
    let before = recorded_urls(&app.recorded).len();
    click_port_only(&app, "monitoring/grafana");
    let dialog = session.wait_for("[data-testid=start-proxy-dialog]", 1, WAIT);
    let question = session.text(&dialog[0]);
    assert!(
        question.contains("The local proxy is off. Start it and open monitoring/grafana:"),
        "{question}"
    );
    let focused = session.execute(
        "return document.activeElement ? document.activeElement.dataset.testid || '' : '';",
    );
    assert_eq!(
        focused, "start-proxy-confirm",
        "the default button has the focus"
    );
    session.wait_for_paint();
    session.screenshot("start-proxy-dialog-light-en.png");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        recorded_urls(&app.recorded).len(),
        before,
        "nothing opened before the answer"
    );
    let state =
        session.execute("return document.querySelector('[data-testid=proxy-bar]').dataset.state;");
    assert_ne!(
        state, "running",
        "the proxy did not start before the answer"
    );

    // Enter: start and open.
    session.press_keys(&[ENTER]);
    let url = recorded_after(&app, "monitoring/grafana", before);
    assert!(
        url.contains(&format!(
            ".grafana.monitoring.{VIEWER}.localhost:{}/",
            app.port
        )),
        "{url}"
    );
    session.wait_for("[data-testid=proxy-bar][data-state=running]", 1, WAIT);
    assert!(
        session
            .find_all("[data-testid=start-proxy-dialog]")
            .is_empty()
    );
    let dom = chromium::dump_dom(&url);
    assert!(
        dom.contains("PORTHOLE-SPA-OK"),
        "grafana (the SPA backend) loads with the viewer's credentials; DOM:\n{dom}"
    );

    // Removing it leaves the selector with the context's own namespace.
    filter(session, "echo");
    let remove = session.wait_for(
        "[data-testid=namespaces-added] li[data-name=monitoring] [data-testid=namespace-remove]",
        1,
        WAIT,
    );
    session.click(&remove[0]);
    session.wait_for(&row_css("team-a/echo"), 1, WAIT);
    assert!(
        session
            .find_all("[data-testid=namespaces-added]")
            .is_empty()
    );
    let saved = std::fs::read_to_string(&app.settings).expect("settings.json");
    assert!(!saved.contains("\"monitoring\""), "{saved}");
}
