//! The settings file: where it is, loading it (defaults when absent, a
//! broken file kept aside rather than overwritten), and the changes the app
//! makes, each saved at once and atomically, readable only by the user.

use std::ffi::OsStr;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::validation::{check_forward, check_namespace};
use super::{ProxySettings, SavedForward, Settings, SettingsError};
use crate::open::command::{BrowserCommandOrigin, split_command};

/// Overrides where the settings live (tests, portable setups).
pub const CONFIG_DIR_VAR: &str = "PORTHOLE_CONFIG_DIR";
const FILE_NAME: &str = "settings.json";

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
    /// A command that does not split into words (an unclosed quote, a
    /// lone backslash at the end) is refused and the old one kept.
    pub async fn set_browser_command(&mut self, command: String) -> Result<(), SettingsError> {
        let command = command.trim();
        if !command.is_empty() {
            split_command(command, BrowserCommandOrigin::Setting)?;
        }
        let mut next = self.settings.clone();
        next.browser_command = command.to_owned();
        self.save(next).await
    }

    /// Remembers `namespace` for `context` (both trimmed). Refuses a name
    /// that is not a DNS-1123 label. Returns false when it was already
    /// there.
    pub async fn add_namespace(
        &mut self,
        context: &str,
        namespace: &str,
    ) -> Result<bool, SettingsError> {
        let context = context.trim();
        if context.is_empty() {
            return Err(SettingsError::NoContext);
        }
        let namespace = namespace.trim();
        check_namespace(namespace)?;
        if self
            .settings
            .added_namespaces_for(context)
            .iter()
            .any(|n| n == namespace)
        {
            return Ok(false);
        }
        let mut next = self.settings.clone();
        let list = next.added_namespaces.entry(context.to_owned()).or_default();
        list.push(namespace.to_owned());
        list.sort();
        self.save(next).await?;
        Ok(true)
    }

    /// Forgets a namespace added for `context`. Returns false when it was
    /// not there.
    pub async fn remove_namespace(
        &mut self,
        context: &str,
        namespace: &str,
    ) -> Result<bool, SettingsError> {
        let (context, namespace) = (context.trim(), namespace.trim());
        let mut next = self.settings.clone();
        let Some(list) = next.added_namespaces.get_mut(context) else {
            return Ok(false);
        };
        let before = list.len();
        list.retain(|n| n != namespace);
        if list.len() == before {
            return Ok(false);
        }
        if list.is_empty() {
            next.added_namespaces.remove(context);
        }
        self.save(next).await?;
        Ok(true)
    }

    /// Sets the proxy's settings.
    pub async fn set_proxy(&mut self, proxy: ProxySettings) -> Result<(), SettingsError> {
        let mut next = self.settings.clone();
        next.proxy = proxy;
        self.save(next).await
    }

    /// Saves a port-forward: replaces the one with the same id (keeping its
    /// place in the list), else adds it last. Refused, and nothing saved,
    /// when its names are not ones Kubernetes accepts.
    pub async fn put_forward(&mut self, forward: SavedForward) -> Result<(), SettingsError> {
        check_forward(&forward)?;
        let id = forward.id();
        let mut next = self.settings.clone();
        match next.forwards.iter_mut().find(|f| f.id() == id) {
            Some(same) if *same == forward => return Ok(()),
            Some(same) => *same = forward,
            None => next.forwards.push(forward),
        }
        self.save(next).await
    }

    /// Forgets the port-forward `id`. Returns false when it was not saved.
    pub async fn remove_forward(&mut self, id: &str) -> Result<bool, SettingsError> {
        let mut next = self.settings.clone();
        next.forwards.retain(|f| f.id() != id);
        if next.forwards.len() == self.settings.forwards.len() {
            return Ok(false);
        }
        self.save(next).await?;
        Ok(true)
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

    #[test]
    fn an_old_file_without_the_new_fields_loads_with_their_defaults() {
        let text = r#"{
  "kubeconfigs": ["/a"],
  "proxy": {"port": 8080, "startWithApp": false, "readOnly": true, "allowExec": false, "address": "127.0.0.1"},
  "browserCommand": "firefox"
}"#;
        let s = parse_settings(Path::new("/s"), text).expect("parses");
        assert_eq!(s.proxy.port, 8080);
        assert!(!s.proxy.ask_before_starting, "starts without asking");
        assert!(s.added_namespaces.is_empty());
        assert_eq!(s.added_namespaces_for("any"), [] as [String; 0]);
    }

    #[test]
    fn the_new_fields_are_camel_case_in_the_file() {
        let mut s = Settings::default();
        s.proxy.ask_before_starting = true;
        s.added_namespaces
            .insert("porthole-viewer".into(), vec!["monitoring".into()]);
        let json = serde_json::to_value(&s).expect("serialises");
        assert_eq!(json["proxy"]["askBeforeStarting"], true);
        assert_eq!(
            json["addedNamespaces"]["porthole-viewer"],
            serde_json::json!(["monitoring"])
        );
        let back = parse_settings(Path::new("/s"), &json.to_string()).expect("parses");
        assert_eq!(back, s);
    }

    #[tokio::test]
    async fn added_namespaces_round_trip_per_context_and_atomically() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("porthole/settings.json");
        let mut store = SettingsStore::load(&path).await.expect("defaults");
        assert!(
            store
                .add_namespace(" porthole-viewer ", " monitoring ")
                .await
                .expect("added")
        );
        assert!(
            store
                .add_namespace("porthole-viewer", "kube-public")
                .await
                .expect("added")
        );
        assert!(
            !store
                .add_namespace("porthole-viewer", "monitoring")
                .await
                .expect("again")
        );
        assert!(store.add_namespace("other", "team-b").await.expect("added"));
        assert_eq!(
            store.settings().added_namespaces_for("porthole-viewer"),
            ["kube-public", "monitoring"]
        );

        let reloaded = SettingsStore::load(&path).await.expect("reloads");
        assert_eq!(reloaded.settings(), store.settings());
        let text = std::fs::read_to_string(&path).expect("written");
        assert!(text.contains("\"addedNamespaces\""), "{text}");
        let leftovers: Vec<_> = std::fs::read_dir(path.parent().expect("dir"))
            .expect("list")
            .filter_map(Result::ok)
            .map(|e| e.file_name())
            .filter(|n| n != "settings.json")
            .collect();
        assert!(
            leftovers.is_empty(),
            "no temporary files left: {leftovers:?}"
        );

        let mut store = reloaded;
        assert!(
            store
                .remove_namespace("porthole-viewer", "monitoring")
                .await
                .expect("removed")
        );
        assert!(
            !store
                .remove_namespace("porthole-viewer", "monitoring")
                .await
                .expect("gone")
        );
        assert!(
            !store
                .remove_namespace("nobody", "x")
                .await
                .expect("nothing")
        );
        assert!(
            store
                .remove_namespace("other", "team-b")
                .await
                .expect("removed")
        );
        assert!(
            !store.settings().added_namespaces.contains_key("other"),
            "an emptied context leaves the file"
        );
        let reloaded = SettingsStore::load(&path).await.expect("reloads");
        assert_eq!(
            reloaded.settings().added_namespaces_for("porthole-viewer"),
            ["kube-public"]
        );
    }

    #[tokio::test]
    async fn a_namespace_that_is_not_a_dns_label_is_refused_and_nothing_saved() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("settings.json");
        let mut store = SettingsStore::load(&path).await.expect("defaults");
        for (bad, says) in [
            ("Team-A", "'T' is upper case"),
            ("team_a", "'_' is not allowed"),
            ("-team", "starts or ends with '-'"),
            ("", "no name given"),
            (&"a".repeat(64), "64 characters, more than 63"),
        ] {
            let err = store.add_namespace("ctx", bad).await.expect_err(bad);
            let text = err.to_string();
            assert!(
                text.starts_with(&format!("namespace {bad:?}: {says}")),
                "{text}"
            );
            assert!(text.contains("DNS-1123 label"), "{text}");
        }
        assert!(matches!(
            store.add_namespace("  ", "ok").await,
            Err(SettingsError::NoContext)
        ));
        assert!(!path.exists(), "nothing was written");
        check_namespace(&"a".repeat(63)).expect("63 is fine");
        check_namespace("a-1").expect("fine");
    }

    fn saved(name: &str, local_port: u16) -> SavedForward {
        SavedForward {
            context: "porthole-admin".into(),
            namespace: "team-a".into(),
            kind: crate::forward::TargetKind::Service,
            name: name.into(),
            remote: crate::forward::RemotePort::Number(5432),
            local_port,
            restore: true,
            port_kind: crate::port_kind::PortKind::Postgres,
        }
    }

    #[tokio::test]
    async fn saved_forwards_keep_their_place_and_their_local_port_across_loads() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("settings.json");
        let mut store = SettingsStore::load(&path).await.expect("defaults");
        store.put_forward(saved("a", 15432)).await.expect("a");
        store.put_forward(saved("b", 0)).await.expect("b");
        let mut moved = saved("a", 25432);
        moved.restore = false;
        store.put_forward(moved.clone()).await.expect("a again");
        let reloaded = SettingsStore::load(&path).await.expect("reloads");
        assert_eq!(reloaded.settings().forwards, [moved, saved("b", 0)]);
        let text = std::fs::read_to_string(&path).expect("written");
        assert!(text.contains("\"localPort\": 25432"), "{text}");
        assert!(text.contains("\"portKind\": \"postgres\""), "{text}");

        let mut store = reloaded;
        let id = saved("a", 0).id();
        assert_eq!(id, "porthole-admin/team-a/svc/a:5432");
        assert!(store.remove_forward(&id).await.expect("removed"));
        assert!(!store.remove_forward(&id).await.expect("gone"));
        assert_eq!(store.settings().forwards, [saved("b", 0)]);
        let mut bad = saved("b", 0);
        bad.namespace = "Team-A".into();
        assert!(store.put_forward(bad).await.is_err());
        let reloaded = SettingsStore::load(&path).await.expect("reloads");
        assert_eq!(
            reloaded.settings().forwards,
            [saved("b", 0)],
            "nothing saved"
        );
    }

    #[test]
    fn a_hand_written_forward_takes_the_defaults_it_leaves_out() {
        let text = r#"{"forwards": [{"context": "c", "namespace": "n", "kind": "service",
            "name": "db", "remote": "pg"}]}"#;
        let s = parse_settings(Path::new("/s"), text).expect("parses");
        let f = &s.forwards[0];
        assert_eq!(f.local_port, 0, "chosen at the first start");
        assert!(f.restore, "restored by default");
        assert_eq!(f.remote, crate::forward::RemotePort::Name("pg".into()));
        assert_eq!(f.id(), "c/n/svc/db:pg");
    }

    #[tokio::test]
    async fn saving_a_browser_command_that_does_not_split_keeps_the_old_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("settings.json");
        let mut store = SettingsStore::load(&path).await.expect("defaults");
        store
            .set_browser_command(" 'my browser' {url} ".into())
            .await
            .expect("saved");
        assert_eq!(store.settings().browser_command, "'my browser' {url}");
        let err = store
            .set_browser_command("'my browser {url}".into())
            .await
            .expect_err("unclosed quote");
        assert!(matches!(err, SettingsError::BrowserCommand(_)), "{err}");
        assert!(err.to_string().starts_with("browserCommand: "), "{err}");
        assert_eq!(store.settings().browser_command, "'my browser' {url}");
        let on_disk = SettingsStore::load(&path).await.expect("reloads");
        assert_eq!(on_disk.settings().browser_command, "'my browser' {url}");
        store
            .set_browser_command("  ".into())
            .await
            .expect("cleared");
        assert_eq!(store.settings().browser_command, "");
    }
}
