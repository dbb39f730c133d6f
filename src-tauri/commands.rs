//! Tauri commands: thin adapters from IPC to porthole-core's [`Workspace`].
//! Each one parses its input, calls the core, and answers through
//! [`answer!`], which turns errors into text the user can act on (and
//! records the answer when `PORTHOLE_IPC_RECORD` is set). Payload types are
//! porthole-core's, exported to TypeScript by ts-rs; none holds a secret.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use porthole_core::cluster::StatusUpdate;
use porthole_core::kubeconfig::ContextList;
use porthole_core::proxy::ProxyStatus;
use porthole_core::settings::{LoopbackError, ProxySettings, Settings, parse_loopback};
use porthole_core::workspace::Workspace;
use tauri::{AppHandle, State, WebviewWindow};
use tauri_plugin_dialog::DialogExt;

use crate::ipc::{Answer, answer};

type Ws<'a> = State<'a, Arc<Workspace>>;

/// The merged kubeconfig's contexts and, per file, what became of it.
/// Never fails as a whole: a broken file is reported inside the list.
#[tauri::command]
pub fn list_contexts(ws: Ws<'_>) -> Answer<ContextList> {
    answer!({ Ok(ws.contexts()) })
}

/// The latest status of every context probed so far (live changes arrive
/// as `context-status` events).
#[tauri::command]
pub fn context_statuses(ws: Ws<'_>) -> Answer<Vec<StatusUpdate>> {
    answer!({ Ok(ws.statuses()) })
}

/// Reads the kubeconfig files again and probes every context again.
#[tauri::command]
pub async fn reload(ws: Ws<'_>) -> Answer<ContextList> {
    answer!(async { Ok(ws.reload().await) })
}

/// `kubectl config view --minify --context NAME`, secrets masked, as YAML.
#[tauri::command]
pub async fn config_view(ws: Ws<'_>, context: String) -> Answer<String> {
    answer!(async {
        let name = non_empty(&context, "context name")?;
        Ok(ws.config_view_yaml(name).await?)
    })
}

#[tauri::command]
pub fn get_settings(ws: Ws<'_>) -> Answer<Settings> {
    answer!({ Ok(ws.settings()) })
}

/// Why Porthole's settings file could not be used (defaults are in use
/// and the file is kept), or `None` when it loaded (or does not exist).
#[tauri::command]
pub async fn settings_problem(ws: Ws<'_>) -> Answer<Option<String>> {
    answer!(async { Ok(ws.settings_problem().await) })
}

/// Asks the user for a kubeconfig file with the system's file picker and
/// adds it. The path never comes from the webview, so the page cannot make
/// Porthole read a file the user did not choose. `None`: the user cancelled.
#[tauri::command]
pub async fn add_kubeconfig(
    app: AppHandle,
    window: WebviewWindow,
    ws: Ws<'_>,
    title: Option<String>,
) -> Answer<Option<Settings>> {
    answer!(async {
        let Some(path) = pick_file(&app, &window, title).await? else {
            return Ok(None);
        };
        tracing::info!("adding kubeconfig {}", path.display());
        Ok(Some(ws.add_kubeconfig(&path.to_string_lossy()).await?))
    })
}

/// Forgets a kubeconfig file added in the app; the file itself is untouched.
#[tauri::command]
pub async fn remove_kubeconfig(ws: Ws<'_>, path: String) -> Answer<Settings> {
    answer!(async {
        let path = non_empty(&path, "file path")?;
        Ok(ws.remove_kubeconfig(path).await?)
    })
}

/// Sets the extra directories searched for exec plugins (absolute paths,
/// in order; blanks and repeats dropped).
#[tauri::command]
pub async fn set_extra_path_dirs(ws: Ws<'_>, dirs: Vec<String>) -> Answer<Settings> {
    answer!(async { Ok(ws.set_extra_path_dirs(parse_dirs(dirs)?).await?) })
}

/// Sets the command that opens services in the browser (`{url}` for the
/// URL, else it is added last; empty: the system's default browser).
#[tauri::command]
pub async fn set_browser_command(ws: Ws<'_>, command: String) -> Answer<Settings> {
    answer!(async { Ok(ws.set_browser_command(command).await?) })
}

/// The local proxy's status as of now (changes arrive as `proxy-status`
/// events, request counts included).
#[tauri::command]
pub fn proxy_status(ws: Ws<'_>) -> Answer<ProxyStatus> {
    answer!({ Ok(ws.proxy_status()) })
}

/// Starts the proxy with the saved settings. A failure to listen (a port
/// in use) is a status, not an error: the UI shows it with a way out.
#[tauri::command]
pub async fn start_proxy(ws: Ws<'_>) -> Answer<ProxyStatus> {
    answer!(async { Ok(ws.start_proxy().await) })
}

/// Stops the proxy; requests in flight get a moment to finish.
#[tauri::command]
pub async fn stop_proxy(ws: Ws<'_>) -> Answer<ProxyStatus> {
    answer!(async { Ok(ws.stop_proxy().await) })
}

/// Saves the proxy settings (a running proxy restarts with them). The
/// address must be a loopback one: the app's proxy holds the user's
/// credentials and serves this computer only.
#[tauri::command]
pub async fn set_proxy_settings(ws: Ws<'_>, settings: ProxySettings) -> Answer<Settings> {
    answer!(async { Ok(ws.set_proxy_settings(loopback(settings)?).await?) })
}

/// Normalises the address (`[::1]` → `::1`) and refuses one that is not loopback.
fn loopback(mut settings: ProxySettings) -> Result<ProxySettings, LoopbackError> {
    settings.address = parse_loopback(&settings.address)?.to_string();
    Ok(settings)
}

fn non_empty<'a>(value: &'a str, what: &str) -> Result<&'a str, String> {
    let value = value.trim();
    if value.is_empty() {
        Err(format!("no {what} given"))
    } else {
        Ok(value)
    }
}

fn parse_dirs(dirs: Vec<String>) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for dir in dirs {
        let dir = dir.trim();
        if dir.is_empty() || out.iter().any(|d| d == dir) {
            continue;
        }
        if !Path::new(dir).is_absolute() {
            return Err(format!(
                "{dir:?} is not an absolute path: give the folder's full path, starting with /"
            ));
        }
        out.push(dir.to_owned());
    }
    Ok(out)
}

/// The native "open file" dialog, starting in ~/.kube when it exists.
async fn pick_file(
    app: &AppHandle,
    window: &WebviewWindow,
    title: Option<String>,
) -> Result<Option<PathBuf>, String> {
    let mut dialog = app.dialog().file().set_parent(window);
    if let Some(title) = title.filter(|t| !t.trim().is_empty()) {
        dialog = dialog.set_title(title);
    }
    if let Some(kube_dir) = std::env::home_dir()
        .map(|h| h.join(".kube"))
        .filter(|d| d.is_dir())
    {
        dialog = dialog.set_directory(kube_dir);
    }
    let (tx, rx) = tokio::sync::oneshot::channel();
    dialog.pick_file(move |picked| {
        let _ = tx.send(picked);
    });
    let picked = rx
        .await
        .map_err(|_| "the file picker closed without an answer".to_owned())?;
    picked
        .map(|p| {
            p.into_path()
                .map_err(|e| format!("the chosen file is not a local path: {e}"))
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_path_dirs_must_be_absolute_and_are_deduplicated() {
        assert_eq!(
            parse_dirs(vec![
                " /opt/bin ".into(),
                String::new(),
                "/opt/bin".into(),
                "/usr/local/go/bin".into()
            ]),
            Ok(vec!["/opt/bin".to_owned(), "/usr/local/go/bin".to_owned()])
        );
        let err = parse_dirs(vec!["bin".into()]).expect_err("relative path");
        assert!(err.contains("absolute"), "{err}");
    }

    #[test]
    fn the_proxy_address_must_be_loopback() {
        let with = |address: &str| ProxySettings {
            address: address.to_owned(),
            ..ProxySettings::default()
        };
        assert_eq!(
            loopback(with(" [::1] ")).map(|s| s.address),
            Ok("::1".into())
        );
        assert_eq!(
            loopback(with("127.0.0.1")).map(|s| s.address),
            Ok("127.0.0.1".into())
        );
        let err = loopback(with("0.0.0.0")).expect_err("not loopback");
        assert!(err.to_string().contains("not a loopback address"), "{err}");
        let err = loopback(with("localhost")).expect_err("a name");
        assert!(err.to_string().contains("not an IP address"), "{err}");
    }

    #[test]
    fn blank_names_are_refused_with_words() {
        assert_eq!(
            non_empty("  ", "context name"),
            Err("no context name given".into())
        );
        assert_eq!(non_empty(" a ", "context name"), Ok("a"));
    }
}
