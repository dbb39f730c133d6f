//! The local proxy in the app, against the real test control plane: the
//! status bar says where it listens and counts requests; the tray's
//! "Proxy" check item, clicked over D-Bus (dbusmenu, as a tray host does),
//! stops and starts it, and `curl`-like requests before and after prove it;
//! the tray, the icon and the bar always show the real state, whichever
//! side switched. A port already taken says so, and another port starts
//! it. Closing the window keeps Porthole in the tray; "Quit" stops the
//! proxy and exits with 0.
//!
//! The app's proxy never uses 8001 here: each test gives it a free port
//! through settings.json in the private config dir.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::driver::{Launch, Session, artifacts_dir, free_port, one_app_at_a_time};
use crate::setup::{WAIT, hermetic_env, two_file_kubeconfig, without_plugins};
use crate::status_and_secrets::switch_language;

/// The tray's menu, as libayatana-appindicator exports it for tray id "porthole".
const MENU_PATH: &str = "/org/ayatana/NotificationItem/tray_icon_tray_app_porthole/Menu";
const ITEM_PATH: &str = "/org/ayatana/NotificationItem/tray_icon_tray_app_porthole";
/// How long a switch may take to show everywhere.
const SWITCHED: Duration = Duration::from_secs(15);
const SPACE: &str = " ";
const ENTER: &str = "\u{E007}";

/// One entry of the tray menu.
#[derive(Debug, Clone)]
pub(crate) struct Item {
    pub(crate) id: i32,
    pub(crate) label: String,
    pub(crate) enabled: bool,
    /// `Some(1)` checked, `Some(0)` unchecked, `None` for a plain item.
    pub(crate) toggle: Option<i32>,
}

/// The app's tray menu over the session bus, found by its unique bus name.
pub(crate) struct TrayMenu {
    bus_name: String,
}

fn gdbus(args: &[&str]) -> Result<String, String> {
    // `-t 2` always: a name that does not answer would hang the call.
    let out = Command::new("gdbus")
        .args(["call", "--session", "-t", "2"])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("gdbus (libglib2.0-bin) not runnable: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

impl TrayMenu {
    /// Waits until some name on the bus serves the menu with `quit` in it.
    pub(crate) fn find(quit: &str) -> TrayMenu {
        let deadline = Instant::now() + WAIT;
        loop {
            let names = gdbus(&[
                "-d",
                "org.freedesktop.DBus",
                "-o",
                "/org/freedesktop/DBus",
                "-m",
                "org.freedesktop.DBus.ListNames",
            ])
            .expect("ListNames on the session bus");
            for name in names.split('\'').filter(|n| n.starts_with(':')) {
                let menu = TrayMenu {
                    bus_name: name.to_owned(),
                };
                if menu
                    .try_items()
                    .is_ok_and(|items| items.iter().any(|i| i.label == quit))
                {
                    return menu;
                }
            }
            assert!(
                Instant::now() < deadline,
                "no tray menu with {quit:?} on the session bus within {WAIT:?}: {names}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn try_items(&self) -> Result<Vec<Item>, String> {
        let layout = gdbus(&[
            "-d",
            &self.bus_name,
            "-o",
            MENU_PATH,
            "-m",
            "com.canonical.dbusmenu.GetLayout",
            "--",
            "0",
            "-1",
            "[]",
        ])?;
        Ok(parse_layout(&layout))
    }

    pub(crate) fn items(&self) -> Vec<Item> {
        self.try_items()
            .unwrap_or_else(|e| panic!("GetLayout from {}: {e}", self.bus_name))
    }

    pub(crate) fn item(&self, label: &str) -> Item {
        let items = self.items();
        items
            .iter()
            .find(|i| i.label == label)
            .cloned()
            .unwrap_or_else(|| panic!("no tray item {label:?}: {items:?}"))
    }

    /// Clicks the item labelled `label`, as a tray host does.
    pub(crate) fn click(&self, label: &str) {
        let id = self.item(label).id.to_string();
        gdbus(&[
            "-d",
            &self.bus_name,
            "-o",
            MENU_PATH,
            "-m",
            "com.canonical.dbusmenu.Event",
            "--",
            &id,
            "clicked",
            "<int32 0>",
            "0",
        ])
        .unwrap_or_else(|e| panic!("click {label:?}: {e}"));
    }

    /// The proxy's check mark and the line under it.
    fn proxy_state(&self, switch: &str) -> (Option<i32>, String) {
        let items = self.items();
        let at = items
            .iter()
            .position(|i| i.label == switch)
            .unwrap_or_else(|| panic!("no {switch:?} item: {items:?}"));
        let line = items
            .get(at + 1)
            .unwrap_or_else(|| panic!("no line under {switch:?}: {items:?}"));
        assert!(
            !line.enabled,
            "the line under the switch is not clickable: {line:?}"
        );
        (items[at].toggle, line.label.clone())
    }

    /// Waits until the switch shows `checked` and the line `line`.
    fn wait_for(&self, switch: &str, checked: bool, line: &str) {
        let want = (Some(i32::from(checked)), line.to_owned());
        let deadline = Instant::now() + SWITCHED;
        loop {
            let now = self.proxy_state(switch);
            if now == want {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "tray shows {now:?}, expected {want:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Which of the two icons the tray shows ("on" or "off"), compared by
    /// pixels (the tray writes its own copy of the PNG).
    fn icon(&self) -> &'static str {
        let answer = gdbus(&[
            "-d",
            &self.bus_name,
            "-o",
            ITEM_PATH,
            "-m",
            "org.freedesktop.DBus.Properties.Get",
            "org.kde.StatusNotifierItem",
            "IconName",
        ])
        .expect("the tray's IconName");
        let path = answer
            .split('\'')
            .nth(1)
            .unwrap_or_else(|| panic!("IconName: {answer}"));
        let shown = pixel_signature(Path::new(path));
        let icons = Path::new(env!("CARGO_MANIFEST_DIR")).join("icons");
        if shown == pixel_signature(&icons.join("tray-on.png")) {
            "on"
        } else if shown == pixel_signature(&icons.join("tray-off.png")) {
            "off"
        } else {
            panic!("the tray shows {path}, neither tray-on.png nor tray-off.png")
        }
    }

    fn wait_for_icon(&self, want: &str) {
        let deadline = Instant::now() + SWITCHED;
        while self.icon() != want {
            assert!(Instant::now() < deadline, "the tray icon is not {want}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// Items of a `GetLayout` answer as gdbus prints it:
/// `(uint32 2, (0, {...}, [<(2, {'toggle-state': <1>, 'label': <'Proxy'>, ...}, @av [])>, ...]))`.
fn parse_layout(text: &str) -> Vec<Item> {
    let field = |chunk: &str, key: &str| -> Option<String> {
        let start = chunk.find(key)? + key.len();
        let rest = &chunk[start..];
        Some(rest[..rest.find(">")?].trim_matches('\'').to_owned())
    };
    text.split("<(")
        .skip(1)
        .filter_map(|chunk| {
            let id = chunk[..chunk.find(',')?].trim().parse().ok()?;
            Some(Item {
                id,
                label: field(chunk, "'label': <").unwrap_or_default(),
                enabled: field(chunk, "'enabled': <").as_deref() != Some("false"),
                toggle: field(chunk, "'toggle-state': <").and_then(|v| v.parse().ok()),
            })
        })
        .collect()
}

/// ImageMagick's signature of the decoded pixels.
fn pixel_signature(png: &Path) -> String {
    let out = Command::new("/usr/bin/identify")
        .args(["-format", "%#"])
        .arg(png)
        .output()
        .expect("ImageMagick's identify (apt-get install imagemagick)");
    assert!(out.status.success(), "identify {}", png.display());
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `curl http://127.0.0.1:PORT/api/`: status and body, or why it failed.
fn get_api(port: u16) -> Result<(u16, String), String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into();
    let mut response = agent
        .get(format!("http://127.0.0.1:{port}/api/"))
        .call()
        .map_err(|e| e.to_string())?;
    let body = response
        .body_mut()
        .read_to_string()
        .map_err(|e| e.to_string())?;
    Ok((response.status().as_u16(), body))
}

/// The apiserver's APIVersions, through the proxy.
fn assert_api_answers(port: u16) {
    let (status, body) = get_api(port).unwrap_or_else(|e| panic!("GET :{port}/api/: {e}"));
    assert_eq!(status, 200, "GET :{port}/api/: {body}");
    let json: Value =
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"));
    assert_eq!(json["kind"], "APIVersions", "{body}");
    assert!(
        json["versions"]
            .as_array()
            .is_some_and(|v| v.iter().any(|v| v == "v1")),
        "{body}"
    );
}

pub(crate) fn refuses(port: u16) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    matches!(
        TcpStream::connect_timeout(&addr, Duration::from_secs(2)),
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused
    )
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + SWITCHED;
    while !done() {
        assert!(Instant::now() < deadline, "not within {SWITCHED:?}: {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The private config dir's settings.json: the proxy on `port`.
fn write_settings(home: &Path, port: u16) -> PathBuf {
    let dir = home.join(".config/porthole");
    std::fs::create_dir_all(&dir).expect("create the settings dir");
    let file = dir.join("settings.json");
    let settings = serde_json::json!({"proxy": {"port": port, "startWithApp": true}});
    std::fs::write(&file, settings.to_string()).expect("write settings.json");
    file
}

fn start(home: &Path, kubeconfig: String, dark: bool, log_name: &'static str) -> Session {
    let mut env = hermetic_env(home, kubeconfig, "en");
    without_plugins(home, &mut env);
    if dark {
        env.push(("GTK_THEME", "Adwaita:dark".to_owned()));
    }
    // What crossed IPC, beside the log (who switched the proxy, and when).
    let record = artifacts_dir().join(log_name.replace(".log", "-ipc.jsonl"));
    let _ = std::fs::remove_file(&record);
    env.push(("PORTHOLE_IPC_RECORD", record.display().to_string()));
    let session = Session::start(Launch { env, log_name });
    session.set_window_size(1280, 800);
    session
}

/// What the status bar says: its state, the switch's aria-checked, the
/// address shown, the request count line, the problem line.
fn bar(session: &Session) -> Value {
    let json = session.execute(
        "const q = (id) => document.querySelector(`[data-testid=${id}]`); \
         const text = (id) => q(id) ? q(id).textContent.trim() : null; \
         const bar = q('proxy-bar'); \
         return JSON.stringify({ state: bar ? bar.dataset.state : null, \
           checked: q('proxy-switch') ? q('proxy-switch').getAttribute('aria-checked') : null, \
           url: text('proxy-url'), requests: text('proxy-requests'), problem: text('proxy-problem') });",
    );
    serde_json::from_str(&json).unwrap_or_else(|e| panic!("status bar ({e}): {json}"))
}

fn wait_for_bar(session: &Session, state: &str) -> Value {
    let deadline = Instant::now() + SWITCHED;
    loop {
        let now = bar(session);
        if now["state"] == state {
            return now;
        }
        if Instant::now() > deadline {
            let shot = session.screenshot("proxy-timeout.png");
            panic!(
                "the status bar is not {state} within {SWITCHED:?}: {now}; screenshot {}",
                shot.display()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn click(session: &Session, test_id: &str) {
    let found = session.wait_for(&format!("[data-testid={test_id}]"), 1, WAIT);
    session.click(&found[0]);
}

#[test]
fn the_tray_switches_the_proxy_and_curl_sees_it() {
    let cluster = porthole_testkit::cluster();
    let home = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    write_settings(home.path(), port);
    let session = start(
        home.path(),
        cluster.kubeconfig().display().to_string(),
        false,
        "proxy-tray.log",
    );

    // Started with the app: the bar says where, and curl gets the API.
    let shown = wait_for_bar(&session, "running");
    assert_eq!(shown["checked"], "true", "{shown}");
    assert_eq!(shown["url"], format!("http://localhost:{port}"), "{shown}");
    assert_api_answers(port);
    // The request count follows, live.
    wait_until("the bar counts the request", || {
        bar(&session)["requests"]
            .as_str()
            .is_some_and(|r| r != "0 requests")
    });
    let tray = TrayMenu::find("Quit Porthole");
    tray.wait_for("Proxy", true, &format!("Listening on 127.0.0.1:{port}"));
    assert_eq!(tray.icon(), "on");
    let labels: Vec<String> = tray
        .items()
        .into_iter()
        .map(|i| i.label)
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(
        labels,
        [
            "Proxy",
            &format!("Listening on 127.0.0.1:{port}"),
            "Open Porthole",
            "Quit Porthole"
        ],
        "the tray menu"
    );
    session.screenshot("proxy-on-light-en-large.png");

    // The tray's switch: off — nothing listens any more, the bar says off.
    tray.click("Proxy");
    wait_until("the port refuses connections", || refuses(port));
    let shown = wait_for_bar(&session, "stopped");
    assert_eq!(shown["checked"], "false", "{shown}");
    tray.wait_for("Proxy", false, "Proxy is off");
    tray.wait_for_icon("off");
    let error = get_api(port).expect_err("the proxy is off");
    assert!(
        error.to_lowercase().contains("refused") || error.to_lowercase().contains("connect"),
        "a connection failure: {error}"
    );
    session.screenshot("proxy-off-light-en-large.png");

    // On again from the tray: it answers, the bar shows the address.
    tray.click("Proxy");
    let shown = wait_for_bar(&session, "running");
    assert_eq!(shown["url"], format!("http://localhost:{port}"), "{shown}");
    assert_api_answers(port);
    tray.wait_for("Proxy", true, &format!("Listening on 127.0.0.1:{port}"));
    tray.wait_for_icon("on");

    // Switched in the window, the tray follows.
    click(&session, "proxy-switch");
    wait_for_bar(&session, "stopped");
    tray.wait_for("Proxy", false, "Proxy is off");
    tray.wait_for_icon("off");
    assert!(refuses(port), "stopped from the window");
    // By keyboard: the switch takes Space and Enter.
    session.execute("document.querySelector('[data-testid=proxy-switch]').focus(); return '';");
    session.press_keys(&[SPACE]);
    wait_for_bar(&session, "running");
    tray.wait_for("Proxy", true, &format!("Listening on 127.0.0.1:{port}"));
    assert_api_answers(port);
    let focused = "return document.activeElement ? (document.activeElement.dataset.testid || document.activeElement.tagName) : '';";
    assert_eq!(
        session.execute(focused),
        "proxy-switch",
        "the focus stays on the switch"
    );
    session.press_keys(&[ENTER]);
    wait_for_bar(&session, "stopped");
    assert_eq!(
        session.execute(focused),
        "proxy-switch",
        "the focus stays on the switch"
    );
    tray.wait_for("Proxy", false, "Proxy is off");
    session.set_window_size(560, 400);
    session.wait_for_paint();
    let fits = session
        .execute("return String(document.documentElement.scrollWidth <= window.innerWidth);");
    assert_eq!(fits, "true", "no horizontal scrolling at the minimum size");
    session.screenshot("proxy-off-light-en-small.png");
    session.press_keys(&[SPACE]);
    wait_for_bar(&session, "running");
    session.screenshot("proxy-on-light-en-small.png");
    tray.wait_for("Proxy", true, &format!("Listening on 127.0.0.1:{port}"));
}

#[test]
fn a_port_in_use_says_so_and_another_port_starts_it() {
    let cluster = porthole_testkit::cluster();
    let home = tempfile::tempdir().expect("tempdir");
    // Another program holds the port the settings name.
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let taken_port = taken.local_addr().expect("its address").port();
    let settings_file = write_settings(home.path(), taken_port);
    let session = start(
        home.path(),
        cluster.kubeconfig().display().to_string(),
        true,
        "proxy-port-in-use.log",
    );

    let shown = wait_for_bar(&session, "failed");
    assert_eq!(
        shown["problem"],
        format!("Port {taken_port} is in use by another program."),
        "{shown}"
    );
    assert_eq!(shown["checked"], "false", "{shown}");
    let tray = TrayMenu::find("Quit Porthole");
    tray.wait_for("Proxy", false, &format!("Port {taken_port} is in use"));
    assert_eq!(tray.icon(), "off");
    session.wait_for("[data-testid=proxy-port-input]", 1, WAIT);
    session.screenshot("proxy-port-in-use-dark-en-large.png");
    session.set_window_size(560, 400);
    session.wait_for_paint();
    let fits = session
        .execute("return String(document.documentElement.scrollWidth <= window.innerWidth);");
    assert_eq!(fits, "true", "no horizontal scrolling at the minimum size");
    session.screenshot("proxy-port-in-use-dark-en-small.png");
    switch_language(&session, "zh-CN");
    wait_until("the message in Chinese", || {
        bar(&session)["problem"] == format!("端口 {taken_port} 已被其他程序占用。")
    });
    session.screenshot("proxy-port-in-use-dark-zh-small.png");
    session.set_window_size(1280, 800);
    session.screenshot("proxy-port-in-use-dark-zh-large.png");

    // The way out: another port, typed into the bar, starts it there (and is saved).
    let other = free_port();
    let input = session.wait_for("[data-testid=proxy-port-input]", 1, WAIT);
    session.clear(&input[0]);
    session.send_keys(&input[0], &format!("{other}{ENTER}"));
    let shown = wait_for_bar(&session, "running");
    assert_eq!(shown["url"], format!("http://localhost:{other}"), "{shown}");
    assert_api_answers(other);
    tray.wait_for("Proxy", true, &format!("Listening on 127.0.0.1:{other}"));
    tray.wait_for_icon("on");
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(&settings_file).expect("read settings.json"))
            .expect("settings.json is JSON");
    assert_eq!(
        saved["proxy"]["port"], other,
        "the new port is saved: {saved}"
    );
    session.screenshot("proxy-on-dark-zh-large.png");

    // The settings panel shows the proxy section with the saved port.
    click(&session, "open-settings");
    session.wait_for("[data-testid=proxy-settings-port]", 1, WAIT);
    assert_eq!(
        session
            .execute("return document.querySelector('[data-testid=proxy-settings-port]').value;"),
        other.to_string()
    );
    session.screenshot("proxy-settings-dark-zh-large.png");
    switch_language(&session, "en");
    session.wait_for("[data-testid=proxy-settings]", 1, WAIT);
    session.screenshot("proxy-settings-dark-en-large.png");
    session.set_window_size(560, 400);
    session.screenshot("proxy-settings-dark-en-small.png");
    drop(taken);
}

/// The app started directly (no WebDriver, which ends the app with its
/// window), in its own process group, killed with it if the test fails.
struct App {
    child: Child,
}

impl App {
    fn start(env: &[(&str, String)], log_name: &str) -> App {
        use std::os::unix::process::CommandExt;
        let log = std::fs::File::create(artifacts_dir().join(log_name)).expect("create the log");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_porthole"));
        cmd.stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone the log handle"))
            .stderr(log)
            .process_group(0);
        for (k, v) in env {
            cmd.env(k, v);
        }
        App {
            child: cmd.spawn().expect("start porthole"),
        }
    }

    fn wait(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for porthole") {
                return Some(status);
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for App {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", self.child.id())])
                .status();
            let _ = self.child.wait();
        }
    }
}

/// The top-level window as a window manager sees it (Xvfb runs none):
/// `viewable`, `unmapped` or `missing`; or closes it as its close button does.
fn window(action: &str) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e/support/x11_window.py");
    let out = Command::new("python3")
        .arg(&script)
        .arg(action)
        .output()
        .expect("python3 (apt-get install python3) runs tests/e2e/support/x11_window.py");
    assert!(
        out.status.success(),
        "x11_window.py {action}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn wait_for_window(want: &str) {
    wait_until(&format!("the window is {want}"), || window("state") == want);
}

#[test]
fn closing_keeps_porthole_in_the_tray_and_quit_stops_the_proxy_and_exits_0() {
    let _one_app = one_app_at_a_time();
    crate::driver::check_prerequisites();
    let home = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    write_settings(home.path(), port);
    let mut env = hermetic_env(home.path(), two_file_kubeconfig(), "en");
    without_plugins(home.path(), &mut env);
    let mut app = App::start(&env, "proxy-quit.log");
    let tray = TrayMenu::find("Quit Porthole");
    wait_for_window("viewable");
    tray.wait_for("Proxy", true, &format!("Listening on 127.0.0.1:{port}"));
    // The fixture clusters cannot be reached: any answer shows it listens.
    get_api(port).unwrap_or_else(|e| panic!("the proxy listens on {port}: {e}"));

    // Closed: the window goes, Porthole and its proxy stay.
    window("close");
    wait_for_window("unmapped");
    assert!(
        app.wait(Duration::from_secs(1)).is_none(),
        "Porthole still runs"
    );
    get_api(port).unwrap_or_else(|e| panic!("the proxy still listens: {e}"));
    tray.wait_for("Proxy", true, &format!("Listening on 127.0.0.1:{port}"));

    // "Open Porthole" in the tray brings it back.
    tray.click("Open Porthole");
    wait_for_window("viewable");

    // So does a second launch, which hands over and ends.
    window("close");
    wait_for_window("unmapped");
    let mut second = App::start(&env, "proxy-second-launch.log");
    let status = second
        .wait(Duration::from_secs(20))
        .expect("the second launch hands over and ends");
    assert!(status.success(), "second launch: {status}");
    wait_for_window("viewable");

    // Quit: the proxy stops, the port is free at once, the exit code is 0.
    tray.click("Quit Porthole");
    let status = app
        .wait(Duration::from_secs(15))
        .expect("Porthole ends after Quit");
    assert_eq!(status.code(), Some(0), "exit status after Quit");
    assert!(refuses(port), "nothing listens on {port} after Quit");
    TcpListener::bind(("127.0.0.1", port)).expect("the port is free after Quit");
    let log = std::fs::read_to_string(artifacts_dir().join("proxy-quit.log")).unwrap_or_default();
    assert!(
        log.contains("proxy stopped"),
        "the proxy was stopped: {log}"
    );
}
