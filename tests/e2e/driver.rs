//! A small WebDriver client for tauri-driver: one keep-alive HTTP agent
//! (WebKitWebDriver resets connections that are closed per request), and
//! a guard that ends the session and the driver's whole process group
//! even when a test panics.

use std::fs::File;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::thread::sleep;
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};

const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// The app is single-instance: two sessions at once would hand the second
/// launch to the first. Tests take this lock for their whole session.
static ONE_APP_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Holds the one-app lock, for a test that starts the app without a driver.
pub fn one_app_at_a_time() -> MutexGuard<'static, ()> {
    ONE_APP_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Where screenshots and logs go: `target/e2e/` in the checkout.
pub fn artifacts_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/e2e");
    std::fs::create_dir_all(&dir).expect("create target/e2e");
    dir
}

/// Fails (never skips) when the display, the bus or a driver is missing.
pub(crate) fn check_prerequisites() -> PathBuf {
    let how = "run the E2E tests through `make test-e2e` (or `make test`), which starts Xvfb and a D-Bus session";
    assert!(
        std::env::var_os("DISPLAY").is_some(),
        "no X display (DISPLAY is unset): {how}"
    );
    assert!(
        std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
        "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is unset): {how}"
    );
    assert!(
        find_in_path("WebKitWebDriver").is_some(),
        "WebKitWebDriver not found on PATH: install it with `apt-get install webkit2gtk-driver` (or run `make deps`)"
    );
    std::env::var_os("TAURI_DRIVER")
        .map(PathBuf::from)
        .or_else(|| find_in_path("tauri-driver"))
        .unwrap_or_else(|| {
            panic!("tauri-driver not found (TAURI_DRIVER unset, not on PATH): install it with `make e2e-tools` (cargo install tauri-driver --locked)")
        })
}

fn find_in_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// How to start the app for one session.
pub struct Launch<'a> {
    /// Environment for tauri-driver, WebKitWebDriver and so the app.
    pub env: Vec<(&'a str, String)>,
    /// Name of the log file under target/e2e/ that receives their output.
    pub log_name: &'a str,
}

/// A running tauri-driver with one session of the app.
pub struct Session {
    agent: ureq::Agent,
    base: String,
    id: String,
    driver: Child,
    pub log_path: PathBuf,
    /// Held for the session's life; an `Option` so a failed start can hand
    /// it to the retry.
    one_app: Option<MutexGuard<'static, ()>>,
}

impl Session {
    /// Starts Porthole (the `porthole` binary of this build).
    pub fn start(launch: Launch<'_>) -> Session {
        Self::start_application(launch, Path::new(env!("CARGO_BIN_EXE_porthole")))
    }

    /// Starts the Tauri application at `app` (the UI benchmark's bare
    /// window is one).
    pub fn start_application(launch: Launch<'_>, app: &Path) -> Session {
        let mut one_app = Some(one_app_at_a_time());
        // On a loaded machine WebKit can miss the driver's session timeout
        // once; a fresh driver gets one more chance before the test fails.
        for attempt in 1..=2 {
            let mut session = Self::spawn_driver(&launch, one_app.take());
            let created = session.try_call(
                "POST",
                "/session",
                Some(json!({"capabilities": {"alwaysMatch": {"tauri:options": {"application": app}}}})),
            );
            match created {
                Ok(created) => {
                    session.id = created["sessionId"]
                        .as_str()
                        .unwrap_or_else(|| panic!("no session id in {created}"))
                        .to_owned();
                    return session;
                }
                Err(e) if attempt == 1 => {
                    eprintln!(
                        "POST /session failed ({e}); retrying once with a fresh driver (log: {})",
                        session.log_path.display()
                    );
                    one_app = session.one_app.take();
                }
                Err(e) => panic!("POST /session: {e}; see {}", session.log_path.display()),
            }
        }
        unreachable!("the second attempt returns or panics")
    }

    fn spawn_driver(launch: &Launch<'_>, one_app: Option<MutexGuard<'static, ()>>) -> Session {
        let tauri_driver = check_prerequisites();
        let port = free_port();
        let native_port = free_port();
        let log_path = artifacts_dir().join(launch.log_name);
        let log = File::create(&log_path).expect("create driver log");
        let mut cmd = Command::new(&tauri_driver);
        cmd.args(["--port", &port.to_string()])
            .args(["--native-port", &native_port.to_string()])
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone log handle"))
            .stderr(log)
            // Own process group, so the guard can end the driver, WebKitWebDriver and the app at once.
            .process_group(0);
        for (k, v) in &launch.env {
            cmd.env(k, v);
        }
        let driver = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", tauri_driver.display()));

        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        let base = format!("http://127.0.0.1:{port}");
        let mut session = Session {
            agent,
            base,
            id: String::new(),
            driver,
            log_path,
            one_app,
        };
        session.wait_for_driver();
        session
    }

    fn wait_for_driver(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(Some(status)) = self.driver.try_wait() {
                panic!(
                    "tauri-driver exited ({status}) before it listened; see {}",
                    self.log_path.display()
                );
            }
            let ok = self
                .agent
                .get(format!("{}/status", self.base))
                .call()
                .is_ok_and(|r| r.status().is_success());
            if ok {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "tauri-driver did not answer on {} within 20 s; see {}",
                self.base,
                self.log_path.display()
            );
            sleep(Duration::from_millis(100));
        }
    }

    /// One WebDriver command; returns its `value`, panics with the driver's error.
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.try_call(method, path, body)
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }

    /// One WebDriver command; its `value`, or the driver's error.
    fn try_call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        let url = format!("{}{path}", self.base);
        let response = match (method, body) {
            ("GET", _) => self.agent.get(&url).call(),
            ("DELETE", _) => self.agent.delete(&url).call(),
            (_, Some(body)) => self.agent.post(&url).send_json(body),
            (_, None) => self.agent.post(&url).send_json(json!({})),
        };
        let mut response = response.map_err(|e| e.to_string())?;
        let status = response.status();
        let body: Value = response
            .body_mut()
            .with_config()
            .limit(64 * 1024 * 1024)
            .read_json()
            .map_err(|e| format!("unreadable answer: {e}"))?;
        if status.is_success() {
            Ok(body["value"].clone())
        } else {
            Err(format!("failed ({status}): {body}"))
        }
    }

    fn session_path(&self, rest: &str) -> String {
        format!("/session/{}{rest}", self.id)
    }

    /// Element ids matching a CSS selector (possibly none).
    pub fn find_all(&self, css: &str) -> Vec<String> {
        element_ids(&self.call(
            "POST",
            &self.session_path("/elements"),
            Some(json!({"using": "css selector", "value": css})),
        ))
    }

    /// Waits until `css` matches at least `count` elements, and returns them.
    pub fn wait_for(&self, css: &str, count: usize, timeout: Duration) -> Vec<String> {
        let deadline = Instant::now() + timeout;
        loop {
            let found = self.find_all(css);
            if found.len() >= count {
                return found;
            }
            if Instant::now() > deadline {
                let shot = self.screenshot("timeout.png");
                panic!(
                    "waited {timeout:?} for {count} × `{css}`, found {}; screenshot: {}; page: {}",
                    found.len(),
                    shot.display(),
                    self.page_source()
                );
            }
            sleep(Duration::from_millis(100));
        }
    }

    pub fn attribute(&self, element: &str, name: &str) -> Option<String> {
        self.call(
            "GET",
            &self.session_path(&format!("/element/{element}/attribute/{name}")),
            None,
        )
        .as_str()
        .map(str::to_owned)
    }

    /// Resizes the window (content may be a little smaller than asked).
    pub fn set_window_size(&self, width: u32, height: u32) {
        self.call(
            "POST",
            &self.session_path("/window/rect"),
            Some(json!({"width": width, "height": height})),
        );
    }

    pub fn click(&self, element: &str) {
        self.call(
            "POST",
            &self.session_path(&format!("/element/{element}/click")),
            None,
        );
    }

    /// Types into an element (WebDriver "Element Send Keys").
    pub fn send_keys(&self, element: &str, text: &str) {
        self.call(
            "POST",
            &self.session_path(&format!("/element/{element}/value")),
            Some(json!({"text": text})),
        );
    }

    /// Empties an input (WebDriver "Element Clear").
    pub fn clear(&self, element: &str) {
        self.call(
            "POST",
            &self.session_path(&format!("/element/{element}/clear")),
            None,
        );
    }

    /// Presses keys as a user would (WebDriver actions: real key events,
    /// so `:focus-visible` applies), to whatever has the focus.
    pub fn press_keys(&self, keys: &[&str]) {
        let mut actions = Vec::new();
        for key in keys {
            actions.push(json!({"type": "keyDown", "value": key}));
            actions.push(json!({"type": "keyUp", "value": key}));
        }
        self.call(
            "POST",
            &self.session_path("/actions"),
            Some(json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]})),
        );
    }

    pub fn text(&self, element: &str) -> String {
        self.call(
            "GET",
            &self.session_path(&format!("/element/{element}/text")),
            None,
        )
        .as_str()
        .unwrap_or_default()
        .to_owned()
    }

    /// Elements matching `css` inside `element`.
    pub fn find_within(&self, element: &str, css: &str) -> Vec<String> {
        element_ids(&self.call(
            "POST",
            &self.session_path(&format!("/element/{element}/elements")),
            Some(json!({"using": "css selector", "value": css})),
        ))
    }

    pub fn page_source(&self) -> String {
        self.call("GET", &self.session_path("/source"), None)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Runs a synchronous script in the page and returns its string result.
    pub fn execute(&self, script: &str) -> String {
        let value = self.call(
            "POST",
            &self.session_path("/execute/sync"),
            Some(json!({"script": script, "args": []})),
        );
        value
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| value.to_string())
    }

    /// Runs an asynchronous script (it calls its last argument with the
    /// result) with up to `timeout` to finish; returns the result.
    #[allow(dead_code)] // used by the UI benchmark (tests/ui_bench), not the E2E tests
    pub fn execute_async(&self, script: &str, timeout: Duration) -> Value {
        let ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
        self.call(
            "POST",
            &self.session_path("/timeouts"),
            Some(json!({"script": ms})),
        );
        self.call(
            "POST",
            &self.session_path("/execute/async"),
            Some(json!({"script": script, "args": []})),
        )
    }

    /// Resolves after the page has painted twice, so a screenshot shows
    /// the DOM as it is now rather than the last frame drawn.
    pub fn wait_for_paint(&self) {
        self.call(
            "POST",
            &self.session_path("/execute/async"),
            Some(json!({
                "script": "const done = arguments[arguments.length - 1]; requestAnimationFrame(() => requestAnimationFrame(() => done(true)));",
                "args": []
            })),
        );
    }

    /// Saves a PNG of the window under target/e2e/ and returns its path.
    pub fn screenshot(&self, name: &str) -> PathBuf {
        self.wait_for_paint();
        let encoded = self.call("GET", &self.session_path("/screenshot"), None);
        let png = base64::engine::general_purpose::STANDARD
            .decode(encoded.as_str().unwrap_or_default())
            .expect("screenshot is base64");
        assert!(png.starts_with(b"\x89PNG"), "screenshot is not a PNG");
        let path = artifacts_dir().join(name);
        std::fs::write(&path, png).expect("write screenshot");
        path
    }
}

/// The element ids of a "Find Elements" answer.
fn element_ids(found: &Value) -> Vec<String> {
    found
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|e| e[ELEMENT_KEY].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

impl Drop for Session {
    fn drop(&mut self) {
        if !self.id.is_empty() {
            let _ = self
                .agent
                .delete(format!("{}/session/{}", self.base, self.id))
                .call();
        }
        // The whole group: tauri-driver, WebKitWebDriver and the app.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.driver.id())])
            .status();
        let _ = self.driver.wait();
    }
}
