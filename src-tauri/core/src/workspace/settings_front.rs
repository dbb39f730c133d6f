//! The workspace's settings: the store (the file on disk) for changes, one
//! at a time, and a watch channel that publishes what it holds after
//! every change. Readers never wait for a save and never keep their own
//! copy: they read the channel, or subscribe to it to hear of changes.

use tokio::sync::{Mutex, watch};

use crate::settings::{Settings, SettingsError, SettingsStore};

pub(super) struct SettingsFront {
    store: Mutex<SettingsStore>,
    /// What the store holds, republished after each change.
    published: watch::Sender<Settings>,
}

impl SettingsFront {
    pub(super) fn new(store: SettingsStore) -> Self {
        let (published, _) = watch::channel(store.settings().clone());
        Self {
            store: Mutex::new(store),
            published,
        }
    }

    /// The settings as of now.
    pub(super) fn now(&self) -> Settings {
        self.published.borrow().clone()
    }

    /// Reads a part of the settings without copying them all.
    pub(super) fn read<T>(&self, part: impl FnOnce(&Settings) -> T) -> T {
        part(&self.published.borrow())
    }

    /// A receiver that hears of every change from now on.
    pub(super) fn subscribe(&self) -> watch::Receiver<Settings> {
        self.published.subscribe()
    }

    /// Why the settings file could not be used, when it could not.
    pub(super) async fn load_problem(&self) -> Option<String> {
        self.store
            .lock()
            .await
            .load_problem()
            .map(ToString::to_string)
    }

    /// Runs `change` on the store (it saves) and publishes the result;
    /// returns what `change` returned and the settings after it.
    /// Subscribers are woken only when the settings really changed.
    pub(super) async fn change<T>(
        &self,
        change: impl AsyncFnOnce(&mut SettingsStore) -> Result<T, SettingsError>,
    ) -> Result<(T, Settings), SettingsError> {
        let mut store = self.store.lock().await;
        let result = change(&mut store).await;
        // A failed change leaves the store as it was; publish regardless,
        // so the channel can never disagree with the store.
        self.published.send_if_modified(|published| {
            let differs = published != store.settings();
            if differs {
                published.clone_from(store.settings());
            }
            differs
        });
        Ok((result?, store.settings().clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn front(dir: &tempfile::TempDir) -> SettingsFront {
        let store = SettingsStore::load(dir.path().join("settings.json"))
            .await
            .expect("defaults");
        SettingsFront::new(store)
    }

    #[tokio::test]
    async fn a_change_is_saved_and_published_to_readers_and_subscribers() {
        let dir = tempfile::tempdir().expect("tempdir");
        let front = front(&dir).await;
        let mut heard = front.subscribe();
        let (added, after) = front
            .change(async |store| store.add_namespace("ctx", "team-a").await)
            .await
            .expect("saved");
        assert!(added);
        assert_eq!(after.added_namespaces_for("ctx"), ["team-a"]);
        assert_eq!(front.now(), after);
        assert_eq!(
            front.read(|s| s.added_namespaces_for("ctx").to_vec()),
            ["team-a"]
        );
        assert!(heard.has_changed().expect("open"));
        assert_eq!(*heard.borrow_and_update(), after);
        let on_disk = SettingsStore::load(dir.path().join("settings.json"))
            .await
            .expect("reloads");
        assert_eq!(on_disk.settings(), &after, "published only what was saved");
    }

    #[tokio::test]
    async fn a_change_that_changes_nothing_or_fails_wakes_no_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let front = front(&dir).await;
        front
            .change(async |store| store.add_namespace("ctx", "team-a").await)
            .await
            .expect("saved");
        let mut heard = front.subscribe();
        let (added, _) = front
            .change(async |store| store.add_namespace("ctx", "team-a").await)
            .await
            .expect("no-op");
        assert!(!added);
        let refused = front
            .change(async |store| store.add_namespace("ctx", "Team_A").await)
            .await;
        assert!(
            matches!(refused, Err(SettingsError::InvalidNamespace { .. })),
            "{refused:?}"
        );
        assert!(!heard.has_changed().expect("open"), "nothing changed");
        assert_eq!(
            heard.borrow_and_update().added_namespaces_for("ctx"),
            ["team-a"]
        );
    }

    #[tokio::test]
    async fn a_broken_file_is_reported_until_a_save_replaces_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("settings.json");
        std::fs::write(&path, "{ not json").expect("write");
        let front = SettingsFront::new(SettingsStore::load_or_default(&path).await);
        assert_eq!(front.now(), Settings::default());
        let problem = front.load_problem().await.expect("a problem");
        assert!(problem.contains("settings.json:1:"), "{problem}");
        front
            .change(async |store| store.set_browser_command("firefox".into()).await)
            .await
            .expect("saved");
        assert_eq!(front.load_problem().await, None);
        assert_eq!(front.read(|s| s.browser_command.clone()), "firefox");
    }
}
