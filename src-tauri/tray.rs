//! The tray icon and its menu. Linux tray icons get no click events, so
//! every action is a menu item: the proxy switch (a check item that always
//! shows the proxy's real state), where the proxy listens or why it does
//! not (a disabled line), the port-forwards (a check item each: running or
//! not; see [`crate::tray_forwards`]), "Open Porthole" and "Quit".

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use porthole_core::proxy::ProxyStatus;
use porthole_core::workspace::Workspace;
use tauri::image::Image;
use tauri::menu::{CheckMenuItem, Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::{TrayIcon, TrayIconBuilder};
use tauri::{AppHandle, Manager, Wry};

use crate::tray_forwards::{self, ForwardItems};

const PROXY: &str = "proxy";
const OPEN: &str = "open";
const QUIT: &str = "quit";
/// Where the forwards' section starts: after the switch, its line and a
/// separator.
const FORWARDS_AT: usize = 3;

static ICON_ON: &[u8] = include_bytes!("../icons/tray-on.png");
static ICON_OFF: &[u8] = include_bytes!("../icons/tray-off.png");

/// Quit waits this long at most for the proxy to finish its requests.
const QUIT_GRACE: Duration = Duration::from_secs(5);

/// The parts of the tray that change with the proxy's status.
pub struct Tray {
    icon: TrayIcon<Wry>,
    proxy: CheckMenuItem<Wry>,
    place: MenuItem<Wry>,
    labels: Labels,
    /// What the icon and the line show now (request counts change neither,
    /// so the once-a-second count events leave the tray alone).
    shown: Mutex<(bool, String)>,
    /// One switch at a time: a second click waits for the first to finish
    /// and then decides on the state that one left.
    switching: tokio::sync::Mutex<()>,
    /// The menu, and its forwards' section as shown now.
    pub(crate) menu: Menu<Wry>,
    pub(crate) forwards: ForwardItems,
}

pub fn install(app: &AppHandle, status: &ProxyStatus) -> tauri::Result<()> {
    let labels = Labels::for_system_locale();
    let running = matches!(status, ProxyStatus::Running { .. });
    let proxy = CheckMenuItem::with_id(app, PROXY, labels.proxy, true, running, None::<&str>)?;
    let place = MenuItem::new(app, labels.describe(status), false, None::<&str>)?;
    let open = MenuItem::with_id(app, OPEN, labels.open, true, None::<&str>)?;
    let quit = MenuItem::with_id(app, QUIT, labels.quit, true, None::<&str>)?;
    let menu = Menu::with_items(
        app,
        &[
            &proxy,
            &place,
            &PredefinedMenuItem::separator(app)?,
            &open,
            &PredefinedMenuItem::separator(app)?,
            &quit,
        ],
    )?;

    let icon = TrayIconBuilder::with_id("porthole")
        .icon(Image::from_bytes(icon_bytes(running))?)
        .tooltip(labels.tooltip(status))
        .menu(&menu)
        .on_menu_event(|app, event| match event.id().as_ref() {
            PROXY => toggle_proxy(app),
            OPEN => crate::show_main_window(app),
            QUIT => quit_gracefully(app),
            other => {
                if let Some(id) = tray_forwards::forward_of(other) {
                    tray_forwards::toggle(app, id.to_owned());
                }
            }
        })
        .build(app)?;
    app.manage(Tray {
        icon,
        proxy,
        place,
        shown: Mutex::new((running, labels.describe(status))),
        labels,
        switching: tokio::sync::Mutex::new(()),
        menu,
        forwards: ForwardItems::new(FORWARDS_AT),
    });
    Ok(())
}

/// Shows `status`: the check mark, the line under it, the icon, the tooltip.
pub fn show_proxy(app: &AppHandle, status: &ProxyStatus) {
    let Some(tray) = app.try_state::<Tray>() else {
        return;
    };
    let running = matches!(status, ProxyStatus::Running { .. });
    // The mark always: GTK flips it on a click whatever comes of it.
    let mut result = tray.proxy.set_checked(running);
    let next = (running, tray.labels.describe(status));
    let mut shown = tray.shown.lock().unwrap_or_else(PoisonError::into_inner);
    if *shown != next {
        result = result
            .and_then(|()| tray.place.set_text(&next.1))
            .and_then(|()| Image::from_bytes(icon_bytes(running)))
            .and_then(|icon| tray.icon.set_icon(Some(icon)))
            .and_then(|()| tray.icon.set_tooltip(Some(tray.labels.tooltip(status))));
        *shown = next;
    }
    if let Err(e) = result {
        tracing::warn!("cannot update the tray: {e}");
    }
}

fn icon_bytes(running: bool) -> &'static [u8] {
    if running { ICON_ON } else { ICON_OFF }
}

/// The check item was clicked: GTK has already flipped its mark, so the
/// decision follows the proxy's real state, and the mark is set from the
/// outcome (a start that failed leaves it unchecked).
fn toggle_proxy(app: &AppHandle) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let ws = app.state::<Arc<Workspace>>().inner().clone();
        let Some(tray) = app.try_state::<Tray>() else {
            return;
        };
        let _one = tray.switching.lock().await;
        let status = if matches!(ws.proxy_status(), ProxyStatus::Running { .. }) {
            tracing::info!("tray: switching the proxy off");
            ws.stop_proxy().await
        } else {
            tracing::info!("tray: switching the proxy on");
            ws.start_proxy().await
        };
        // The workspace's event says the same; this covers a start that
        // changed nothing (GTK's flipped mark must be put back).
        show_proxy(&app, &status);
    });
}

/// Stops the proxy (requests in flight may finish) and exits with 0.
fn quit_gracefully(app: &AppHandle) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let ws = app.state::<Arc<Workspace>>().inner().clone();
        if tokio::time::timeout(QUIT_GRACE, ws.stop_proxy())
            .await
            .is_err()
        {
            tracing::warn!("the proxy did not stop within {QUIT_GRACE:?}; quitting anyway");
        }
        tracing::info!("quit from the tray");
        app.exit(0);
    });
}

pub(crate) struct Labels {
    proxy: &'static str,
    open: &'static str,
    quit: &'static str,
    off: &'static str,
    /// `{address}` is replaced.
    listening: &'static str,
    /// `{port}` is replaced.
    port_in_use: &'static str,
    /// `{address}` is replaced.
    failed: &'static str,
    pub(crate) forwards: tray_forwards::ForwardLabels,
}

impl Tray {
    pub(crate) fn labels(&self) -> &Labels {
        &self.labels
    }
}

impl Labels {
    /// The tray is drawn before the UI has said which language it uses, so
    /// it follows the system locale (LC_ALL, LC_MESSAGES, LANG).
    fn for_system_locale() -> Self {
        let locale = ["LC_ALL", "LC_MESSAGES", "LANG"]
            .iter()
            .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
            .unwrap_or_default();
        Self::for_locale(&locale)
    }

    fn for_locale(locale: &str) -> Self {
        if locale.starts_with("zh") {
            Self {
                proxy: "代理",
                open: "打开 Porthole",
                quit: "退出 Porthole",
                off: "代理已关闭",
                listening: "正在监听 {address}",
                port_in_use: "端口 {port} 已被占用",
                failed: "无法在 {address} 上启动",
                forwards: tray_forwards::ForwardLabels::ZH,
            }
        } else {
            Self {
                proxy: "Proxy",
                open: "Open Porthole",
                quit: "Quit Porthole",
                off: "Proxy is off",
                listening: "Listening on {address}",
                port_in_use: "Port {port} is in use",
                failed: "Could not start on {address}",
                forwards: tray_forwards::ForwardLabels::EN,
            }
        }
    }

    /// The disabled line under the switch: where it listens, or why not.
    fn describe(&self, status: &ProxyStatus) -> String {
        match status {
            ProxyStatus::Stopped => self.off.to_owned(),
            ProxyStatus::Running { address, .. } => self.listening.replace("{address}", address),
            ProxyStatus::Failed {
                address,
                port_in_use: true,
                ..
            } => {
                let port = address
                    .rsplit_once(':')
                    .map_or(address.as_str(), |(_, p)| p);
                self.port_in_use.replace("{port}", port)
            }
            ProxyStatus::Failed { address, .. } => self.failed.replace("{address}", address),
        }
    }

    fn tooltip(&self, status: &ProxyStatus) -> String {
        format!("Porthole — {}", self.describe(status))
    }
}

#[cfg(test)]
mod tests {
    use super::{Labels, ProxyStatus};

    #[test]
    fn tray_speaks_chinese_under_a_chinese_locale_and_english_otherwise() {
        assert_eq!(Labels::for_locale("zh_CN.UTF-8").quit, "退出 Porthole");
        assert_eq!(Labels::for_locale("zh_TW.UTF-8").open, "打开 Porthole");
        assert_eq!(Labels::for_locale("zh_CN.UTF-8").proxy, "代理");
        assert_eq!(Labels::for_locale("de_DE.UTF-8").quit, "Quit Porthole");
        assert_eq!(Labels::for_locale("").open, "Open Porthole");
        assert_eq!(Labels::for_locale("").proxy, "Proxy");
    }

    #[test]
    fn the_line_under_the_switch_says_where_it_listens_or_why_not() {
        let en = Labels::for_locale("en_US.UTF-8");
        let zh = Labels::for_locale("zh_CN.UTF-8");
        let running = ProxyStatus::Running {
            address: "127.0.0.1:8001".into(),
            url: "http://localhost:8001".into(),
            requests: 3,
            read_only: false,
        };
        assert_eq!(en.describe(&running), "Listening on 127.0.0.1:8001");
        assert_eq!(zh.describe(&running), "正在监听 127.0.0.1:8001");
        let in_use = ProxyStatus::Failed {
            address: "[::1]:8001".into(),
            message: "address in use".into(),
            port_in_use: true,
        };
        assert_eq!(en.describe(&in_use), "Port 8001 is in use");
        assert_eq!(zh.describe(&in_use), "端口 8001 已被占用");
        let failed = ProxyStatus::Failed {
            address: "10.0.0.1:8001".into(),
            message: "not loopback".into(),
            port_in_use: false,
        };
        assert_eq!(en.describe(&failed), "Could not start on 10.0.0.1:8001");
        assert_eq!(en.describe(&ProxyStatus::Stopped), "Proxy is off");
        assert_eq!(zh.describe(&ProxyStatus::Stopped), "代理已关闭");
        assert_eq!(
            en.tooltip(&running),
            "Porthole — Listening on 127.0.0.1:8001"
        );
    }
}
