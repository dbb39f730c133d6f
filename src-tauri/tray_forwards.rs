//! The tray's port-forwards: under the proxy's switch, a heading and a
//! check item per saved forward (checked while it runs; clicking it stops
//! or starts it), redrawn when the workspace says the forwards changed.
//! GTK flips a check item's mark on a click whatever comes of it, so the
//! mark is always set back from the forward's real state.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, PoisonError};

use porthole_core::forward::ForwardState;
use porthole_core::workspace::{ForwardView, Workspace};
use tauri::menu::{CheckMenuItem, IsMenuItem, MenuItem, PredefinedMenuItem};
use tauri::{AppHandle, Manager, Wry};

use crate::tray::Tray;

/// Menu ids of the forwards' items: this, then the forward's id.
const PREFIX: &str = "forward:";
/// At most this many forwards in the menu; the rest are in the window.
const MOST: usize = 15;

/// The forward id a menu item id names, if it is a forward's.
pub fn forward_of(menu_id: &str) -> Option<&str> {
    menu_id.strip_prefix(PREFIX)
}

/// The tray's words about forwards.
pub struct ForwardLabels {
    heading: &'static str,
    starting: &'static str,
    healing: &'static str,
    waiting: &'static str,
    failed: &'static str,
    stopped: &'static str,
    /// `{count}` is replaced.
    more: &'static str,
}

impl ForwardLabels {
    pub const EN: Self = Self {
        heading: "Port-forwards",
        starting: "starting",
        healing: "healing",
        waiting: "waiting for a ready Pod",
        failed: "failed",
        stopped: "stopped",
        more: "{count} more in the window",
    };
    pub const ZH: Self = Self {
        heading: "端口转发",
        starting: "正在启动",
        healing: "正在恢复",
        waiting: "等待就绪的 Pod",
        failed: "失败",
        stopped: "已停止",
        more: "另有 {count} 个，见窗口",
    };
}

/// One forward's line: its label and whether it is checked (running).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub id: String,
    pub label: String,
    pub checked: bool,
}

/// The lines for `views`: `NS/NAME:PORT → ADDRESS`, the state when it is
/// not simply listening, and the context when there is more than one.
pub fn rows(views: &[ForwardView], labels: &ForwardLabels) -> Vec<Row> {
    let contexts: BTreeSet<&str> = views.iter().map(|v| v.context.as_str()).collect();
    views
        .iter()
        .map(|v| {
            let mut label = format!(
                "{}/{}:{} → {}",
                v.target.namespace, v.target.name, v.remote, v.address
            );
            if contexts.len() > 1 {
                label.push_str(&format!(" · {}", v.context));
            }
            let state = match &v.status.state {
                ForwardState::Listening => None,
                ForwardState::Starting => Some(labels.starting),
                ForwardState::Healing => Some(labels.healing),
                ForwardState::WaitingForPod => Some(labels.waiting),
                ForwardState::Failed { .. } => Some(labels.failed),
                ForwardState::Stopped => Some(labels.stopped),
            };
            if let Some(state) = state {
                label.push_str(&format!(" ({state})"));
            }
            Row {
                id: v.id.clone(),
                label,
                checked: v.status.state.is_active(),
            }
        })
        .collect()
}

/// The forwards' section of the menu as shown now.
pub struct ForwardItems {
    /// Where the section starts in the menu.
    at: usize,
    shown: Mutex<Shown>,
}

#[derive(Default)]
struct Shown {
    rows: Vec<Row>,
    checks: Vec<CheckMenuItem<Wry>>,
    /// Everything inserted (heading, checks, the "more" line, separator).
    inserted: Vec<Box<dyn IsMenuItem<Wry> + Send>>,
}

impl ForwardItems {
    pub fn new(at: usize) -> Self {
        Self {
            at,
            shown: Mutex::new(Shown::default()),
        }
    }
}

/// Shows `views` in the tray (called for every forwards event).
pub fn show(app: &AppHandle, views: &[ForwardView]) {
    let Some(tray) = app.try_state::<Tray>() else {
        return;
    };
    let labels = &tray.labels().forwards;
    let all = rows(views, labels);
    let more = all.len().saturating_sub(MOST);
    let next: Vec<Row> = all.into_iter().take(MOST).collect();
    let mut shown = tray
        .forwards
        .shown
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    let same_ids = shown.rows.len() == next.len()
        && shown.rows.iter().zip(&next).all(|(a, b)| a.id == b.id)
        && shown.inserted.len() == section_len(next.len(), more);
    let result = if same_ids {
        update(&shown.checks, &shown.rows, &next)
    } else {
        rebuild(app, &tray, &mut shown, &next, more, labels)
    };
    if let Err(e) = result {
        tracing::warn!("cannot update the tray's forwards: {e}");
    }
    shown.rows = next;
}

/// Items in a section of `rows` forwards and `more` left out.
fn section_len(rows: usize, more: usize) -> usize {
    if rows == 0 {
        0
    } else {
        rows + 2 + usize::from(more > 0)
    }
}

/// Same forwards: new labels and marks (the mark always: GTK may have
/// flipped it).
fn update(checks: &[CheckMenuItem<Wry>], before: &[Row], next: &[Row]) -> tauri::Result<()> {
    for ((item, old), new) in checks.iter().zip(before).zip(next) {
        if old.label != new.label {
            item.set_text(&new.label)?;
        }
        item.set_checked(new.checked)?;
    }
    Ok(())
}

/// Other forwards: the section is taken out and made again.
fn rebuild(
    app: &AppHandle,
    tray: &Tray,
    shown: &mut Shown,
    next: &[Row],
    more: usize,
    labels: &ForwardLabels,
) -> tauri::Result<()> {
    for item in shown.inserted.drain(..) {
        tray.menu.remove(item.as_ref())?;
    }
    shown.checks.clear();
    if next.is_empty() {
        return Ok(());
    }
    let mut items: Vec<Box<dyn IsMenuItem<Wry> + Send>> = Vec::new();
    items.push(Box::new(MenuItem::new(
        app,
        labels.heading,
        false,
        None::<&str>,
    )?));
    for row in next {
        let check = CheckMenuItem::with_id(
            app,
            format!("{PREFIX}{}", row.id),
            &row.label,
            true,
            row.checked,
            None::<&str>,
        )?;
        shown.checks.push(check.clone());
        items.push(Box::new(check));
    }
    if more > 0 {
        let text = labels.more.replace("{count}", &more.to_string());
        items.push(Box::new(MenuItem::new(app, text, false, None::<&str>)?));
    }
    items.push(Box::new(PredefinedMenuItem::separator(app)?));
    for (i, item) in items.iter().enumerate() {
        tray.menu.insert(item.as_ref(), tray.forwards.at + i)?;
    }
    shown.inserted = items;
    Ok(())
}

/// A forward's item was clicked: it stops if it runs, else starts; the
/// mark then follows the outcome (through the workspace's event, and here
/// for a click that changed nothing).
pub fn toggle(app: &AppHandle, id: String) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let ws = app.state::<Arc<Workspace>>().inner().clone();
        let running = ws
            .forwards()
            .iter()
            .any(|v| v.id == id && v.status.state.is_active());
        let outcome = if running {
            tracing::info!(forward = %id, "tray: stopping the port-forward");
            ws.stop_forward(&id).map(drop)
        } else {
            tracing::info!(forward = %id, "tray: starting the port-forward");
            ws.start_saved_forward(&id).await.map(drop)
        };
        if let Err(e) = outcome {
            tracing::warn!(forward = %id, "tray: {e}");
        }
        show(&app, &ws.forwards());
    });
}

#[cfg(test)]
mod tests {
    use porthole_core::forward::{ForwardStatus, RemotePort, Target, TargetKind};
    use porthole_core::port_kind::PortKind;

    use super::*;

    fn view(context: &str, name: &str, state: ForwardState) -> ForwardView {
        ForwardView {
            id: format!("{context}/team-a/svc/{name}:5432"),
            context: context.into(),
            target: Target {
                namespace: "team-a".into(),
                kind: TargetKind::Service,
                name: name.into(),
            },
            remote: RemotePort::Number(5432),
            local_port: 15432,
            address: "127.0.0.1:15432".into(),
            restore: true,
            port_kind: PortKind::Postgres,
            commands: Vec::new(),
            status: ForwardStatus::new(state),
        }
    }

    #[test]
    fn a_line_names_the_target_and_the_address_and_says_the_state_unless_listening() {
        let views = [
            view("admin", "postgres", ForwardState::Listening),
            view("admin", "redis", ForwardState::Stopped),
            view("admin", "grpc", ForwardState::WaitingForPod),
        ];
        let got = rows(&views, &ForwardLabels::EN);
        assert_eq!(got[0].label, "team-a/postgres:5432 → 127.0.0.1:15432");
        assert!(got[0].checked);
        assert_eq!(
            got[1].label,
            "team-a/redis:5432 → 127.0.0.1:15432 (stopped)"
        );
        assert!(!got[1].checked);
        assert_eq!(
            got[2].label,
            "team-a/grpc:5432 → 127.0.0.1:15432 (waiting for a ready Pod)"
        );
        assert!(got[2].checked, "waiting still listens");
        let zh = rows(&views[1..2], &ForwardLabels::ZH);
        assert_eq!(zh[0].label, "team-a/redis:5432 → 127.0.0.1:15432 (已停止)");
    }

    #[test]
    fn the_context_is_named_when_there_is_more_than_one() {
        let views = [
            view("admin", "postgres", ForwardState::Listening),
            view(
                "viewer",
                "postgres",
                ForwardState::Failed {
                    reason: "forbidden".into(),
                },
            ),
        ];
        let got = rows(&views, &ForwardLabels::EN);
        assert_eq!(
            got[0].label,
            "team-a/postgres:5432 → 127.0.0.1:15432 · admin"
        );
        assert_eq!(
            got[1].label,
            "team-a/postgres:5432 → 127.0.0.1:15432 · viewer (failed)"
        );
        assert_eq!(
            forward_of(&format!("{PREFIX}{}", got[1].id)),
            Some(got[1].id.as_str())
        );
        assert_eq!(forward_of("proxy"), None);
    }

    #[test]
    fn a_section_has_a_heading_its_lines_and_a_separator() {
        assert_eq!(section_len(0, 0), 0);
        assert_eq!(section_len(2, 0), 4);
        assert_eq!(section_len(15, 3), 18);
    }
}
