//! The tray icon and its menu. Linux tray icons get no click events, so
//! every action is a menu item.

use tauri::AppHandle;
use tauri::image::Image;
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::TrayIconBuilder;

const OPEN: &str = "open";
const QUIT: &str = "quit";

/// The proxy does not exist yet, so the tray shows it off; the on icon is
/// there for the proxy toggle.
static ICON_OFF: &[u8] = include_bytes!("../icons/tray-off.png");

pub fn install(app: &AppHandle) -> tauri::Result<()> {
    let labels = Labels::for_system_locale();
    let open = MenuItem::with_id(app, OPEN, labels.open, true, None::<&str>)?;
    let separator = PredefinedMenuItem::separator(app)?;
    let quit = MenuItem::with_id(app, QUIT, labels.quit, true, None::<&str>)?;
    let menu = Menu::with_items(app, &[&open, &separator, &quit])?;

    TrayIconBuilder::with_id("porthole")
        .icon(Image::from_bytes(ICON_OFF)?)
        .tooltip("Porthole")
        .menu(&menu)
        .on_menu_event(|app, event| match event.id().as_ref() {
            OPEN => crate::show_main_window(app),
            QUIT => app.exit(0),
            _ => {}
        })
        .build(app)?;
    Ok(())
}

struct Labels {
    open: &'static str,
    quit: &'static str,
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
                open: "打开 Porthole",
                quit: "退出 Porthole",
            }
        } else {
            Self {
                open: "Open Porthole",
                quit: "Quit Porthole",
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Labels;

    #[test]
    fn tray_speaks_chinese_under_a_chinese_locale_and_english_otherwise() {
        assert_eq!(Labels::for_locale("zh_CN.UTF-8").quit, "退出 Porthole");
        assert_eq!(Labels::for_locale("zh_TW.UTF-8").open, "打开 Porthole");
        assert_eq!(Labels::for_locale("de_DE.UTF-8").quit, "Quit Porthole");
        assert_eq!(Labels::for_locale("").open, "Open Porthole");
    }
}
