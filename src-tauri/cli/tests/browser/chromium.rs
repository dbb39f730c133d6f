//! Debian's headless Chromium: `--dump-dom` and `--screenshot` runs, each
//! with a fresh profile, a timeout and its stderr kept for the failure
//! message. Chromium missing is a failure, never a skip.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Where Debian's package puts it (`PORTHOLE_CHROMIUM` overrides, e.g. to
/// check the message below).
const CHROMIUM: &str = "/usr/bin/chromium";
/// Virtual time the page gets after loading (scripts, fetches, timers):
/// Chromium stops early once nothing is pending.
const VIRTUAL_TIME_BUDGET_MS: u32 = 10_000;
/// Wall-clock limit for one run.
const RUN_TIMEOUT: Duration = Duration::from_secs(45);

/// The browser binary, or a failure that says how to get it.
pub fn chromium() -> PathBuf {
    let path = std::env::var_os("PORTHOLE_CHROMIUM")
        .map_or_else(|| PathBuf::from(CHROMIUM), PathBuf::from);
    let version = Command::new(&path)
        .arg("--version")
        .stdin(Stdio::null())
        .output();
    match version {
        Ok(out) if out.status.success() => path,
        Ok(out) => panic!(
            "{} --version failed ({}): {}\ninstall Debian's chromium: make deps",
            path.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => panic!(
            "{} not found ({e}): these tests need a real browser; install Debian's chromium: make deps \
             (or apt-get install -y --no-install-recommends chromium)",
            path.display()
        ),
    }
}

/// `chromium --version`, for the record.
pub fn version() -> String {
    Command::new(chromium())
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

/// The DOM after the page loaded and its scripts settled.
pub fn dump_dom(url: &str) -> String {
    run(url, &["--dump-dom".to_owned()])
}

/// A 1280×800 screenshot of `url` into `path` (a PNG, checked).
pub fn screenshot(url: &str, path: &Path) {
    let _ = std::fs::remove_file(path);
    run(
        url,
        &[
            format!("--screenshot={}", path.display()),
            "--window-size=1280,800".to_owned(),
            "--hide-scrollbars".to_owned(),
        ],
    );
    let png = std::fs::read(path)
        .unwrap_or_else(|e| panic!("chromium wrote no screenshot {}: {e}", path.display()));
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 2_000,
        "{} is not a real PNG screenshot ({} bytes)",
        path.display(),
        png.len()
    );
}

fn run(url: &str, mode: &[String]) -> String {
    let profile = tempfile::tempdir().expect("temp profile dir");
    let mut cmd = Command::new(chromium());
    cmd.args([
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-extensions",
        "--disable-sync",
        "--disable-background-networking",
        "--disable-component-update",
        // The page talks to Porthole on loopback, never through a proxy
        // that the environment might name.
        "--no-proxy-server",
    ])
    .arg(format!("--user-data-dir={}", profile.path().display()))
    .arg(format!("--virtual-time-budget={VIRTUAL_TIME_BUDGET_MS}"))
    .args(mode)
    .arg(url)
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    porthole_testkit::process::die_with_parent(&mut cmd);
    let desc = format!("chromium {} {url}", mode.join(" "));
    let mut child = cmd.spawn().unwrap_or_else(|e| {
        panic!("{desc}: cannot start ({e}); install Debian's chromium: make deps")
    });
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let out = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let err = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for chromium") {
            break Some(status);
        }
        if started.elapsed() > RUN_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    match status {
        Some(status) if status.success() => stdout,
        Some(status) => panic!("{desc}: {status}\nstderr:\n{}", interesting(&stderr)),
        None => panic!(
            "{desc}: no result within {RUN_TIMEOUT:?}\nstderr:\n{}",
            interesting(&stderr)
        ),
    }
}

/// Chromium's stderr without the D-Bus noise of a machine with no session bus.
fn interesting(stderr: &str) -> String {
    stderr
        .lines()
        .filter(|l| !l.contains("dbus"))
        .collect::<Vec<_>>()
        .join("\n")
}
