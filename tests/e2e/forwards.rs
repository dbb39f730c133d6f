//! Port-forwards in the real app, against the real test control plane and
//! its node agent (the kubelet's stand-in), with a test-owned workload
//! whose Pod the test replaces:
//!
//! - "Forward" on a TCP service (a database port: no "Open") shows the
//!   local address and the client commands; the test connects to that
//!   address and bytes go both ways.
//! - The Pod is deleted and a new ready one added: the test connects again
//!   without touching the app, and it works (the forward heals); the
//!   Forwards view says which Pod and that it moved, with live counters.
//! - The tray lists the forward with a check item; clicking it stops the
//!   forward (the port refuses), clicking again starts it.
//! - Quit from the tray, start the app again: the saved forward is back on
//!   the same local port, in the window and in the tray.
//! - An HTTP port keeps "Open" and offers "Forward" in its details.
//!
//! Everything the webview received (the IPC record), the pages and the
//! log are scanned for the cluster's secrets. Screenshots in light and
//! dark, English and Chinese, at a large and the minimum size.

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use porthole_testkit::http_probe::echoes;
use porthole_testkit::workload::{Workload, WorkloadPort, unique_namespace};
use serde_json::Value;
use tokio::runtime::Runtime;

use crate::driver::{Session, artifacts_dir, free_port};
use crate::proxy_tray::{TrayMenu, refuses};
use crate::real_cluster::{Expected, assert_no_cluster_secret, copy_kubeconfig};
use crate::services_browser::{filter, open_services, row_css};
use crate::setup::WAIT;
use crate::status_and_secrets::switch_language;

const ENTER: &str = "\u{E007}";
const TAB: &str = "\u{E004}";
/// How long a change may take to show.
const SHOWN: Duration = Duration::from_secs(20);

/// The app on `home` (its settings and kubeconfig kept between launches),
/// recording IPC to `home/ipc.jsonl`.
fn start(home: &Path, dark: bool, log_name: &'static str) -> Session {
    let settings = home.join(".config/porthole/settings.json");
    if !settings.exists() {
        // The proxy off, on a free port: forwards need no proxy.
        std::fs::create_dir_all(settings.parent().expect("dir")).expect("settings dir");
        let json = serde_json::json!({"proxy": {"port": free_port(), "startWithApp": false}});
        std::fs::write(&settings, json.to_string()).expect("write settings.json");
    }
    let kubeconfig = home.join("kube/config");
    if !kubeconfig.exists() {
        copy_kubeconfig(porthole_testkit::cluster(), home);
    }
    let session = crate::real_cluster::start(home, &kubeconfig, dark, log_name);
    session.set_window_size(1280, 800);
    session
}

/// The tcp-echo Pod sends a probe back through the forward at `address`.
fn assert_echoes(runtime: &Runtime, address: &str) {
    let addr: SocketAddr = address.parse().unwrap_or_else(|e| panic!("{address}: {e}"));
    runtime
        .block_on(echoes(addr, Duration::from_secs(40)))
        .unwrap_or_else(|e| panic!("through the forward at {address}: {e}"));
}

/// A screenshot at the minimum size (nothing scrolls sideways), then back.
fn small_screenshot(session: &Session, name: &str) {
    session.set_window_size(560, 400);
    session.wait_for_paint();
    let fits = session
        .execute("return String(document.documentElement.scrollWidth <= window.innerWidth);");
    assert_eq!(fits, "true", "no horizontal scrolling at the minimum size");
    session.screenshot(name);
    session.set_window_size(1280, 800);
}

fn js_string(text: &str) -> String {
    serde_json::to_string(text).expect("a JSON string")
}

/// One forward's row in the Forwards view, as JSON (state, address, pod,
/// counters' text).
fn row(session: &Session, id: &str) -> Value {
    let json = session.execute(&format!(
        "const r = [...document.querySelectorAll('[data-testid=forward-row]')].find((r) => r.dataset.id === {}); \
         if (!r) return 'null'; \
         const text = (id) => {{ const e = r.querySelector(`[data-testid=${{id}}]`); return e ? e.textContent.trim() : null; }}; \
         return JSON.stringify({{ state: r.dataset.state, address: text('forward-row-address'), \
           connections: text('forward-connections'), bytes: text('forward-bytes'), text: r.textContent }});",
        js_string(id)
    ));
    serde_json::from_str(&json).unwrap_or_else(|e| panic!("forward row ({e}): {json}"))
}

fn wait_for_row(session: &Session, id: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + SHOWN;
    loop {
        let now = row(session, id);
        if done(&now) {
            return now;
        }
        if Instant::now() > deadline {
            let shot = session.screenshot("forwards-timeout.png");
            panic!(
                "{what}: not within {SHOWN:?}: {now}; screenshot {}",
                shot.display()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn click(session: &Session, css: &str) {
    let found = session.wait_for(css, 1, WAIT);
    session.click(&found[0]);
}

fn open_forwards_view(session: &Session) {
    let pressed = session
        .execute("return document.querySelector('[data-testid=open-forwards]').getAttribute('aria-pressed');");
    if pressed != "true" {
        click(session, "[data-testid=open-forwards]");
    }
    session.wait_for("[data-testid=forwards-view]", 1, WAIT);
}

/// Types `port` into the (only) forward's local port field and presses Enter.
fn set_local_port(session: &Session, port: u16) {
    let input = session.wait_for("[data-testid=forward-port-input]", 1, WAIT);
    // Select all and delete, as a user does (Element Clear fires no input event).
    session.send_keys(&input[0], "\u{E009}a\u{E000}\u{E003}");
    session.send_keys(&input[0], &format!("{port}{ENTER}"));
}

/// The tray item of a forward, by the start of its label.
fn tray_item(tray: &TrayMenu, prefix: &str) -> crate::proxy_tray::Item {
    let deadline = Instant::now() + SHOWN;
    loop {
        let items = tray.items();
        if let Some(item) = items.iter().find(|i| i.label.starts_with(prefix)) {
            return item.clone();
        }
        assert!(
            Instant::now() < deadline,
            "no tray item starting {prefix:?}: {items:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn wait_for_tray(tray: &TrayMenu, prefix: &str, label: &str, checked: bool) {
    let deadline = Instant::now() + SHOWN;
    loop {
        let item = tray_item(tray, prefix);
        if item.label == label && item.toggle == Some(i32::from(checked)) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "tray shows {item:?}, expected {label:?} checked={checked}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + SHOWN;
    while !done() {
        assert!(Instant::now() < deadline, "not within {SHOWN:?}: {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn forward_a_tcp_service_survive_a_pod_restart_and_come_back_after_a_restart() {
    let cluster = porthole_testkit::cluster();
    let runtime = Runtime::new().expect("a tokio runtime for the workload");
    let ns = unique_namespace("e2e-fwd");
    let workload = runtime
        .block_on(Workload::create(
            cluster,
            &ns,
            "db",
            &[WorkloadPort::tcp_echo("postgres", 5432, 5432)],
        ))
        .expect("a workload: Service db with a postgres port on tcp-echo");
    runtime
        .block_on(workload.add_pod("db-a"))
        .expect("Pod db-a");
    let key = format!("{ns}/db");
    let id = format!("porthole-admin/{ns}/svc/db:5432");
    let home = tempfile::tempdir().expect("tempdir");
    let mut pages = Vec::new();

    let session = start(home.path(), false, "forwards.log");
    open_services(&session);
    filter(&session, &ns);
    // A database port: "Forward", not "Open".
    let button = session.wait_for(
        &format!("{} [data-testid=forward-button]", row_css(&key)),
        1,
        Duration::from_secs(60),
    );
    assert!(
        session
            .find_all(&format!("{} [data-testid=port-button]", row_css(&key)))
            .is_empty(),
        "no Open button on a postgres port"
    );
    session.screenshot("forwards-services-light-en-large.png");
    session.click(&button[0]);

    // The card: where to connect, and the client commands.
    session.wait_for(
        "[data-testid=forward-card] [data-testid=forward-state][data-state=listening]",
        1,
        SHOWN,
    );
    let address = session.execute(
        "return document.querySelector('[data-testid=forward-address]').textContent.trim();",
    );
    let port: u16 = address
        .rsplit_once(':')
        .and_then(|(_, p)| p.parse().ok())
        .unwrap_or_else(|| panic!("an address with a port: {address:?}"));
    assert!(address.starts_with("127.0.0.1:"), "{address}");
    let commands = session.execute(
        "return JSON.stringify([...document.querySelectorAll('[data-testid=forward-card] [data-testid=forward-command]')].map((c) => c.textContent.trim()));",
    );
    let commands: Vec<String> = serde_json::from_str(&commands).expect("commands");
    assert_eq!(
        commands,
        [
            format!("psql -h 127.0.0.1 -p {port}"),
            format!("nc 127.0.0.1 {port}")
        ],
        "the client commands of a postgres port"
    );
    let focused = session.execute(
        "return document.activeElement ? document.activeElement.dataset.testid || '' : '';",
    );
    assert_eq!(focused, "copy-address", "the keyboard lands on the address");
    session.screenshot("forwards-card-light-en-large.png");
    pages.push(session.page_source());

    // Bytes both ways through the shown address.
    assert_echoes(&runtime, &address);

    // The Pod goes, a new ready one comes: the next connection works
    // without touching the app.
    let deleted = Instant::now();
    runtime
        .block_on(workload.delete_pod("db-a"))
        .expect("delete db-a");
    runtime
        .block_on(workload.add_pod("db-b"))
        .expect("Pod db-b");
    assert_echoes(&runtime, &address);
    eprintln!(
        "heal: Pod deleted → next successful connection in {:?} (new Pod added in between)",
        deleted.elapsed()
    );

    // The Forwards view: listening, on db-b, moved once, counters live.
    open_forwards_view(&session);
    let shown = wait_for_row(&session, &id, "on db-b, moved once", |r| {
        r["state"] == "listening"
            && r["text"]
                .as_str()
                .is_some_and(|t| t.contains("db-b") && t.contains("moved to another Pod once"))
    });
    assert_eq!(shown["address"], address.as_str());
    let before = shown["bytes"].as_str().unwrap_or_default().to_owned();
    assert_echoes(&runtime, &address);
    wait_for_row(&session, &id, "the traffic counts the new bytes", |r| {
        r["bytes"].as_str().is_some_and(|b| b != before)
    });
    session.screenshot("forwards-view-light-en-large.png");
    pages.push(session.page_source());
    small_screenshot(&session, "forwards-view-light-en-small.png");

    // The tray: the forward with its check; a click stops it, another starts it.
    let tray = TrayMenu::find("Quit Porthole");
    let prefix = format!("{ns}/db:5432 → ");
    let label = format!("{prefix}{address}");
    wait_for_tray(&tray, &prefix, &label, true);
    let heading = tray
        .items()
        .iter()
        .any(|i| i.label == "Port-forwards" && !i.enabled);
    assert!(heading, "a heading over the forwards: {:?}", tray.items());
    tray.click(&label);
    wait_until("the stopped forward's port refuses", || refuses(port));
    wait_for_tray(&tray, &prefix, &format!("{label} (stopped)"), false);
    wait_for_row(&session, &id, "stopped in the window", |r| {
        r["state"] == "stopped"
    });
    tray.click(&format!("{label} (stopped)"));
    wait_for_tray(&tray, &prefix, &label, true);
    wait_for_row(&session, &id, "listening again", |r| {
        r["state"] == "listening"
    });
    assert_echoes(&runtime, &address);

    // Saved with its port, restored at start.
    let saved: Value = serde_json::from_str(
        &std::fs::read_to_string(home.path().join(".config/porthole/settings.json"))
            .expect("settings.json"),
    )
    .expect("JSON");
    assert_eq!(saved["forwards"][0]["localPort"], port, "{saved}");
    assert_eq!(saved["forwards"][0]["restore"], true, "{saved}");

    // Quit from the tray: the forward ends with the app.
    tray.click("Quit Porthole");
    wait_until("the port is free after Quit", || refuses(port));
    let first_log = session.log_path.clone();
    drop(session);

    // Started again (dark, Chinese): the forward is back on the same port.
    let session = start(home.path(), true, "forwards-restart.log");
    session.wait_for(
        "[data-testid=open-forwards] [data-testid=forwards-active]",
        1,
        Duration::from_secs(60),
    );
    open_forwards_view(&session);
    let back = wait_for_row(&session, &id, "restored and listening", |r| {
        r["state"] == "listening"
    });
    assert_eq!(back["address"], address.as_str(), "the same local port");
    assert_echoes(&runtime, &address);
    let tray = TrayMenu::find("Quit Porthole");
    wait_for_tray(&tray, &prefix, &label, true);
    session.screenshot("forwards-view-dark-en-large.png");
    switch_language(&session, "zh-CN");
    wait_for_row(&session, &id, "in Chinese", |r| {
        r["text"].as_str().is_some_and(|t| t.contains("正在监听"))
    });
    session.screenshot("forwards-view-dark-zh-large.png");
    pages.push(session.page_source());
    small_screenshot(&session, "forwards-view-dark-zh-small.png");

    // A local port another program holds: the forward fails and says who
    // holds it; the old port again, and it listens.
    let holder = std::net::TcpListener::bind("127.0.0.1:0").expect("a port to hold");
    let held = holder.local_addr().expect("its address").port();
    set_local_port(&session, held);
    let failed = wait_for_row(&session, &id, "failed on a held port", |r| {
        r["state"] == "failed"
    });
    let said = failed["text"].as_str().unwrap_or_default();
    assert!(
        said.contains(&format!("port {held} is in use by"))
            && said.contains(&format!("pid {}", std::process::id())),
        "names the process holding the port: {said}"
    );
    session.screenshot("forwards-failed-dark-zh-large.png");
    set_local_port(&session, port);
    wait_for_row(&session, &id, "back on its port", |r| {
        r["state"] == "listening"
    });
    assert_echoes(&runtime, &address);
    drop(holder);

    // By keyboard: Stop is reachable with Tab and Enter stops it.
    session.execute("document.querySelector('[data-testid=forward-row] [data-testid=forward-port-input]').focus(); return '';");
    let mut reached = Vec::new();
    for _ in 0..6 {
        session.press_keys(&[TAB]);
        let now = session.execute(
            "const e = document.activeElement; return (e.dataset.testid || e.tagName) + (e.matches(':focus-visible') ? ' visible' : ' hidden');",
        );
        reached.push(now.clone());
        if now.starts_with("forward-stop") {
            break;
        }
    }
    assert!(
        reached.last().is_some_and(|r| r == "forward-stop visible"),
        "Tab reaches Stop with a visible focus: {reached:?}"
    );
    session.press_keys(&[ENTER]);
    wait_for_row(&session, &id, "stopped by keyboard", |r| {
        r["state"] == "stopped"
    });
    wait_until("the port refuses", || refuses(port));
    click(&session, "[data-testid=forwards-start-all]");
    wait_for_row(&session, &id, "started by Start all", |r| {
        r["state"] == "listening"
    });
    assert_echoes(&runtime, &address);

    // An HTTP port keeps "Open" and offers "Forward" in its details.
    click(&session, "[data-testid=open-forwards]");
    open_services(&session);
    filter(&session, "team-a web");
    session.wait_for(
        &format!("{} [data-testid=port-button]", row_css("team-a/web")),
        1,
        WAIT,
    );
    click(&session, &row_css("team-a/web"));
    session.wait_for(
        "[data-testid=service-drawer] [data-testid=drawer-open]",
        1,
        WAIT,
    );
    session.screenshot("forwards-http-drawer-dark-zh-large.png");
    click(
        &session,
        "[data-testid=service-drawer] [data-testid=drawer-forward]",
    );
    session.wait_for(
        "[data-testid=forward-card] [data-testid=forward-state][data-state=listening]",
        1,
        SHOWN,
    );
    let commands = session.execute(
        "return [...document.querySelectorAll('[data-testid=forward-card] [data-testid=forward-command]')].map((c) => c.textContent.trim()).join('\\n');",
    );
    assert!(commands.starts_with("curl http://127.0.0.1:"), "{commands}");
    session.screenshot("forwards-http-card-dark-zh-large.png");
    pages.push(session.page_source());
    let second_log = session.log_path.clone();
    drop(session);

    // Nothing secret crossed to the webview, the pages or the logs.
    let expected = Expected::of(cluster);
    let record = std::fs::read_to_string(home.path().join("ipc.jsonl")).expect("the IPC record");
    for name in ["start_forward", "list_forwards", "stop_forward"] {
        assert!(
            record.contains(&format!("\"name\":\"{name}\"")),
            "{name} is in the IPC record"
        );
    }
    assert!(
        record.contains("\"name\":\"forwards-changed\""),
        "the forwards events are recorded"
    );
    std::fs::copy(
        home.path().join("ipc.jsonl"),
        artifacts_dir().join("ipc-record-forwards.jsonl"),
    )
    .expect("keep the record");
    assert_no_cluster_secret(&record, &expected.secrets, "the IPC record");
    for page in &pages {
        assert_no_cluster_secret(page, &expected.secrets, "the page");
    }
    for log in [first_log, second_log] {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        assert!(!text.is_empty(), "the app's log {}", log.display());
        assert_no_cluster_secret(&text, &expected.secrets, "the app's log");
    }
    runtime.block_on(workload.teardown()).expect("teardown");
}
