//! End-to-end tests of the real app in its real webview: tauri-driver and
//! WebKitWebDriver drive the `porthole` binary under Xvfb, inside a private
//! D-Bus session (`make test-e2e` sets both up). A missing piece fails the
//! run with a message that says how to get it; nothing is skipped.

// Debian's headless Chromium, shared with porthole-core's browser tests.
#[allow(dead_code)]
#[path = "../../src-tauri/cli/tests/browser/chromium.rs"]
mod chromium;
mod contexts_window;
mod driver;
mod forwards;
mod proxy_tray;
mod real_cluster;
mod services_browser;
mod settings_window;
mod setup;
mod status_and_secrets;
