//! Porthole's own settings (never the user's kubeconfig): kubeconfig files
//! the user added in the app and extra directories to search for exec
//! plugins. Stored as JSON in the platform config dir.
//!
//! A settings file that does not parse is never overwritten silently: the
//! app starts with defaults and says so, and the first save moves the
//! broken file aside (`settings.json.broken-<unix time>`) and says where.

use std::ffi::OsStr;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;
use ts_rs::TS;

/// What the user set in Porthole. Unknown fields are kept out; missing
/// fields take their defaults, so an older file still loads.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
#[ts(export)]
pub struct Settings {
    /// Kubeconfig files added in the app, merged after `$KUBECONFIG` /
    /// `~/.kube/config`, in the order added. Paths only: never copied.
    pub kubeconfigs: Vec<String>,
    /// Directories searched for exec plugins after the process and login
    /// shell PATH.
    pub extra_path_dirs: Vec<String>,
    /// The local proxy.
    pub proxy: ProxySettings,
    /// The command that opens a service in the browser (`{url}` stands for
    /// the URL, else it is added last); empty: the system's default browser.
    pub browser_command: String,
}

/// The local proxy's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
#[ts(export)]
pub struct ProxySettings {
    /// Start the proxy when Porthole starts.
    pub start_with_app: bool,
    /// Loopback address to listen on (`127.0.0.1` or `::1`).
    pub address: String,
    /// Port (`kubectl proxy`'s 8001 by default).
    pub port: u16,
    /// Only GET, HEAD and OPTIONS (and watches) pass.
    pub read_only: bool,
    /// Let `exec` and `attach` through (refused by default, as kubectl
    /// proxy does).
    pub allow_exec: bool,
}

impl Default for ProxySettings {
    fn default() -> Self {
        Self {
            start_with_app: true,
            address: "127.0.0.1".to_owned(),
            port: 8001,
            read_only: false,
            allow_exec: false,
        }
    }
}

/// Overrides where the settings live (tests, portable setups).
pub const CONFIG_DIR_VAR: &str = "PORTHOLE_CONFIG_DIR";
const FILE_NAME: &str = "settings.json";

#[derive(Debug, Error)]
pub enum SettingsError {
    #[error(
        "no place for settings: neither $PORTHOLE_CONFIG_DIR, $XDG_CONFIG_HOME nor a home directory is set"
    )]
    NoConfigDir,
    #[error("{path}: cannot read settings: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error(
        "{path}:{line}:{column}: {field}: {reason} (the file is kept as it is; Porthole uses default settings until it is fixed)"
    )]
    Malformed {
        path: PathBuf,
        line: usize,
        column: usize,
        /// Where in the document it failed (`kubeconfigs[1]`, or `.` for the
        /// document itself).
        field: String,
        reason: String,
    },
    #[error("{path}: cannot save settings: {source}")]
    Write { path: PathBuf, source: io::Error },
    #[error("{path}: no such file")]
    KubeconfigNotFound { path: PathBuf },
    #[error("{path}: is a directory, not a kubeconfig file")]
    KubeconfigIsDirectory { path: PathBuf },
    #[error("{path}: cannot check the file: {source}")]
    KubeconfigUnreadable { path: PathBuf, source: io::Error },
    #[error("the settings task stopped unexpectedly")]
    TaskFailed,
}

/// The settings file and what it holds. Methods that change settings save
/// at once (atomically: a temporary file renamed over the old one, 0600).
#[derive(Debug)]
pub struct SettingsStore {
    path: PathBuf,
    settings: Settings,
    /// Why the file on disk could not be loaded, when it could not.
    load_problem: Option<SettingsError>,
    /// Where the unparsable file was moved when settings were saved.
    kept_broken_file: Option<PathBuf>,
}

impl SettingsStore {
    /// `$PORTHOLE_CONFIG_DIR/settings.json`, else
    /// `$XDG_CONFIG_HOME/porthole/settings.json`, else
    /// `~/.config/porthole/settings.json`.
    pub fn default_path() -> Result<PathBuf, SettingsError> {
        settings_path(
            std::env::var_os(CONFIG_DIR_VAR).as_deref(),
            std::env::var_os("XDG_CONFIG_HOME").as_deref(),
            std::env::home_dir().as_deref(),
        )
        .ok_or(SettingsError::NoConfigDir)
    }

    /// Loads the settings at `path`; a missing file means defaults.
    pub async fn load(path: impl Into<PathBuf>) -> Result<Self, SettingsError> {
        let path = path.into();
        let settings = read_settings(&path).await?;
        Ok(Self {
            path,
            settings,
            load_problem: None,
            kept_broken_file: None,
        })
    }

    /// Like [`Self::load`], but a file that cannot be read or parsed gives
    /// defaults; the reason stays in [`Self::load_problem`] for the app to
    /// show.
    pub async fn load_or_default(path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        match read_settings(&path).await {
            Ok(settings) => Self {
                path,
                settings,
                load_problem: None,
                kept_broken_file: None,
            },
            Err(problem) => {
                tracing::warn!(error = %problem, "settings not loaded; using defaults");
                Self {
                    path,
                    settings: Settings::default(),
                    load_problem: Some(problem),
                    kept_broken_file: None,
                }
            }
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Why the settings file could not be loaded (defaults are in use).
    pub fn load_problem(&self) -> Option<&SettingsError> {
        self.load_problem.as_ref()
    }

    /// Where the unparsable settings file was moved to by a save.
    pub fn kept_broken_file(&self) -> Option<&Path> {
        self.kept_broken_file.as_deref()
    }

    /// Adds a kubeconfig file (made absolute). Refuses a path that does not
    /// exist or is a directory. Returns false when it was already added.
    pub async fn add_kubeconfig(&mut self, path: impl AsRef<Path>) -> Result<bool, SettingsError> {
        let path = std::path::absolute(path.as_ref()).map_err(|source| {
            SettingsError::KubeconfigUnreadable {
                path: path.as_ref().to_path_buf(),
                source,
            }
        })?;
        match tokio::fs::metadata(&path).await {
            Ok(meta) if meta.is_dir() => return Err(SettingsError::KubeconfigIsDirectory { path }),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(SettingsError::KubeconfigNotFound { path });
            }
            Err(source) => return Err(SettingsError::KubeconfigUnreadable { path, source }),
        }
        let text = path.to_string_lossy().into_owned();
        if self.settings.kubeconfigs.contains(&text) {
            return Ok(false);
        }
        let mut next = self.settings.clone();
        next.kubeconfigs.push(text);
        self.save(next).await?;
        Ok(true)
    }

    /// Removes an added kubeconfig file (as listed, or as it would be
    /// listed once made absolute). Returns false when it was not there.
    pub async fn remove_kubeconfig(
        &mut self,
        path: impl AsRef<Path>,
    ) -> Result<bool, SettingsError> {
        let path = path.as_ref();
        let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        let mut next = self.settings.clone();
        next.kubeconfigs
            .retain(|p| Path::new(p) != path && Path::new(p) != absolute);
        if next.kubeconfigs.len() == self.settings.kubeconfigs.len() {
            return Ok(false);
        }
        self.save(next).await?;
        Ok(true)
    }

    /// Replaces the extra exec-plugin directories (empty entries dropped).
    pub async fn set_extra_path_dirs(&mut self, dirs: Vec<String>) -> Result<(), SettingsError> {
        let mut next = self.settings.clone();
        next.extra_path_dirs = dirs.into_iter().filter(|d| !d.trim().is_empty()).collect();
        self.save(next).await
    }

    /// Sets the browser command (trimmed; empty = the system's browser).
    pub async fn set_browser_command(&mut self, command: String) -> Result<(), SettingsError> {
        let mut next = self.settings.clone();
        next.browser_command = command.trim().to_owned();
        self.save(next).await
    }

    /// Sets the proxy's settings.
    pub async fn set_proxy(&mut self, proxy: ProxySettings) -> Result<(), SettingsError> {
        let mut next = self.settings.clone();
        next.proxy = proxy;
        self.save(next).await
    }

    /// Writes `next` and makes it current only once it is on disk.
    async fn save(&mut self, next: Settings) -> Result<(), SettingsError> {
        let mut text = serde_json::to_string_pretty(&next).map_err(|e| SettingsError::Write {
            path: self.path.clone(),
            source: io::Error::other(e),
        })?;
        text.push('\n');
        let path = self.path.clone();
        let move_broken_aside = self.load_problem.is_some() && self.kept_broken_file.is_none();
        let saved = tokio::task::spawn_blocking(move || {
            let kept = if move_broken_aside {
                keep_broken_file(&path)?
            } else {
                None
            };
            write_atomically(&path, text.as_bytes())?;
            Ok::<_, SettingsError>(kept)
        })
        .await
        .map_err(|_| SettingsError::TaskFailed)??;
        if let Some(kept) = saved {
            tracing::warn!(kept = %kept.display(), "the unparsable settings file was moved aside");
            self.kept_broken_file = Some(kept);
        }
        self.settings = next;
        // The file on disk is good now; the old problem no longer applies.
        self.load_problem = None;
        Ok(())
    }
}

/// The settings file's path from explicit inputs; empty variables count as
/// unset.
pub fn settings_path(
    porthole_dir: Option<&OsStr>,
    xdg_config_home: Option<&OsStr>,
    home: Option<&Path>,
) -> Option<PathBuf> {
    let set = |v: Option<&OsStr>| v.filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(dir) = set(porthole_dir) {
        return Some(dir.join(FILE_NAME));
    }
    // The XDG spec says a relative $XDG_CONFIG_HOME is to be ignored.
    let config = set(xdg_config_home)
        .filter(|p| p.is_absolute())
        .or_else(|| home.map(|h| h.join(".config")))?;
    Some(config.join("porthole").join(FILE_NAME))
}

async fn read_settings(path: &Path) -> Result<Settings, SettingsError> {
    let text = match tokio::fs::read_to_string(path).await {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Settings::default()),
        Err(source) => {
            return Err(SettingsError::Read {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    parse_settings(path, &text)
}

fn parse_settings(path: &Path, text: &str) -> Result<Settings, SettingsError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let parsed = serde_path_to_error::deserialize(&mut de)
        .map_err(|e| (e.path().to_string(), e.into_inner()))
        .and_then(|settings| de.end().map(|()| settings).map_err(|e| (".".to_owned(), e)));
    parsed.map_err(|(field, inner)| {
        // serde_json appends " at line L column C"; the position goes first.
        let message = inner.to_string();
        let reason = message
            .rsplit_once(" at line ")
            .map_or(message.as_str(), |(reason, _)| reason)
            .to_owned();
        SettingsError::Malformed {
            path: path.to_path_buf(),
            line: inner.line(),
            column: inner.column(),
            field,
            reason,
        }
    })
}

/// Renames the unparsable file to `settings.json.broken-<unix time>` so a
/// save does not destroy what the user may want to recover.
fn keep_broken_file(path: &Path) -> Result<Option<PathBuf>, SettingsError> {
    if !path.exists() {
        return Ok(None);
    }
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".broken-{secs}"));
    let kept = path.with_file_name(name);
    std::fs::rename(path, &kept).map_err(|source| SettingsError::Write {
        path: kept.clone(),
        source,
    })?;
    Ok(Some(kept))
}

/// Temporary file in the same directory (so the rename is atomic), synced,
/// then renamed over `path`. Created 0600: settings name the user's files.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), SettingsError> {
    let failed = |source| SettingsError::Write {
        path: path.to_path_buf(),
        source,
    };
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    create_private_dir(dir).map_err(failed)?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(path.file_name().unwrap_or_default());
    tmp_name.push(format!(".tmp-{}", std::process::id()));
    let tmp = dir.join(tmp_name);
    let written = (|| {
        let mut file = open_private(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written.map_err(failed)
}

#[cfg(unix)]
fn open_private(path: &Path) -> io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn open_private(path: &Path) -> io::Result<std::fs::File> {
    std::fs::File::create(path)
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_path_prefers_porthole_dir_then_xdg_then_home() {
        let home = Some(Path::new("/home/u"));
        assert_eq!(
            settings_path(Some(OsStr::new("/p")), Some(OsStr::new("/x")), home),
            Some(PathBuf::from("/p/settings.json"))
        );
        assert_eq!(
            settings_path(Some(OsStr::new("")), Some(OsStr::new("/x")), home),
            Some(PathBuf::from("/x/porthole/settings.json"))
        );
        assert_eq!(
            settings_path(None, Some(OsStr::new("relative")), home),
            Some(PathBuf::from("/home/u/.config/porthole/settings.json"))
        );
        assert_eq!(settings_path(None, None, None), None);
    }

    #[test]
    fn malformed_json_names_line_column_and_field() {
        let text = "{\n  \"kubeconfigs\": [\"/a\", 3]\n}\n";
        let err = parse_settings(Path::new("/s.json"), text).expect_err("wrong type");
        let SettingsError::Malformed {
            line,
            field,
            reason,
            ..
        } = &err
        else {
            panic!("{err}");
        };
        assert_eq!(*line, 2);
        assert_eq!(field, "kubeconfigs[1]");
        assert!(reason.contains("invalid type"), "{reason}");
        assert!(err.to_string().starts_with("/s.json:2:"), "{err}");
    }

    #[test]
    fn syntax_errors_and_trailing_garbage_are_malformed() {
        for text in ["{\"kubeconfigs\": [}", "{} {}"] {
            let err = parse_settings(Path::new("/s.json"), text).expect_err(text);
            assert!(matches!(err, SettingsError::Malformed { .. }), "{err}");
        }
    }

    #[test]
    fn unknown_and_missing_fields_are_fine() {
        let s = parse_settings(
            Path::new("/s"),
            "{\"theme\": \"dark\", \"kubeconfigs\": [\"/a\"]}",
        )
        .expect("parses");
        assert_eq!(s.kubeconfigs, ["/a"]);
        assert!(s.extra_path_dirs.is_empty());
    }
}
